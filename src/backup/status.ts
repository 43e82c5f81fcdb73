/**
 * The `backup` block of Tenant statuses: written by server-side apply of the status subresource
 * under field managers of their own, so that each writer owns only its fields and the Tenant
 * controller's status writes (field manager `vakt`, which never names status.backup) leave them:
 *
 * - `vakt-backup` (the backup part, leader only): lastBackup, lastCompletedBackup, policy,
 *   withinPolicy, dueBy, lastCopy;
 * - `vakt-drill` (whoever ran a drill: `vakt backup drill`, a scheduled drill): lastDrill,
 *   lastPassedDrill.
 *
 * The backup part reads the drill fields back through its Tenant watch for its metrics.
 */
import type { Logger } from "pino";
import { API_VERSION, TENANT, collectionPath } from "../api/registry.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { APPLY_PATCH, KubeError, errorMessage } from "../kube/client.ts";
import type { ReconcileResult } from "../controllers/controller.ts";
import {
  backupStatusFields,
  drillStatusFields,
  longestCronGapSeconds,
  POLICY_GRACE_SECONDS,
} from "./status-core.ts";
import type { CopyOutcome, DrillOutcome, TenantBackup, TenantBackupStatus } from "./status-core.ts";
import type { TenantBackupRow } from "./metrics.ts";

export const BACKUP_STATUS_MANAGER = "vakt-backup";
export const DRILL_STATUS_MANAGER = "vakt-drill";

const TENANTS = collectionPath(TENANT);

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** What the backup part keeps of a Tenant (from its watch). */
export interface TenantInfo {
  readonly regions: readonly string[];
  /** spec.backup.schedule; undefined when none of its namespaces is backed up. */
  readonly schedule: string | undefined;
  /** status.backup as the API server has it (the drill's fields, and the copy a restart left). */
  readonly status: TenantBackupStatus | undefined;
}

export function tenantInfo(object: Json): TenantInfo {
  const spec = record(object["spec"]);
  const regions = spec["regions"];
  const namespaces = Array.isArray(spec["namespaces"]) ? (spec["namespaces"] as unknown[]) : [];
  const backedUp = namespaces.some((namespace) => record(record(namespace)["backup"])["enabled"] !== false);
  const schedule = record(spec["backup"])["schedule"];
  const status = record(object["status"])["backup"];
  return {
    regions: Array.isArray(regions) ? regions.filter((r): r is string => typeof r === "string") : [],
    schedule: backedUp ? (typeof schedule === "string" ? schedule : "0 2 * * *") : undefined,
    status: status === undefined ? undefined : (status as TenantBackupStatus),
  };
}

/** The age a tenant's latest completed backup may reach (its schedule's policy), when known. */
export function policyMaxAgeSeconds(info: TenantInfo | undefined): number | undefined {
  if (info?.schedule === undefined) return undefined;
  try {
    const gap = longestCronGapSeconds(info.schedule);
    return gap === undefined ? undefined : gap + POLICY_GRACE_SECONDS;
  } catch {
    return undefined;
  }
}

/**
 * Applies `backup` as the Tenant's status.backup under `manager`; false when the Tenant is gone.
 * Strict: a Tenant CRD from before status.backup would drop the fields silently otherwise.
 */
export async function applyTenantBackupStatus(
  client: KubeClient,
  tenant: string,
  backup: TenantBackupStatus,
  manager: typeof BACKUP_STATUS_MANAGER | typeof DRILL_STATUS_MANAGER,
): Promise<boolean> {
  try {
    await client.request("PATCH", `${TENANTS}/${encodeURIComponent(tenant)}/status`, {
      query: { fieldManager: manager, force: "true", fieldValidation: "Strict" },
      contentType: APPLY_PATCH,
      body: { apiVersion: API_VERSION, kind: TENANT.kind, metadata: { name: tenant }, status: { backup } },
    });
    return true;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return false;
    throw new Error(
      `cannot write status.backup of Tenant ${tenant} (field manager ${manager}): ${errorMessage(error)}${
        error instanceof KubeError && error.code === 400
          ? "; the Tenant CRD may predate status.backup: install vakt's CRDs again (vakt install, or vakt run --install-crds)"
          : ""
      }`,
      { cause: error },
    );
  }
}

/**
 * Writes a drill's result into its Tenant's status (lastDrill, and lastPassedDrill when it
 * passed; a failed drill keeps the earlier lastPassedDrill). False when the Tenant is gone.
 */
