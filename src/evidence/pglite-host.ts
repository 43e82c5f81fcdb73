/**
 * The embedded database's own process: PGlite (PostgreSQL in WebAssembly) on one directory,
 * answering the queries of the process that started it (evidence/db.ts) over Node's IPC channel.
 * Started by db.ts with V8 flags chosen for it (ADR 0027): WebAssembly compiled by the baseline
 * compiler only, which keeps this process near 150 MB instead of a 700+ MB peak while V8's
 * optimising compiler works on PostgreSQL's code, and the caller's heap free of PGlite's.
 *
 * Protocol (structured clone): the parent sends `{ id, text, params }` and gets `{ id, rows }`
 * or `{ id, error }` back, in order; `{ id, close: true }` closes the database and exits. The
 * first message from here is `{ ready: true }` or `{ ready: false, error }`. Transactions are
 * plain BEGIN/COMMIT/ROLLBACK statements: the parent serialises them (db.ts). When the parent
 * goes away (the channel closes) the database is closed and this process exits.
 */
import { PGlite } from "@electric-sql/pglite";

interface Request {
  readonly id: number;
  readonly text?: string;
  readonly params?: readonly unknown[];
  readonly close?: boolean;
}

export interface WireError {
  readonly message: string;
  readonly code?: string;
}

function wireError(error: unknown): WireError {
  const message = error instanceof Error ? error.message : String(error);
  const code =
    error !== null && typeof error === "object" && "code" in error && typeof error.code === "string"
      ? error.code
      : undefined;
  return code === undefined ? { message } : { message, code };
}

function send(message: unknown): void {
  process.send?.(message);
}

const [dir, conf] = process.argv.slice(2);
let db: PGlite;
try {
  db = await PGlite.create({
    ...(dir === undefined || dir === "memory://" ? {} : { dataDir: dir }),
    postgresqlconf: JSON.parse(conf ?? "[]") as string[],
  });
  send({ ready: true });
} catch (error) {
  send({ ready: false, error: wireError(error) });
  process.disconnect();
  process.exit(1);
}

let closing: Promise<void> | undefined;
const close = async (): Promise<void> => {
  closing ??= db.close();
  await closing;
};

// One at a time, in arrival order: PGlite has one connection.
let queue = Promise.resolve();
process.on("message", (request: Request) => {
  queue = queue.then(async () => {
    if (request.close === true) {
      await close();
      send({ id: request.id, rows: [] });
      process.disconnect();
      return;
    }
    try {
      const result = await db.query(request.text ?? "", request.params as unknown[] | undefined);
      send({ id: request.id, rows: result.rows });
    } catch (error) {
      send({ id: request.id, error: wireError(error) });
    }
  });
});
// The parent went away (it exited, or closed us): nothing more will come.
process.on("disconnect", () => {
  void queue.then(close).finally(() => process.exit(0));
});
