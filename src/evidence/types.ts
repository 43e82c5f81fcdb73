/**
 * The evidence history's contract: what the background audit (and later backup copies and
 * restore drills) append, what `vakt report` reads, and what `vakt report verify` checks.
 *
 * Records are append-only and hash-chained: each carries the hash of the one before it, so a
 * changed, deleted or reordered record is found by `verify`. The same SQL runs on PostgreSQL
 * (production) and PGlite (embedded default, a directory under ~/.vakt); docs/adr has why.
 *
 * "Last seen" is not written per sighting: an `audit.pass` record states that every finding
 * open in its scope when the pass ended was seen by that pass. A finding's last sighting is the
 * latest pass after it opened (or, once resolved, `lastSeen` in its `finding.resolved` record).
 * The audit therefore appends a pass's `finding.resolved` records before its `audit.pass` record.
 */
import type { Severity } from "../engine/types.ts";

export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Where a record applies. `cluster` names the cluster (the setting evidence-cluster); a record
 * with neither tenant nor namespace is cluster-wide (an audit pass, a cluster-scoped object).
 */
export interface Scope {
  readonly cluster: string;
  /** The Tenant that owns the namespace, when one does. */
  readonly tenant?: string;
  readonly namespace?: string;
}

/** The object a record is about. `namespace` is absent for cluster-scoped objects. */
export interface Subject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

/** Fields every kind of record has. `time` is when it happened (ISO 8601 UTC, milliseconds). */
interface Common {
  readonly time: string;
  readonly scope: Scope;
}

/** A rule failed on an object that had no open finding for that rule. */
export interface FindingOpened extends Common {
  readonly kind: "finding.opened";
  readonly subject: Subject;
  readonly rule: string;
  readonly controls: readonly string[];
  readonly severity: Severity;
  readonly message: string;
  /** The rule's action when it was judged. */
  readonly data: { readonly action: "deny" | "warn" | "audit" };
}

/** An open finding ended: the object was fixed or deleted, an exception now covers it, or the rule went away. */
export interface FindingResolved extends Common {
  readonly kind: "finding.resolved";
  readonly subject: Subject;
  readonly rule: string;
  readonly controls: readonly string[];
  readonly severity: Severity;
  readonly message: string;
  readonly data: {
    readonly reason: "fixed" | "deleted" | "excepted" | "rule-removed";
    /** `time` of the matching finding.opened record. */
    readonly firstSeen: string;
    /** The last time the audit saw it failing (a pass or an event). */
    readonly lastSeen: string;
  };
}

/** A PolicyException covered a failing rule on an object (recorded once per exception, object and rule). */
export interface ExceptionApplied extends Common {
  readonly kind: "exception.applied";
  readonly subject: Subject;
  readonly rule: string;
  readonly controls: readonly string[];
  readonly severity: Severity;
  /** What the rule would have said. */
  readonly message: string;
  readonly data: {
    /** The PolicyException, namespace/name. */
    readonly exception: string;
    readonly approver: string;
    readonly justification: string;
    /** ISO 8601, or null when the exception does not expire. */
    readonly expires: string | null;
  };
}

/** A background audit pass ended. Covers every finding open in its scope (see "last seen" above). */
export interface AuditPass extends Common {
  readonly kind: "audit.pass";
  readonly data: {
    /** A full pass over every object, or an event-driven one (covers only what it judged: `full: false` records are not sightings). */
    readonly full: boolean;
    readonly started: string;
    readonly durationMs: number;
    readonly objects: number;
    /** Objects that could not be judged (malformed, too large): counted, never a stop. */
    readonly unjudgeable: number;
    readonly findingsOpen: number;
    readonly opened: number;
    readonly resolved: number;
  };
}

/** Room for the next issue: a backup copy made, a restore drill run. Their data is theirs to define. */
export interface BackupCopied extends Common {
  readonly kind: "backup.copied";
  readonly subject?: Subject;
  readonly data: { readonly [key: string]: JsonValue };
}
/** The lock check of an off-site backup bucket ran (src/backup/lock-check.ts); data says what it found. */
export interface BackupLockChecked extends Common {
  readonly kind: "backup.lock-checked";
  readonly subject?: Subject;
  readonly data: { readonly [key: string]: JsonValue };
}
export interface RestoreDrill extends Common {
  readonly kind: "restore.drill";
  readonly subject?: Subject;
  readonly data: { readonly [key: string]: JsonValue };
}

/** What a caller appends. */
export type EvidenceEvent =
  | FindingOpened
  | FindingResolved
  | ExceptionApplied
  | AuditPass
  | BackupCopied
  | BackupLockChecked
  | RestoreDrill;
export type RecordKind = EvidenceEvent["kind"];
export const RECORD_KINDS: readonly RecordKind[] = [
  "finding.opened",
  "finding.resolved",
  "exception.applied",
  "audit.pass",
  "backup.copied",
  "backup.lock-checked",
  "restore.drill",
];

/** Genesis: the `prevHash` of record 1. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * An event as stored: numbered from 1 without gaps, and chained. `hash` is sha256 (hex) over
 * the canonical encoding of the record without `hash` (prevHash included): JSON with keys
 * sorted, no whitespace, absent fields left out (evidence/canonical.ts). Strings are stored well
 * formed and without NUL (PostgreSQL text cannot hold it): the store replaces both with U+FFFD
 * before hashing, and cuts a `message` longer than MAX_MESSAGE characters.
 */
