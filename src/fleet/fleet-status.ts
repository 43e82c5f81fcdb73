/**
 * `vakt fleet status`: one row per Environment, read from the hub's Environment statuses (pure:
 * the listed objects in, rows and a table out). The member's posture as the hub last read it
 * (status.posture): the vakt version answering its webhook (and the one wanted when they
 * differ), whether the webhook answers, and the findings of vakt's audit reports there ("-" when
 * there are none to read). Problems are the Environment's conditions that are False (a step the
 * hub could not take: not applied, not baselined, not registered, no autoscaling, a webhook not
 * answering, version skew), each named; the last backup and drill columns stay "-" until
 * Environments report them.
 */
import type { Json } from "../kube/client.ts";
import { textTable } from "../outputs/table.ts";

export interface FleetRow {
  readonly environment: string;
  readonly provider: string;
  readonly region: string;
  readonly phase: string;
  readonly ready: string;
  /** The vakt version wanted in the member (spec.baseline.vaktVersion or the hub's). */
  readonly vaktVersion: string;
  /** The vakt version answering the member's webhook, as last read (null: not known). */
  readonly memberVersion: string | null;
  /** vakt's webhook in the member (status.posture.webhook), null when not read yet. */
  readonly webhook: string | null;
  /** Findings in vakt's audit reports in the member; null when there are none to read. */
  readonly findings: number | null;
  /** The Environment's False conditions besides Ready, as "Type: Reason". */
  readonly problems: readonly string[];
  readonly lastBackup: string | null;
  readonly lastDrill: string | null;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
}

export function fleetRows(items: readonly Json[], hubVersion: string): FleetRow[] {
  return items
    .map((item): FleetRow => {
      const metadata = (item["metadata"] ?? {}) as { name?: string };
      const spec = (item["spec"] ?? {}) as {
        provider?: string;
        region?: string;
        baseline?: { vaktVersion?: string };
      };
      const status = (item["status"] ?? {}) as {
        phase?: string;
        conditions?: Condition[];
        posture?: { webhook?: string; vaktVersion?: string; findings?: number };
      };
      const conditions = status.conditions ?? [];
      return {
        environment: metadata.name ?? "",
        provider: spec.provider ?? "",
        region: spec.region ?? "",
        phase: status.phase ?? "Unknown",
        ready: conditions.find((c) => c.type === "Ready")?.status ?? "Unknown",
        vaktVersion: spec.baseline?.vaktVersion ?? hubVersion,
        memberVersion: status.posture?.vaktVersion ?? null,
        webhook: status.posture?.webhook ?? null,
        findings: status.posture?.findings ?? null,
        problems: conditions
          .filter((c) => c.type !== "Ready" && c.status === "False")
          .map((c) => `${c.type}: ${c.reason ?? "False"}`),
        lastBackup: null,
        lastDrill: null,
      };
    })
    .sort((a, b) => a.environment.localeCompare(b.environment));
}

/** The rows as a table for people, columns padded to their widest cell. */
export function fleetTable(rows: readonly FleetRow[]): string {
  const header = [
    "ENVIRONMENT",
    "PROVIDER",
    "REGION",
    "PHASE",
    "READY",
    "VAKT",
    "WEBHOOK",
    "FINDINGS",
    "PROBLEMS",
    "LAST BACKUP",
    "LAST DRILL",
  ];
  const cells = rows.map((row) => [
    row.environment,
    row.provider,
    row.region,
    row.phase,
    row.ready,
    row.memberVersion === null
      ? `- (wants ${row.vaktVersion})`
      : row.memberVersion === row.vaktVersion
        ? row.memberVersion
        : `${row.memberVersion} (wants ${row.vaktVersion})`,
    row.webhook ?? "-",
    row.findings === null ? "-" : String(row.findings),
    row.problems.length === 0 ? "0" : `${row.problems.length} (${row.problems.join(", ")})`,
    row.lastBackup ?? "-",
    row.lastDrill ?? "-",
  ]);
  return textTable(header, cells);
}
