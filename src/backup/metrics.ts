/** The backup part's metrics, registered once per registry (a part restarted on a new Lease reuses them). */
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";

export type CopyOutcome = "copied" | "failed" | "refused" | "unavailable";

/** One Tenant's backup figures at scrape time (undefined: nothing to say yet, no sample). */
export interface TenantBackupRow {
  readonly tenant: string;
  /** Age of the latest Completed backup. */
  readonly backupAgeSeconds: number | undefined;
  /** That age is under the policy (undefined: the tenant has no backup policy). */
  readonly withinPolicy: boolean | undefined;
  /** Age of the latest restore drill that passed. */
  readonly drillAgeSeconds: number | undefined;
  readonly drillPassed: boolean | undefined;
  /** Age of the oldest Completed backup without a verified off-site copy (0: none waits). */
  readonly copyLagSeconds: number;
  /** The lock check of the location holding the tenant's latest copy: 1, 0, -1 (could not run). */
  readonly lockPassed: number | undefined;
}

type TenantGauge = Gauge<"tenant">;

/** Per registry: where the per-tenant gauges read their rows (the running part's tracker). */
const tenantSources = new WeakMap<Registry, () => readonly TenantBackupRow[]>();

const TENANT_GAUGES: readonly {
  readonly name: string;
  readonly help: string;
  readonly value: (row: TenantBackupRow) => number | undefined;
}[] = [
  {
    name: "vakt_backup_tenant_last_backup_age_seconds",
    help: "Age of the tenant's latest Completed Velero backup (no sample before the first).",
    value: (row) => row.backupAgeSeconds,
  },
  {
    name: "vakt_backup_tenant_backup_within_policy",
    help: "1 when the tenant's latest Completed backup is younger than its policy (the schedule's longest gap plus an hour), 0 when older or missing.",
    value: (row) => (row.withinPolicy === undefined ? undefined : row.withinPolicy ? 1 : 0),
  },
  {
    name: "vakt_backup_tenant_last_good_drill_age_seconds",
    help: "Age of the tenant's latest restore drill that passed (no sample before the first).",
    value: (row) => row.drillAgeSeconds,
  },
  {
    name: "vakt_backup_tenant_last_drill_passed",
    help: "1 when the tenant's latest restore drill passed, 0 when it failed.",
    value: (row) => (row.drillPassed === undefined ? undefined : row.drillPassed ? 1 : 0),
  },
  {
    name: "vakt_backup_tenant_copy_lag_seconds",
    help: "Age of the tenant's oldest Completed backup without a verified off-site copy (0 when none waits).",
    value: (row) => row.copyLagSeconds,
  },
  {
    name: "vakt_backup_tenant_lock_check_passed",
    help: "The lock check of the location holding the tenant's latest off-site copy: 1 passed, 0 failed, -1 could not run.",
    value: (row) => row.lockPassed,
  },
];

/**
 * Registers the per-tenant gauges once per registry; they read `source` at each scrape (labels:
 * tenant names only, and only Tenants that exist).
 */
export function exportTenantBackupMetrics(
  registry: Registry,
  source: () => readonly TenantBackupRow[],
): void {
  const registered = tenantSources.has(registry);
  tenantSources.set(registry, source);
  if (registered) return;
  for (const { name, help, value } of TENANT_GAUGES)
    new Gauge({
      name,
      help,
      labelNames: ["tenant"],
      registers: [registry],
      collect(this: TenantGauge) {
        this.reset();
        for (const row of tenantSources.get(registry)?.() ?? []) {
          const v = value(row);
          if (v !== undefined) this.set({ tenant: row.tenant }, v);
        }
      },
    });
}

export class BackupMetrics {
  readonly copies: Counter<"location" | "result">;
  readonly bytes: Counter<"location">;
  readonly objects: Counter<"location" | "action">;
  readonly lockPassed: Gauge<"location">;
  readonly lastLockCheck: Gauge<"location">;
  readonly lastCopy: Gauge<"location">;
  readonly pending: Gauge<"location">;
  readonly lag: Gauge<"location">;

  constructor(registry: Registry) {
    const existing = registry.getSingleMetric("vakt_backup_copies_total");
    if (existing !== undefined) {
      // Registered by an earlier start of the part.
      this.copies = existing as Counter<"location" | "result">;
      this.bytes = registry.getSingleMetric("vakt_backup_copy_bytes_total") as Counter<"location">;
      this.objects = registry.getSingleMetric("vakt_backup_copy_objects_total") as Counter<
        "location" | "action"
      >;
      this.lockPassed = registry.getSingleMetric("vakt_backup_lock_check_passed") as Gauge<"location">;
      this.lastLockCheck = registry.getSingleMetric(
        "vakt_backup_lock_check_timestamp_seconds",
      ) as Gauge<"location">;
      this.lastCopy = registry.getSingleMetric(
        "vakt_backup_last_copy_timestamp_seconds",
      ) as Gauge<"location">;
      this.pending = registry.getSingleMetric("vakt_backup_copies_pending") as Gauge<"location">;
      this.lag = registry.getSingleMetric("vakt_backup_copy_lag_seconds") as Gauge<"location">;
      return;
    }
    const registers = [registry];
    this.copies = new Counter({
      name: "vakt_backup_copies_total",
      help: "Off-site copies of Velero backups by result: copied (verified), failed (integrity: the copy must not be trusted), refused (residency), unavailable (S3 or credentials; retried).",
      labelNames: ["location", "result"],
      registers,
    });
    this.bytes = new Counter({
      name: "vakt_backup_copy_bytes_total",
      help: "Bytes copied to off-site locations (objects already there are not counted).",
      labelNames: ["location"],
      registers,
    });
    this.objects = new Counter({
      name: "vakt_backup_copy_objects_total",
      help: "Objects of backups handled, copied now or found already copied by an earlier run.",
      labelNames: ["location", "action"],
      registers,
    });
    this.lockPassed = new Gauge({
      name: "vakt_backup_lock_check_passed",
      help: "1 when the last lock check of the off-site bucket passed (Object Lock, COMPLIANCE, retention at or above policy, a locked delete refused), 0 when it failed, -1 when it could not run.",
      labelNames: ["location"],
      registers,
    });
    this.lastLockCheck = new Gauge({
      name: "vakt_backup_lock_check_timestamp_seconds",
      help: "When the last lock check ran (Unix time).",
      labelNames: ["location"],
      registers,
    });
    this.lastCopy = new Gauge({
      name: "vakt_backup_last_copy_timestamp_seconds",
      help: "When the last off-site copy completed (Unix time).",
      labelNames: ["location"],
      registers,
    });
    this.pending = new Gauge({
      name: "vakt_backup_copies_pending",
      help: "Completed backups not yet copied to the location.",
      labelNames: ["location"],
      registers,
    });
    this.lag = new Gauge({
      name: "vakt_backup_copy_lag_seconds",
      help: "Age of the oldest completed backup not yet copied to the location (0 when none waits).",
      labelNames: ["location"],
      registers,
    });
  }
}