export type EvidenceRecord = EvidenceEvent & {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
};

export const MAX_MESSAGE = 2000;

/** A finding is identified by its cluster, object and rule (opened and resolved records pair on it). */
export function findingKey(record: {
  readonly scope: Scope;
  readonly subject: Subject;
  readonly rule: string;
}): string {
  const s = record.subject;
  return [record.scope.cluster, s.apiVersion, s.kind, s.namespace ?? "", s.name, record.rule].join("\u0000");
}

export interface Query {
  /** Inclusive lower bound on `time`; absent: from the first record. */
  readonly from?: Date;
  /** Exclusive upper bound on `time`; absent: up to the last record. */
  readonly to?: Date;
  /**
   * Which records: those of the cluster (absent: every cluster); with `tenant` or `namespace`,
   * those of that tenant or namespace plus the cluster-wide records (audit passes, cluster-scoped
   * objects), which a report of any scope needs.
   */
  readonly scope?: Partial<Scope>;
  /** Absent: every kind. */
  readonly kinds?: readonly RecordKind[];
}

/** What verify found wrong with the first bad record. */
export type Problem =
  /** The record's content does not match its own hash: it was changed. */
  | "changed"
  /** Its prevHash is not the previous record's hash: a record before it was deleted, inserted or moved. */
  | "broken-link"
  /** Its sequence number is not the previous one plus one: a record is missing. */
  | "gap"
  /** A stored field cannot be read (not valid JSON, an unknown kind). */
  | "unreadable";

export type VerifyResult =
  | {
      readonly ok: true;
      readonly records: number;
      readonly head: { readonly seq: number; readonly hash: string } | null;
    }
  | {
      readonly ok: false;
      /** Records checked and found good before the bad one. */
      readonly records: number;
      readonly firstBad: { readonly seq: number; readonly problem: Problem; readonly detail: string };
    };

export interface VerifyOptions {
  /**
   * The head as known from elsewhere (a report printed earlier, a copy): deleting the LAST
   * records leaves a valid chain, so only a head kept outside the database shows it.
   */
  readonly expectHead?: { readonly seq: number; readonly hash: string };
}

/**
 * The store's state, for /readyz, metrics and logs. `ok`: writing as events come; `buffering`:
 * the database is unreachable and events wait in memory, in order; `full`: the buffer is at its
 * bound and append refuses (nothing is dropped: the caller keeps its events and backs off);
 * `closed`: after close().
 */
export interface StoreHealth {
  readonly state: "ok" | "buffering" | "full" | "closed";
  readonly backend: "pglite" | "postgres";
  /** Events accepted but not yet written, and the bound. */
  readonly backlog: number;
  readonly capacity: number;
  /** Age of the oldest event not yet written, in ms (0 when none): the write lag. */
  readonly lagMs: number;
  readonly written: number;
  /** Failed write attempts (each is retried), and appends refused at the bound. */
  readonly failures: number;
  readonly refused: number;
  readonly lastError?: string;
}

export interface EvidenceStore {
  /**
   * Accepts an event to be written in order, without waiting for the database. Returns false
   * (and writes nothing) when the buffer is full: the caller keeps the event, waits for
   * `writable()`, and appends it again. Throws only for a programming error (an event that is
   * not of a known kind, a non-JSON value in data).
   */
  append(event: EvidenceEvent): boolean;
  /** Resolves when append would accept again. */
  writable(): Promise<void>;
  /** Resolves when every event accepted so far is written (rejects if the store is closed first). */
  flush(): Promise<void>;
  /** The records matching the query, in sequence order, read in batches as the caller iterates. */
  query(query?: Query): AsyncIterable<EvidenceRecord>;
  /** Walks the whole chain and names the first bad record. */
  verify(options?: VerifyOptions): Promise<VerifyResult>;
  health(): StoreHealth;
  /** Writes what it can within `timeoutMs` (default 5 s), then releases the database. Unwritten events are logged by count. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
}

export interface OpenOptions {
  /**
   * `postgres://` or `postgresql://` URL: a PostgreSQL server. Anything else is a directory for
   * PGlite (created when missing); `memory://` keeps PGlite in memory (tests, benchmarks).
   * A PGlite directory is open in one process at a time (a lock file `<dir>.lock`): a second
   * open, e.g. `vakt report` on the directory `vakt run` writes, fails with an EvidenceError.
   */
  readonly url: string;
  /**
   * `now` (default): open fails with a clear error when the database cannot be reached (vakt
   * report). `background`: open succeeds, the store buffers and connects, migrates and writes
   * when the database comes up (the audit: a database that is down stops nothing).
   */
  readonly connect?: "now" | "background";
  /** Events held in memory while the database is unreachable (default 100,000). */
  readonly capacity?: number;
  /** Retry delay after a failed write or connect, doubling up to 30 s (default 500 ms). */
  readonly retryMs?: number;
  /** Reports state changes and failures (a pino logger fits). */
  readonly log?: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

/** Opens a store (evidence/store.ts implements it as `openEvidenceStore`). Rejects with an EvidenceError. */
export type OpenEvidenceStore = (options: OpenOptions) => Promise<EvidenceStore>;

/** A failure to open or read the store, with how to fix it. */
export class EvidenceError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EvidenceError";
    this.hint = hint;
  }
}