export async function writeDrillStatus(client: KubeClient, result: DrillOutcome): Promise<boolean> {
  let previous: TenantBackupStatus | undefined;
  try {
    const object = (await client.request("GET", `${TENANTS}/${encodeURIComponent(result.tenant)}`)).body;
    previous = tenantInfo(object).status;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return false;
    throw error;
  }
  return applyTenantBackupStatus(
    client,
    result.tenant,
    drillStatusFields(result, previous),
    DRILL_STATUS_MANAGER,
  );
}

/**
 * The drills a BackupLocation's status records (status.drills, one per tenant, written by the
 * backup part's drill scheduler): finished ones only.
 */
export function locationDrills(location: Json): DrillOutcome[] {
  const drills = record(location["status"])["drills"];
  if (!Array.isArray(drills)) return [];
  const name = record(location["metadata"])["name"];
  const out: DrillOutcome[] = [];
  for (const item of drills as unknown[]) {
    const drill = record(item);
    const text = (key: string): string => (typeof drill[key] === "string" ? drill[key] : "");
    const number = (key: string): number => (typeof drill[key] === "number" ? drill[key] : 0);
    if (text("tenant") === "" || text("finishedAt") === "" || typeof drill["passed"] !== "boolean") continue;
    if (drill["interrupted"] === true) continue;
    out.push({
      id: text("id"),
      tenant: text("tenant"),
      backup: text("backup"),
      location: typeof name === "string" ? name : "",
      passed: drill["passed"],
      finishedAt: text("finishedAt"),
      rpoSeconds: number("rpoSeconds"),
      rtoSeconds: number("rtoSeconds"),
      problems: Array.isArray(drill["problems"])
        ? (drill["problems"] as unknown[]).filter((p): p is string => typeof p === "string")
        : [],
    });
  }
  return out;
}

/** A Velero Backup as the backup part keeps it, with the tenant its label names. */
export interface LabelledBackup extends TenantBackup {
  readonly tenant: string | undefined;
}

export interface TrackerDeps {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly enqueue: (tenant: string) => void;
  readonly backups: () => Iterable<LabelledBackup>;
  readonly tenant: (name: string) => TenantInfo | undefined;
  readonly tenants: () => Iterable<string>;
  /** Every watch has listed: the backups known are all there are. */
  readonly settled: () => boolean;
  /** The finished scheduled drills of a tenant (every location's status.drills). */
  readonly drills: (tenant: string) => Iterable<DrillOutcome>;
  /** 1 passed, 0 failed, -1 could not run, undefined not run yet. */
  readonly lockPassed: (location: string) => number | undefined;
  /** Throws NotLeaderError when this replica may no longer write. */
  readonly checkLeader: () => void;
  readonly now?: () => Date;
}

/** The backup part's side of Tenant statuses (work items `tenant/<name>`) and per-tenant metrics. */
export class TenantBackupStatusTracker {
  readonly #deps: TrackerDeps;
  /** The latest copy outcome per tenant, from this run's copies. */
  readonly #copies = new Map<string, CopyOutcome>();
  /** Backups (<namespace>/<name>) with a verified off-site copy. */
  readonly #copied = new Set<string>();
  readonly #written = new Map<string, string>();
  /** The scheduled drill (id) last written into each Tenant's status. */
  readonly #drillWritten = new Map<string, string>();

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  /** A copy of a backup of these tenants was made, found, or failed. */
  copied(tenants: Iterable<string>, outcome: CopyOutcome): void {
    if (outcome.verified) this.#copied.add(outcome.backup);
    for (const tenant of tenants) {
      const before = this.#copies.get(tenant);
      if (before === undefined || outcome.time.localeCompare(before.time) >= 0) {
        this.#copies.set(tenant, outcome);
        this.#deps.enqueue(tenant);
      }
    }
  }

  forget(tenant: string): void {
    this.#copies.delete(tenant);
    this.#written.delete(tenant);
    this.#drillWritten.delete(tenant);
  }

  *#backupsOf(tenant: string): Generator<LabelledBackup> {
    for (const backup of this.#deps.backups()) if (backup.tenant === tenant) yield backup;
  }

