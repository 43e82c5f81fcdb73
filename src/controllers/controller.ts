/**
 * The Tenant controller: watches on Tenants and on every kind a Tenant renders (selected by the
 * vakt.dev/tenant label) feed a rate-limited work queue of tenant names; N workers run
 * `reconcileTenant`. Only the leader (a Lease) watches and works; a replica that loses the Lease
 * stops at once and every write is checked against leadership first.
 *
 *   const controller = await startTenantController({ kubeconfig, logger, identity, leaseNamespace });
 *   ...
 *   await controller.close();
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { makeDiscovery } from "../kube/discovery.ts";
import { ChildIndex, entryOf } from "./index.ts";
import type { ChildObservation } from "./index.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { errorMessage, makeKubeClient, resourcePath } from "../kube/client.ts";
import { LeaderElector } from "../kube/leader.ts";
import { NotLeaderError, TENANTS_PATH, reconcileTenant } from "./tenant.ts";
import type { WriteInfo } from "./tenant.ts";
import { Reflector } from "../kube/reflector.ts";
import { WorkQueue } from "../kube/workqueue.ts";
import type { WorkQueueOptions } from "../kube/workqueue.ts";
import { TENANT_LABEL } from "../tenant/render.ts";
import { TENANT_CHILD_KINDS } from "../api/registry.ts";

/** Every kind renderTenant can produce (watched for drift and pruning when served). */
export interface TenantControllerOptions {
  readonly kubeconfig: KubeConfig;
  readonly logger: Logger;
  /** This replica's name in the Lease (e.g. the pod name). */
  readonly identity: string;
  readonly leaseNamespace: string;
  /** Default "vakt-tenant-controller". */
  readonly leaseName?: string;
  /** Parallel reconciles (default 4). */
  readonly workers?: number;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly queue?: WorkQueueOptions;
  /** Test seam: called before every write; throwing aborts the reconcile like a crash would. */
  readonly onWrite?: (write: WriteInfo) => void;
}

export interface TenantController {
  isLeader(): boolean;
  /** API requests issued (including watches). */
  readonly requests: number;
  /** Reconciles run (finished or failed). */
  readonly reconciles: number;
  /** Stops; with `releaseLease: false` (a crash) the Lease is left to expire. */
  close(options?: { readonly releaseLease?: boolean }): Promise<void>;
}

interface Session {
  stopped: boolean;
  readonly queue: WorkQueue;
  readonly reflectors: { stop(): void }[];
  readonly workers: Promise<void>[];
  readonly timers: NodeJS.Timeout[];
}

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

