/**
 * The metrics every controller exports, named after controller-runtime's (controller_runtime_*
 * and workqueue_*) with vakt's prefix and a `controller` label: an operator's dashboards and
 * alerts for controller-runtime controllers read vakt's with the names changed.
 *
 * Families are registered once per registry and shared by every controller in it (tenant, and
 * later audit, backups, fleet); a controller started again after winning the Lease back finds
 * its families there and carries on counting.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import type { QueueMetrics, WorkInFlight } from "../kube/workqueue.ts";

export type ReconcileOutcome = "success" | "error" | "requeue" | "aborted";

/** What the gauges read when scraped: the queue of the controller's current run. */
export interface QueueGauges {
  readonly length: number;
  inFlight(): WorkInFlight;
}

interface Families {
  readonly reconciles: Counter<"controller" | "result">;
  readonly errors: Counter<"controller">;
  readonly duration: Histogram<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly maxConcurrent: Gauge<"controller">;
  readonly adds: Counter<"controller">;
  readonly retries: Counter<"controller">;
  /** The queue each controller runs now, read by the gauges below at scrape time. */
  readonly queues: Map<string, QueueGauges>;
}

const OUTCOMES: readonly ReconcileOutcome[] = ["success", "error", "requeue", "aborted"];

// Per registry, not per process: tests and benches run several managers in one process.
const families = new WeakMap<Registry, Families>();

function register(registry: Registry): Families {
  const queues = new Map<string, QueueGauges>();
  const registers = [registry];
  const fromQueues = (gauge: Gauge<"controller">, read: (queue: QueueGauges) => number): void => {
    gauge.reset();
    for (const [controller, queue] of queues) gauge.set({ controller }, read(queue));
  };
  new Gauge({
    name: "vakt_workqueue_depth",
    help: "Keys waiting in the controller's work queue.",
    labelNames: ["controller"],
    registers,
    collect() {
      fromQueues(this, (queue) => queue.length);
    },
  });
  new Gauge({
    name: "vakt_workqueue_unfinished_work_seconds",
    help: "Seconds the reconciles in progress have run, added up; a large value with few reconciles finishing means stuck workers.",
    labelNames: ["controller"],
    registers,
    collect() {
      fromQueues(this, (queue) => queue.inFlight().totalMs / 1000);
    },
  });
  new Gauge({
    name: "vakt_workqueue_longest_running_processor_seconds",
    help: "Seconds the longest reconcile in progress has run.",
    labelNames: ["controller"],
    registers,
    collect() {
      fromQueues(this, (queue) => queue.inFlight().longestMs / 1000);
    },
  });
  return {
    queues,
    reconciles: new Counter({
      name: "vakt_controller_reconcile_total",
      help: "Reconciles by result: success, error (retried with backoff), requeue (done, to run again after a delay), aborted (the controller stopped or lost the Lease mid-way; not retried).",
      labelNames: ["controller", "result"],
      registers,
    }),
    errors: new Counter({
      name: "vakt_controller_reconcile_errors_total",
      help: "Reconciles that failed (retried with backoff).",
      labelNames: ["controller"],
      registers,
    }),
    duration: new Histogram({
      name: "vakt_controller_reconcile_duration_seconds",
      help: "How long reconciles take, whatever their result.",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    activeWorkers: new Gauge({
      name: "vakt_controller_active_workers",
      help: "Workers reconciling right now.",
      labelNames: ["controller"],
      registers,
    }),
    maxConcurrent: new Gauge({
      name: "vakt_controller_max_concurrent_reconciles",
      help: "Workers of the controller: reconciles it runs at once at most.",
      labelNames: ["controller"],
      registers,
    }),
    adds: new Counter({
      name: "vakt_workqueue_adds_total",
      help: "Keys added to the controller's work queue.",
      labelNames: ["controller"],
      registers,
    }),
    retries: new Counter({
      name: "vakt_workqueue_retries_total",
      help: "Keys put back in the work queue with backoff after a failed reconcile.",
      labelNames: ["controller"],
      registers,
    }),
  };
}

/** The metrics of one controller in one registry. */
export class ControllerMetrics {
  readonly #families: Families;
  readonly #controller: string;
  /** For the work queue: adds and retries. */
  readonly queue: QueueMetrics;

  constructor(registry: Registry, controller: string) {
    let found = families.get(registry);
    if (found === undefined) {
      found = register(registry);
      families.set(registry, found);
    }
    const f = found;
    this.#families = f;
    this.#controller = controller;
    const labels = { controller };
    // Every series exists from the start at 0, so rates and alerts work before the first event.
    for (const result of OUTCOMES) f.reconciles.inc({ controller, result }, 0);
    f.errors.inc(labels, 0);
    f.adds.inc(labels, 0);
    f.retries.inc(labels, 0);
    f.activeWorkers.set(labels, 0);
    this.queue = {
      added: () => {
        f.adds.inc(labels);
      },
      retried: () => {
        f.retries.inc(labels);
      },
    };
  }

  /** The controller runs `workers` workers on `queue` (until `stopped`). */
  running(queue: QueueGauges, workers: number): void {
    this.#families.queues.set(this.#controller, queue);
    this.#families.maxConcurrent.set({ controller: this.#controller }, workers);
  }

  stopped(queue: QueueGauges): void {
    if (this.#families.queues.get(this.#controller) === queue) this.#families.queues.delete(this.#controller);
  }

  /** Call when a reconcile starts; call the function returned when it ends. */
  reconcileStarted(): (outcome: ReconcileOutcome) => void {
    const labels = { controller: this.#controller };
    const f = this.#families;
    f.activeWorkers.inc(labels);
    const end = f.duration.startTimer(labels);
    return (outcome) => {
      end();
      f.activeWorkers.dec(labels);
      f.reconciles.inc({ controller: this.#controller, result: outcome });
      if (outcome === "error") f.errors.inc(labels);
    };
  }
}
