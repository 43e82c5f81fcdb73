/**
 * Restore drills on a schedule (ADR 0030): the backup part (leader only) drills each Tenant whose
 * backups a BackupLocation with a `drill` section holds, every `drill.interval`, one drill at a
 * time (a controller of its own with one worker: `drill/<location>/<tenant>` work).
 *
 * When a tenant last drilled is kept in the location's status (`status.drills`, one entry per
 * tenant), so a restarted or new leader reads it back and does not drill again before the
 * interval (no storm after a restart). A drill's start counts: a drill that failed, or was
 * interrupted, is due again one interval after it started, like one that passed; a failure is a
 * finding, and `vakt backup drill` runs one on demand.
 *
 * Crash safety: before it drills, a new run finds the scratch namespaces of drills a leader ran
 * and never finished (killed, or the Lease lost mid-drill), deletes them and records each drill as
 * failed and interrupted (drill.ts recoverInterrupted), in the evidence and in the status.
 */
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { EvidenceStore } from "../evidence/types.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { errorMessage } from "../kube/client.ts";
import { Controller, NotLeaderError } from "../controllers/controller.ts";
import type { ReconcileResult } from "../controllers/controller.ts";
import { describeDrill, DrillError, interruptedProblem, recoverInterrupted, runDrill } from "./drill.ts";
import type { DrillResult, InterruptedDrill } from "./drill.ts";
import type { BackupLocation } from "./location.ts";
import type { Bucket } from "./s3.ts";
import { ConfigError } from "./s3.ts";

/** The last drill of one tenant from one location, as `status.drills` of the BackupLocation holds it. */
export interface LastDrill {
  readonly tenant: string;
  readonly id: string;
  /** The backup drilled, <velero namespace>/<name> ("" for an interrupted drill that did not say). */
  readonly backup: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly passed: boolean;
  /** The drill's process stopped before it finished (recorded by the next run). */
  readonly interrupted?: boolean;
  readonly rpoSeconds?: number;
  readonly rtoSeconds?: number;
  /** Why it failed (at most 5, each cut to 500 characters). */
  readonly problems: readonly string[];
  /** When the next scheduled drill is due. */
  readonly nextAt?: string;
}

const DAY_MS = 86_400_000;

