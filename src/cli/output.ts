/**
 * Writing a command's output: part by part, pulling the next part only when the stream has room
 * (a report of 100,000 objects behind a slow reader is not queued in memory), and turning a
 * failed write into one line and exit code 2 instead of a stack trace and exit code 1, which CI
 * reads as "findings".
 */
import type { Writable } from "node:stream";

/** Writing the output failed (disk full, stream closed with an error): exit code 2, one line. */
export class OutputError extends Error {
  override readonly name = "OutputError";
}

/** Errors a running writeOutput has taken over: the process-wide stdout handler leaves them. */
const taken = new WeakSet<Error>();

/** Whether writeOutput reports `error` itself (as its result or an OutputError). */
export function takenByWriter(error: Error): boolean {
  return taken.has(error);
}

/**
 * Writes `parts` to `stream` in order, waiting for 'drain' whenever the stream's buffer is full,
 * and resolves once the last part has been handed to the system. Resolves "closed" when the
 * reader went away (EPIPE, as with `| head`): the rest is not wanted, and that is not an error.
 */
export async function writeOutput(stream: Writable, parts: Iterable<string>): Promise<"written" | "closed"> {
  let failure: NodeJS.ErrnoException | undefined;
  let wake: (() => void) | undefined;
  const onError = (error: NodeJS.ErrnoException): void => {
    taken.add(error);
    failure ??= error;
    wake?.();
  };
  const onDrain = (): void => wake?.();
  const until = (ready: () => boolean): Promise<void> =>
    ready()
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          wake = () => {
            if (failure !== undefined || ready()) {
              wake = undefined;
              resolve();
            }
          };
        });
  // First, so that the error is marked as taken before any other listener sees it.
  stream.prependListener("error", onError);
  stream.on("drain", onDrain);
  try {
    let pending = 0;
    const written = (error?: Error | null): void => {
      pending--;
      if (error) onError(error);
      else wake?.();
    };
    for (const part of parts) {
      if (failure !== undefined) break;
      if (part === "") continue;
      pending++;
      if (!stream.write(part, written)) await until(() => !stream.writableNeedDrain);
    }
    // The last writes' callbacks: a write error (ENOSPC) shows there, after write() returned.
    await until(() => pending === 0);
  } finally {
    stream.off("error", onError);
    stream.off("drain", onDrain);
  }
  if (failure === undefined) return "written";
  if (failure.code === "EPIPE") return "closed";
  throw new OutputError(`cannot write the output: ${failure.message}`);
}
