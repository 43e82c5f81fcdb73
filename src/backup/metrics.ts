/** The backup part's metrics, registered once per registry (a part restarted on a new Lease reuses them). */
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";

export type CopyOutcome = "copied" | "failed" | "refused" | "unavailable";

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
