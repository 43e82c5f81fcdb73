/**
 * The Tenant controller as a part of `vakt run` (`--parts controller`): the watches of
 * watches.ts feed a rate-limited queue of tenant names and the workers of controller.ts run the
 * TenantReconciler on them. It writes, so the manager starts it only on the replica that holds
 * the Lease and stops it when the Lease is lost; every write checks `context.isLeader()` first.
 *
 *   const part = new TenantControllerPart({ workers: 8 });
 *   new Manager({ kubeconfig, parts: [part], lease: { namespace: "vakt-system" } });
 */
import type { KubeClient } from "../../kube/client.ts";
import { errorMessage } from "../../kube/client.ts";
import { makeDiscovery } from "../../kube/discovery.ts";
import type { WorkQueueOptions } from "../../kube/workqueue.ts";
import type { Part, PartContext } from "../../kube/part.ts";
import { Controller } from "../controller.ts";
import { ChildIndex } from "./children.ts";
import { TenantReconciler } from "./reconciler.ts";
import type { WriteInfo } from "./status.ts";
import { TenantWatches } from "./watches.ts";
import type { CachedTenant } from "./watches.ts";

export interface TenantControllerOptions {
  /** Parallel reconciles (default 4). */
  readonly workers?: number;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
  readonly queue?: WorkQueueOptions;
  /** This replica's name in the Events it records (default "vakt"). */
  readonly identity?: string;
  /** Test seam: called before every write; throwing aborts the reconcile like a crash would. */
  readonly onWrite?: (write: WriteInfo) => void;
}

/** One run of the controller, from winning the Lease to losing it (or stopping). */
interface Run {
  readonly controller: Controller;
  readonly watches: TenantWatches;
}

export class TenantControllerPart implements Part {
  readonly name = "controller";
  readonly leaderElection = true;
  readonly #options: TenantControllerOptions;
  #run: Run | undefined;
  #client: KubeClient | undefined;
  /** Reconciles of the runs that ended. */
  #reconciled = 0;

  constructor(options: TenantControllerOptions = {}) {
    this.#options = options;
  }

  /** API requests issued by the client the part was started with (all its users, watches included). */
  get requests(): number {
    return this.#client?.requests ?? 0;
  }

  /** Reconciles run (finished or failed), over every run. */
  get reconciles(): number {
    return this.#reconciled + (this.#run?.controller.reconciles ?? 0);
  }

  /**
   * Starts watching and working; the state it builds (child index, tenant cache) is its own,
   * rebuilt from the API server at every start: a new leader trusts nothing a former one knew.
   */
  start(context: PartContext): Promise<void> {
    if (this.#run !== undefined) return Promise.reject(new Error("the Tenant controller is already running"));
    const options = this.#options;
    const { client } = context;
    const discovery = makeDiscovery(client);
    const index = new ChildIndex();
    const tenants = new Map<string, CachedTenant>();
    const statusWritten = new Map<string, string>();
    let controller: Controller | undefined = undefined;
    const reconciler = new TenantReconciler({
      client,
      discover: discovery.resourceFor,
      invalidate: discovery.invalidate,
      index,
      mayWrite: () => controller?.stopped === false && context.isLeader(),
      cachedTenant: (name) => {
        const cached = tenants.get(name);
        return cached === undefined ? undefined : (JSON.parse(cached.text) as Record<string, unknown>);
      },
      statusWritten,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.applyConcurrency === undefined ? {} : { applyConcurrency: options.applyConcurrency }),
      ...(options.onWrite === undefined ? {} : { onWrite: options.onWrite }),
    });
    controller = new Controller({
      name: "tenant",
      reconciler,
      logger: context.logger,
      registry: context.registry,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.queue === undefined ? {} : { queue: options.queue }),
    });
    const watches = new TenantWatches({
      client,
      discovery,
      index,
      queue: controller.queue,
      tenants,
      statusWritten,
      logger: controller.logger,
    });
    this.#client = client;
    this.#run = { controller, watches };
    const logger = controller.logger;
    void watches.start().catch((error: unknown) => {
      logger.error({ error: errorMessage(error) }, "tenant watches failed to start");
    });
    controller.start();
    controller.logger.info({ workers: options.workers ?? 4 }, "tenant controller acting as leader");
    return Promise.resolve();
  }

  ready(): boolean {
    return this.#run !== undefined;
  }

  /**
   * Stops writing at once (workers check before each write), stops the watches and waits for
   * the reconciles in flight. A crash leaves nothing behind that a stop would not: the Lease is
   * the manager's.
   */
  async stop(): Promise<void> {
    const run = this.#run;
    this.#run = undefined;
    if (run === undefined) return;
    const stopped = run.controller.stop();
    run.watches.stop();
    await stopped;
    this.#reconciled += run.controller.reconciles;
  }
}
