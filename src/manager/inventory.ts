/**
 * The live inventory behind the admission webhook: the objects rules look up through
 * `context.inventory` (a pod's ServiceAccount, the autoscaler of a Deployment, the
 * PodDisruptionBudgets and NetworkPolicies selecting its pods), watched cluster-wide with the
 * controller's list-then-watch Reflector and published to the AdmissionState as one complete
 * Inventory. See docs/adr/0008-admission-live-inventory.md.
 */
import type { Logger } from "pino";
import { KubeError, errorMessage, resourcePath } from "../kube/client.ts";
import type { ApiResource, Json, KubeClient } from "../kube/client.ts";
import { Reflector } from "../kube/reflector.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { Inventory, KubeObject } from "../engine/types.ts";
import { isDict } from "../engine/workloads.ts";

/** The kinds rules read from the inventory (vakt install grants get/list/watch on exactly these). */
export const INVENTORY_RESOURCES: readonly ApiResource[] = [
  { apiVersion: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", namespaced: true },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true },
];

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * What the inventory keeps of an object: its apiVersion, kind, spec (and the other top-level
 * fields, e.g. a ServiceAccount's automountServiceAccountToken) and of its metadata the name,
 * namespace, labels and annotations. Status, managedFields, the last-applied annotation (a copy of
 * the whole object) and the bookkeeping fields (uid, resourceVersion, timestamps, owners) are
 * dropped: rules do not read them and they are most of an object's size. Undefined without a name.
 */
export function trimForInventory(object: Json): KubeObject | undefined {
  const metadata = object["metadata"];
  if (!isDict(metadata) || typeof metadata["name"] !== "string") return undefined;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object))
    if (key !== "metadata" && key !== "status") kept[key] = value;
  const meta: Record<string, unknown> = { name: metadata["name"] };
  if (typeof metadata["namespace"] === "string") meta["namespace"] = metadata["namespace"];
  if (isDict(metadata["labels"])) meta["labels"] = metadata["labels"];
  const annotations = metadata["annotations"];
  if (isDict(annotations)) {
    const rest = Object.entries(annotations).filter(([key]) => key !== LAST_APPLIED);
    if (rest.length > 0) meta["annotations"] = Object.fromEntries(rest);
  }
  kept["metadata"] = meta;
  return kept;
}

function keyOf(object: KubeObject): string {
  const metadata = object.metadata as { namespace?: string; name: string };
  return `${metadata.namespace ?? ""}/${metadata.name}`;
}

export interface LiveInventoryOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  /** Receives every rebuilt inventory (the AdmissionState's setInventory). */
  readonly publish: (inventory: Inventory) => void;
  /**
   * Changes are published together this long after the first of them (default 20 ms: objects
   * applied just before a workload should be seen when it arrives). The window stretches to ten
   * times the last rebuild's duration, so rebuilding (about 4 ms for 40,000 objects) costs at
   * most about a tenth of a core whatever the rate of changes.
   */
  readonly coalesceMs?: number;
}

/**
 * List-then-watch of every inventory kind, keeping trimmed objects per kind and publishing
 * `listInventory(all, true)` after each burst of changes. A kind whose API is not served (404)
 * counts as listed and empty (nothing of it can exist) while its Reflector keeps retrying.
 */
export class LiveInventory {
  readonly #options: LiveInventoryOptions;
  /** Per kind, objects by namespace/name. */
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #reflectors: Reflector<KubeObject>[] = [];
  /** Kinds listed at least once, or found not served. */
  readonly #settled = new Set<string>();
  readonly #notServed = new Set<string>();
  #published = false;
  #timer: NodeJS.Timeout | undefined;
  #lastBuildMs = 0;
  #stopped = false;

  constructor(options: LiveInventoryOptions) {
    this.#options = options;
  }

  /** True once every kind has been listed (or found not served) and the result published. */
  get synced(): boolean {
    return this.#published;
  }

  /** Objects held, all kinds together. */
  get size(): number {
    let size = 0;
    for (const objects of this.#objects.values()) size += objects.size;
    return size;
  }

  start(): void {
    const { client, logger } = this.#options;
    for (const resource of INVENTORY_RESOURCES) {
      const { kind } = resource;
      const objects = new Map<string, KubeObject>();
      this.#objects.set(kind, objects);
      const reflector = new Reflector<KubeObject>({
        client,
        path: resourcePath(resource),
        logger,
        transform: trimForInventory,
        onList: (items) => {
          objects.clear();
          for (const item of items) objects.set(keyOf(item), item);
          this.#notServed.delete(kind);
          this.#settled.add(kind);
          this.#changed();
        },
        onEvent: (type, item) => {
          if (type === "DELETED") objects.delete(keyOf(item));
          else objects.set(keyOf(item), item);
          this.#changed();
        },
        onListError: (error) => {
          if (!(error instanceof KubeError && error.code === 404) || this.#notServed.has(kind)) return;
          logger.warn(
            { kind, apiVersion: resource.apiVersion, error: errorMessage(error) },
            "inventory kind not served by the API server; rules see none until it is",
          );
          this.#notServed.add(kind);
          objects.clear();
          this.#settled.add(kind);
          this.#changed();
        },
      });
      this.#reflectors.push(reflector);
      reflector.start();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const reflector of this.#reflectors) reflector.stop();
  }

  #changed(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const delayMs = Math.max(this.#options.coalesceMs ?? 20, this.#lastBuildMs * 10);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#publish();
    }, delayMs);
    this.#timer.unref();
  }

  #publish(): void {
    if (this.#stopped) return;
    const started = performance.now();
    const all: KubeObject[] = [];
    for (const objects of this.#objects.values()) for (const object of objects.values()) all.push(object);
    this.#options.publish(listInventory(all, true));
    this.#lastBuildMs = performance.now() - started;
    const complete = this.#settled.size === INVENTORY_RESOURCES.length;
    if (complete && !this.#published) {
      this.#published = true;
      this.#options.logger.info(
        { objects: all.length, notServed: [...this.#notServed], buildMs: Math.round(this.#lastBuildMs) },
        "admission inventory synced",
      );
    } else {
      this.#options.logger.debug(
        { objects: all.length, buildMs: Math.round(this.#lastBuildMs) },
        "admission inventory updated",
      );
    }
  }
}
