/**
 * Versioned schema migrations, run at start in one transaction under an advisory lock (two
 * replicas starting together migrate once). `vakt_evidence_schema` lists the versions applied;
 * a database with a version this code does not know was written by a newer vakt and is refused.
 * A migration is never edited once released: a change is a new version.
 */
import type { Database, Sql } from "./db.ts";
import { EvidenceError, GENESIS_HASH } from "./types.ts";

export interface Migration {
  readonly version: number;
  readonly description: string;
  /** One statement each (PGlite's query takes one at a time). */
  readonly statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "evidence records, hash-chained, and the chain's head",
    statements: [
      `CREATE TABLE evidence_record (
        seq bigint PRIMARY KEY,
        time timestamptz NOT NULL,
        kind text NOT NULL,
        cluster text NOT NULL,
        tenant text,
        namespace text,
        subject_api_version text,
        subject_kind text,
        subject_namespace text,
        subject_name text,
        subject_uid text,
        rule text,
        controls text[],
        severity text,
        message text,
        data jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`,
      "CREATE INDEX evidence_record_time ON evidence_record (time)",
      // One row: the last record's seq and hash. Writers lock it (SELECT ... FOR UPDATE), so
      // appends from two processes are serialised and the chain never forks.
      `CREATE TABLE evidence_head (
        id int PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      )`,
      `INSERT INTO evidence_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}')`,
    ],
  },
];

export const SCHEMA_TABLE = "vakt_evidence_schema";
/** Arbitrary, fixed: the advisory lock key of migrations ("vakt" in ASCII). */
const LOCK_KEY = 0x76616b74;

/** Applies the migrations the database lacks; returns the versions applied now. */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const latest = Math.max(...migrations.map((m) => m.version));
  return db.transaction(async (sql: Sql) => {
    await sql.query(`SELECT pg_advisory_xact_lock(${String(LOCK_KEY)})`);
    await sql.query(
      `CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (
        version integer PRIMARY KEY,
        description text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const rows = await sql.query<{ version: unknown }>(
      `SELECT version FROM ${SCHEMA_TABLE} ORDER BY version`,
    );
    const applied = new Set(rows.map((row) => Number(row.version)));
    const newest = Math.max(0, ...applied);
    if (newest > latest)
      throw new EvidenceError(
        `the evidence database ${db.where} has schema version ${String(newest)}; this vakt knows versions up to ${String(latest)}`,
        "a newer vakt wrote it: run that version (or newer) against it, never an older one",
      );
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await sql.query(statement);
      await sql.query(`INSERT INTO ${SCHEMA_TABLE} (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
