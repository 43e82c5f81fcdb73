/**
 * What feeds the Tenant controller's queue: a watch on every kind a Tenant renders (selected by
 * the vakt.dev/tenant label, metadata only) keeps the child index and enqueues a tenant whose
 * children someone else changed or deleted; then a watch on Tenants keeps the cache reconcile
 * reads and enqueues new and changed tenants. Kinds whose CRD is missing are looked for again
 * every 10 s, so installing it later works.
 */
import type { Logger } from "pino";
import type { Discovery } from "../../kube/discovery.ts";
import type { Json, KubeClient } from "../../kube/client.ts";
import { errorMessage, resourcePath } from "../../kube/client.ts";
import { Reflector } from "../../kube/reflector.ts";
import type { WatchEventType } from "../../kube/reflector.ts";
import type { WorkQueue } from "../../kube/workqueue.ts";
import { TENANT_LABEL } from "../../tenant/render.ts";
import { TENANT_CHILD_KINDS } from "../../api/registry.ts";
import { entryOf } from "./children.ts";
import type { ChildIndex, ChildObservation } from "./children.ts";
import { TENANTS_PATH } from "./status.ts";

const MISSING_CRD_POLL_MS = 10_000;

/**
 * What the controller keeps of a Tenant: its name, generation and deletion mark for the event
 * handlers, and for reconcile the object as JSON text (parsed when a reconcile reads it: a
 * string costs a fraction of the parsed object's memory), without managedFields and kubectl's
 * last-applied annotation (a second copy of the spec), which reconcile never reads.
 */
export interface CachedTenant {
  readonly name: string;
  readonly generation: number;
  readonly deleting: boolean;
  readonly text: string;
}

export function cacheTenant(object: Json): CachedTenant {
  const metadata = { ...(object["metadata"] as Json | undefined) };
  delete metadata["managedFields"];
  const annotations = metadata["annotations"] as Record<string, string> | undefined;
  if (annotations?.["kubectl.kubernetes.io/last-applied-configuration"] !== undefined) {
    const rest = { ...annotations };
    delete rest["kubectl.kubernetes.io/last-applied-configuration"];
    metadata["annotations"] = rest;
  }
  return {
    name: String(metadata["name"]),
    generation: typeof metadata["generation"] === "number" ? metadata["generation"] : 0,
    deleting: metadata["deletionTimestamp"] !== undefined,
    text: JSON.stringify({ ...object, metadata }),
  };
}

export interface TenantWatchesOptions {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly index: ChildIndex;
  readonly queue: WorkQueue;
  /** The Tenants as last seen by their watch, read by reconcile. */
  readonly tenants: Map<string, CachedTenant>;
  /** The reconciler's memory of the status it wrote; forgotten with the tenant. */
  readonly statusWritten: Map<string, string>;
  readonly logger: Logger;
}

export class TenantWatches {
  readonly #options: TenantWatchesOptions;
  readonly #children: Reflector<ChildObservation>[] = [];
  readonly #reflectors: { stop(): void }[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #tenantReflector: Reflector<CachedTenant> | undefined;
  #stopped = false;

  constructor(options: TenantWatchesOptions) {
    this.#options = options;
  }

  /** Whether the Tenant watch has listed once (the controller knows every tenant). */
  get synced(): boolean {
    return this.#tenantReflector?.synced ?? false;
  }

