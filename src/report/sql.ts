/**
 * The report's digest (model.ts, Digest) computed by the evidence database: counts, medians and
 * the latest state per finding in SQL, so a 90-day history of a large cluster is not shipped to
 * the report row by row (reading 220,000 records through PGlite takes ~12 s; these queries take a
 * fraction of that). The same SQL runs on PostgreSQL and PGlite. It reads the table of the
 * evidence store's schema (evidence/migrations.ts); the store's query() stays the way for
 * everything else.
 */
import type { Sql } from "../evidence/db.ts";
import type { Subject } from "../evidence/types.ts";
import type { Severity } from "../engine/types.ts";
import { FRAMEWORKS, controlsOf } from "../catalog/index.ts";
import type { Digest, ExceptionRecord, FindingEntry, ReportRequest } from "./model.ts";
import { backupEvent, backupLookback } from "./backup.ts";
import type { BackupEvent } from "./backup.ts";

type Row = Record<string, unknown>;

const SUBJECT_COLUMNS =
  "time, cluster, tenant, subject_api_version, subject_kind, subject_namespace, subject_name, subject_uid, rule, controls, severity, message";

/**
 * The WHERE clause for findings and exceptions of the request's scope and frameworks, with its
 * parameters. With every framework asked the controls are not tested here (an overlap test with
 * the whole catalog costs more than the rest of a scan): the builder drops what names no control
 * of the catalog from the counts and lists, and only a record naming controls since removed from
 * the catalog could then reach the resolve times.
 */
function scopeFilter(request: ReportRequest): { where: string; params: unknown[] } {
  const every = FRAMEWORKS.every((framework) => request.frameworks.includes(framework.id));
  const params: unknown[] = [];
  const where = ["true"];
  const add = (clause: (n: string) => string, value: unknown): void => {
    params.push(value);
    where.push(clause(`$${String(params.length)}`));
  };
  if (!every)
    add(
      (n) => `controls && ${n}::text[]`,
      request.frameworks.flatMap((id) => controlsOf(id).map((c) => c.id)),
    );
  if (request.scope.cluster !== undefined) add((n) => `cluster = ${n}`, request.scope.cluster);
  if (request.scope.tenant !== undefined) add((n) => `tenant = ${n}`, request.scope.tenant);
  if (request.scope.namespace !== undefined) add((n) => `namespace = ${n}`, request.scope.namespace);
  return { where: where.join(" AND "), params };
}

