import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate } from "node:timers/promises";
import { pino } from "pino";
import { Registry } from "prom-client";
import { FakeClock } from "../testing/fake-clock.ts";
import { Controller, NOT_LEADER_RETRY_MS, NotLeaderError } from "./controller.ts";
import type { ReconcileContext, ReconcileResult, Reconciler } from "./controller.ts";

/** The value of one series (histograms: name_count, name_sum, ...), 0 when absent. */
async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  for (const family of await registry.getMetricsAsJSON())
    for (const value of family.values as {
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }[])
      if (
        (value.metricName ?? family.name) === name &&
        Object.entries(labels).every(([key, expected]) => value.labels[key] === expected)
      )
        return value.value;
  return 0;
}

async function reconciled(controller: Controller, count: number): Promise<void> {
  for (let turn = 0; controller.reconciles < count; turn++) {
    assert.ok(turn < 1_000, `${count} reconciles expected, ${controller.reconciles} ran`);
    await setImmediate();
  }
}

/** Answers each key as scripted: a result or an error to throw. */
class Scripted implements Reconciler {
  readonly #script: Record<string, ReconcileResult | Error>;
  constructor(script: Record<string, ReconcileResult | Error>) {
    this.#script = script;
  }
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    context.logger.info({ step: "start" }, "reconciling");
    const answer = this.#script[key] ?? {};
    context.logger.info({ step: "end" }, "reconciled");
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

const tenant = { controller: "tenant" };

describe("Controller", () => {
  it("counts reconciles by result, errors, durations, adds and retries in the registry", async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    const controller = new Controller({
      name: "tenant",
      reconciler: new Scripted({
        ok: {},
        later: { requeueAfterMs: 30_000 },
        broken: new Error("the API server refused it"),
        deposed: new NotLeaderError(),
      }),
      logger: pino({ level: "silent" }),
      registry,
      workers: 1,
      queue: { clock },
    });
    controller.start();
    for (const key of ["ok", "later", "broken", "deposed"]) controller.queue.add(key);
    await reconciled(controller, 4);

    const total = (result: string): Promise<number> =>
      metric(registry, "vakt_controller_reconcile_total", { ...tenant, result });
    assert.equal(await total("success"), 1);
    assert.equal(await total("requeue"), 1);
    assert.equal(await total("error"), 1);
    assert.equal(await total("aborted"), 1, "a reconcile cut short by a lost Lease is not an error");
    assert.equal(await metric(registry, "vakt_controller_reconcile_errors_total", tenant), 1);
    assert.equal(await metric(registry, "vakt_controller_reconcile_duration_seconds_count", tenant), 4);
    assert.equal(await metric(registry, "vakt_workqueue_adds_total", tenant), 4);
    assert.equal(
      await metric(registry, "vakt_workqueue_retries_total", tenant),
      1,
      "only the failure retries",
    );
    assert.equal(await metric(registry, "vakt_controller_max_concurrent_reconciles", tenant), 1);
    assert.equal(await metric(registry, "vakt_controller_active_workers", tenant), 0);

    // The failure comes back after its backoff, the key cut short by the Lease after
    // NOT_LEADER_RETRY_MS (the renewal may only have been late), and the requeue after its delay.
    clock.advance(60_000);
    await reconciled(controller, 7);
    assert.equal(
      await metric(registry, "vakt_workqueue_adds_total", tenant),
      7,
      "the retry, the deposed key and the requeue",
    );
    assert.equal(await total("aborted"), 2, "the deposed key was looked at again");
    assert.equal(await metric(registry, "vakt_controller_reconcile_errors_total", tenant), 2);
    await controller.stop();
  });

  it("tries a key cut short by NotLeaderError again while it runs, and not once stopped", async () => {
    const clock = new FakeClock();
    let leader = false;
    const done: string[] = [];
    const controller = new Controller({
      name: "tenant",
      reconciler: {
        reconcile: (key) => {
          if (!leader) return Promise.reject(new NotLeaderError());
          done.push(key);
          return Promise.resolve({});
        },
      },
      logger: pino({ level: "silent" }),
      registry: new Registry(),
      workers: 1,
      queue: { clock },
    });
    controller.start();
    controller.queue.add("acme");
    await reconciled(controller, 1);
    // The renewal was late, not lost: this replica leads again, and nobody else will do the work.
    leader = true;
    clock.advance(NOT_LEADER_RETRY_MS - 1);
    await setImmediate();
    assert.deepEqual(done, [], "not before the retry delay");
    clock.advance(1);
    await reconciled(controller, 2);
    assert.deepEqual(done, ["acme"]);

    leader = false;
    controller.queue.add("beta");
    await reconciled(controller, 3);
    await controller.stop();
    clock.advance(NOT_LEADER_RETRY_MS * 10);
    await setImmediate();
    assert.equal(controller.reconciles, 3, "a stopped controller retries nothing");
  });

  it("shows the queue's depth and how long the reconciles in flight have run", async () => {
    const registry = new Registry();
    const clock = new FakeClock();
    let release = (): void => undefined;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const controller = new Controller({
      name: "tenant",
      reconciler: { reconcile: () => blocked.then(() => ({})) },
      logger: pino({ level: "silent" }),
      registry,
      workers: 1,
      queue: { clock },
    });
    controller.start();
    for (const key of ["a", "b", "c"]) controller.queue.add(key);
    await setImmediate();
    clock.advance(1_500);
    assert.equal(await metric(registry, "vakt_workqueue_depth", tenant), 2, "one key is being worked on");
    assert.equal(await metric(registry, "vakt_controller_active_workers", tenant), 1);
    assert.equal(await metric(registry, "vakt_workqueue_longest_running_processor_seconds", tenant), 1.5);
    assert.equal(await metric(registry, "vakt_workqueue_unfinished_work_seconds", tenant), 1.5);
    release();
    await reconciled(controller, 3);
    assert.equal(await metric(registry, "vakt_workqueue_depth", tenant), 0);
    assert.equal(await metric(registry, "vakt_workqueue_longest_running_processor_seconds", tenant), 0);
    await controller.stop();
  });

  it("keeps counting in the same registry when started again (the Lease won back)", async () => {
    const registry = new Registry();
    const start = (): Controller => {
      const controller = new Controller({
        name: "tenant",
        reconciler: new Scripted({}),
        logger: pino({ level: "silent" }),
        registry,
      });
      controller.start();
      return controller;
    };
    const first = start();
    first.queue.add("a");
    await reconciled(first, 1);
    await first.stop();
    const second = start();
    second.queue.add("a");
    await reconciled(second, 1);
    await second.stop();
    assert.equal(
      await metric(registry, "vakt_controller_reconcile_total", { ...tenant, result: "success" }),
      2,
    );
  });

  it("puts the controller, the key and one reconcile id in every log line of a reconcile", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "info" },
      {
        write: (line: string) => {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      },
    );
    const controller = new Controller({
      name: "tenant",
      reconciler: new Scripted({ broken: new Error("refused") }),
      logger,
      registry: new Registry(),
      workers: 2,
      queue: { clock: new FakeClock() },
    });
    controller.start();
    controller.queue.add("acme");
    controller.queue.add("broken");
    await reconciled(controller, 2);
    controller.queue.add("acme");
    await reconciled(controller, 3);
    await controller.stop();

    const ids = new Map<string, Set<string>>();
    for (const line of lines) {
      assert.equal(line["controller"], "tenant", JSON.stringify(line));
      assert.match(String(line["reconcileID"]), /^[0-9a-f]{8}$/, JSON.stringify(line));
      const key = String(line["tenant"]);
      ids.set(key, (ids.get(key) ?? new Set()).add(String(line["reconcileID"])));
    }
    assert.deepEqual([...ids.keys()].sort(), ["acme", "broken"]);
    assert.equal(ids.get("acme")?.size, 2, "each reconcile has an id of its own");
    assert.equal(ids.get("broken")?.size, 1, "the failure is logged with the reconcile's id");
    const failure = lines.find((line) => line["msg"] === "reconcile failed");
    assert.equal(failure?.["error"], "refused");
    assert.equal(lines.filter((line) => line["reconcileID"] === failure["reconcileID"]).length, 3);
    const acmeIds = [...(ids.get("acme") ?? [])];
    assert.ok(
      acmeIds.every((id) => lines.filter((line) => line["reconcileID"] === id).length === 2),
      "both lines of a reconcile carry its id",
    );
  });
});
