/**
 * A rate-limited, deduplicating work queue keyed by name, after client-go's workqueue:
 * - a key is queued at most once; a key added while it is being processed is processed again
 *   after the current run (never by two workers at once);
 * - `addRateLimited` delays a key by the larger of its own exponential backoff (base * 2^failures,
 *   capped) and a global token bucket, so one broken object cannot starve the others and a storm
 *   of failures cannot flood the API server; `forget` resets a key's backoff after success.
 * The clock is injected (`now`, `setTimer`) so tests can drive time. What it does is reported
 * to `metrics` (adds, retries) and read from it (depth, work in flight), as client-go's queue
 * feeds its workqueue metrics.
 */

export interface Clock {
  now(): number;
  setTimer(callback: () => void, ms: number): { cancel(): void };
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return {
      cancel: () => {
        clearTimeout(timer);
      },
    };
  },
};

export interface WorkQueueOptions {
  /** First retry delay of a key (default 5 ms, as client-go). */
  readonly baseDelayMs?: number;
  /** Cap of a key's backoff (default 60 s). */
  readonly maxDelayMs?: number;
  /** Global bucket: sustained retries per second (default 10) and burst (default 100). */
  readonly qps?: number;
  readonly burst?: number;
  readonly clock?: Clock;
  readonly metrics?: QueueMetrics;
}

/** Counts the queue reports as it works (client-go's workqueue_adds_total and retries_total). */
export interface QueueMetrics {
  /** A key was queued, or marked to run again after its current run. */
  added(): void;
  /** A key was queued again after a failure (`addRateLimited`). */
  retried(): void;
}

/** The keys being processed now: how long they have run, together and the longest. */
export interface WorkInFlight {
  readonly totalMs: number;
  readonly longestMs: number;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  /** Keys handed to a worker, with when (for `inFlight`). */
  readonly #processing = new Map<string, number>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; cancel(): void }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #base: number;
  readonly #max: number;
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #metrics: QueueMetrics | undefined;
  #tokens: number;
  #tokensAt: number;
  #shutdown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#base = options.baseDelayMs ?? 5;
    this.#max = options.maxDelayMs ?? 60_000;
    this.#qps = options.qps ?? 10;
    this.#burst = options.burst ?? 100;
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics;
    this.#tokens = this.#burst;
    this.#tokensAt = this.#clock.now();
  }

  get length(): number {
    return this.#queue.length;
  }

  /** Queue a key now (deduplicated). */
  add(key: string): void {
    this.#add(key, true);
  }

  /** `counted`: false when `done` queues a key again that was counted when it was marked. */
  #add(key: string, counted: boolean): void {
    if (this.#shutdown) return;
    const delayed = this.#delayed.get(key);
    if (delayed !== undefined) {
      delayed.cancel();
      this.#delayed.delete(key);
    }
    if (this.#processing.has(key)) {
      if (!this.#dirty.has(key)) this.#metrics?.added();
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    if (counted) this.#metrics?.added();
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.set(key, this.#clock.now());
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  /** Queue a key after `ms` (an earlier pending delay wins). */
  addAfter(key: string, ms: number): void {
    if (this.#shutdown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      existing.cancel();
    }
    const timer = this.#clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, {
      at,
      cancel: () => {
        timer.cancel();
      },
    });
  }

  /** Queue a key after its backoff; returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const perKey = Math.min(this.#base * 2 ** failures, this.#max);
    const delay = Math.max(perKey, this.#bucketDelay());
    this.#metrics?.retried();
    this.addAfter(key, delay);
    return delay;
  }

  /** How many times a key has been rate-limited since its last `forget`. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Reserve one token; the delay until it is available. */
  #bucketDelay(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#tokensAt) * this.#qps) / 1000);
    this.#tokensAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.#qps);
  }

  /** The next key to process, or undefined once the queue is shut down. Call `done` after. */
  get(): Promise<string | undefined> {
    if (this.#shutdown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.set(key, this.#clock.now());
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.#add(key, false);
  }

  /** How long the keys being processed now have run (client-go's unfinished work). */
  inFlight(): WorkInFlight {
    const now = this.#clock.now();
    let totalMs = 0;
    let longestMs = 0;
    for (const since of this.#processing.values()) {
      totalMs += now - since;
      longestMs = Math.max(longestMs, now - since);
    }
    return { totalMs, longestMs };
  }

  shutDown(): void {
    this.#shutdown = true;
    for (const delayed of this.#delayed.values()) delayed.cancel();
    this.#delayed.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