function iso(value: unknown): string {
  return new Date(value as string | Date).toISOString();
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function json(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
}

function subjectOf(row: Row): Subject {
  return {
    apiVersion: text(row["subject_api_version"]),
    kind: text(row["subject_kind"]),
    ...(typeof row["subject_namespace"] === "string" ? { namespace: row["subject_namespace"] } : {}),
    name: text(row["subject_name"]),
    ...(typeof row["subject_uid"] === "string" ? { uid: row["subject_uid"] } : {}),
  };
}

function findingOf(
  row: Row,
  firstSeen: string,
  resolved?: FindingEntry["resolved"],
  lastSeen?: string,
): FindingEntry {
  return {
    rule: text(row["rule"]),
    severity: text(row["severity"]) as Severity,
    controls: Array.isArray(row["controls"]) ? (row["controls"] as string[]) : [],
    message: text(row["message"]),
    subject: subjectOf(row),
    cluster: text(row["cluster"]),
    ...(typeof row["tenant"] === "string" ? { tenant: row["tenant"] } : {}),
    firstSeen,
    lastSeen: lastSeen ?? firstSeen,
    ...(resolved === undefined ? {} : { resolved }),
  };
}

export async function digestFromDatabase(sql: Sql, request: ReportRequest): Promise<Digest> {
  const { where, params } = scopeFilter(request);
  const from = request.from.toISOString();
  const to = request.to.toISOString();
  const n = params.length;
  const FROM = `$${String(n + 1)}::timestamptz`;
  const TO = `$${String(n + 2)}::timestamptz`;
  const withPeriod = [...params, from, to];
  // Queries of everything before the end take the end alone (an unused parameter has no type).
  const UNTIL = `$${String(n + 1)}::timestamptz`;
  const untilEnd = [...params, to];
  const findings = "kind IN ('finding.opened', 'finding.resolved')";

  // The latest finding record of each object and rule before the end (grouped on seq alone, then
  // joined: sorting the wide rows themselves is what costs); open when it is an opening.
  const open = await sql.query(
    `SELECT ${SUBJECT_COLUMNS.split(", ")
      .map((column) => `e.${column}`)
      .join(", ")}
     FROM evidence_record e JOIN (
       SELECT max(seq) AS seq FROM evidence_record WHERE ${findings} AND time < ${UNTIL} AND ${where}
       -- One text key (unit separators between the parts): grouping on six columns costs four times as much.
       GROUP BY concat_ws(chr(31), cluster, subject_api_version, subject_kind, coalesce(subject_namespace, ''), subject_name, rule)
     ) latest ON e.seq = latest.seq
     WHERE e.kind = 'finding.opened'`,
    untilEnd,
  );
  // One scan for both: counts per rule and set of controls, resolve times per rule.
  const grouped = await sql.query(
    `SELECT rule, controls, GROUPING(controls) AS per_rule,
       count(*) FILTER (WHERE kind = 'finding.opened') AS opened,
       count(*) FILTER (WHERE kind = 'finding.resolved') AS resolved,
       count(ms) AS count, percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS median, max(ms) AS max
     FROM (
       SELECT rule, controls, kind, CASE WHEN kind = 'finding.resolved'
         THEN extract(epoch FROM time - (data->>'firstSeen')::timestamptz) * 1000 END AS ms
       FROM evidence_record WHERE ${findings} AND time >= ${FROM} AND time < ${TO} AND ${where}
     ) period GROUP BY GROUPING SETS ((rule, controls), (rule))`,
    withPeriod,
  );
  const counts = grouped.filter((row) => Number(row["per_rule"]) === 0);
  const times = grouped.filter((row) => Number(row["per_rule"]) === 1 && Number(row["count"]) > 0);
  const latest = await sql.query(
    `SELECT ${SUBJECT_COLUMNS}, data FROM evidence_record
     WHERE kind = 'finding.resolved' AND time >= ${FROM} AND time < ${TO} AND ${where}
     ORDER BY seq DESC LIMIT ${String(request.limit)}`,
    withPeriod,
  );
  const exceptions = await sql.query(
    `SELECT ${SUBJECT_COLUMNS}, data FROM evidence_record
     WHERE kind = 'exception.applied' AND time < ${UNTIL} AND ${where} ORDER BY seq`,
    untilEnd,
  );
  // Passes are cluster-wide records: only the cluster narrows them.
  const passParams: unknown[] = [from, to];
  const cluster = request.scope.cluster === undefined ? "" : ` AND cluster = $3`;
  if (request.scope.cluster !== undefined) passParams.push(request.scope.cluster);
  const passWhere = `kind = 'audit.pass' AND time >= $1::timestamptz AND time < $2::timestamptz${cluster}`;
  const [passes] = await sql.query(
    `SELECT count(*) FILTER (WHERE (data->>'full')::boolean) AS full,
       count(*) FILTER (WHERE NOT (data->>'full')::boolean) AS partial, min(time) AS first, max(time) AS last
     FROM evidence_record WHERE ${passWhere}`,
    passParams,
  );
  const [lastFull] = await sql.query(
    `SELECT time, data FROM evidence_record WHERE ${passWhere} AND (data->>'full')::boolean ORDER BY seq DESC LIMIT 1`,
    passParams,
  );
  const lastFullData = lastFull === undefined ? {} : json(lastFull["data"]);
  const backup = await backupEvents(sql, request);

  return {
    open: open.map((row) => findingOf(row, iso(row["time"]))),
    counts: counts.map((row) => ({
      rule: text(row["rule"]),
      controls: Array.isArray(row["controls"]) ? (row["controls"] as string[]) : [],
      opened: Number(row["opened"]),
      resolved: Number(row["resolved"]),
    })),
    resolveTimes: times.map((row) => ({
      rule: text(row["rule"]),
      count: Number(row["count"]),
      medianMs: Math.round(Number(row["median"])),
      maxMs: Math.round(Number(row["max"])),
    })),
    resolvedLatest: latest.map((row) => {
      const data = json(row["data"]);
      const time = iso(row["time"]);
      return findingOf(
        row,
        text(data["firstSeen"]),
        { time, reason: text(data["reason"]) },
        text(data["lastSeen"]),
      );
    }),
    exceptions: exceptions.map((row): ExceptionRecord => {
      const data = json(row["data"]);
      return {
        time: iso(row["time"]),
        subject: subjectOf(row),
        rule: text(row["rule"]),
        controls: Array.isArray(row["controls"]) ? (row["controls"] as string[]) : [],
        data: {
          exception: text(data["exception"]),
          approver: text(data["approver"]),
          justification: text(data["justification"]),
          expires: typeof data["expires"] === "string" ? data["expires"] : null,
        },
      };
    }),
    passes: {
      full: Number(passes?.["full"] ?? 0),
      partial: Number(passes?.["partial"] ?? 0),
      first: passes?.["first"] == null ? null : iso(passes["first"]),
      last: passes?.["last"] == null ? null : iso(passes["last"]),
      lastFull: lastFull === undefined ? null : iso(lastFull["time"]),
      objects: Number(lastFullData["objects"] ?? 0),
      unjudgeable: Number(lastFullData["unjudgeable"] ?? 0),
    },
    backup,
  };
}

/**
 * The backup records the backup findings read (report/backup.ts): only the fields they need (a
 * copy's record lists every file). Lock checks are cluster-wide: a tenant's scope keeps them.
 */
async function backupEvents(sql: Sql, request: ReportRequest): Promise<BackupEvent[]> {
  const params: unknown[] = [backupLookback(request).toISOString(), request.to.toISOString()];
  const where = [
    "kind IN ('backup.copied', 'backup.lock-checked', 'restore.drill')",
    "time >= $1::timestamptz",
    "time < $2::timestamptz",
  ];
  if (request.scope.cluster !== undefined) {
    params.push(request.scope.cluster);
    where.push(`cluster = $${String(params.length)}`);
  }
  if (request.scope.tenant !== undefined) {
    params.push(request.scope.tenant);
    where.push(`(tenant = $${String(params.length)} OR kind = 'backup.lock-checked')`);
  }
  const rows = await sql.query(
    `SELECT time, kind, cluster, tenant, subject_api_version, subject_kind, subject_namespace, subject_name,
       subject_uid, data->>'outcome' AS outcome, data->>'passed' AS passed, data->>'location' AS location,
       data->'problems' AS problems, data->>'detail' AS detail,
       data->>'policyMaxAgeSeconds' AS policy
     FROM evidence_record WHERE ${where.join(" AND ")} ORDER BY seq`,
    params,
  );
  return rows.map((row) => {
    const problems: unknown =
      typeof row["problems"] === "string" ? JSON.parse(row["problems"]) : row["problems"];
    return backupEvent({
      kind: text(row["kind"]) as BackupEvent["kind"],
      time: iso(row["time"]),
      scope: {
        cluster: text(row["cluster"]),
        ...(typeof row["tenant"] === "string" ? { tenant: row["tenant"] } : {}),
      },
      ...(typeof row["subject_kind"] === "string" ? { subject: subjectOf(row) } : {}),
      data: {
        ...(typeof row["outcome"] === "string" ? { outcome: row["outcome"] } : {}),
        ...(row["passed"] === "true" || row["passed"] === "false"
          ? { passed: row["passed"] === "true" }
          : {}),
        ...(typeof row["location"] === "string" ? { location: row["location"] } : {}),
        ...(Array.isArray(problems) ? { problems } : {}),
        ...(typeof row["detail"] === "string" ? { detail: row["detail"] } : {}),
        ...(typeof row["policy"] === "string" ? { policyMaxAgeSeconds: Number(row["policy"]) } : {}),
      },
    });
  });
}
