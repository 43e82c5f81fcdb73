/**
 * Helpers for the end-to-end CLI tests: run `vakt` as a child process (the real entry point,
 * exit codes and streams included) and write manifests into temporary directories.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");
export const MAIN = join(REPO_ROOT, "src", "cli", "main.ts");

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from spawn to exit. */
  readonly ms: number;
}

export interface RunOptions {
  /** Working directory; default the repository root. */
  readonly cwd?: string;
  /** Written to the child's stdin, which is then closed. Without it stdin is empty. */
  readonly input?: string;
  /** Kill the child after this many milliseconds (the result then has code null). */
  readonly timeoutMs?: number;
  /** A file descriptor to give the child as stdin or stdout instead of a pipe (/dev/zero, /dev/full). */
  readonly stdinFd?: number;
  readonly stdoutFd?: number;
}

/**
 * At most this many children run at once: tests start them concurrently, and an unbounded
 * number of node processes starting together on a small machine is slower than a queue.
 */
const MAX_CHILDREN = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(task: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((resume) => waiting.push(resume));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs `node src/cli/main.ts ...args` and collects its exit code and output. */
export function runVakt(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return slot(() => spawnVakt(args, options));
}

function spawnVakt(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      // A fixed environment: no colour, nothing inherited that could change the output.
      env: { NO_COLOR: "1" },
      stdio: [options.stdinFd ?? "pipe", options.stdoutFd ?? "pipe", "pipe"],
      timeout: options.timeoutMs ?? 20_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", fail);
    child.on("close", (code) => {
      done({ code, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin?.on("error", () => {
      // The child may exit before reading stdin (usage errors); that is not the test's concern.
    });
    child.stdin?.end(options.input ?? "");
  });
}

/** A fresh temporary directory; remove it with `removeDir`. */
export function tempDir(prefix = "vakt-cli-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Writes `files` (name -> text) into `dir`; returns the absolute paths by name. */
export async function writeFiles(
  dir: string,
  files: Record<string, string>,
): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, text);
    paths[name] = path;
  }
  return paths;
}

/** The `vakt check -o json` output, typed loosely enough to check the contract field by field. */
export interface JsonReport {
  readonly version: number;
  readonly summary: Record<string, unknown>;
  readonly findings: readonly Record<string, unknown>[];
  readonly problems: readonly Record<string, unknown>[];
}

export function parseJsonReport(text: string): JsonReport {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`JSON output is not an object: ${text.slice(0, 200)}`);
  }
  const record = value as Record<string, unknown>;
  const findings = record["findings"];
  const problems = record["problems"];
  if (!Array.isArray(findings) || !Array.isArray(problems)) {
    throw new Error(`JSON output has no findings/problems arrays: ${text.slice(0, 200)}`);
  }
  return value as JsonReport;
}

/** Rule ids of the findings, deduplicated and sorted. */
export function rulesOf(
  report: JsonReport,
  filter: (finding: Record<string, unknown>) => boolean = () => true,
): string[] {
  return [...new Set(report.findings.filter(filter).map((finding) => String(finding["rule"])))].sort();
}

/** A privileged pod in namespace shop (pss-privileged denies it); `privileged: true` is on line 12, column 9. */
export const PRIVILEGED_POD = `apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: shop
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
      image: registry.example.com/acme/app:1.2.3
      securityContext:
        privileged: true
`;

/** An expiry within the default maximum of 365 days (a later one is refused: exception-scope). */
export const IN_A_MONTH = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
