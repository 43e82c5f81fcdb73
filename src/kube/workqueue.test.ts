import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WorkQueue } from "./workqueue.ts";
import { FakeClock } from "../testing/fake-clock.ts";

describe("WorkQueue", () => {
  it("deduplicates keys waiting in the queue", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), "a");
    assert.equal(await queue.get(), "b");
  });

  it("never hands one key to two workers; a key added while processing runs again after", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    const key = await queue.get();
    assert.equal(key, "a");
    queue.add("a");
    assert.equal(queue.length, 0, "not queued while it is processed");
    queue.done("a");
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), "a");
  });

  it("backs off per key exponentially, capped, and forget resets it", () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 50, burst: 1000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => queue.addRateLimited("a")),
      [10, 20, 40, 50, 50],
    );
    queue.forget("a");
    assert.equal(queue.addRateLimited("a"), 10);
    assert.equal(queue.addRateLimited("b"), 10, "keys back off independently");
  });

  it("delays rate-limited keys until their time comes", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 100 });
    queue.addRateLimited("a");
    assert.equal(queue.length, 0);
    clock.advance(99);
    assert.equal(queue.length, 0);
    clock.advance(1);
    assert.equal(queue.length, 1);
    assert.equal(await queue.get(), "a");
  });

  it("limits retries of all keys together with a token bucket", () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 1, qps: 10, burst: 2 });
    assert.equal(queue.addRateLimited("a"), 1);
    assert.equal(queue.addRateLimited("b"), 1);
    assert.equal(queue.addRateLimited("c"), 100, "the bucket is empty: one token per 100 ms");
    assert.equal(queue.addRateLimited("d"), 200);
  });

  it("releases waiting workers on shutdown", async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutDown();
    assert.equal(await waiting, undefined);
    queue.add("a");
    assert.equal(await queue.get(), undefined);
  });

  it("reports each add once (a key marked while processing included) and each retry", async () => {
    const counts = { added: 0, retried: 0 };
    const queue = new WorkQueue({
      clock: new FakeClock(),
      metrics: {
        added: () => (counts.added += 1),
        retried: () => (counts.retried += 1),
      },
    });
    queue.add("a");
    queue.add("a");
    assert.equal(counts.added, 1, "a key already waiting is not added again");
    assert.equal(await queue.get(), "a");
    queue.add("a");
    queue.add("a");
    assert.equal(counts.added, 2, "marked once to run again while processing");
    queue.done("a");
    assert.equal(counts.added, 2, "queuing the marked key again is the same add");
    assert.equal(queue.length, 1);
    queue.addRateLimited("b");
    assert.equal(counts.retried, 1);
  });

  it("tells how long the keys in flight have run, together and the longest", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.add("a");
    queue.add("b");
    assert.deepEqual(queue.inFlight(), { totalMs: 0, longestMs: 0 }, "nothing is processed yet");
    await queue.get();
    clock.advance(300);
    await queue.get();
    clock.advance(100);
    assert.deepEqual(queue.inFlight(), { totalMs: 500, longestMs: 400 });
    queue.done("a");
    assert.deepEqual(queue.inFlight(), { totalMs: 100, longestMs: 100 });
  });
});
