/**
 * Backup findings of a report, derived from the evidence the backup part and the restore drills
 * record (backup.copied, backup.lock-checked, restore.drill) over the period (pure: events in,
 * open findings out). They are not audit findings of a rule on an object: they say, at the
 * period's end, that a tenant's backups are older than the policy, that no drill ran in the
 * period, that the latest drill failed, or that an off-site location's lock was not shown to hold.
 */
import type { Severity } from "../engine/types.ts";
import type { Subject } from "../evidence/types.ts";
import type { FindingEntry, ReportRequest, RuleInfo } from "./model.ts";

/**
 * The age a tenant's latest verified off-site copy may reach when its records do not say (copies
 * recorded before the policy was): a daily schedule plus an hour.
 */
export const BACKUP_POLICY_SECONDS = 25 * 3600;
/** How far before the period the latest copy is looked for: a weekly schedule plus an hour. */
export const BACKUP_LOOKBACK_SECONDS = 7 * 86_400 + 3600;

/** A backup record as the findings need it. */
export interface BackupEvent {
  readonly kind: "backup.copied" | "backup.lock-checked" | "restore.drill";
  readonly time: string;
  readonly cluster: string;
  readonly tenant?: string;
  readonly subject?: Subject;
  /** backup.copied: copied, failed, refused; restore.drill: passed, failed. */
  readonly outcome?: string;
  /** backup.lock-checked. */
  readonly passed?: boolean;
  /** The BackupLocation (data.location). */
  readonly location?: string;
  /** backup.copied: the tenant's policy when it was copied (data.policyMaxAgeSeconds). */
  readonly maxAgeSeconds?: number;
  readonly problems: readonly string[];
}

export interface BackupRule extends RuleInfo {
  readonly severity: Severity;
}

const CONTROLS = ["iso27001:A.8.13", "nis2:21.2.c", "gdpr:32.1.c"];

export const BACKUP_RULES: readonly BackupRule[] = [
  {
    id: "backup-overdue",
    title: "A tenant's latest verified off-site backup copy is younger than the policy",
    severity: "high",
    controls: [...CONTROLS, "pdl:3.12"],
    evidenceBoundary:
      "judged from the off-site copies recorded (backup.copied): a recent verified copy shows the backup's objects reached the locked bucket intact, not that everything the tenant needs was in the backup.",
  },
  {
    id: "backup-drill-missing",
    title: "Each tenant's backup is restored in a drill in the period",
    severity: "medium",
    controls: [...CONTROLS, "pdl:3.13"],
    evidenceBoundary:
      "judged from the restore drills recorded (restore.drill): a drill restores one backup into scratch namespaces; it does not prove a restore of the whole platform or of volumes' data.",
  },
  {
    id: "backup-drill-failed",
    title: "A tenant's latest restore drill in the period passed",
    severity: "high",
    controls: [...CONTROLS, "pdl:3.13"],
    evidenceBoundary:
      "a passed drill shows every object the backup holds came back identical (kinds, names, content hashes), not that the application works on the restored objects.",
  },
  {
    id: "backup-lock-missing",
    title: "Off-site copies are under a verified Object Lock",
    severity: "high",
    controls: [...CONTROLS, "pdl:3.12"],
    evidenceBoundary:
      "judged from the lock checks recorded (backup.lock-checked): a refused delete of a locked canary shows the bucket enforces COMPLIANCE retention at that time, not that the provider's storage will never lose data.",
  },
];

