/**
 * `vakt backup status`: one row per Tenant from its status.backup (what the backup part and the
 * drills write) and the BackupLocations' LockVerified conditions (pure: the listed objects in,
 * rows and a table out).
 */
import type { Json } from "../kube/client.ts";
import type { TenantBackupStatus } from "./status-core.ts";
import { textTable } from "../outputs/table.ts";

export interface BackupStatusRow {
  readonly tenant: string;
  /** <namespace>/<name> of the latest Velero Backup, its phase and time. */
  readonly lastBackup: { readonly name: string; readonly phase: string; readonly time: string | null } | null;
  /** The latest Completed backup's age in seconds, and whether it is within the policy. */
  readonly backupAgeSeconds: number | null;
  readonly maxAgeSeconds: number | null;
  readonly withinPolicy: boolean | null;
  readonly offsiteCopy: {
    readonly backup: string;
    readonly location: string;
    readonly time: string;
    readonly verified: boolean;
    readonly message: string | null;
  } | null;
  readonly lastDrill: {
    readonly id: string;
    readonly time: string;
    readonly passed: boolean;
    readonly backup: string;
    readonly problems: readonly string[];
  } | null;
  readonly rpoSeconds: number | null;
  readonly rtoSeconds: number | null;
  /** The LockVerified condition of the location holding the latest copy. */
  readonly lockCheck: { readonly location: string; readonly status: string; readonly reason: string } | null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function nameOf(object: Json): string {
  const name = record(object["metadata"])["name"];
  return typeof name === "string" ? name : "";
}

/** The rows, sorted by tenant; ages against `now`. */
export function backupStatusRows(
  tenants: readonly Json[],
  locations: readonly Json[],
  now: Date,
): BackupStatusRow[] {
  const locks = new Map<string, { status: string; reason: string }>();
  for (const location of locations) {
    const conditions = record(location["status"])["conditions"];
    const lock = (Array.isArray(conditions) ? (conditions as unknown[]) : [])
      .map(record)
      .find((condition) => condition["type"] === "LockVerified");
    locks.set(nameOf(location), {
      status: typeof lock?.["status"] === "string" ? lock["status"] : "Unknown",
      reason: typeof lock?.["reason"] === "string" ? lock["reason"] : "NotChecked",
    });
  }
  const age = (time: string | undefined): number | null => {
    const at = time === undefined ? NaN : Date.parse(time);
    return Number.isNaN(at) ? null : Math.max(0, Math.round((now.getTime() - at) / 1000));
  };
  return tenants
    .map((tenant): BackupStatusRow => {
      const status = (record(tenant["status"])["backup"] ?? {}) as TenantBackupStatus;
      const last = status.lastBackup;
      const copy = status.lastCopy;
      const drill = status.lastDrill;
      const lock = copy?.location === undefined ? undefined : locks.get(copy.location);
      return {
        tenant: nameOf(tenant),
        lastBackup:
          last?.name === undefined
            ? null
            : {
                name: `${last.namespace ?? ""}/${last.name}`,
                phase: last.phase ?? "",
                time: last.time ?? null,
              },
        backupAgeSeconds: age(status.lastCompletedBackup?.time),
        maxAgeSeconds: status.policy?.maxAgeSeconds ?? null,
        withinPolicy: status.withinPolicy ?? null,
        offsiteCopy:
          copy?.backup === undefined || copy.time === undefined
            ? null
            : {
                backup: copy.backup,
                location: copy.location ?? "",
                time: copy.time,
                verified: copy.verified === true,
                message: copy.message ?? null,
              },
        lastDrill:
          drill?.time === undefined
            ? null
            : {
                id: drill.id ?? "",
                time: drill.time,
                passed: drill.passed === true,
                backup: drill.backup ?? "",
                problems: drill.problems ?? [],
              },
        rpoSeconds: drill?.rpoSeconds ?? null,
        rtoSeconds: drill?.rtoSeconds ?? null,
        lockCheck:
          copy?.location === undefined
            ? null
            : {
                location: copy.location,
                status: lock?.status ?? "Unknown",
                reason: lock?.reason ?? "LocationNotFound",
              },
      };
    })
    .sort((a, b) => a.tenant.localeCompare(b.tenant));
}

/** 45s, 12m, 3h5m, 2d4h: a duration for people. */
export function humanSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${String(s)}s`;
  if (s < 3600) return `${String(Math.floor(s / 60))}m`;
  if (s < 86_400) {
    const minutes = Math.floor((s % 3600) / 60);
    return `${String(Math.floor(s / 3600))}h${minutes === 0 ? "" : `${String(minutes)}m`}`;
  }
  const hours = Math.floor((s % 86_400) / 3600);
  return `${String(Math.floor(s / 86_400))}d${hours === 0 ? "" : `${String(hours)}h`}`;
}

function ago(time: string | null, now: Date): string {
  const at = time === null ? NaN : Date.parse(time);
  return Number.isNaN(at) ? "" : ` ${humanSeconds(Math.max(0, (now.getTime() - at) / 1000))} ago`;
}

/** The rows as a table for people, columns padded to their widest cell. */
export function backupStatusTable(rows: readonly BackupStatusRow[], now: Date): string {
  const header = ["TENANT", "LAST BACKUP", "AGE", "OFF-SITE COPY", "LAST DRILL", "RPO", "RTO", "LOCK CHECK"];
  const cells = rows.map((row) => [
    row.tenant,
    row.lastBackup === null ? "-" : `${row.lastBackup.name} ${row.lastBackup.phase}`,
    row.backupAgeSeconds === null
      ? row.withinPolicy === false
        ? "none (overdue)"
        : "-"
      : `${humanSeconds(row.backupAgeSeconds)}${
          row.maxAgeSeconds === null
            ? ""
            : ` (${row.withinPolicy === false ? "OVERDUE, " : ""}max ${humanSeconds(row.maxAgeSeconds)})`
        }`,
    row.offsiteCopy === null
      ? "-"
      : `${row.offsiteCopy.verified ? "verified" : "NOT VERIFIED"}${ago(row.offsiteCopy.time, now)} (${row.offsiteCopy.location})`,
    row.lastDrill === null
      ? "-"
      : `${row.lastDrill.passed ? "passed" : "FAILED"}${ago(row.lastDrill.time, now)}`,
    row.rpoSeconds === null ? "-" : humanSeconds(row.rpoSeconds),
    row.rtoSeconds === null ? "-" : humanSeconds(row.rtoSeconds),
    row.lockCheck === null
      ? "-"
      : row.lockCheck.status === "True"
        ? `passed (${row.lockCheck.location})`
        : `${row.lockCheck.status === "False" ? "FAILED" : "unknown"}: ${row.lockCheck.reason} (${row.lockCheck.location})`,
  ]);
  return textTable(header, cells);
}