  /** First learns which children exist (pruning and drift detection rely on it), then tenants. */
  async start(): Promise<void> {
    await Promise.all(TENANT_CHILD_KINDS.map(({ apiVersion, kind }) => this.#watchKind(apiVersion, kind)));
    await Promise.all(this.#children.map((r) => r.waitForSync(10_000)));
    if (this.#stopped) return;
    this.#watchTenants();
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const reflector of this.#reflectors) reflector.stop();
  }

  async #watchKind(apiVersion: string, kind: string): Promise<void> {
    if (await this.#tryWatchKind(apiVersion, kind)) return;
    const poll = (): void => {
      this.#timers.push(
        setTimeout(() => {
          if (this.#stopped) return;
          void this.#tryWatchKind(apiVersion, kind).then((started) => {
            if (!started) poll();
          });
        }, MISSING_CRD_POLL_MS),
      );
    };
    poll();
  }

  /** Starts the watch of a kind if it is served; false when its CRD is not installed. */
  async #tryWatchKind(apiVersion: string, kind: string): Promise<boolean> {
    const { client, discovery, logger } = this.#options;
    try {
      const resource = await discovery.resourceFor(apiVersion, kind);
      // Stopped while discovery answered: no watch may outlive the controller.
      if (this.#stopped) return true;
      if (resource === undefined) return false;
      const reflector = new Reflector<ChildObservation>({
        client,
        path: resourcePath(resource),
        labelSelector: TENANT_LABEL,
        // Metadata is all the index needs (see children.ts): no spec or status on the wire.
        metadataOnly: { apiVersion: resource.apiVersion, kind: resource.kind },
        logger,
        // Only the index entry is kept of each child.
        transform: (object) => entryOf(object),
        onList: (observations) => {
          this.#onChildList(apiVersion, kind, observations);
        },
        onEvent: (type, observation) => {
          this.#onChildEvent(type, observation);
        },
      });
      this.#children.push(reflector);
      this.#reflectors.push(reflector);
      reflector.start();
      return true;
    } catch (error) {
      logger.warn({ apiVersion, kind, error: errorMessage(error) }, "discovery failed; retrying");
      return false;
    }
  }

  #onChildList(apiVersion: string, kind: string, observations: readonly ChildObservation[]): void {
    const { index, queue } = this.#options;
    const present = new Set<string>();
    for (const observation of observations) {
      present.add(observation.key);
      const result = index.observe(observation);
      if (result.changed) queue.add(result.tenant);
    }
    // Deleted while the watch was down: heal their tenants.
    for (const { tenant, key } of index.ofKind(apiVersion, kind))
      if (!present.has(key)) {
        index.delete(tenant, key);
        queue.add(tenant);
      }
  }

  #onChildEvent(type: WatchEventType, observation: ChildObservation): void {
    const { index, queue } = this.#options;
    if (type === "DELETED") {
      index.delete(observation.tenant, observation.key);
      queue.add(observation.tenant);
      return;
    }
    const result = index.observe(observation);
    // Only foreign changes enqueue: our own applies are recorded from their responses, and their
    // watch events (often faster than the responses) carry vakt's Apply as the newest write.
    if (result.changed && !observation.ours) queue.add(result.tenant);
  }

  #watchTenants(): void {
    const { client, logger } = this.#options;
    let waitingLogged = false;
    const reflector = new Reflector<CachedTenant>({
      client,
      path: TENANTS_PATH,
      logger,
      transform: cacheTenant,
      onListError: (error) => {
        if (!waitingLogged) logger.info({ error: errorMessage(error) }, "waiting for the Tenant CRD");
        waitingLogged = true;
      },
      onList: (listed) => {
        this.#onTenantList(listed);
      },
      onEvent: (type, tenant) => {
        this.#onTenantEvent(type, tenant);
      },
    });
    this.#tenantReflector = reflector;
    this.#reflectors.push(reflector);
    reflector.start();
  }

  /**
   * A re-list (the watch fell out of the API server's window: 410 Gone) enqueues only tenants
   * that are new or changed; re-running all of them would delay real work behind them. Drift in
   * children is seen by their watches.
   */
  #onTenantList(listed: readonly CachedTenant[]): void {
    const { tenants, statusWritten, queue } = this.#options;
    const names = new Set<string>();
    for (const t of listed) {
      names.add(t.name);
      if (tenants.get(t.name)?.generation !== t.generation || t.deleting) queue.add(t.name);
      tenants.set(t.name, t);
    }
    for (const name of tenants.keys())
      if (!names.has(name)) {
        tenants.delete(name);
        statusWritten.delete(name);
      }
  }

  #onTenantEvent(type: WatchEventType, t: CachedTenant): void {
    const { tenants, statusWritten, queue } = this.#options;
    if (type === "DELETED") {
      tenants.delete(t.name);
      statusWritten.delete(t.name);
      return;
    }
    // Status writes (our own) do not change the generation: no reconcile for them.
    const enqueue = type === "ADDED" || tenants.get(t.name)?.generation !== t.generation || t.deleting;
    tenants.set(t.name, t);
    if (enqueue) queue.add(t.name);
  }
}
