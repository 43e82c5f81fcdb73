/**
 * Receiving AdmissionReview bodies within bounds (ADR 0015): reviews being received or waiting
 * to be judged are capped in number and in buffered bytes across all of them (beyond: 429), a
 * body beyond the size limit gets 413, and large bodies wait in a lane of their own.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Reviews in flight and the bytes they buffer, shared by every request of a server. */
export class ReviewBudget {
  reviews = 0;
  buffered = 0;
  readonly maxReviews: number;
  readonly maxBuffered: number;
  readonly maxBodyBytes: number;

  constructor(limits: { maxReviews: number; maxBuffered: number; maxBodyBytes: number }) {
    this.maxReviews = limits.maxReviews;
    this.maxBuffered = limits.maxBuffered;
    this.maxBodyBytes = limits.maxBodyBytes;
  }

  /** Whether a new review of `declared` bytes (0: unknown) may be received now. */
  admits(declared: number): boolean {
    return !(
      this.reviews >= this.maxReviews ||
      (declared > 0 && this.buffered + Math.min(declared, this.maxBodyBytes) > this.maxBuffered)
    );
  }

  /** Takes a review's place; released once, at the latest when its response closes. */
  hold(res: ServerResponse): ReviewHold {
    const hold = new ReviewHold(this);
    res.on("close", () => {
      hold.release();
    });
    return hold;
  }
}

/** One review's place in the budget and the bytes it buffers. */
export class ReviewHold {
  readonly #budget: ReviewBudget;
  #held = 0;
  #released = false;

  constructor(budget: ReviewBudget) {
    this.#budget = budget;
    budget.reviews++;
  }

  add(bytes: number): void {
    this.#held += bytes;
    this.#budget.buffered += bytes;
  }

  /** Gives back the bytes (the body was dropped) but keeps the place. */
  drop(): void {
    this.#budget.buffered -= this.#held;
    this.#held = 0;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.reviews--;
    this.drop();
  }
}

export interface BodyHandlers {
  /** The body exceeds maxBodyBytes; the rest is being drained. */
  readonly tooLarge: () => void;
  /** The body would exceed the bytes buffered across reviews; the rest is being drained. */
  readonly busy: () => void;
  /** The whole body, in chunks of `size` bytes in all. */
  readonly received: (chunks: Buffer[], size: number) => void;
}

/**
 * Buffers a request's body within the budget. On overflow the chunks are dropped, the connection
 * is marked to close, and `tooLarge` or `busy` answers; otherwise `received` gets the body.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  budget: ReviewBudget,
  hold: ReviewHold,
  handlers: BodyHandlers,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  req.on("data", (chunk: Buffer) => {
    if (overflow) return;
    size += chunk.length;
    if (size > budget.maxBodyBytes || budget.buffered + chunk.length > budget.maxBuffered) {
      overflow = true;
      chunks.length = 0;
      hold.drop();
      res.setHeader("connection", "close");
      if (size > budget.maxBodyBytes) handlers.tooLarge();
      else {
        req.resume();
        handlers.busy();
      }
      return;
    }
    chunks.push(chunk);
    hold.add(chunk.length);
  });
  req.on("end", () => {
    if (!overflow) handlers.received(chunks, size);
  });
}

/**
 * Large reviews, one step at a time: each step runs in its own turn of the event loop
 * (setImmediate, after pending I/O), and a step may queue the next step of its review first.
 */
export class LargeReviewLane {
  readonly #queue: (() => void)[] = [];
  #scheduled = false;

  add(step: () => void): void {
    this.#queue.push(step);
    this.#schedule();
  }

  /** Runs `step` right after the current one, before other reviews' steps. */
  next(step: () => void): void {
    this.#queue.unshift(step);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const step = this.#queue.shift();
      if (this.#queue.length > 0) this.#schedule();
      step?.();
    });
  }
}