const RULE = new Map(BACKUP_RULES.map((rule) => [rule.id, rule]));

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(seconds < 36_000 ? 1 : 0)} h`;
}

function tenantSubject(tenant: string): Subject {
  return { apiVersion: "vakt.dev/v1alpha1", kind: "Tenant", name: tenant };
}

/** What a stored backup record says, as the findings read it. */
export function backupEvent(record: {
  readonly kind: BackupEvent["kind"];
  readonly time: string;
  readonly scope: { readonly cluster: string; readonly tenant?: string };
  readonly subject?: Subject;
  readonly data: { readonly [key: string]: unknown };
}): BackupEvent {
  const data = record.data;
  const problems = Array.isArray(data["problems"])
    ? (data["problems"] as unknown[]).filter((p): p is string => typeof p === "string")
    : typeof data["detail"] === "string"
      ? [data["detail"]]
      : [];
  return {
    kind: record.kind,
    time: record.time,
    cluster: record.scope.cluster,
    ...(record.scope.tenant === undefined ? {} : { tenant: record.scope.tenant }),
    ...(record.subject === undefined ? {} : { subject: record.subject }),
    ...(typeof data["outcome"] === "string" ? { outcome: data["outcome"] } : {}),
    ...(typeof data["passed"] === "boolean" ? { passed: data["passed"] } : {}),
    ...(typeof data["location"] === "string" ? { location: data["location"] } : {}),
    ...(typeof data["policyMaxAgeSeconds"] === "number" && data["policyMaxAgeSeconds"] > 0
      ? { maxAgeSeconds: data["policyMaxAgeSeconds"] }
      : {}),
    problems,
  };
}

/** The earliest record the findings need: the latest copy before the period may still be within policy. */
export function backupLookback(request: ReportRequest): Date {
  return new Date(request.from.getTime() - BACKUP_LOOKBACK_SECONDS * 1000);
}

/**
 * The backup findings open at the period's end (or at generation, when the period reaches past
 * it). `events`: the backup records of the scope from backupLookback() to the period's end, in
 * sequence order.
 */
export function backupFindings(
  events: readonly BackupEvent[],
  request: ReportRequest,
  defaultMaxAgeSeconds = BACKUP_POLICY_SECONDS,
): FindingEntry[] {
  const fromIso = request.from.toISOString();
  const toIso = request.to.toISOString();
  const end = Math.min(request.to.getTime(), request.generatedAt.getTime());
  const finding = (
    rule: string,
    cluster: string,
    subject: Subject,
    message: string,
    firstSeen: string,
    tenant?: string,
  ): FindingEntry => {
    const info = RULE.get(rule);
    return {
      rule,
      severity: info?.severity ?? "high",
      controls: info?.controls ?? CONTROLS,
      message,
      subject,
      cluster,
      ...(tenant === undefined ? {} : { tenant }),
      firstSeen,
      lastSeen: new Date(end).toISOString(),
    };
  };

  interface TenantState {
    cluster: string;
    tenant: string;
    lastGood: string | undefined;
    /** The policy the latest record states. */
    maxAgeSeconds: number | undefined;
    drills: number;
    lastDrill: BackupEvent | undefined;
    locations: Set<string>;
  }
  const tenants = new Map<string, TenantState>();
  const locks = new Map<string, { cluster: string; location: string; last: BackupEvent | undefined }>();
  const lockKey = (cluster: string, location: string): string => `${cluster}\u0000${location}`;
  const lockOf = (cluster: string, location: string) => {
    const k = lockKey(cluster, location);
    let state = locks.get(k);
    if (state === undefined) {
      state = { cluster, location, last: undefined };
      locks.set(k, state);
    }
    return state;
  };

  const sinceIso = backupLookback(request).toISOString();
  for (const event of events) {
    if (event.time >= toIso || event.time < sinceIso) continue;
    const inPeriod = event.time >= fromIso;
    if (event.kind === "backup.lock-checked") {
      const location = event.location ?? event.subject?.name;
      if (location !== undefined && inPeriod) lockOf(event.cluster, location).last = event;
      continue;
    }
    if (event.tenant === undefined) continue;
    const k = `${event.cluster}\u0000${event.tenant}`;
    let state = tenants.get(k);
    if (state === undefined) {
      state = {
        cluster: event.cluster,
        tenant: event.tenant,
        lastGood: undefined,
        maxAgeSeconds: undefined,
        drills: 0,
        lastDrill: undefined,
        locations: new Set(),
      };
      tenants.set(k, state);
    }
    if (event.kind === "backup.copied") {
      if (event.maxAgeSeconds !== undefined) state.maxAgeSeconds = event.maxAgeSeconds;
      if (event.outcome === "copied") {
        if (state.lastGood === undefined || event.time > state.lastGood) state.lastGood = event.time;
        if (inPeriod && event.location !== undefined) state.locations.add(event.location);
      }
    } else if (inPeriod) {
      state.drills++;
      if (state.lastDrill === undefined || event.time >= state.lastDrill.time) state.lastDrill = event;
    }
  }

  const out: FindingEntry[] = [];
  for (const state of tenants.values()) {
    const subject = tenantSubject(state.tenant);
    const maxAgeSeconds = state.maxAgeSeconds ?? defaultMaxAgeSeconds;
    const at = state.lastGood === undefined ? NaN : Date.parse(state.lastGood);
    if (Number.isNaN(at))
      out.push(
        finding(
          "backup-overdue",
          state.cluster,
          subject,
          `no verified off-site copy of a backup of tenant ${state.tenant} is recorded since ${sinceIso}; the policy allows ${hours(maxAgeSeconds)}: check the tenant's Velero Schedule and the BackupLocation's CopiesUpToDate condition`,
          fromIso,
          state.tenant,
        ),
      );
    else if (end - at > maxAgeSeconds * 1000)
      out.push(
        finding(
          "backup-overdue",
          state.cluster,
          subject,
          `the latest verified off-site copy of tenant ${state.tenant}'s backups is from ${state.lastGood ?? ""}, ${hours((end - at) / 1000)} old at the period's end; the policy allows ${hours(maxAgeSeconds)}: check the tenant's Velero Schedule and the BackupLocation's CopiesUpToDate condition`,
          new Date(at + maxAgeSeconds * 1000).toISOString(),
          state.tenant,
        ),
      );
    if (state.drills === 0)
      out.push(
        finding(
          "backup-drill-missing",
          state.cluster,
          subject,
          `no restore drill of tenant ${state.tenant} is recorded in the period: run vakt backup drill ${state.tenant}, or schedule drills on its BackupLocation (spec.drill)`,
          fromIso,
          state.tenant,
        ),
      );
    else if (state.lastDrill?.outcome === "failed")
      out.push(
        finding(
          "backup-drill-failed",
          state.cluster,
          subject,
          `the latest restore drill of tenant ${state.tenant} (${state.lastDrill.time}) failed: ${state.lastDrill.problems.slice(0, 5).join("; ") || "no reason recorded"}`,
          state.lastDrill.time,
          state.tenant,
        ),
      );
    for (const location of state.locations) lockOf(state.cluster, location);
  }
  const usedByTenants = new Set(
    [...tenants.values()].flatMap((state) => [...state.locations].map((l) => lockKey(state.cluster, l))),
  );
  for (const [k, lock] of locks) {
    // A report of one tenant: the locations its copies went to.
    if (request.scope.tenant !== undefined && !usedByTenants.has(k)) continue;
    const subject: Subject = { apiVersion: "vakt.dev/v1alpha1", kind: "BackupLocation", name: lock.location };
    if (lock.last === undefined)
      out.push(
        finding(
          "backup-lock-missing",
          lock.cluster,
          subject,
          `copies went to BackupLocation ${lock.location} in the period, but no lock check of it is recorded there: run vakt with --parts backup, which checks it every spec.lockCheck.intervalMinutes`,
          fromIso,
        ),
      );
    else if (lock.last.passed !== true)
      out.push(
        finding(
          "backup-lock-missing",
          lock.cluster,
          subject,
          `the latest lock check of BackupLocation ${lock.location} (${lock.last.time}) failed: ${lock.last.problems.slice(0, 5).join("; ") || "no reason recorded"}`,
          lock.last.time,
        ),
      );
  }
  return out;
}
