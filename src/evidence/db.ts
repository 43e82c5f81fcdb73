/**
 * The two databases behind one small interface: PostgreSQL through node-postgres (a pool, so a
 * connection lost while the server restarts is replaced on the next query) and PGlite (the same
 * PostgreSQL, compiled to WebAssembly, in-process, on a directory). The SQL is the same for both.
 * Each driver is loaded only when used: PGlite's WebAssembly is not small.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
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
  const { PGlite } = await import("@electric-sql/pglite");
  let db: InstanceType<typeof PGlite>;
  try {
    // A new directory is initialised in a child process: PGlite's initdb peaks near 600 MB and
    // its WebAssembly instance is not given back, which `vakt run` would carry for its lifetime.
    if (dir !== undefined && !existsSync(join(dir, "PG_VERSION"))) await initialiseInChild(dir);
    db = await PGlite.create({ ...(dir === undefined ? {} : { dataDir: dir }), postgresqlconf: PGLITE_CONF });
  } catch (error) {
    lock?.release();
    throw new EvidenceError(
      `cannot open the embedded evidence database in ${dir ?? "memory"}: ${(error as Error).message}`,
      "is it a PGlite data directory, not used by another process? Point VAKT_EVIDENCE_URL at an empty or PGlite directory",
      { cause: error },
    );
  }
  return {
    backend: "pglite",
    where: dir ?? "memory://",
    query: async <T>(text: string, params?: readonly unknown[]) =>
      (await db.query<T>(text, params as unknown[])).rows,
    transaction: async <T>(work: (sql: Sql) => Promise<T>) =>
      db.transaction(async (tx) =>
        work({
          query: async <R>(text: string, params?: readonly unknown[]) =>
            (await tx.query<R>(text, params as unknown[])).rows,
        }),
      ),
    close: async () => {
      try {
        await db.close();
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

async function initialiseInChild(dir: string): Promise<void> {
  const module = import.meta.resolve("@electric-sql/pglite");
  const script = `const { PGlite } = await import(${JSON.stringify(module)});
const db = await PGlite.create({ dataDir: process.argv[1], postgresqlconf: ${JSON.stringify(PGLITE_CONF)} });
await db.close();`;
  await new Promise<void>((done, fail) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", script, dir],
      { encoding: "utf8", maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error === null) done();
        else fail(new Error(`initialising PGlite in ${dir} failed: ${stderr.trim() || error.message}`));
      },
    );
  });
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
