import { spawn } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("could not determine a free port"));
      });
    });
  });
}

/** Resolves to true when something already listens on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => {
      resolve(true);
    });
    server.listen(port, "127.0.0.1", () => {
      server.close(() => {
        resolve(false);
      });
    });
  });
}

export interface StartedProcess {
  readonly pid: number;
  /** Resolves with the exit code (or signal) if the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts a long-running component detached from this process (it outlives `vakt dev up`),
 * with stdout and stderr appended to `logFile`.
 */
export function startDetached(
  binary: string,
  args: readonly string[],
  logFile: string,
  /**
   * The process's whole environment (with PATH /usr/bin:/bin) instead of this one's: for secrets
   * that `ps` must not show on the command line.
   */
  env?: Readonly<Record<string, string>>,
): StartedProcess {
  const fd = openSync(logFile, "a");
  try {
    const child = spawn(binary, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      ...(env === undefined ? {} : { env: { PATH: "/usr/bin:/bin", ...env } }),
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, signal) => {
        resolve({ code, signal });
      });
      child.once("error", () => {
        resolve({ code: -1, signal: null });
      });
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${binary}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(fd);
  }
}

/** The command line of a live process, or undefined when no such process exists. */
export function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((part) => part !== "");
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its command line mentions `marker` (our state directory), so a
 * recycled pid of an unrelated process is never mistaken for ours.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  const cmdline = commandLine(pid);
  if (cmdline === undefined) return false;
  // A zombie has an empty cmdline: it is no longer running.
  return cmdline.some((part) => part.includes(marker));
}

/** SIGTERM, wait up to `graceMs` for exit, then SIGKILL. */
export async function stopProcess(pid: number, marker: string, graceMs: number): Promise<void> {
  if (!isOurProcess(pid, marker)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurProcess(pid, marker)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
  const killDeadline = Date.now() + 5_000;
  while (isOurProcess(pid, marker) && Date.now() < killDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The last `lines` lines of a log file ("" when it cannot be read). */
export function tail(file: string, lines: number): string {
  try {
    const text = readFileSync(file, "utf8");
    return text
      .split("\n")
      .slice(-lines - 1)
      .join("\n")
      .trimEnd();
  } catch {
    return "";
  }
}
