/**
 * The two databases behind one small interface: PostgreSQL through node-postgres (a pool, so a
 * connection lost while the server restarts is replaced on the next query) and PGlite (the same
 * PostgreSQL, compiled to WebAssembly, in-process, on a directory). The SQL is the same for both.
 * Each driver is loaded only when used: PGlite's WebAssembly is not small.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { WireError } from "./pglite-host.ts";
import { EvidenceError } from "./types.ts";

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Database extends Sql {
  readonly backend: "pglite" | "postgres";
  /** The URL without its password, for messages. */
  readonly where: string;
  /** Runs `work` in one transaction (BEGIN ... COMMIT, ROLLBACK when it throws). */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL with its password replaced, fit for logs and error messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}

export async function openDatabase(url: string): Promise<Database> {
  return isPostgresUrl(url) ? openPostgres(url) : openPglite(url);
}

async function openPostgres(url: string): Promise<Database> {
  const where = redact(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EvidenceError(
      `evidence database URL ${where} is not a valid URL`,
      "write it as postgres://user:password@host:port/database (VAKT_EVIDENCE_URL or --database)",
    );
  }
  if (parsed.hostname === "" && !parsed.searchParams.has("host"))
    throw new EvidenceError(
      `evidence database URL ${where} names no host`,
      "write it as postgres://user:password@host:port/database",
    );
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: 3,
    connectionTimeoutMillis: 5000,
    // A server that stops answering (a partition, not a refusal) must not hold the writer forever.
    query_timeout: 60_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "vakt-evidence",
  });
  // An idle connection the server drops (restart, failover) is reported here; without a
  // listener it would be an uncaught error. The next query takes a fresh connection.
  pool.on("error", () => undefined);
  const run = async <T>(client: { query: typeof pool.query }, text: string, params?: readonly unknown[]) => {
    const result = await client.query(text, params as unknown[]);
    return result.rows as T[];
  };
  return {
    backend: "postgres",
    where,
    query: async <T>(text: string, params?: readonly unknown[]) => run<T>(pool, text, params),
    async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // The server going away mid-transaction is also emitted on the client: the query fails
      // with it anyway, so the event needs a listener, not handling.
      const ignore = (): void => undefined;
      client.on("error", ignore);
      let broken = false;
      try {
        await client.query("BEGIN");
        const result = await work({
          query: async <R>(text: string, params?: readonly unknown[]) => run<R>(client, text, params),
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        try {
          await client.query("ROLLBACK");
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        // A connection that failed mid-transaction is closed rather than reused.
        client.off("error", ignore);
        client.release(broken);
      }
    },
    close: async () => pool.end(),
  };
}

async function openPglite(url: string): Promise<Database> {
  const memory = url === "memory://";
  const dir = memory ? undefined : resolve(url.replace(/^file:\/\//, ""));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !memory && !url.startsWith("file://"))
    throw new EvidenceError(
      `evidence database ${redact(url)}: unknown URL scheme`,
      "use postgres://user:password@host:port/database for PostgreSQL, or a directory path for the embedded database",
    );
  try {
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new EvidenceError(
      `cannot create the embedded evidence database directory ${dir ?? ""}: ${(error as Error).message}`,
      "choose a writable directory (VAKT_EVIDENCE_URL or --database)",
      { cause: error },
    );
  }
  const lock = dir === undefined ? undefined : takeLock(dir);
  let host: Host;
  try {
    // A new directory is initialised by a process of its own: PGlite's initdb peaks near 600 MB
    // and its WebAssembly instance is not given back, which the host would carry for its lifetime.
    if (dir !== undefined && !existsSync(join(dir, "PG_VERSION"))) await initialise(dir);
    host = await Host.start(dir ?? "memory://");
  } catch (error) {
    lock?.release();
    throw new EvidenceError(
      `cannot open the embedded evidence database in ${dir ?? "memory"}: ${(error as Error).message}`,
      "is it a PGlite data directory, not used by another process? Point VAKT_EVIDENCE_URL at an empty or PGlite directory",
      { cause: error },
    );
  }
  // One connection: a transaction holds it from BEGIN to COMMIT, and other queries wait.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = async <T>(work: () => Promise<T>): Promise<T> => {
    const run = turn.then(work, work);
    turn = run.catch(() => undefined);
    return run;
  };
  const direct: Sql = {
    query: async <T>(text: string, params?: readonly unknown[]) => host.query<T>(text, params),
  };
  return {
    backend: "pglite",
    where: dir ?? "memory://",
    query: async <T>(text: string, params?: readonly unknown[]) =>
      exclusive(async () => host.query<T>(text, params)),
    transaction: async <T>(work: (sql: Sql) => Promise<T>) =>
      exclusive(async () => {
        await host.query("BEGIN");
        try {
          const result = await work(direct);
          await host.query("COMMIT");
          return result;
        } catch (error) {
          // A host that died mid-transaction took the transaction with it: nothing to roll back.
          await host.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      }),
    close: async () => {
      try {
        await exclusive(async () => host.close());
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * PGlite's postgresql.conf (written at every start). Its defaults are a server's: 128 MB of
 * shared buffers and up to 1 GB of WAL kept. The evidence store writes a few thousand small
 * records a day and reads them in order: 16 MB of buffers keeps the process about 130 MB
 * smaller; the WAL bound keeps the directory near the size of its tables.
 */
const PGLITE_CONF = ["shared_buffers = 16MB", "max_wal_size = 64MB", "min_wal_size = 32MB"];

/**
 * V8 flags of the processes that run PGlite (ADR 0027). `--liftoff-only`: WebAssembly compiled
 * by the baseline compiler alone; with the optimising tier, V8 peaks above 700 MB of RSS while
 * it compiles PostgreSQL's hottest functions, and a short run (a report) spends more CPU
 * compiling than it saves.
 */
const HOST_FLAGS = ["--liftoff-only", "--max-semi-space-size=16"];

const HOST_SCRIPT = new URL(
  import.meta.url.endsWith(".ts") ? "./pglite-host.ts" : "./pglite-host.js",
  import.meta.url,
);

/** The last lines a host wrote to stderr, for the message when it fails. */
function tail(text: string): string {
  return text.trim().split("\n").slice(-5).join("\n");
}

interface Answer {
  readonly id?: number;
  readonly ready?: boolean;
  readonly rows?: unknown[];
  readonly error?: WireError;
}

/**
 * The embedded database's process (pglite-host.ts) seen from here: queries in, rows out, in
 * order. A host that exits unexpectedly fails what was pending with why, and the next query
 * starts a new one on the same directory (this process still holds its lock), so a store that
 * buffers and retries recovers the way it does from a PostgreSQL restart.
 */
class Host {
  #child: ChildProcess | undefined;
  #starting: Promise<ChildProcess> | undefined;
  #next = 1;
  readonly #pending = new Map<number, { resolve(rows: unknown[]): void; reject(error: Error): void }>();
  #closed = false;
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(dir: string): Promise<Host> {
    const host = new Host(dir);
    await host.#ensure();
    return host;
  }

  async #ensure(): Promise<ChildProcess> {
    if (this.#child !== undefined) return this.#child;
    this.#starting ??= this.#spawn().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #spawn(): Promise<ChildProcess> {
    let stderr = "";
    const child = fork(fileURLToPath(HOST_SCRIPT), [this.dir, JSON.stringify(PGLITE_CONF)], {
      execArgv: HOST_FLAGS,
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    await new Promise<void>((done, fail) => {
      const early = (code: number | null, signal: NodeJS.Signals | null): void => {
        fail(
          new Error(
            `the embedded database process exited (${signal ?? `code ${String(code)}`}) while opening: ${tail(stderr)}`,
          ),
        );
      };
      child.once("exit", early);
      child.once("message", (answer: Answer) => {
        child.off("exit", early);
        if (answer.ready === true) done();
        else fail(new Error(answer.error?.message ?? tail(stderr)));
      });
    });
    child.on("message", (answer: Answer) => {
      if (answer.id === undefined) return;
      const waiting = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) child.channel?.unref();
      if (answer.error !== undefined)
        waiting?.reject(Object.assign(new Error(answer.error.message), answer.error));
      else waiting?.resolve(answer.rows ?? []);
    });
    child.once("exit", (code, signal) => {
      this.#child = undefined;
      const why = new Error(
        `the embedded database process exited (${signal ?? `code ${String(code)}`})${stderr === "" ? "" : `: ${tail(stderr)}`}`,
      );
      for (const waiting of this.#pending.values()) waiting.reject(why);
      this.#pending.clear();
    });
    child.channel?.unref();
    this.#child = child;
    return child;
  }

  async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
    if (this.#closed) throw new Error("the embedded database is closed");
    const child = await this.#ensure();
    const id = this.#next++;
    return new Promise<T[]>((resolveRows, reject) => {
      this.#pending.set(id, {
        resolve: (rows) => {
          resolveRows(rows as T[]);
        },
        reject,
      });
      child.channel?.ref();
      child.send({ id, text, params }, (error) => {
        if (error === null) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const child = this.#child;
    if (child !== undefined) {
      const exited = new Promise((done) => child.once("exit", done));
      const id = this.#next++;
      child.channel?.ref();
      child.send({ id, close: true }, () => undefined);
      await exited;
    }
    this.#closed = true;
  }
}

async function initialise(dir: string): Promise<void> {
  const host = await Host.start(dir);
  await host.close();
}

/**
 * PGlite is one process's database: two processes on one directory would corrupt it. A lock
 * file beside the directory (`<dir>.lock`, holding the pid) makes the second opener fail with
 * who holds it; a lock left by a process that no longer runs is taken over.
 */
function takeLock(dir: string): { release(): void } {
  const path = `${dir}.lock`;
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return {
        release: () => {
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST")
        throw new EvidenceError(
          `cannot lock the embedded evidence database ${dir}: ${(error as Error).message}`,
          "choose a writable directory (VAKT_EVIDENCE_URL or --database)",
          { cause: error },
        );
    }
    const holder = Number(readFileSync(path, "utf8").trim());
    if (Number.isInteger(holder) && holder > 0 && alive(holder))
      throw new EvidenceError(
        `the embedded evidence database ${dir} is in use by process ${String(holder)}${holder === process.pid ? " (this one)" : ""}`,
        "one process at a time opens an embedded database: stop the other (vakt run, npm start), or use PostgreSQL for more than one reader",
      );
    rmSync(path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
