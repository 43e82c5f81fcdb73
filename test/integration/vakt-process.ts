/** Shared by the integration tests that run the vakt CLI in a process of its own. */
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type { TestContext } from "node:test";
import { promisify } from "node:util";
import { setting } from "../../src/config/settings.ts";

export const VAKT_MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

/** Runs a short-lived vakt command (e.g. `install`) and returns what it printed on stdout. */
export function vaktCli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [VAKT_MAIN, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`vakt ${args.join(" ")}: ${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Exit code and signal of a child process, once it has exited. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    }),
  );
}

export interface VaktProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  readonly output: () => string;
  /** The end of the output, for failure messages. */
  readonly diagnostics: () => string;
  /** Rejects as soon as the process exits without stop() having been called; never resolves. */
  readonly exitedEarly: Promise<never>;
  /** SIGTERM, then the exit code (rejects when it takes longer than 20 s). */
  stop(): Promise<number | null>;
}

/**
 * Starts a long-running vakt command (`vakt run ...`) with its output collected. `onLine` sees
 * every complete line of stdout and stderr. The process is killed when the test ends, if it still
 * runs then.
 */
export function spawnVakt(
  t: TestContext,
  args: readonly string[],
  onLine?: (line: string) => void,
): VaktProcess {
  const child = spawn(process.execPath, [VAKT_MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  let stopping = false;
  const collect = (): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk) => {
      const text = chunk.toString("utf8");
      output.push(text);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (onLine !== undefined) for (const line of lines) onLine(line);
    };
  };
  child.stdout.on("data", collect());
  child.stderr.on("data", collect());
  const diagnostics = (): string => `\nvakt output:\n${output.join("").slice(-4000)}`;
  const exitedEarly = exited(child).then(({ code, signal }) => {
    if (stopping) return new Promise<never>(() => undefined);
    throw new Error(`vakt exited early (code ${String(code)}, signal ${String(signal)})${diagnostics()}`);
  });
  // Observed by whoever races it; unobserved, an early exit must not be an unhandled rejection.
  exitedEarly.catch(() => undefined);
  t.after(async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited(child);
    }
  });
  return {
    child,
    output: () => output.join(""),
    diagnostics,
    exitedEarly,
    async stop() {
      stopping = true;
      child.kill("SIGTERM");
      const { code } = await Promise.race([
        exited(child),
        new Promise<never>((_, reject) =>
          setTimeout(() => {
            reject(new Error(`vakt did not exit within 20 s of SIGTERM${diagnostics()}`));
          }, 20_000).unref(),
        ),
      ]);
      return code;
    },
  };
}

export interface FreshHome {
  /** The VAKT_HOME the commands run with. */
  readonly dir: string;
  /** `vakt <args>` with VAKT_HOME (and the dev cluster's KUBECONFIG) set; its stdout. */
  readonly vakt: (...args: string[]) => Promise<string>;
  /** kubectl (the tools' own) against the dev cluster of this home; its stdout. */
  readonly kubectl: (...args: string[]) => Promise<string>;
}

/**
 * A fresh VAKT_HOME as a new user has one, for tests that run the CLI as the README does; its
 * dev cluster is brought down and the directory removed when the file's tests end.
 */
export function freshHome(prefix: string): FreshHome {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // The children's environment, with VAKT_HOME set as a user would set it (settings read it in them).
  // eslint-disable-next-line no-restricted-properties -- passed on to child processes, not read here
  const env = { ...process.env, VAKT_HOME: dir, KUBECONFIG: join(dir, "dev", "kubeconfig") };
  const run = promisify(execFile);
  const home: FreshHome = {
    dir,
    vakt: async (...args) =>
      (await run(process.execPath, [VAKT_MAIN, ...args], { env, maxBuffer: 64 << 20 })).stdout,
    kubectl: async (...args) => (await run(join(setting("testBinDir"), "kubectl"), args, { env })).stdout,
  };
  after(async () => {
    await home.vakt("dev", "down").catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return home;
}