  #lastCopy(tenant: string, info: TenantInfo): CopyOutcome | undefined {
    const known = this.#copies.get(tenant);
    if (known !== undefined) return known;
    // A restart: what the previous leader wrote, until this run copies or finds a newer one.
    const written = info.status?.lastCopy;
    if (
      written?.backup === undefined ||
      written.location === undefined ||
      written.time === undefined ||
      written.verified === undefined
    )
      return undefined;
    return {
      backup: written.backup,
      location: written.location,
      time: written.time,
      verified: written.verified,
      ...(written.message === undefined ? {} : { message: written.message }),
    };
  }

  async reconcile(tenant: string, logger: Logger): Promise<ReconcileResult> {
    if (!this.#deps.settled()) return { requeueAfterMs: 500 };
    const info = this.#deps.tenant(tenant);
    if (info === undefined) {
      this.forget(tenant);
      return {};
    }
    const now = this.#now();
    const fields = backupStatusFields({
      schedule: info.schedule,
      backups: this.#backupsOf(tenant),
      lastCopy: this.#lastCopy(tenant, info),
      now,
    });
    if (fields.scheduleProblem !== undefined)
      logger.warn(
        { tenant, problem: fields.scheduleProblem },
        "backup policy unknown: the schedule cannot be read",
      );
    const serialized = JSON.stringify(fields.status);
    if (this.#written.get(tenant) !== serialized) {
      this.#deps.checkLeader();
      if (await applyTenantBackupStatus(this.#deps.client, tenant, fields.status, BACKUP_STATUS_MANAGER))
        this.#written.set(tenant, serialized);
    }
    await this.#drill(tenant, info);
    return fields.recheckAt === undefined
      ? {}
      : { requeueAfterMs: Math.max(1_000, fields.recheckAt - now.getTime() + 1_000) };
  }

  /**
   * A scheduled drill newer than the Tenant's lastDrill is written there, as a drill run by hand
   * is (field manager vakt-drill): the drill fields have one owner whoever ran the drill.
   */
  async #drill(tenant: string, info: TenantInfo): Promise<void> {
    let newest: DrillOutcome | undefined;
    for (const drill of this.#deps.drills(tenant))
      if (newest === undefined || drill.finishedAt.localeCompare(newest.finishedAt) > 0) newest = drill;
    if (newest === undefined || this.#drillWritten.get(tenant) === newest.id) return;
    const current = info.status?.lastDrill;
    if (current?.id === newest.id || (current?.time ?? "").localeCompare(newest.finishedAt) > 0) return;
    this.#deps.checkLeader();
    if (
      await applyTenantBackupStatus(
        this.#deps.client,
        tenant,
        drillStatusFields(newest, info.status),
        DRILL_STATUS_MANAGER,
      )
    )
      this.#drillWritten.set(tenant, newest.id);
  }

  /** One row per Tenant for the metrics, at scrape time. */
  rows(): TenantBackupRow[] {
    const now = this.#now().getTime();
    const rows: TenantBackupRow[] = [];
    for (const tenant of this.#deps.tenants()) {
      const info = this.#deps.tenant(tenant);
      if (info === undefined) continue;
      let lastCompleted: number | undefined;
      let oldestUncopied: number | undefined;
      for (const backup of this.#backupsOf(tenant)) {
        if (backup.phase !== "Completed" || backup.completion === undefined) continue;
        const at = Date.parse(backup.completion);
        if (Number.isNaN(at)) continue;
        if (lastCompleted === undefined || at > lastCompleted) lastCompleted = at;
        if (
          !this.#copied.has(`${backup.namespace}/${backup.name}`) &&
          (oldestUncopied === undefined || at < oldestUncopied)
        )
          oldestUncopied = at;
      }
      const seconds = (at: number | undefined): number | undefined =>
        at === undefined ? undefined : Math.max(0, (now - at) / 1000);
      const passedDrill = info.status?.lastPassedDrill?.time;
      const lastDrill = info.status?.lastDrill;
      const copy = this.#lastCopy(tenant, info);
      const policy = info.status?.policy?.maxAgeSeconds;
      const backupAge = seconds(lastCompleted);
      rows.push({
        tenant,
        backupAgeSeconds: backupAge,
        withinPolicy:
          info.schedule === undefined || policy === undefined
            ? undefined
            : backupAge !== undefined && backupAge < policy,
        drillAgeSeconds: seconds(passedDrill === undefined ? undefined : Date.parse(passedDrill)),
        drillPassed: lastDrill?.passed,
        copyLagSeconds: seconds(oldestUncopied) ?? 0,
        lockPassed: copy === undefined ? undefined : this.#deps.lockPassed(copy.location),
      });
    }
    return rows;
  }
}
