/**
 * `vakt fleet status`: one row per Environment, read from the hub's Environment statuses (pure:
 * the listed objects in, rows and a table out). Findings are the Environment's conditions that
 * are False (a step the hub could not take: not applied, not baselined, not registered, no
 * autoscaling), each named; the last backup and drill columns stay "-" until Environments report
 * them.
 */
import type { Json } from "../kube/client.ts";

export interface FleetRow {
  readonly environment: string;
  readonly provider: string;
  readonly region: string;
  readonly phase: string;
  readonly ready: string;
  readonly vaktVersion: string;
  readonly findings: readonly string[];
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
      const status = (item["status"] ?? {}) as { phase?: string; conditions?: Condition[] };
      const conditions = status.conditions ?? [];
      return {
        environment: metadata.name ?? "",
        provider: spec.provider ?? "",
        region: spec.region ?? "",
        phase: status.phase ?? "Unknown",
        ready: conditions.find((c) => c.type === "Ready")?.status ?? "Unknown",
        vaktVersion: spec.baseline?.vaktVersion ?? hubVersion,
        findings: conditions
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
    "FINDINGS",
    "LAST BACKUP",
    "LAST DRILL",
  ];
  const cells = rows.map((row) => [
    row.environment,
    row.provider,
    row.region,
    row.phase,
    row.ready,
    row.vaktVersion,
    row.findings.length === 0 ? "0" : `${row.findings.length} (${row.findings.join(", ")})`,
    row.lastBackup ?? "-",
    row.lastDrill ?? "-",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((line) => line[column]?.length ?? 0)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column] ?? 0)))
      .join("  ");
  return [line(header), ...cells.map(line)].join("\n") + "\n";
}
