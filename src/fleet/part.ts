/**
 * The fleet controller as a part of `vakt run` (`--parts fleet`): the watches of watches.ts feed
 * a rate-limited queue of Environment names and the workers of the controller skeleton run the
 * FleetReconciler on them. It writes, so the manager runs it only on the replica that holds the
 * Lease; every write checks `context.isLeader()` first. Everything it knows is rebuilt from the
 * API server at every start: a new leader trusts nothing a former one knew.
 */
import { ChildIndex } from "../controllers/tenant/children.ts";
import { Controller } from "../controllers/controller.ts";
import type { KubeClient } from "../kube/client.ts";
import { errorMessage } from "../kube/client.ts";
import { makeDiscovery } from "../kube/discovery.ts";
import type { Part, PartContext } from "../kube/part.ts";
import type { WorkQueueOptions } from "../kube/workqueue.ts";
import { LocalClusters } from "./local.ts";
import type { LocalClustersOptions } from "./local.ts";
import { Members } from "./members.ts";
import { FleetReconciler } from "./reconciler.ts";
import type { WriteInfo } from "./status.ts";
import { FleetWatches } from "./watches.ts";
import type { CachedEnvironment } from "./watches.ts";

export interface FleetPartOptions {
  /** Parallel reconciles (default 4). */
  readonly workers?: number;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
  readonly queue?: WorkQueueOptions;
  /** This replica's name in the Events it records (default "vakt"). */
  readonly identity?: string;
  /** Test seam: called before every write; throwing aborts the reconcile like a crash would. */
  readonly onWrite?: (write: WriteInfo) => void;
  /**
   * Start `local` Environments' control planes from these binaries, state under `root`, with
   * vakt's webhook as a host process in each when `vakt` is given (absent: local Environments
   * wait, and their status says so).
   */
  readonly local?: LocalClustersOptions;
  /** Register and baseline member clusters (default true). */
  readonly baseline?: boolean;
  /** Argo CD's namespace on the hub (default argocd). */
  readonly argocdNamespace?: string;
}

interface Run {
  readonly controller: Controller;
  readonly watches: FleetWatches;
  readonly members: Members | undefined;
}

export class FleetPart implements Part {
  readonly name = "fleet";
  readonly leaderElection = true;
  readonly #options: FleetPartOptions;
  #run: Run | undefined;
  #client: KubeClient | undefined;
  #reconciled = 0;

  constructor(options: FleetPartOptions = {}) {
    this.#options = options;
  }

  /** API requests issued by the client the part was started with. */
  get requests(): number {
    return this.#client?.requests ?? 0;
  }

  /** Reconciles run (finished or failed), over every run. */
  get reconciles(): number {
    return this.#reconciled + (this.#run?.controller.reconciles ?? 0);
  }

  /** Keys waiting in the queue (not those being reconciled). */
  get pending(): number {
    return this.#run?.controller.queue.length ?? 0;
  }

  start(context: PartContext): Promise<void> {
    if (this.#run !== undefined) return Promise.reject(new Error("the fleet controller is already running"));
    const options = this.#options;
    const { client } = context;
    const discovery = makeDiscovery(client);
    const index = new ChildIndex();
    const environments = new Map<string, CachedEnvironment>();
    let controller: Controller | undefined = undefined;
    const members =
      options.baseline === false
        ? undefined
        : new Members({
            hub: client,
            logger: context.logger.child({ part: "fleet-members" }),
            enqueue: (name) => controller?.queue.add(name),
            ...(options.argocdNamespace === undefined ? {} : { argocdNamespace: options.argocdNamespace }),
          });
    const reconciler = new FleetReconciler({
      client,
      discover: discovery.resourceFor,
      invalidate: discovery.invalidate,
      index,
      mayWrite: () => controller?.stopped === false && context.isLeader(),
      cached: (name) => environments.get(name),
      all: () => environments.values(),
      statusWritten: new Map(),
      ...(members === undefined ? {} : { members }),
      ...(options.local === undefined ? {} : { local: new LocalClusters(options.local) }),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.applyConcurrency === undefined ? {} : { applyConcurrency: options.applyConcurrency }),
      ...(options.onWrite === undefined ? {} : { onWrite: options.onWrite }),
    });
    controller = new Controller({
      name: "fleet",
      keyField: "environment",
      reconciler,
      logger: context.logger,
      registry: context.registry,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.queue === undefined ? {} : { queue: options.queue }),
    });
    const watches = new FleetWatches({
      client,
      discovery,
      index,
      queue: controller.queue,
      environments,
      logger: controller.logger,
    });
    this.#client = client;
    this.#run = { controller, watches, members };
    const logger = controller.logger;
    void watches.start().catch((error: unknown) => {
      logger.error({ error: errorMessage(error) }, "fleet watches failed to start");
    });
    controller.start();
    logger.info({ workers: options.workers ?? 4 }, "fleet controller acting as leader");
    return Promise.resolve();
  }

  ready(): boolean {
    return this.#run !== undefined;
  }

  async stop(): Promise<void> {
    const run = this.#run;
    this.#run = undefined;
    if (run === undefined) return;
    const stopped = run.controller.stop();
    run.watches.stop();
    await stopped;
    await run.members?.closeAll();
    this.#reconciled += run.controller.reconciles;
  }
}