export function startTenantController(options: TenantControllerOptions): Promise<TenantController> {
  const logger = options.logger.child({ controller: "tenant" });
  const client: KubeClient = makeKubeClient(options.kubeconfig);
  let session: Session | undefined;
  let reconciles = 0;
  let closed = false;

  const elector: LeaderElector = new LeaderElector({
    client,
    namespace: options.leaseNamespace,
    name: options.leaseName ?? "vakt-tenant-controller",
    identity: options.identity,
    logger,
    ...(options.leaseDurationMs === undefined ? {} : { leaseDurationMs: options.leaseDurationMs }),
    ...(options.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: options.renewDeadlineMs }),
    ...(options.retryPeriodMs === undefined ? {} : { retryPeriodMs: options.retryPeriodMs }),
    onStartedLeading: () => {
      if (!closed) session = startActing();
    },
    onStoppedLeading: () => {
      void stopActing();
    },
  });

  const startActing = (): Session => {
    const queue = new WorkQueue(options.queue);
    const current: Session = { stopped: false, queue, reflectors: [], workers: [], timers: [] };
    const index = new ChildIndex();
    const discovery = makeDiscovery(client);
    /** The Tenants as last seen by their watch, read by reconcile. */
    const tenants = new Map<string, CachedTenant>();
    const statusWritten = new Map<string, string>();
    const mayWrite = (): boolean => !current.stopped && elector.isLeader();
    const deps = {
      client,
      discover: discovery.resourceFor,
      invalidate: discovery.invalidate,
      index,
      logger,
      mayWrite,
      identity: options.identity,
      cachedTenant: (name: string): Json | undefined => {
        const cached = tenants.get(name);
        return cached === undefined ? undefined : (JSON.parse(cached.text) as Json);
      },
      statusWritten,
      ...(options.applyConcurrency === undefined ? {} : { applyConcurrency: options.applyConcurrency }),
      ...(options.onWrite === undefined ? {} : { onWrite: options.onWrite }),
    };

    const childReflectors: Reflector<ChildObservation>[] = [];
    /** Starts the watch of a kind if it is served; false when its CRD is not installed. */
    const tryWatch = async (apiVersion: string, kind: string): Promise<boolean> => {
      try {
        const resource = await discovery.resourceFor(apiVersion, kind);
        if (resource !== undefined) {
          const reflector = new Reflector<ChildObservation>({
            client,
            path: resourcePath(resource),
            labelSelector: TENANT_LABEL,
            // Metadata is all the index needs (see index.ts): no spec or status on the wire.
            metadataOnly: { apiVersion: resource.apiVersion, kind: resource.kind },
            logger,
            // Only the index entry is kept of each child.
            transform: (object) => entryOf(object),
            onList: (observations) => {
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
            },
            onEvent: (type, observation) => {
              if (type === "DELETED") {
                index.delete(observation.tenant, observation.key);
                queue.add(observation.tenant);
                return;
              }
              const result = index.observe(observation);
              // Only foreign changes enqueue: our own applies are recorded from their responses,
              // and their watch events (often faster than the responses) carry vakt's Apply as
              // the newest write.
              if (result.changed && !observation.ours) queue.add(result.tenant);
            },
          });
          childReflectors.push(reflector);
          current.reflectors.push(reflector);
          reflector.start();
          return true;
        }
      } catch (error) {
        logger.warn({ apiVersion, kind, error: errorMessage(error) }, "discovery failed; retrying");
      }
      return false;
    };
    const watchKind = async (apiVersion: string, kind: string): Promise<void> => {
      if (await tryWatch(apiVersion, kind)) return;
      // Kinds whose CRD is missing are looked for again every 10 s: installing it later works.
      const poll = (): void => {
        current.timers.push(
          setTimeout(() => {
            if (current.stopped) return;
            void tryWatch(apiVersion, kind).then((started) => {
              if (!started) poll();
            });
          }, 10_000),
        );
      };
      poll();
    };

    void (async () => {
      // First learn which children exist (pruning and drift detection rely on it), then tenants.
      await Promise.all(TENANT_CHILD_KINDS.map(({ apiVersion, kind }) => watchKind(apiVersion, kind)));
      await Promise.all(childReflectors.map((r) => r.waitForSync(10_000)));
      if (current.stopped) return;
      let waitingLogged = false;
      const tenantReflector = new Reflector<CachedTenant>({
        client,
        path: TENANTS_PATH,
        logger,
        transform: cacheTenant,
        onListError: (error) => {
          if (!waitingLogged) logger.info({ error: errorMessage(error) }, "waiting for the Tenant CRD");
          waitingLogged = true;
        },
        onList: (listed) => {
          // A re-list (the watch fell out of the API server's window: 410 Gone) enqueues only
          // tenants that are new or changed; re-running all of them would delay real work
          // behind them. Drift in children is seen by their watches.
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
        },
        onEvent: (type, t) => {
          if (type === "DELETED") {
            tenants.delete(t.name);
            statusWritten.delete(t.name);
            return;
          }
          // Status writes (our own) do not change the generation: no reconcile for them.
          const enqueue = type === "ADDED" || tenants.get(t.name)?.generation !== t.generation || t.deleting;
          tenants.set(t.name, t);
          if (enqueue) queue.add(t.name);
        },
      });
      current.reflectors.push(tenantReflector);
      tenantReflector.start();
    })();

    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await queue.get();
        if (key === undefined) return;
        try {
          const result = await reconcileTenant(key, deps);
          queue.forget(key);
          if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        } catch (error) {
          if (!(error instanceof NotLeaderError) && !current.stopped) {
            const delayMs = queue.addRateLimited(key);
            logger.warn({ tenant: key, error: errorMessage(error), retryInMs: delayMs }, "reconcile failed");
          }
        } finally {
          reconciles += 1;
          queue.done(key);
        }
      }
    };
    for (let i = 0; i < (options.workers ?? 4); i++) current.workers.push(worker());
    logger.info({ workers: options.workers ?? 4 }, "tenant controller acting as leader");
    return current;
  };

  const stopActing = async (): Promise<void> => {
    const current = session;
    session = undefined;
    if (current === undefined) return;
    current.stopped = true;
    current.queue.shutDown();
    for (const timer of current.timers) clearTimeout(timer);
    for (const reflector of current.reflectors) reflector.stop();
    await Promise.all(current.workers);
  };

  elector.start();
  return Promise.resolve({
    isLeader: () => elector.isLeader() && session !== undefined,
    get requests() {
      return client.requests;
    },
    get reconciles() {
      return reconciles;
    },
    async close(closeOptions = {}) {
      closed = true;
      const release = closeOptions.releaseLease ?? true;
      // Stop writing first (workers check before each write), then give up the Lease.
      const acting = stopActing();
      await elector.stop(release);
      await acting;
      await client.close?.();
    },
  });
}
