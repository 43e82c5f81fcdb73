/**
 * A backup now from a Tenant's Velero Schedule, as `velero backup create --from-schedule` makes
 * one: the Schedule's template as the Backup's spec, its labels (vakt.dev/tenant among them) and
 * velero.io/schedule-name. Velero runs a new Schedule first at its next cron time; `vakt dev up
 * --backups` uses this so the first copy and drill come at once.
 */
import type { Json, KubeClient } from "../kube/client.ts";
import { TENANT_LABEL } from "../tenant/render.ts";

export interface BackupNow {
  readonly tenant: string;
  readonly schedule: string;
  /** <velero namespace>/<backup name> */
  readonly backup: string;
  /** The Backup's phase when the command returned ("" when not waited for). */
  readonly phase: string;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

/**
 * Creates one Backup from each Schedule labelled with one of `tenants` (all tenants' when
 * undefined), waiting up to `waitForSchedulesMs` for a Schedule of each named tenant, and with
 * `waitMs` until each Backup ends.
 */
export async function backupNow(
  client: KubeClient,
  options: {
    readonly tenants?: readonly string[];
    readonly waitForSchedulesMs?: number;
    readonly waitMs?: number;
    readonly now?: () => Date;
  },
): Promise<BackupNow[]> {
  const now = options.now ?? (() => new Date());
  const selector =
    options.tenants === undefined ? TENANT_LABEL : `${TENANT_LABEL} in (${options.tenants.join(",")})`;
  const deadline = Date.now() + (options.waitForSchedulesMs ?? 0);
  let schedules: Json[];
  for (;;) {
    const list = await client.request("GET", "/apis/velero.io/v1/schedules", {
      query: { labelSelector: selector },
    });
    schedules = (list.body["items"] ?? []) as Json[];
    const have = new Set(schedules.map((s) => String(record(record(s["metadata"])["labels"])[TENANT_LABEL])));
    const complete =
      options.tenants === undefined ? schedules.length > 0 : options.tenants.every((t) => have.has(t));
    if (complete || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const stamp = now().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const made: BackupNow[] = [];
  for (const schedule of schedules) {
    const metadata = record(schedule["metadata"]);
    const name = String(metadata["name"]);
    const namespace = String(metadata["namespace"]);
    const template = record(record(schedule["spec"])["template"]);
    const labels: Record<string, string> = {
      ...(record(record(template["metadata"])["labels"]) as Record<string, string>),
      ...(record(metadata["labels"]) as Record<string, string>),
      "velero.io/schedule-name": name,
    };
    const spec = { ...template };
    delete spec["metadata"];
    const backupName = `${name}-now-${stamp}`;
    await client.request("POST", `/apis/velero.io/v1/namespaces/${namespace}/backups`, {
      body: {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name: backupName, namespace, labels },
        spec,
      },
    });
    made.push({
      tenant: labels[TENANT_LABEL] ?? "",
      schedule: name,
      backup: `${namespace}/${backupName}`,
      phase: "",
    });
  }
  if (options.waitMs === undefined) return made;
  const until = Date.now() + options.waitMs;
  const out: BackupNow[] = [];
  for (const each of made) {
    const [namespace = "", name = ""] = each.backup.split("/");
    let phase: string;
    for (;;) {
      const backup = await client.request(
        "GET",
        `/apis/velero.io/v1/namespaces/${namespace}/backups/${name}`,
      );
      const value = record(backup.body["status"])["phase"];
      phase = typeof value === "string" ? value : "";
      if (TERMINAL.has(phase) || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    out.push({ ...each, phase });
  }
  return out;
}
