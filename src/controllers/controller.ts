/**
 * What every vakt controller shares (controller-runtime's internal controller is the model): a
 * rate-limited work queue of keys, N workers that hand each key to a `Reconciler`, the metrics of
 * metrics.ts, and a reconcile id in every log line of a reconcile. A controller (tenant, and
 * later audit, backups, fleet) brings its reconciler and its watches, which add keys to `queue`.
 *
 *   const controller = new Controller({ name: "tenant", reconciler, logger, registry, workers: 4 });
 *   watches feed controller.queue.add(key) ...; controller.start(); ... await controller.stop();
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { errorMessage } from "../kube/client.ts";
import { WorkQueue } from "../kube/workqueue.ts";
import type { WorkQueueOptions } from "../kube/workqueue.ts";
import { ControllerMetrics } from "./metrics.ts";
import type { ReconcileOutcome } from "./metrics.ts";

export interface ReconcileResult {
  /** Reconcile again after this long even without events. */
  readonly requeueAfterMs?: number;
}

/** What one reconcile gets besides its key. */
export interface ReconcileContext {
  /** Carries `{ controller, <key label>: key, reconcileID }`: every line of the reconcile says which. */
  readonly logger: Logger;
  /** Short and random, one per reconcile: greps one reconcile out of interleaved workers. */
  readonly reconcileID: string;
}

/**
 * Level-triggered: given only a key, re-read the state and make the cluster match it. A rejection
 * is retried with backoff; NotLeaderError is not an error, and the key is looked at again after
 * NOT_LEADER_RETRY_MS while this controller runs (a lost Lease stops it, and the next leader lists
 * all; a renewal that was only late must not leave the key unreconciled).
 */
export interface Reconciler {
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult>;
}

/**
 * How long a key whose reconcile was cut short by NotLeaderError waits before it is tried again:
 * the Lease's renewal may only have been late (a busy event loop), and then this replica stays
 * the leader with no one else to do the work.
 */
export const NOT_LEADER_RETRY_MS = 1_000;

/** Thrown when this instance lost the right to write mid-reconcile (for now or for good). */
export class NotLeaderError extends Error {
  constructor() {
    super("not the leader (or closing): write skipped");
    this.name = "NotLeaderError";
  }
}

export interface ControllerOptions {
  /** The `controller` label of metrics and log lines, e.g. "tenant". */
  readonly name: string;
  /** The log field that names the key (default: `name`, so a tenant's lines say `tenant: ...`). */
  readonly keyField?: string;
  readonly reconciler: Reconciler;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Parallel reconciles (default 4). */
  readonly workers?: number;
  readonly queue?: WorkQueueOptions;
}

/** A short random id (8 hex digits, from a UUID: Node draws those from a pooled random buffer). */
export function newReconcileID(): string {
  return randomUUID().slice(0, 8);
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  readonly #logger: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #workers: Promise<void>[] = [];
  #stopped = false;
  #reconciles = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#options = options;
    this.#logger = options.logger.child({ controller: options.name });
    this.#metrics = new ControllerMetrics(options.registry, options.name);
    this.queue = new WorkQueue({ ...options.queue, metrics: this.#metrics.queue });
  }

  /** Reconciles run (finished or failed). */
  get reconciles(): number {
    return this.#reconciles;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The controller's logger (`controller: <name>`), for its watches. */
  get logger(): Logger {
    return this.#logger;
  }

  start(): void {
    const workers = this.#options.workers ?? 4;
    this.#metrics.running(this.queue, workers);
    for (let i = 0; i < workers; i++) this.#workers.push(this.#work());
  }

  /** Stops taking keys and waits for the reconciles in flight (their writes check `stopped`). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.queue.shutDown();
    await Promise.all(this.#workers);
    this.#metrics.stopped(this.queue);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.#reconcile(key);
    }
  }

  async #reconcile(key: string): Promise<void> {
    const reconcileID = newReconcileID();
    const logger = this.#logger.child({ [this.#options.keyField ?? this.name]: key, reconcileID });
    const finished = this.#metrics.reconcileStarted();
    let outcome: ReconcileOutcome = "error";
    try {
      const result = await this.#options.reconciler.reconcile(key, { logger, reconcileID });
      this.queue.forget(key);
      if (result.requeueAfterMs === undefined) outcome = "success";
      else {
        outcome = "requeue";
        this.queue.addAfter(key, result.requeueAfterMs);
      }
    } catch (error) {
      if (this.#stopped) outcome = "aborted";
      else if (error instanceof NotLeaderError) {
        outcome = "aborted";
        this.queue.addAfter(key, NOT_LEADER_RETRY_MS);
      } else {
        const delayMs = this.queue.addRateLimited(key);
        logger.warn({ error: errorMessage(error), retryInMs: delayMs }, "reconcile failed");
      }
    } finally {
      finished(outcome);
      this.#reconciles += 1;
      this.queue.done(key);
    }
  }
}
