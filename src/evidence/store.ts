/**
 * The evidence store (types.ts is its contract). Appends go into an in-memory buffer and one
 * writer drains it in order, in batches, each batch one transaction that locks the chain's head,
 * numbers and hashes the records after it, inserts them and moves the head. When the database
 * is unreachable the writer retries with backoff and the buffer holds the events; at its bound
 * append refuses (the caller keeps the event) rather than drop anything. docs/adr/0021.
 */
import { chain, isoTime, normalise, recordHash } from "./canonical.ts";
import { openDatabase, type Database, type Sql } from "./db.ts";
import { migrate } from "./migrations.ts";
import {
  EvidenceError,
  GENESIS_HASH,
  RECORD_KINDS,
  type EvidenceEvent,
  type EvidenceRecord,
  type EvidenceStore,
  type OpenOptions,
  type Problem,
  type Query,
  type StoreHealth,
  type VerifyOptions,
  type VerifyResult,
} from "./types.ts";

/** Records per write transaction and per read batch. */
const WRITE_BATCH = 500;
export const READ_BATCH = 5000;
const MAX_RETRY_MS = 30_000;
/** Records written between refreshes of the planner's statistics. */
const ANALYZE_EVERY = 50_000;

const COLUMNS = [
  "seq",
  "time",
  "kind",
  "cluster",
  "tenant",
  "namespace",
  "subject_api_version",
  "subject_kind",
  "subject_namespace",
  "subject_name",
  "subject_uid",
  "rule",
  "controls",
  "severity",
  "message",
  "data",
  "prev_hash",
  "hash",
] as const;

/** A row as read: the values of COLUMNS in their order (time as milliseconds since the epoch). */
type Row = readonly unknown[];

/**
 * Rows are read as one JSON array each: one field to decode instead of 18 halves the time of a
 * 90-day read on PGlite, whose wire decoding is per field, and the time as a number spares
 * parsing a date string per record (bench/evidence.ts).
 */
const SELECT_ROWS = `SELECT json_build_array(${COLUMNS.map((column) =>
  column === "time" ? "(extract(epoch FROM time) * 1000)::float8" : column,
).join(", ")})::text AS r FROM evidence_record`;

function toRow(wire: { r: string }): Row {
  return JSON.parse(wire.r) as Row;
}

function columnValues(record: EvidenceRecord): unknown[] {
  const subject = "subject" in record ? record.subject : undefined;
  const loose = record as unknown as Record<string, unknown>;
  return [
    record.seq,
    record.time,
    record.kind,
    record.scope.cluster,
    record.scope.tenant ?? null,
    record.scope.namespace ?? null,
    subject?.apiVersion ?? null,
    subject?.kind ?? null,
    subject?.namespace ?? null,
    subject?.name ?? null,
    subject?.uid ?? null,
    loose["rule"] ?? null,
    loose["controls"] ?? null,
    loose["severity"] ?? null,
    loose["message"] ?? null,
    JSON.stringify(record.data),
    record.prevHash,
    record.hash,
  ];
}

/** A row that cannot be turned back into a record (verify reports it as unreadable). */
class UnreadableRow extends Error {}

function fromRow(row: Row): EvidenceRecord {
  const [seq, time, kind, cluster, tenant, namespace, apiVersion, subjectKind, subjectNamespace, name, uid] =
    row;
  const [rule, controls, severity, message, data, prevHash, hash] = row.slice(11);
  if (typeof kind !== "string" || !(RECORD_KINDS as readonly string[]).includes(kind))
    throw new UnreadableRow(`unknown kind ${JSON.stringify(kind)}`);
  if (data === null || typeof data !== "object" || Array.isArray(data))
    throw new UnreadableRow("data is not a JSON object");
  const set = (target: Record<string, unknown>, key: string, value: unknown): void => {
    if (value !== null && value !== undefined) target[key] = value;
  };
  const scope: Record<string, unknown> = { cluster };
  set(scope, "tenant", tenant);
  set(scope, "namespace", namespace);
  const record: Record<string, unknown> = { kind, time: new Date(Number(time)).toISOString(), scope };
  if (apiVersion !== null && apiVersion !== undefined) {
    const subject: Record<string, unknown> = { apiVersion, kind: subjectKind, name };
    set(subject, "namespace", subjectNamespace);
    set(subject, "uid", uid);
    record["subject"] = subject;
  }
  set(record, "rule", rule);
  set(record, "controls", controls);
  set(record, "severity", severity);
  set(record, "message", message);
  record["data"] = data;
  record["seq"] = Number(seq);
  record["prevHash"] = prevHash;
  record["hash"] = hash;
  return record as unknown as EvidenceRecord;
}

