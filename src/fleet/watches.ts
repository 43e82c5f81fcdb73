/**
 * What feeds the fleet controller's queue: a metadata-only watch of every kind a provider renders
 * (selected by the vakt.dev/environment label) keeps the child index and enqueues an Environment
 * whose objects someone else changed or deleted, or whose progress object (the Cluster) changed
 * at all (its status is what the Environment's status follows); then a watch of Environments
 * keeps the cache reconcile reads. Kinds whose CRD is missing are looked for again every 10 s.
 */
import type { Logger } from "pino";
import { childKey, ownedFields, writtenBy } from "../controllers/tenant/children.ts";
import type { ChildIndex, ChildObservation } from "../controllers/tenant/children.ts";
import { ENVIRONMENT_LABEL } from "../environment/cluster-api.ts";
import type { ObjectKind } from "../environment/provider.ts";
import { PROVIDERS } from "../environment/providers/index.ts";
import { FIELD_MANAGER } from "../kube/apply.ts";
import type { Discovery } from "../kube/discovery.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { errorMessage, resourcePath } from "../kube/client.ts";
import { Reflector } from "../kube/reflector.ts";
import type { WatchEventType } from "../kube/reflector.ts";
import type { WorkQueue } from "../kube/workqueue.ts";
import { API_VERSION, ENVIRONMENT, collectionPath } from "../api/registry.ts";

const MISSING_CRD_POLL_MS = 10_000;

export const ENVIRONMENTS_PATH = collectionPath(ENVIRONMENT);

/** Every kind some provider renders, once each. */
export function renderedKinds(): ObjectKind[] {
  const seen = new Map<string, ObjectKind>();
  for (const provider of PROVIDERS.values())
    for (const kind of provider.kinds) seen.set(`${kind.apiVersion}|${kind.kind}`, kind);
  return [...seen.values()];
}

/**
 * What the controller keeps of an Environment: the JSON text reconcile parses (without
 * managedFields and kubectl's last-applied copy), and what the event handlers and the tenant
 * conflict check need.
 */
export interface CachedEnvironment {
  readonly name: string;
  readonly generation: number;
  readonly deleting: boolean;
  readonly created: string;
  readonly tenants: readonly string[];
  readonly text: string;
}

export function cacheEnvironment(object: Json): CachedEnvironment {
  const metadata = { ...(object["metadata"] as Json | undefined) };
  delete metadata["managedFields"];
  const annotations = metadata["annotations"] as Record<string, string> | undefined;
  if (annotations?.["kubectl.kubernetes.io/last-applied-configuration"] !== undefined) {
    const rest = { ...annotations };
    delete rest["kubectl.kubernetes.io/last-applied-configuration"];
    metadata["annotations"] = rest;
  }
  const tenants = (object["spec"] as { tenants?: unknown } | undefined)?.tenants;
  return {
    name: String(metadata["name"]),
    generation: typeof metadata["generation"] === "number" ? metadata["generation"] : 0,
    deleting: metadata["deletionTimestamp"] !== undefined,
    created: typeof metadata["creationTimestamp"] === "string" ? metadata["creationTimestamp"] : "",
    tenants: Array.isArray(tenants) ? tenants.filter((t): t is string => typeof t === "string") : [],
    text: JSON.stringify({ ...object, metadata }),
  };
}

/** An object of a child watch as an index entry, grouped by its Environment (the index's "tenant"). */
export function observe(object: Json, type: ObjectKind): ChildObservation | undefined {
  const metadata = (object["metadata"] ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { apiVersion?: string; kind?: string; uid: string }[];
  };
  const environment = metadata.labels?.[ENVIRONMENT_LABEL];
  if (environment === undefined || metadata.name === undefined) return undefined;
  const owner = metadata.ownerReferences?.find(
    (reference) => reference.apiVersion === API_VERSION && reference.kind === ENVIRONMENT.kind,
  );
  return {
    tenant: environment,
    key: childKey(type.apiVersion, type.kind, metadata.namespace, metadata.name),
    entry: {
      apiVersion: type.apiVersion,
      kind: type.kind,
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      name: metadata.name,
      ...(owner === undefined ? {} : { ownerUid: owner.uid }),
      deleting: metadata.deletionTimestamp !== undefined,
      owned: ownedFields(object),
    },
    ours: writtenBy(object, FIELD_MANAGER),
  };
}

export interface FleetWatchesOptions {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly index: ChildIndex;
  readonly queue: WorkQueue;
  /** The Environments as last seen by their watch, read by reconcile. */
  readonly environments: Map<string, CachedEnvironment>;
  readonly logger: Logger;
}

export class FleetWatches {
  readonly #options: FleetWatchesOptions;
  readonly #reflectors: Reflector<unknown>[] = [];
  readonly #children: Reflector<ChildObservation>[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #environments: Reflector<CachedEnvironment> | undefined;
  #stopped = false;

  constructor(options: FleetWatchesOptions) {
    this.#options = options;
  }

  /** The Environment watch has listed once: the controller knows every Environment. */
  get synced(): boolean {
    return this.#environments?.synced ?? false;
  }