/** A drill interval (daily, weekly, 168h, 1h30m, 45s: location.ts DRILL_INTERVAL) in milliseconds. */
export function intervalMs(interval: string): number {
  if (interval === "daily") return DAY_MS;
  if (interval === "weekly") return 7 * DAY_MS;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(interval);
  const ms =
    match === null
      ? NaN
      : (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000;
  if (!(ms > 0))
    throw new ConfigError(
      `drill interval ${JSON.stringify(interval)}: give daily, weekly or a duration such as 168h`,
    );
  return ms;
}

/** When a tenant's next drill is due (ms since the epoch): now when it never drilled. */
export function nextDrillAt(last: LastDrill | undefined, interval: number, now: number): number {
  if (last === undefined) return now;
  const started = Date.parse(last.startedAt);
  return Number.isNaN(started) ? now : started + interval;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The last drill of each tenant a BackupLocation object's status records (status.drills). */
export function lastDrills(location: Json): LastDrill[] {
  const status = isRecord(location["status"]) ? location["status"] : {};
  const drills = Array.isArray(status["drills"]) ? status["drills"] : [];
  const out: LastDrill[] = [];
  for (const entry of drills) {
    if (!isRecord(entry) || typeof entry["tenant"] !== "string") continue;
    const str = (key: string): string => (typeof entry[key] === "string" ? entry[key] : "");
    const num = (key: string): number | undefined =>
      typeof entry[key] === "number" ? entry[key] : undefined;
    const rpo = num("rpoSeconds");
    const rto = num("rtoSeconds");
    out.push({
      tenant: entry["tenant"],
      id: str("id"),
      backup: str("backup"),
      startedAt: str("startedAt"),
      finishedAt: str("finishedAt"),
      passed: entry["passed"] === true,
      ...(entry["interrupted"] === true ? { interrupted: true } : {}),
      ...(rpo === undefined ? {} : { rpoSeconds: rpo }),
      ...(rto === undefined ? {} : { rtoSeconds: rto }),
      problems: Array.isArray(entry["problems"])
        ? entry["problems"].filter((p): p is string => typeof p === "string")
        : [],
      ...(str("nextAt") === "" ? {} : { nextAt: str("nextAt") }),
    });
  }
  return out;
}

/** The status entry of a drill that ran. */
export function fromResult(result: DrillResult): LastDrill {
  return {
    tenant: result.tenant,
    id: result.id,
    backup: result.backup,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    passed: result.passed,
    rpoSeconds: Math.round(result.rpoSeconds),
    rtoSeconds: Math.round(result.rtoSeconds * 10) / 10,
    problems: result.problems.slice(0, 5).map((p) => p.slice(0, 500)),
  };
}

function fromInterrupted(drill: InterruptedDrill): LastDrill {
  return {
    tenant: drill.tenant,
    id: drill.id,
    backup: drill.backup,
    startedAt: drill.startedAt || drill.foundAt,
    finishedAt: drill.foundAt,
    passed: false,
    interrupted: true,
    problems: [interruptedProblem(drill).slice(0, 500)],
  };
}

export interface DrillSchedulerOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The location as the part knows it now (undefined: gone or invalid). */
  readonly location: (name: string) => BackupLocation | undefined;
  /** A client for a location's off-site bucket (destroyed after each drill). */
  readonly offsite: (location: BackupLocation) => Promise<Bucket>;
  readonly evidence: { readonly store: EvidenceStore; readonly cluster: string } | undefined;
  /** Throws NotLeaderError when this run may no longer write. */
  readonly checkLeader: () => void;
  /** A location's drills changed: its status is written again. */
  readonly changed: (location: string) => Promise<void>;
  readonly afterIsolation?: (id: string, namespaces: readonly string[]) => Promise<void>;
  readonly now?: () => Date;
}

/** The drills of one run of the backup part (from winning the Lease to losing it). */
export class DrillScheduler {
  readonly controller: Controller;
  readonly #options: DrillSchedulerOptions;
  /** location -> tenant -> its last drill. */
  readonly #last = new Map<string, Map<string, LastDrill>>();
  /** location/tenant -> when this run will drill it next, once a reconcile has decided. */
  readonly #next = new Map<string, number>();
  /** location/tenant -> why its drill cannot run now. */
  readonly #blocked = new Map<string, string>();
  #stopped = false;
  #started: Promise<void> | undefined;

  constructor(options: DrillSchedulerOptions) {
    this.#options = options;
    this.controller = new Controller({
      name: "backup-drill",
      keyField: "drill",
      reconciler: { reconcile: (key, { logger }) => this.#reconcile(key, logger) },
      logger: options.logger,
      registry: options.registry,
      // One drill at a time: each restores a whole tenant into the cluster.
      workers: 1,
      queue: { baseDelayMs: 5_000, maxDelayMs: 300_000 },
    });
  }

  #now(): Date {
    return (this.#options.now ?? (() => new Date()))();
  }

  /** Cleans up after interrupted drills, then starts drilling. */
  start(): void {
    this.#started = (async () => {
      for (let delay = 1_000; !this.#stopped; delay = Math.min(delay * 2, 60_000)) {
        try {
          await this.#recover();
          break;
        } catch (error) {
          this.controller.logger.warn(
            { error: errorMessage(error), retryInMs: delay },
            "cannot look for interrupted drills yet",
          );
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
      if (!this.#stopped) this.controller.start();
    })();
  }

  /**
   * Stops drilling and waits for a drill in progress; `crash` does not wait (as a killed process
   * would not), leaving the drill's scratch namespaces for the next run.
   */
  async stop(options: { readonly crash?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    if (options.crash === true) {
      this.controller.queue.shutDown();
      return;
    }
    await this.#started;
    if (!this.controller.stopped) await this.controller.stop();
  }

  async #recover(): Promise<void> {
    const now = this.#now().getTime();
    const found = await recoverInterrupted(this.#options.client, {
      evidence: this.#options.evidence,
      // Only one leader drills at a time and this one has not started: every leader's drill with
      // scratch namespaces left is dead; a CLI drill only once past its deadline.
      interrupted: ({ runner, deadline }) => runner === "leader" || deadline < now,
      ...(this.#options.now === undefined ? {} : { now: this.#options.now }),
    });
    for (const drill of found) {
      this.controller.logger.error(
        { drill: drill.id, tenant: drill.tenant, location: drill.location, namespaces: drill.namespaces },
        "restore drill was interrupted; its scratch namespaces are deleted and it is recorded as failed",
      );
      if (drill.location === "" || drill.tenant === "") continue;
      this.#remember(drill.location, fromInterrupted(drill));
      await this.#options.changed(drill.location).catch(() => undefined);
    }
  }

  /** Keeps the newer of what is known and `drill` (by start). */
  #remember(location: string, drill: LastDrill): void {
    let tenants = this.#last.get(location);
    if (tenants === undefined) this.#last.set(location, (tenants = new Map<string, LastDrill>()));
    const known = tenants.get(drill.tenant);
    if (known === undefined || known.startedAt <= drill.startedAt) tenants.set(drill.tenant, drill);
  }

  /** What a location's status said when this run listed it (the last drills before a restart). */
  seed(location: string, object: Json): void {
    for (const drill of lastDrills(object)) this.#remember(location, drill);
  }

  forget(location: string): void {
    this.#last.delete(location);
    for (const key of [...this.#next.keys(), ...this.#blocked.keys()])
      if (key.startsWith(`${location}/`)) {
        this.#next.delete(key);
        this.#blocked.delete(key);
      }
  }

  /** A tenant has a complete copy in a location: its drill is scheduled (if the location drills). */
  tenant(location: BackupLocation, tenant: string): void {
    const drill = location.spec.drill;
    if (drill === undefined || (drill.tenants !== undefined && !drill.tenants.includes(tenant))) return;
    this.controller.queue.add(`${location.name}/${tenant}`);
  }

  /** The location's spec changed (a new interval, drills turned on or off): every tenant again. */
  locationChanged(location: BackupLocation): void {
    for (const key of this.#next.keys())
      if (key.startsWith(`${location.name}/`)) this.controller.queue.add(key);
  }

  /** `status.drills` of a location: the last drill of each tenant, with when the next is due. */
  status(location: string): LastDrill[] {
    const tenants = this.#last.get(location);
    if (tenants === undefined) return [];
    return [...tenants.values()]
      .sort((a, b) => a.tenant.localeCompare(b.tenant))
      .map((drill) => {
        const next = this.#next.get(`${location}/${drill.tenant}`);
        return next === undefined ? drill : { ...drill, nextAt: new Date(next).toISOString() };
      });
  }

  /** When this run drills each location/tenant next (ms since the epoch), once it has decided. */
  schedule(): ReadonlyMap<string, number> {
    return this.#next;
  }

  /** Drills that cannot run, for /readyz. */
  conditions(): string[] {
    return [...this.#blocked].map(([key, why]) => `drill ${key} cannot run: ${why}`);
  }

  async #reconcile(key: string, logger: Logger): Promise<ReconcileResult> {
    const slash = key.indexOf("/");
    const name = key.slice(0, slash);
    const tenant = key.slice(slash + 1);
    const location = this.#options.location(name);
    const drill = location?.spec.drill;
    if (
      location === undefined ||
      drill === undefined ||
      (drill.tenants !== undefined && !drill.tenants.includes(tenant))
    ) {
      this.#next.delete(key);
      this.#blocked.delete(key);
      return {};
    }
    const interval = intervalMs(drill.interval);
    const now = this.#now().getTime();
    const due = nextDrillAt(this.#last.get(name)?.get(tenant), interval, now);
    if (due > now) {
      this.#next.set(key, due);
      return { requeueAfterMs: due - now };
    }
    this.#options.checkLeader();
    let offsite: Bucket | undefined;
    let result: DrillResult;
    try {
      offsite = await this.#options.offsite(location);
      result = await runDrill({
        client: this.#options.client,
        tenant,
        location,
        offsite,
        drillVelero: {
          namespace: drill.veleroNamespace,
          storageLocation: drill.storageLocation ?? location.name,
        },
        ...(this.#options.evidence === undefined ? {} : { evidence: this.#options.evidence }),
        timeoutMs: drill.timeoutSeconds * 1000,
        runner: "leader",
        ...(this.#options.afterIsolation === undefined
          ? {}
          : { afterIsolation: this.#options.afterIsolation }),
        ...(this.#options.now === undefined ? {} : { now: this.#options.now }),
      });
    } catch (error) {
      if (error instanceof NotLeaderError || this.#stopped) throw error;
      if (!(error instanceof DrillError || error instanceof ConfigError)) throw error;
      // Cannot run (no copy yet, the drill's Velero missing): said, and tried again later; a new
      // copy of the tenant's backup queues it sooner.
      const retry = Math.min(interval, 5 * 60_000);
      this.#blocked.set(key, error.message);
      this.#next.set(key, now + retry);
      logger.warn({ location: name, tenant, error: error.message }, "scheduled restore drill cannot run");
      return { requeueAfterMs: retry };
    } finally {
      offsite?.client.destroy();
    }
    this.#blocked.delete(key);
    this.#remember(name, fromResult(result));
    this.#next.set(key, Date.parse(result.startedAt) + interval);
    const fields = { location: name, tenant, drill: result.id, result: describeDrill(result) };
    if (result.passed) logger.info(fields, "scheduled restore drill passed");
    else logger.error(fields, "scheduled restore drill FAILED");
    await this.#options.changed(name);
    return {
      requeueAfterMs: Math.max(1_000, Date.parse(result.startedAt) + interval - this.#now().getTime()),
    };
  }
}