/** fromRow for readers: a record changed beyond reading is the history's problem, said as such. */
function readable(row: Row): EvidenceRecord {
  try {
    return fromRow(row);
  } catch (error) {
    if (!(error instanceof UnreadableRow)) throw error;
    throw new EvidenceError(
      `evidence record ${String(row[0])} cannot be read: ${error.message}`,
      "it was changed outside vakt: `vakt report verify` names the first bad record",
      { cause: error },
    );
  }
}

function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  if ("code" in error && typeof error.code === "string") return error.code;
  // Node reports a refused connection to a name with several addresses as an AggregateError.
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

/** A database failure as an EvidenceError that says what and how to fix it. */
export function describeFailure(error: unknown, where: string): EvidenceError {
  if (error instanceof EvidenceError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  const fail = (what: string, hint: string): EvidenceError =>
    new EvidenceError(`evidence database ${where}: ${what}`, hint, { cause: error });
  switch (code) {
    case "ECONNREFUSED":
      return fail("connection refused", "start PostgreSQL, or fix the host and port in the URL");
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return fail("host not found", "fix the host name in the URL");
    case "ETIMEDOUT":
      return fail("no answer (timed out)", "check the host, the port and the network path to the server");
    case "28P01":
    case "28000":
      return fail(`authentication failed (${message})`, "check the user and password in the URL");
    case "3D000":
      return fail(message, "create the database (createdb NAME) or fix its name in the URL");
    default:
      if (/timeout/i.test(message))
        return fail("no answer within 5 s", "check the host, the port and the network path to the server");
      return fail(message, "check the URL and that the server is up");
  }
}

interface Pending {
  readonly event: EvidenceEvent;
  /** When it was accepted (ms), for the write lag. */
  readonly at: number;
}

class Store implements EvidenceStore {
  readonly #db: Database;
  readonly #capacity: number;
  readonly #retryMs: number;
  readonly #log: OpenOptions["log"];
  #migrated = false;
  readonly #buffer: Pending[] = [];
  #accepted = 0;
  #written = 0;
  /** `#written` when statistics were last refreshed. */
  #analyzedAt = 0;
  #failures = 0;
  #refused = 0;
  #lastError: string | undefined;
  /** The last write attempt failed: events wait for the database. */
  #down = false;
  #closed = false;
  #writing = false;
  #delay: number;
  #timer: NodeJS.Timeout | undefined;
  /** The batch whose COMMIT may or may not have landed: its last seq and hash. */
  #inflight: { readonly seq: number; readonly hash: string; readonly count: number } | undefined;
  #flushWaiters: { readonly upTo: number; resolve(): void; reject(error: Error): void }[] = [];
  #roomWaiters: (() => void)[] = [];

  constructor(db: Database, options: OpenOptions, migrated: boolean) {
    this.#db = db;
    this.#capacity = options.capacity ?? 100_000;
    this.#retryMs = options.retryMs ?? 500;
    this.#delay = this.#retryMs;
    this.#log = options.log;
    this.#migrated = migrated;
  }

  append(event: EvidenceEvent): boolean {
    if (this.#closed) throw new Error("evidence: append after close");
    const normal = normalise(event);
    if (this.#buffer.length >= this.#capacity) {
      this.#refused += 1;
      return false;
    }
    this.#buffer.push({ event: normal, at: Date.now() });
    this.#accepted += 1;
    this.#kick();
    return true;
  }

  async writable(): Promise<void> {
    if (this.#buffer.length < this.#capacity || this.#closed) return;
    await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
  }

  async flush(): Promise<void> {
    if (this.#written >= this.#accepted) return;
    if (this.#closed) throw new Error("evidence: flush after close");
    await new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ upTo: this.#accepted, resolve, reject });
    });
  }

  health(): StoreHealth {
    const oldest = this.#buffer[0];
    const full = this.#buffer.length >= this.#capacity;
    const state = this.#closed ? "closed" : full ? "full" : this.#down ? "buffering" : "ok";
    return {
      state,
      backend: this.#db.backend,
      backlog: this.#buffer.length,
      capacity: this.#capacity,
      lagMs: oldest === undefined ? 0 : Date.now() - oldest.at,
      written: this.#written,
      failures: this.#failures,
      refused: this.#refused,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** Connects and migrates now, in the background, so health() tells at once whether the database is up. */
  start(): void {
    this.#kick();
  }

  /** Starts the writer unless it runs or waits for its retry timer. */
  #kick(): void {
    if (this.#writing || this.#timer !== undefined) return;
    this.#writing = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      if (!this.#migrated) {
        await migrate(this.#db);
        this.#migrated = true;
        await this.#analyze();
      }
      while (this.#buffer.length > 0) {
        const batch = this.#buffer.slice(0, WRITE_BATCH);
        const count = await this.#write(batch.map((pending) => pending.event));
        this.#buffer.splice(0, count);
        this.#written += count;
        this.#settle();
        if (this.#written - this.#analyzedAt >= ANALYZE_EVERY) await this.#analyze();
      }
      if (this.#down)
        this.#log?.info(
          { database: this.#db.where },
          "evidence database reachable again; buffered records written",
        );
      this.#down = false;
      this.#delay = this.#retryMs;
    } catch (error) {
      this.#failures += 1;
      const failure = describeFailure(error, this.#db.where);
      if (!this.#down || failure.message !== this.#lastError)
        this.#log?.warn(
          {
            database: this.#db.where,
            backlog: this.#buffer.length,
            err: failure.message,
            hint: failure.hint,
          },
          "evidence write failed; buffering and retrying",
        );
      this.#lastError = failure.message;
      this.#down = true;
      if (!this.#closed) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#kick();
        }, this.#delay);
        this.#timer.unref();
        this.#delay = Math.min(this.#delay * 2, MAX_RETRY_MS);
      }
    } finally {
      this.#writing = false;
    }
  }

  /**
   * One transaction: lock the head, chain the events after it, insert, move the head. Returns
   * how many of `events` (from the first) are now written.
   */
  async #write(events: readonly EvidenceEvent[]): Promise<number> {
    const count = await this.#db.transaction(async (sql: Sql) => {
      const [head] = await sql.query<{ seq: unknown; hash: string }>(
        "SELECT seq, hash FROM evidence_head WHERE id = 1 FOR UPDATE",
      );
      if (head === undefined)
        throw new EvidenceError("the evidence head row is missing", "run `vakt report verify`");
      const at = { seq: Number(head.seq), hash: head.hash };
      // A COMMIT whose answer was lost may have landed: then the head is that batch's last record
      // (the buffer then starts with that batch, perhaps followed by events appended since).
      const inflight = this.#inflight;
      if (inflight !== undefined && at.seq === inflight.seq && at.hash === inflight.hash)
        return inflight.count;
      const records = chain(at, events);
      const last = records[records.length - 1];
      if (last === undefined) return 0;
      this.#inflight = { seq: last.seq, hash: last.hash, count: records.length };
      const params: unknown[] = [];
      const tuples = records.map((record) => {
        const values = columnValues(record);
        const base = params.length;
        params.push(...values);
        return `(${values.map((_, index) => `$${String(base + index + 1)}`).join(",")})`;
      });
      await sql.query(
        `INSERT INTO evidence_record (${COLUMNS.join(",")}) VALUES ${tuples.join(",")}`,
        params,
      );
      await sql.query("UPDATE evidence_head SET seq = $1, hash = $2 WHERE id = 1", [last.seq, last.hash]);
      return records.length;
    });
    this.#inflight = undefined;
    return count;
  }

  /** Wakes flush() callers whose events are written and writable() callers when room is back. */
  #settle(): void {
    this.#flushWaiters = this.#flushWaiters.filter((waiter) => {
      if (this.#written < waiter.upTo) return true;
      waiter.resolve();
      return false;
    });
    if (this.#buffer.length < this.#capacity) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * Fresh planner statistics, so reads take the primary key's order: PGlite has no autovacuum,
   * and PostgreSQL's lags behind a burst. Best effort: a failure here is not a failed write.
   */
  async #analyze(): Promise<void> {
    this.#analyzedAt = this.#written;
    await this.#db.query("ANALYZE evidence_record").catch(() => undefined);
  }

  /** Queries need the schema: migrate first when the store opened in the background. */
  async #ready(): Promise<void> {
    if (this.#migrated) return;
    try {
      await migrate(this.#db);
    } catch (error) {
      throw describeFailure(error, this.#db.where);
    }
    this.#migrated = true;
    await this.#analyze();
  }

  async *query(query: Query = {}): AsyncIterable<EvidenceRecord> {
    await this.#ready();
    const read = async <T>(text: string, params: readonly unknown[]): Promise<T[]> => {
      try {
        return await this.#db.query<T>(text, params);
      } catch (error) {
        throw describeFailure(error, this.#db.where);
      }
    };
    const where: string[] = ["seq > $1", "seq <= $2"];
    const params: unknown[] = [0, Number.MAX_SAFE_INTEGER];
    const add = (clause: (n: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${String(params.length)}`));
    };
    const from = query.from === undefined ? undefined : isoTime(query.from, "from");
    const to = query.to === undefined ? undefined : isoTime(query.to, "to");
    if (from !== undefined) add((n) => `time >= ${n}`, from);
    if (to !== undefined) add((n) => `time < ${n}`, to);
    if (from !== undefined || to !== undefined) {
      // The period's first and last seq (through the time index), so every page below is a
      // range of the primary key whatever the planner's statistics say: pages that each
      // re-scanned the period made a 90-day read quadratic (PGlite never analyzes by itself).
      const [bounds] = await read<{ lo: unknown; hi: unknown }>(
        "SELECT min(seq) AS lo, max(seq) AS hi FROM evidence_record WHERE time >= $1 AND time < $2",
        [from ?? "-infinity", to ?? "infinity"],
      );
      if (bounds === undefined || bounds.lo === null) return;
      params[0] = Number(bounds.lo) - 1;
      params[1] = Number(bounds.hi);
    }
    const scope = query.scope ?? {};
    const clusterWide = "(tenant IS NULL AND namespace IS NULL)";
    if (scope.cluster !== undefined) add((n) => `cluster = ${n}`, scope.cluster);
    if (scope.tenant !== undefined) add((n) => `(tenant = ${n} OR ${clusterWide})`, scope.tenant);
    if (scope.namespace !== undefined) add((n) => `(namespace = ${n} OR ${clusterWide})`, scope.namespace);
    if (query.kinds !== undefined) add((n) => `kind = ANY(${n}::text[])`, query.kinds);
    const text = `${SELECT_ROWS} WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ${String(READ_BATCH)}`;
    // Keyset pages (seq > last): no cursor held open between batches, so a slow reader holds no transaction.
    for (;;) {
      const rows = (await read<{ r: string }>(text, params)).map(toRow);
      for (const row of rows) yield readable(row);
      const last = rows[rows.length - 1];
      if (rows.length < READ_BATCH || last === undefined) return;
      params[0] = Number(last[0]);
    }
  }

  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    await this.#ready();
    let expected = 1;
    let prevHash = GENESIS_HASH;
    let good = 0;
    const bad = (seq: number, problem: Problem, detail: string): VerifyResult => ({
      ok: false,
      records: good,
      firstBad: { seq, problem, detail },
    });
    const read = async <T>(text: string, params: readonly unknown[]): Promise<T[]> => {
      try {
        return await this.#db.query<T>(text, params);
      } catch (error) {
        throw describeFailure(error, this.#db.where);
      }
    };
    /** Checks the records from `expected` on, to the last one there is now; the first bad one, if any. */
    const batch = async (from: number): Promise<Row[]> =>
      (
        await read<{ r: string }>(`${SELECT_ROWS} WHERE seq >= $1 ORDER BY seq LIMIT ${String(READ_BATCH)}`, [
          from,
        ])
      ).map(toRow);
    const walk = async (): Promise<VerifyResult | undefined> => {
      let next = batch(expected);
      for (;;) {
        const rows = await next;
        // The next batch is read while this one is hashed: the database works while we do.
        const last = rows.at(-1);
        const following =
          rows.length === READ_BATCH && last !== undefined ? batch(Number(last[0]) + 1) : undefined;
        following?.catch(() => undefined);
        for (const row of rows) {
          const seq = Number(row[0]);
          if (seq !== expected)
            return bad(
              seq,
              "gap",
              seq === expected + 1
                ? `record ${String(expected)} is missing (deleted)`
                : `records ${String(expected)} to ${String(seq - 1)} are missing (deleted)`,
            );
          let record: EvidenceRecord;
          try {
            record = fromRow(row);
          } catch (error) {
            if (!(error instanceof UnreadableRow) && !(error instanceof SyntaxError)) throw error;
            return bad(seq, "unreadable", error.message);
          }
          const linked = record.prevHash === prevHash;
          if (recordHash(record) !== record.hash)
            return bad(
              seq,
              "changed",
              `its content does not match its hash: it was changed${linked ? "" : `, or moved here (its prevHash is not the hash of record ${String(seq - 1)} either)`}`,
            );
          if (!linked)
            return bad(
              seq,
              "broken-link",
              `its prevHash is not the hash of record ${String(seq - 1)}: a record before it was changed and re-hashed, inserted or moved`,
            );
          prevHash = record.hash;
          expected += 1;
          good += 1;
        }
        if (following === undefined) return undefined;
        next = following;
      }
    };
    const walked = await walk();
    if (walked !== undefined) return walked;
    // Records deleted from the end leave a valid chain; the head row (and a head kept elsewhere) still tell.
    let [head] = await read<{ seq: unknown; hash: string }>(
      "SELECT seq, hash FROM evidence_head WHERE id = 1",
      [],
    );
    // The writer may have appended since the walk ended: a head can only be seen once its
    // records are committed (one transaction moves both), so walk on to it before judging.
    while (head !== undefined && Number(head.seq) > good) {
      const before = good;
      const more = await walk();
      if (more !== undefined) return more;
      if (good === before) break;
      [head] = await read<{ seq: unknown; hash: string }>(
        "SELECT seq, hash FROM evidence_head WHERE id = 1",
        [],
      );
    }
    const heads = [
      ...(head === undefined
        ? []
        : [{ seq: Number(head.seq), hash: head.hash, source: "the database's head row" }]),
      ...(options.expectHead === undefined ? [] : [{ ...options.expectHead, source: "the head given" }]),
    ];
    for (const known of heads) {
      if (known.seq > good)
        return bad(
          good + 1,
          "gap",
          `${known.source} says the chain ends at record ${String(known.seq)}; records ${String(good + 1)} to ${String(known.seq)} are missing (deleted)`,
        );
      if (known.seq === good && known.hash !== prevHash)
        return bad(
          good,
          "changed",
          `its hash differs from ${known.source}: the end of the chain was rewritten`,
        );
    }
    return { ok: true, records: good, head: good === 0 ? null : { seq: good, hash: prevHash } };
  }

  async close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    const timeoutMs = options.timeoutMs ?? 5000;
    if (this.#buffer.length > 0 && !this.#down) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.flush(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length > 0)
      this.#log?.warn(
        { database: this.#db.where, unwritten: this.#buffer.length },
        "evidence store closed with records not written (database unreachable)",
      );
    const error = new Error("evidence: store closed before these records were written");
    for (const waiter of this.#flushWaiters) waiter.reject(error);
    this.#flushWaiters = [];
    for (const wake of this.#roomWaiters) wake();
    this.#roomWaiters = [];
    // Let a write in progress finish before the connection goes away.
    while (this.#writing) await new Promise((resolve) => setTimeout(resolve, 10));
    await this.#db.close();
  }
}

/** Opens the store at `options.url` (types.ts, OpenOptions). */
export async function openEvidenceStore(options: OpenOptions): Promise<EvidenceStore> {
  const db = await openDatabase(options.url);
  const connect = options.connect ?? "now";
  if (connect === "background" && db.backend === "postgres") {
    const store = new Store(db, options, false);
    store.start();
    return store;
  }
  try {
    await migrate(db);
    // Best effort (a read-only replica refuses it): reads plan better with statistics.
    await db.query("ANALYZE evidence_record").catch(() => undefined);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw describeFailure(error, db.where);
  }
  return new Store(db, options, true);
}

/**
 * An open database brought to this vakt's schema, with fresh statistics: for a reader that also
 * queries the table itself (`vakt report`'s digest) and verifies with `verifyChain` on the same
 * connection, rather than opening the database twice.
 */
export async function prepareDatabase(db: Database): Promise<void> {
  try {
    await migrate(db);
  } catch (error) {
    throw describeFailure(error, db.where);
  }
  await db.query("ANALYZE evidence_record").catch(() => undefined);
}

/** The store's verify on a database `prepareDatabase` has prepared; the caller closes it. */
export async function verifyChain(db: Database, options: VerifyOptions = {}): Promise<VerifyResult> {
  return new Store(db, { url: db.where }, true).verify(options);
}