  /** First learns which children exist (pruning relies on it), then Environments. */
  async start(): Promise<void> {
    await Promise.all(renderedKinds().map((kind) => this.#watchKind(kind)));
    await Promise.all(this.#children.map((r) => r.waitForSync(10_000)));
    if (this.#stopped) return;
    this.#watchEnvironments();
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const reflector of this.#reflectors) reflector.stop();
  }

  async #watchKind(kind: ObjectKind): Promise<void> {
    if (await this.#tryWatchKind(kind)) return;
    const poll = (): void => {
      this.#timers.push(
        setTimeout(() => {
          if (this.#stopped) return;
          void this.#tryWatchKind(kind).then((started) => {
            if (!started) poll();
          });
        }, MISSING_CRD_POLL_MS),
      );
    };
    poll();
  }

  async #tryWatchKind(kind: ObjectKind): Promise<boolean> {
    const { client, discovery, logger } = this.#options;
    try {
      const resource = await discovery.resourceFor(kind.apiVersion, kind.kind);
      if (this.#stopped) return true;
      if (resource === undefined) return false;
      // The Environment's status follows the Cluster's: any change to it counts, status included.
      const progress = kind.kind === "Cluster";
      const reflector = new Reflector<ChildObservation>({
        client,
        path: resourcePath(resource),
        labelSelector: ENVIRONMENT_LABEL,
        metadataOnly: { apiVersion: resource.apiVersion, kind: resource.kind },
        logger,
        transform: (object) => observe(object, kind),
        onList: (observations) => {
          this.#onChildList(kind, observations);
        },
        onEvent: (type, observation) => {
          this.#onChildEvent(type, observation, progress);
        },
      });
      this.#children.push(reflector);
      this.#reflectors.push(reflector as Reflector<unknown>);
      reflector.start();
      return true;
    } catch (error) {
      logger.warn({ ...kind, error: errorMessage(error) }, "discovery failed; retrying");
      return false;
    }
  }

  #onChildList(kind: ObjectKind, observations: readonly ChildObservation[]): void {
    const { index, queue } = this.#options;
    const present = new Set<string>();
    for (const observation of observations) {
      present.add(observation.key);
      if (index.observe(observation).changed) queue.add(observation.tenant);
    }
    for (const { tenant, key } of index.ofKind(kind.apiVersion, kind.kind))
      if (!present.has(key)) {
        index.delete(tenant, key);
        queue.add(tenant);
      }
  }

  #onChildEvent(type: WatchEventType, observation: ChildObservation, progress: boolean): void {
    const { index, queue } = this.#options;
    if (type === "DELETED") {
      index.delete(observation.tenant, observation.key);
      queue.add(observation.tenant);
      return;
    }
    const { changed } = index.observe(observation);
    if (progress || (changed && !observation.ours)) queue.add(observation.tenant);
  }

  #watchEnvironments(): void {
    const { client, logger } = this.#options;
    let waitingLogged = false;
    const reflector = new Reflector<CachedEnvironment>({
      client,
      path: ENVIRONMENTS_PATH,
      logger,
      transform: cacheEnvironment,
      onListError: (error) => {
        if (!waitingLogged) logger.info({ error: errorMessage(error) }, "waiting for the Environment CRD");
        waitingLogged = true;
      },
      onList: (listed) => {
        this.#onEnvironmentList(listed);
      },
      onEvent: (type, environment) => {
        this.#onEnvironmentEvent(type, environment);
      },
    });
    this.#environments = reflector;
    this.#reflectors.push(reflector as Reflector<unknown>);
    reflector.start();
  }

  #onEnvironmentList(listed: readonly CachedEnvironment[]): void {
    const { environments, queue } = this.#options;
    const names = new Set<string>();
    for (const environment of listed) {
      names.add(environment.name);
      const known = environments.get(environment.name);
      if (known?.generation !== environment.generation || environment.deleting) queue.add(environment.name);
      environments.set(environment.name, environment);
    }
    for (const name of environments.keys()) if (!names.has(name)) this.#forget(name);
  }

  #onEnvironmentEvent(type: WatchEventType, environment: CachedEnvironment): void {
    const { environments, queue } = this.#options;
    if (type === "DELETED") {
      this.#forget(environment.name);
      return;
    }
    const known = environments.get(environment.name);
    // Our status writes leave the generation alone: no reconcile for them.
    const enqueue = type === "ADDED" || known?.generation !== environment.generation || environment.deleting;
    environments.set(environment.name, environment);
    if (enqueue) {
      queue.add(environment.name);
      // Another Environment may wait for one of these tenants, or now clash with one.
      this.#enqueueSharing([...(known?.tenants ?? []), ...environment.tenants]);
    }
  }

  #forget(name: string): void {
    const { environments } = this.#options;
    const known = environments.get(name);
    environments.delete(name);
    if (known !== undefined) this.#enqueueSharing(known.tenants);
  }

  /** Environments that list any of these tenants: a conflict may have cleared. */
  #enqueueSharing(tenants: readonly string[]): void {
    if (tenants.length === 0) return;
    const { environments, queue } = this.#options;
    for (const other of environments.values())
      if (other.tenants.some((tenant) => tenants.includes(tenant))) queue.add(other.name);
  }
}
