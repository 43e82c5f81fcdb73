/**
 * A server process a test starts and must stop: output appended to a log file, an environment of
 * its own (credentials go there, not on the command line `ps` shows), stopped with SIGTERM and,
 * after 5 s, SIGKILL.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readdirSync } from "node:fs";

export interface TestProcess {
  readonly pid: number;
  readonly logFile: string;
  /** False once the process has exited. */
  alive(): boolean;
  /** Stops it (idempotent) and resolves when it has exited. */
  stop(): Promise<void>;
}

export function startTestProcess(
  binary: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  logFile: string,
): TestProcess {
  const fd = openSync(logFile, "a");
  let child;
  try {
    child = spawn(binary, args, { stdio: ["ignore", fd, fd], env: { PATH: "/usr/bin:/bin", ...env } });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${binary}`);
  const state = { alive: true };
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      state.alive = false;
      resolve();
    });
  });
  return {
    pid,
    logFile,
    alive: () => state.alive,
    stop: async () => {
      if (state.alive) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
}

/** The pids, ascending, of every process on this machine whose command line mentions `text` (a state directory, say). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return pids.sort((a, b) => a - b);
}
