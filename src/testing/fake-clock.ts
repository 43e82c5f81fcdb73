/** Test seam: a clock for WorkQueue and LeaderElector that tests move by hand. */
import type { Clock } from "../kube/workqueue.ts";

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  time = 0;
  readonly #timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
  advance(ms: number): void {
    this.time += ms;
    for (const timer of this.#timers.filter((t) => !t.cancelled && t.at <= this.time)) {
      timer.cancelled = true;
      timer.callback();
    }
  }
}
