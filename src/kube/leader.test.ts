import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { Json, KubeClient, KubeResponse } from "./client.ts";
import { KubeError } from "./client.ts";
import { LeaderElector } from "./leader.ts";
import { FakeClock } from "../testing/fake-clock.ts";

/** An in-memory Lease store with resourceVersion conflicts, like the API server's. */
class FakeLeases {
  lease: Json | undefined;
  version = 0;
  failing = new Set<string>();
  forbidden = new Set<string>();
  client(identity: string): KubeClient {
    return {
      requests: 0,
      watch: () => Promise.resolve(),
      request: (method, _path, options = {}): Promise<KubeResponse> => {
        if (this.failing.has(identity))
          return Promise.reject(new KubeError(503, "ServiceUnavailable", "down"));
        if (this.forbidden.has(identity))
          return Promise.reject(new KubeError(403, "Forbidden", "leases is forbidden"));
        if (method === "GET") {
          if (this.lease === undefined) return Promise.reject(new KubeError(404, "NotFound", "not found"));
          return Promise.resolve({ status: 200, body: structuredClone(this.lease) });
        }
        const body = structuredClone(options.body) as Json;
        const metadata = (body["metadata"] ?? {}) as Json;
        if (method === "POST") {
          if (this.lease !== undefined) return Promise.reject(new KubeError(409, "AlreadyExists", "exists"));
        } else if (metadata["resourceVersion"] !== String(this.version))
          return Promise.reject(new KubeError(409, "Conflict", "the object has been modified"));
        this.version += 1;
        this.lease = { ...body, metadata: { ...metadata, resourceVersion: String(this.version) } };
        return Promise.resolve({ status: 200, body: structuredClone(this.lease) });
      },
    };
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function elector(
  store: FakeLeases,
  clock: FakeClock,
  identity: string,
  log: string[],
  logger = pino({ level: "silent" }),
): LeaderElector {
  return new LeaderElector({
    client: store.client(identity),
    namespace: "ns",
    name: "lease",
    identity,
    logger,
    clock,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

describe("LeaderElector", () => {
  it("lets exactly one of two candidates lead, and hands over only after the lease expires", async () => {
    const store = new FakeLeases();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(store, clock, "a", log);
    const b = elector(store, clock, "b", log);
    a.start();
    await flush();
    b.start();
    await flush();
    assert.equal(a.isLeader(), true);
    assert.equal(b.isLeader(), false);

    // a's API access breaks: it keeps leading until its renew deadline, then steps down ...
    store.failing.add("a");
    for (let t = 0; t < 10; t++) {
      clock.advance(2_000);
      await flush();
      assert.equal(a.isLeader() && b.isLeader(), false, `never both at ${clock.time} ms`);
    }
    assert.equal(a.isLeader(), false);
    assert.ok(log.includes("a stopped"));
    // ... and b takes over only once the lease it last saw renewed has expired.
    for (let t = 0; t < 5; t++) {
      clock.advance(2_000);
      await flush();
      assert.equal(a.isLeader() && b.isLeader(), false);
    }
    assert.equal(b.isLeader(), true);
    assert.deepEqual(log, ["a started", "a stopped", "b started"]);
  });

  it("releases the lease on stop so a successor takes over at its next attempt", async () => {
    const store = new FakeLeases();
    const clock = new FakeClock();
    const log: string[] = [];
    const a = elector(store, clock, "a", log);
    const b = elector(store, clock, "b", log);
    a.start();
    await flush();
    b.start();
    await flush();
    await a.stop(true);
    clock.advance(2_000);
    await flush();
    assert.equal(b.isLeader(), true);
    assert.equal((store.lease?.["spec"] as Json)["holderIdentity"], "b");
  });

  it("warns once when the API server refuses the lease (RBAC), and leads once it is allowed", async () => {
    const store = new FakeLeases();
    const clock = new FakeClock();
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const warnings = (): string[] =>
      lines.filter((line) => (JSON.parse(line) as { level: number }).level === 40);
    store.forbidden.add("a");
    const a = elector(store, clock, "a", [], logger);
    a.start();
    for (let t = 0; t < 5; t++) {
      await flush();
      clock.advance(2_000);
    }
    assert.equal(a.isLeader(), false);
    assert.equal(warnings().length, 1, lines.join(""));
    assert.match(warnings()[0] ?? "", /refuses the lease/);
    assert.match(warnings()[0] ?? "", /leases is forbidden/);
    await flush();
    store.forbidden.delete("a");
    clock.advance(2_000);
    await flush();
    assert.equal(a.isLeader(), true);
    await a.stop(false);
  });

  it("refuses a renew deadline that is not shorter than the lease", () => {
    assert.throws(
      () =>
        new LeaderElector({
          client: new FakeLeases().client("a"),
          namespace: "ns",
          name: "lease",
          identity: "a",
          logger: pino({ level: "silent" }),
          leaseDurationMs: 5_000,
          renewDeadlineMs: 5_000,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
      /renewDeadlineMs must be shorter/,
    );
  });
});
