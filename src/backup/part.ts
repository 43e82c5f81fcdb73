/**
 * The off-site copy as a part of `vakt run` (`--parts backup`), leader-only. It watches Velero's
 * Backups and BackupStorageLocations, vakt's BackupLocations, Namespaces and Tenants through the
 * Reflector, and runs two kinds of work on the controller skeleton:
 *
 * - `copy/<location>/<velero namespace>/<backup>`: when a Backup of the location's source is
 *   Completed, its objects are copied to the off-site bucket under COMPLIANCE retention and
 *   verified (copier.ts), unless residency refuses the location (residency.ts). An interrupted
 *   copy is finished by the next reconcile (or the next leader): what is already there is found,
 *   not copied again. S3 failures are retried with backoff; integrity failures are not.
 * - `lock/<location>`: the lock check (lock-check.ts), every spec.lockCheck.intervalMinutes.
 *
 * Each outcome is a status condition of the BackupLocation (Ready, LockVerified,
 * CopiesUpToDate), a metric, and an evidence record (backup.copied, backup.lock-checked). The
 * evidence of a copy is written before its manifest: a copy the history does not know of is not
 * complete, so it is never left unreported.
 */
import type { Logger } from "pino";
import { API_VERSION, BACKUP_LOCATION, collectionPath } from "../api/registry.ts";
import type { EvidenceEvent, EvidenceStore } from "../evidence/types.ts";
import { exportEvidenceMetrics } from "../evidence/metrics.ts";
import { apply } from "../kube/apply.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { errorMessage, KubeError } from "../kube/client.ts";
import type { Part, PartContext } from "../kube/part.ts";
import { Reflector } from "../kube/reflector.ts";
import type { WorkQueueOptions } from "../kube/workqueue.ts";
import { TENANT_LABEL } from "../tenant/render.ts";
import { Controller, NotLeaderError } from "../controllers/controller.ts";
import type { ReconcileResult } from "../controllers/controller.ts";
import { copyBackup, IntegrityError, readManifest, verifyCopy } from "./copier.ts";
import type { CopyResult } from "./copier.ts";
import { checkLock } from "./lock-check.ts";
import type { LockCheckResult } from "./lock-check.ts";
import { parseBackupLocation } from "./location.ts";
import type { BackupLocation, LocationProblem } from "./location.ts";
import { BackupMetrics } from "./metrics.ts";
import { backupNamespaces, JURISDICTION_LABEL, residencyProblems } from "./residency.ts";
import type { NamespaceNeeds } from "./residency.ts";
import { bucketOf, ConfigError, parseAwsCredentials, parseVeleroLocation, s3Client } from "./s3.ts";
import type { Bucket } from "./s3.ts";
import { DrillScheduler } from "./schedule.ts";
import { exportTenantBackupMetrics } from "./metrics.ts";
import { locationDrills, policyMaxAgeSeconds, TenantBackupStatusTracker, tenantInfo } from "./status.ts";
import type { TenantInfo } from "./status.ts";

export interface BackupPartOptions {
  /** The evidence history: opened at every start of the part, closed at its stop. */
  readonly evidence?: { readonly open: () => Promise<EvidenceStore>; readonly cluster: string };
  /** Parallel reconciles (default 2): copies of different backups, lock checks. */
  readonly workers?: number;
  /** Backoff of failed reconciles (default: from 1 s, doubling to 60 s). */
  readonly queue?: WorkQueueOptions;
  readonly partSize?: number;
  /** Objects of one backup copied at once (default 4). */
  readonly concurrency?: number;
  /** Only the BackupLocations with these labels (a label selector; default all): tests side by side. */
  readonly locationSelector?: string;
  /** Test seam: called before each object is copied; a throw is a crash mid-copy. */
  readonly beforeObject?: (location: string, backup: string, key: string) => void;
  /** Test seam: a scheduled drill's scratch namespaces are isolated (schedule.ts). */
  readonly drillAfterIsolation?: (id: string, namespaces: readonly string[]) => Promise<void>;
}

interface VeleroBackup {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly phase: string;
  readonly storageLocation: string;
  /** Its vakt.dev/tenant label: whose backup it is (a Tenant's Schedule labels its backups). */
  readonly tenant: string | undefined;
  readonly included: readonly string[] | undefined;
  readonly excluded: readonly string[] | undefined;
  readonly expiration: string | undefined;
  readonly completion: string | undefined;
  readonly start: string | undefined;
}

interface NamespaceInfo {
  readonly tenant: string | undefined;
  readonly jurisdiction: string | undefined;
}

interface LocationEntry {
  readonly raw: Json;
  readonly location: BackupLocation | undefined;
  readonly problems: readonly LocationProblem[];
}

type CopyIssue = {
  readonly reason: "CopyFailed" | "ResidencyRefused" | "S3Unavailable" | "ConfigError";
  readonly message: string;
};

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** What this run knows about one location: rebuilt from the cluster and the bucket after a restart. */
interface LocationState {
  lock: { result?: LockCheckResult; error?: string } | undefined;
  readonly issues: Map<string, CopyIssue>;
  readonly done: Set<string>;
  /** Backups whose copy evidence is appended (a retry of the manifest write appends nothing new). */
  readonly recorded: Set<string>;
  /** "<backup> refused" and "<backup> failed" once recorded (once per run). */
  readonly reported: Set<string>;
  lastCopy: { backup: string; time: string; objects: number; bytes: number } | undefined;
  readonly conditions: Map<string, Condition>;
  written: string | undefined;
}

const BACKUPS_PATH = "/apis/velero.io/v1/backups";
const VELERO_LOCATIONS_PATH = "/apis/velero.io/v1/backupstoragelocations";
const TENANTS_PATH = `/apis/${API_VERSION}/tenants`;
const LOCATION_RESOURCE = {
  apiVersion: API_VERSION,
  plural: BACKUP_LOCATION.plural,
  kind: BACKUP_LOCATION.kind,
  namespaced: false,
} as const;

const key = (backup: { namespace: string; name: string }): string => `${backup.namespace}/${backup.name}`;

function decodeSecret(secret: Json, field: string, where: string): string {
  const data = (secret["data"] ?? {}) as Record<string, string | undefined>;
  const value = data[field];
  if (value === undefined || value === "")
    throw new ConfigError(
      `${where} has no key ${field}; add it (kubectl create secret generic ... --from-literal=${field}=...)`,
    );
  return Buffer.from(value, "base64").toString("utf8");
}

async function readSecret(client: KubeClient, namespace: string, name: string, what: string): Promise<Json> {
  try {
    return (await client.request("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`)).body;
  } catch (error) {
    if (error instanceof KubeError && (error.code === 404 || error.code === 403))
      throw new ConfigError(
        `${what}: Secret ${namespace}/${name} ${error.code === 404 ? "does not exist" : "cannot be read by vakt (RBAC)"}; create it, or fix the reference`,
      );
    throw error;
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(what));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a Velero Backup is to the copier. */
function veleroBackup(object: Json): VeleroBackup {
  const metadata = (object["metadata"] ?? {}) as {
    namespace?: string;
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
  };
  const spec = (object["spec"] ?? {}) as {
    storageLocation?: string;
    includedNamespaces?: string[];
    excludedNamespaces?: string[];
  };
  const status = (object["status"] ?? {}) as {
    phase?: string;
    expiration?: string;
    completionTimestamp?: string;
    startTimestamp?: string;
  };
  return {
    namespace: metadata.namespace ?? "",
    name: metadata.name ?? "",
    uid: metadata.uid ?? "",
    phase: status.phase ?? "",
    storageLocation: spec.storageLocation ?? "default",
    tenant: metadata.labels?.[TENANT_LABEL],
    included: spec.includedNamespaces,
    excluded: spec.excludedNamespaces,
    expiration: status.expiration,
    completion: status.completionTimestamp,
    start: status.startTimestamp,
  };
}

/**
 * A Reflector that keeps `map` equal to the collection at `path` (key -> what `entry` keeps) and
 * calls `changed` after each list (key undefined), change (the new value) and deletion (value
 * undefined).
 */
function mirror<V>(
  client: KubeClient,
  logger: Logger,
  path: string,
  map: Map<string, V>,
  options: {
    readonly entry: (object: Json) => readonly [string, V];
    readonly changed?: (key: string | undefined, value: V | undefined) => void;
    readonly metadataOnly?: { readonly apiVersion: string; readonly kind: string };
    readonly labelSelector?: string | undefined;
    /** Called after the first list, or when the kind is not served (its CRD not installed). */
    readonly settled?: () => void;
  },
): Reflector<unknown> {
  return new Reflector<readonly [string, V]>({
    client,
    logger,
    path,
    ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }),
    ...(options.metadataOnly === undefined ? {} : { metadataOnly: options.metadataOnly }),
    transform: options.entry,
    onList: (items) => {
      map.clear();
      for (const [k, v] of items) map.set(k, v);
      options.settled?.();
      options.changed?.(undefined, undefined);
    },
    onListError: (error) => {
      if (error instanceof KubeError && error.code === 404) options.settled?.();
    },
    onEvent: (type, [k, v]) => {
      if (type === "DELETED") map.delete(k);
      else map.set(k, v);
      options.changed?.(k, type === "DELETED" ? undefined : v);
    },
  }) as Reflector<unknown>;
}

/** One run, from winning the Lease to losing it (or stopping). */
class BackupRun {
  readonly controller: Controller;
  readonly drills: DrillScheduler;
  /** Tenants' status.backup and per-tenant metrics (status.ts). */
  readonly tenantStatus: TenantBackupStatusTracker;
  readonly #options: BackupPartOptions;
  readonly #context: PartContext;
  readonly #metrics: BackupMetrics;
  readonly #store: EvidenceStore | undefined;
  readonly #logger: Logger;
  readonly #locations = new Map<string, LocationEntry>();
  readonly #states = new Map<string, LocationState>();
  readonly #backups = new Map<string, VeleroBackup>();
  readonly #veleroLocations = new Map<string, Json>();
  readonly #namespaces = new Map<string, NamespaceInfo>();
  readonly #tenants = new Map<string, TenantInfo>();
  readonly #reflectors: Reflector<unknown>[] = [];
  /** The generation of each location last acted on. */
  readonly #generations = new Map<string, number>();
  /** Every watch has listed once (or its kind is not served): residency can be judged. */
  #settled = false;
  #stopped = false;

  constructor(
    options: BackupPartOptions,
    context: PartContext,
    metrics: BackupMetrics,
    store: EvidenceStore | undefined,
  ) {
    this.#options = options;
    this.#context = context;
    this.#metrics = metrics;
    this.#store = store;
    this.controller = new Controller({
      name: "backup",
      keyField: "work",
      reconciler: { reconcile: (work, { logger }) => this.#reconcile(work, logger) },
      logger: context.logger,
      registry: context.registry,
      workers: options.workers ?? 2,
      queue: { baseDelayMs: 1_000, maxDelayMs: 60_000, ...options.queue },
    });
    this.#logger = this.controller.logger;
    const cluster = options.evidence?.cluster ?? "";
    this.drills = new DrillScheduler({
      client: context.client,
      logger: context.logger,
      registry: context.registry,
      location: (name) => this.#locations.get(name)?.location,
      offsite: (location) => this.#offsite(location),
      evidence: store === undefined ? undefined : { store, cluster },
      checkLeader: () => {
        this.#checkLeader();
      },
      changed: (name) => this.#writeStatus(name),
      ...(options.drillAfterIsolation === undefined ? {} : { afterIsolation: options.drillAfterIsolation }),
    });
    this.tenantStatus = new TenantBackupStatusTracker({
      client: context.client,
      logger: this.#logger,
      enqueue: (tenant) => {
        this.controller.queue.add(`tenant/${tenant}`);
      },
      backups: () => this.#backups.values(),
      tenant: (name) => this.#tenants.get(name),
      tenants: () => this.#tenants.keys(),
      settled: () => this.#settled,
      drills: (tenant) =>
        [...this.#locations.values()].flatMap((entry) =>
          locationDrills(entry.raw).filter((drill) => drill.tenant === tenant),
        ),
      lockPassed: (location) => {
        const lock = this.#states.get(location)?.lock;
        if (lock === undefined) return undefined;
        return lock.result === undefined ? -1 : lock.result.passed ? 1 : 0;
      },
      checkLeader: () => {
        this.#checkLeader();
      },
    });
  }

  start(): void {
    const { client } = this.#context;
    const logger = this.#logger;
    // One callback per watch; all five called: every watch has listed (or its kind is not served).
    const waiting = new Set<number>();
    let watches = 0;
    const settle = (): (() => void) => {
      const id = watches++;
      waiting.add(id);
      return () => {
        waiting.delete(id);
        this.#settled = waiting.size === 0;
      };
    };
    this.#reflectors.push(
      mirror(client, logger, collectionPath(BACKUP_LOCATION), this.#locations, {
        settled: settle(),
        labelSelector: this.#options.locationSelector,
        entry: (object) => {
          const { location, problems } = parseBackupLocation(object);
          return [
            ((object["metadata"] ?? {}) as { name?: string }).name ?? "",
            { raw: object, location, problems },
          ];
        },
        changed: (name, entry) => {
          // A drill recorded in the location's status goes into its Tenant's status.
          for (const each of name === undefined ? this.#locations.values() : [entry])
            if (each !== undefined)
              for (const drill of locationDrills(each.raw))
                this.controller.queue.add(`tenant/${drill.tenant}`);
          if (name === undefined) for (const each of this.#locations.keys()) this.#locationChanged(each);
          else if (entry === undefined) {
            this.#states.delete(name);
            this.#generations.delete(name);
            this.drills.forget(name);
          } else this.#locationChanged(name);
        },
      }),
      mirror(client, logger, BACKUPS_PATH, this.#backups, {
        settled: settle(),
        entry: (object) => {
          const backup = veleroBackup(object);
          return [key(backup), backup];
        },
        changed: (name, backup) => {
          for (const each of name === undefined ? this.#backups.values() : [backup])
            if (each?.tenant !== undefined) this.controller.queue.add(`tenant/${each.tenant}`);
          if (name === undefined) for (const each of this.#backups.values()) this.#backupChanged(each);
          else if (backup !== undefined) this.#backupChanged(backup);
        },
      }),
      mirror(client, logger, VELERO_LOCATIONS_PATH, this.#veleroLocations, {
        settled: settle(),
        entry: (object) => {
          const metadata = (object["metadata"] ?? {}) as { namespace?: string; name?: string };
          return [`${metadata.namespace ?? ""}/${metadata.name ?? ""}`, object];
        },
      }),
      mirror(client, logger, "/api/v1/namespaces", this.#namespaces, {
        settled: settle(),
        metadataOnly: { apiVersion: "v1", kind: "Namespace" },
        entry: (object) => {
          const metadata = (object["metadata"] ?? {}) as { name?: string; labels?: Record<string, string> };
          const labels = metadata.labels;
          return [
            metadata.name ?? "",
            { tenant: labels?.[TENANT_LABEL], jurisdiction: labels?.[JURISDICTION_LABEL] },
          ];
        },
        changed: () => {
          this.#residencyInputsChanged();
        },
      }),
      mirror(client, logger, TENANTS_PATH, this.#tenants, {
        settled: settle(),
        entry: (object) => [((object["metadata"] ?? {}) as { name?: string }).name ?? "", tenantInfo(object)],
        changed: (name, info) => {
          for (const tenant of name === undefined ? this.#tenants.keys() : [name])
            if (info === undefined && name !== undefined) this.tenantStatus.forget(tenant);
            else this.controller.queue.add(`tenant/${tenant}`);
          this.#residencyInputsChanged();
        },
      }),
    );
    for (const reflector of this.#reflectors) reflector.start();
    this.controller.start();
    this.drills.start();
  }

  async stop(options?: { readonly crash?: boolean }): Promise<void> {
    this.#stopped = true;
    for (const reflector of this.#reflectors) reflector.stop();
    await Promise.all([this.controller.stop(), this.drills.stop(options)]);
  }

  /** Degraded states /readyz reports without failing. */
  conditions(): string[] {
    const out: string[] = this.drills.conditions();
    for (const [name, state] of this.#states)
      for (const condition of state.conditions.values())
        if (condition.status !== "True" && condition.reason !== "Copying")
          out.push(
            `BackupLocation ${name} ${condition.type} ${condition.status} (${condition.reason}): ${condition.message}`,
          );
    return out;
  }

  #state(name: string): LocationState {
    let state = this.#states.get(name);
    if (state === undefined) {
      state = {
        lock: undefined,
        issues: new Map(),
        done: new Set(),
        recorded: new Set(),
        reported: new Set(),
        lastCopy: undefined,
        conditions: new Map(),
        written: undefined,
      };
      this.#states.set(name, state);
    }
    return state;
  }

  #sources(location: BackupLocation, backup: VeleroBackup): boolean {
    return (
      location.spec.source.veleroNamespace === backup.namespace &&
      location.spec.source.storageLocation === backup.storageLocation
    );
  }

  /**
   * A location was listed or changed. Only a new generation (its spec) is work: the status this
   * part writes comes back as an event too, and must not start another lock check.
   */
  #locationChanged(name: string): void {
    const entry = this.#locations.get(name);
    const generation = (entry?.raw["metadata"] as { generation?: number } | undefined)?.generation ?? 0;
    const known = this.#generations.get(name);
    if (known === generation) return;
    // First sight in this run: the last drills its status records (before a restart).
    if (known === undefined && entry !== undefined) this.drills.seed(name, entry.raw);
    this.#generations.set(name, generation);
    this.controller.queue.add(`lock/${name}`);
    const location = entry?.location;
    if (location === undefined) return;
    this.drills.locationChanged(location);
    this.#copiedTenants(location);
    for (const backup of this.#backups.values())
      if (backup.phase === "Completed" && this.#sources(location, backup))
        this.controller.queue.add(`copy/${name}/${key(backup)}`);
  }

  /** The tenants of the backups copied to the location: their drills are scheduled. */
  #copiedTenants(location: BackupLocation): void {
    const done = this.#state(location.name).done;
    for (const backup of this.#backups.values())
      if (backup.tenant !== undefined && done.has(key(backup))) this.drills.tenant(location, backup.tenant);
  }

  #backupChanged(backup: VeleroBackup): void {
    if (backup.phase !== "Completed") return;
    for (const [name, entry] of this.#locations)
      if (entry.location !== undefined && this.#sources(entry.location, backup)) {
        this.controller.queue.add(`copy/${name}/${key(backup)}`);
        // Labelled with its tenant after it was copied: the copy is not made again, the drill is due.
        if (backup.tenant !== undefined && this.#state(name).done.has(key(backup)))
          this.drills.tenant(entry.location, backup.tenant);
      }
  }

  /** A namespace's labels or a Tenant's regions changed: refusals are judged again. */
  #residencyInputsChanged(): void {
    for (const [name, state] of this.#states)
      for (const [backup, issue] of state.issues)
        if (issue.reason === "ResidencyRefused") this.controller.queue.add(`copy/${name}/${backup}`);
  }

  #checkLeader(): void {
    if (this.#stopped || !this.#context.isLeader()) throw new NotLeaderError();
  }

  async #reconcile(work: string, logger: Logger): Promise<ReconcileResult> {
    const [kind, name, namespace, backup] = work.split("/");
    if (name === undefined) return {};
    if (kind === "lock") return this.#lockCheck(name, logger);
    if (kind === "tenant") return this.tenantStatus.reconcile(name, logger);
    if (kind === "copy" && namespace !== undefined && backup !== undefined)
      return this.#copy(name, namespace, backup, logger);
    return {};
  }

  async #offsite(location: BackupLocation): Promise<Bucket> {
    const s3 = location.spec.s3;
    const where = `BackupLocation ${location.name} spec.s3.credentialsSecret`;
    const secret = await readSecret(
      this.#context.client,
      s3.credentialsSecret.namespace,
      s3.credentialsSecret.name,
      where,
    );
    const credentials = {
      accessKeyId: decodeSecret(
        secret,
        "accessKeyId",
        `Secret ${s3.credentialsSecret.namespace}/${s3.credentialsSecret.name}`,
      ),
      secretAccessKey: decodeSecret(
        secret,
        "secretAccessKey",
        `Secret ${s3.credentialsSecret.namespace}/${s3.credentialsSecret.name}`,
      ),
    };
    const client = s3Client(
      { region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle },
      credentials,
    );
    return bucketOf(client, s3.bucket, s3.prefix, s3.endpoint);
  }

  async #primary(location: BackupLocation, backup: VeleroBackup): Promise<Bucket> {
    const veleroKey = `${backup.namespace}/${backup.storageLocation}`;
    const object = this.#veleroLocations.get(veleroKey);
    if (object === undefined)
      throw new ConfigError(
        `Velero BackupStorageLocation ${veleroKey} (the source of BackupLocation ${location.name}) is not there (yet); check spec.source`,
      );
    const velero = parseVeleroLocation(object);
    if (velero.credential === undefined)
      throw new ConfigError(
        `BackupStorageLocation ${veleroKey}: spec.credential is missing; vakt reads Velero's bucket with the same credentials`,
      );
    const secret = await readSecret(
      this.#context.client,
      backup.namespace,
      velero.credential.name,
      `BackupStorageLocation ${veleroKey} spec.credential`,
    );
    const file = decodeSecret(
      secret,
      velero.credential.key,
      `Secret ${backup.namespace}/${velero.credential.name}`,
    );
    const credentials = parseAwsCredentials(
      file,
      velero.profile,
      `Secret ${backup.namespace}/${velero.credential.name} key ${velero.credential.key}`,
    );
    return bucketOf(
      s3Client(velero.endpoint, credentials),
      velero.bucket,
      velero.prefix,
      velero.endpoint.endpoint,
    );
  }

  async #lockCheck(name: string, logger: Logger): Promise<ReconcileResult> {
    const entry = this.#locations.get(name);
    if (entry === undefined) return {};
    const state = this.#state(name);
    const location = entry.location;
    if (location === undefined) {
      await this.#writeStatus(name);
      return {};
    }
    let offsite: Bucket | undefined;
    try {
      offsite = await this.#offsite(location);
      const checked = await checkLock(offsite, location.spec.retention.minimumDays);
      // The copies themselves stayed: the latest few are checked against their manifests.
      const copies = await this.#verifyCopies(offsite, state);
      const result =
        copies.problems.length === 0
          ? checked
          : { ...checked, passed: false, problems: [...checked.problems, ...copies.problems] };
      state.lock = { result };
      this.#metrics.lockPassed.set({ location: name }, result.passed ? 1 : 0);
      this.#metrics.lastLockCheck.set({ location: name }, Date.parse(result.time) / 1000);
      if (result.passed) logger.info({ location: name }, "lock check passed");
      else
        logger.error(
          { location: name, problems: result.problems },
          "lock check FAILED: the off-site bucket does not keep copies immutable",
        );
      this.#checkLeader();
      await this.#record({
        kind: "backup.lock-checked",
        time: result.time,
        scope: { cluster: this.#options.evidence?.cluster ?? "" },
        subject: { apiVersion: API_VERSION, kind: BACKUP_LOCATION.kind, name },
        data: {
          location: name,
          bucket: location.spec.s3.bucket,
          region: location.spec.s3.region,
          passed: result.passed,
          problems: [...result.problems],
          mode: result.mode ?? null,
          defaultDays: result.defaultDays ?? null,
          minimumDays: location.spec.retention.minimumDays,
          canaryKey: result.canary?.key ?? null,
          canaryDeleteRefused: result.canary?.deleteRefused ?? null,
          canaryStillThere: result.canary?.stillThere ?? null,
          copiesVerified: copies.verified,
        },
      });
      await this.#writeStatus(name);
      return { requeueAfterMs: location.spec.lockCheck.intervalMinutes * 60_000 };
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      state.lock = { error: errorMessage(error) };
      this.#metrics.lockPassed.set({ location: name }, -1);
      await this.#writeStatus(name).catch(() => undefined);
      throw error;
    } finally {
      offsite?.client.destroy();
    }
  }

  /**
   * Checks the most recent copies (up to 5) against their manifests: each version still there,
   * unchanged, still under COMPLIANCE retention. Someone's delete or overwrite shows here as
   * nothing (the bucket refused it, the version stayed), or as a problem when it did not.
   */
  async #verifyCopies(
    offsite: Bucket,
    state: LocationState,
  ): Promise<{ verified: number; problems: string[] }> {
    const recent = [...state.done]
      .map((backupKey) => this.#backups.get(backupKey))
      .filter((backup): backup is VeleroBackup => backup !== undefined)
      .sort((a, b) => (b.completion ?? "").localeCompare(a.completion ?? ""))
      .slice(0, 5);
    const problems: string[] = [];
    let verified = 0;
    for (const backup of recent) {
      const manifest = await readManifest(offsite, backup.name);
      if (manifest === undefined) {
        problems.push(`the copy of backup ${key(backup)} has lost its manifest`);
        continue;
      }
      problems.push(
        ...(await verifyCopy(offsite, manifest)).map((problem) => `backup ${key(backup)}: ${problem}`),
      );
      verified++;
    }
    return { verified, problems };
  }

  #needs(backup: VeleroBackup): NamespaceNeeds[] {
    return backupNamespaces(backup.included, backup.excluded, this.#namespaces.keys()).map((namespace) => {
      const info = this.#namespaces.get(namespace);
      const tenant = info?.tenant;
      return {
        namespace,
        tenant,
        regions: tenant === undefined ? undefined : this.#tenants.get(tenant)?.regions,
        jurisdiction: info?.jurisdiction,
      };
    });
  }

  async #copy(
    name: string,
    veleroNamespace: string,
    backupName: string,
    logger: Logger,
  ): Promise<ReconcileResult> {
    const location = this.#locations.get(name)?.location;
    const backup = this.#backups.get(`${veleroNamespace}/${backupName}`);
    const state = this.#state(name);
    const backupKey = `${veleroNamespace}/${backupName}`;
    // Residency is judged on Namespaces and Tenants: not before they are known.
    if (!this.#settled) return { requeueAfterMs: 500 };
    if (
      location === undefined ||
      backup === undefined ||
      backup.phase !== "Completed" ||
      !this.#sources(location, backup)
    )
      return {};
    if (state.done.has(backupKey) || location.spec.suspend) return {};
    const needs = this.#needs(backup);
    const tenants = [
      ...new Set(needs.map((need) => need.tenant).filter((t): t is string => t !== undefined)),
    ].sort();
    const only = location.spec.tenants;
    if (only !== undefined && !tenants.some((tenant) => only.includes(tenant))) return {};
    const owners = new Set([...tenants, ...(backup.tenant === undefined ? [] : [backup.tenant])]);
    const subject = {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      namespace: veleroNamespace,
      name: backupName,
      uid: backup.uid,
    };
    const scope = {
      cluster: this.#options.evidence?.cluster ?? "",
      ...(tenants.length === 1 && tenants[0] !== undefined ? { tenant: tenants[0] } : {}),
      ...(needs.length === 1 && needs[0] !== undefined ? { namespace: needs[0].namespace } : {}),
    };
    const policy =
      tenants.length === 1 && tenants[0] !== undefined
        ? policyMaxAgeSeconds(this.#tenants.get(tenants[0]))
        : undefined;
    const place = {
      location: name,
      bucket: location.spec.s3.bucket,
      region: location.spec.s3.region,
      jurisdiction: location.spec.jurisdiction ?? null,
    };

    const refusals = residencyProblems(
      { name, region: location.spec.s3.region, jurisdiction: location.spec.jurisdiction },
      needs,
    );
    if (refusals.length > 0) {
      state.issues.set(backupKey, {
        reason: "ResidencyRefused",
        message: `backup ${backupKey}: ${refusals.join("; ")}`,
      });
      if (!state.reported.has(`${backupKey} refused`)) {
        this.#checkLeader();
        state.reported.add(`${backupKey} refused`);
        this.#metrics.copies.inc({ location: name, result: "refused" });
        logger.warn(
          { location: name, backup: backupKey, problems: refusals },
          "off-site copy refused: residency",
        );
        await this.#record({
          kind: "backup.copied",
          time: new Date().toISOString(),
          scope,
          subject,
          data: { ...place, outcome: "refused", problems: refusals },
        });
      }
      await this.#writeStatus(name);
      return {};
    }

    let primary: Bucket | undefined;
    let offsite: Bucket | undefined;
    const started = performance.now();
    try {
      offsite = await this.#offsite(location);
      primary = await this.#primary(location, backup);
      const existing = await readManifest(offsite, backupName);
      if (existing !== undefined) {
        state.done.add(backupKey);
        state.issues.delete(backupKey);
        this.tenantStatus.copied(owners, {
          backup: backupKey,
          location: name,
          time: existing.completedAt,
          verified: true,
        });
        if (backup.tenant !== undefined) this.drills.tenant(location, backup.tenant);
        await this.#writeStatus(name);
        return {};
      }
      const minimum = Date.now() + location.spec.retention.minimumDays * 86_400_000;
      const expires = backup.expiration === undefined ? 0 : Date.parse(backup.expiration);
      const retainUntil = new Date(Math.max(minimum, Number.isNaN(expires) ? 0 : expires));
      this.#checkLeader();
      const beforeObject = this.#options.beforeObject;
      const result: CopyResult = await copyBackup({
        primary,
        offsite,
        backup: backupName,
        retainUntil,
        ...(this.#options.partSize === undefined ? {} : { partSize: this.#options.partSize }),
        ...(this.#options.concurrency === undefined ? {} : { concurrency: this.#options.concurrency }),
        beforeObject: (objectKey) => {
          this.#checkLeader();
          beforeObject?.(name, backupName, objectKey);
        },
        onObject: (object) => {
          this.#metrics.objects.inc({ location: name, action: object.action });
          if (object.action === "copied") this.#metrics.bytes.inc({ location: name }, object.size);
        },
        beforeManifest: async (manifest) => {
          this.#checkLeader();
          if (state.recorded.has(backupKey)) return;
          await this.#record(
            {
              kind: "backup.copied",
              time: manifest.completedAt,
              scope,
              subject,
              data: {
                ...place,
                outcome: "copied",
                objects: manifest.objects.length,
                copied: manifest.objects.filter((o) => o.action === "copied").length,
                present: manifest.objects.filter((o) => o.action === "present").length,
                bytes: manifest.objects.reduce((sum, o) => sum + o.size, 0),
                // The tenant's backup policy: what vakt report judges this copy's age against.
                ...(policy === undefined ? {} : { policyMaxAgeSeconds: policy }),
                retainUntil: manifest.retainUntil,
                mode: "COMPLIANCE",
                files: manifest.objects.map((o) => ({
                  key: o.key,
                  size: o.size,
                  sha256: o.sha256,
                  versionId: o.versionId,
                })),
                durationMs: Math.round(performance.now() - started),
              },
            },
            true,
          );
          state.recorded.add(backupKey);
        },
      });
      state.done.add(backupKey);
      state.issues.delete(backupKey);
      if (backup.tenant !== undefined) this.drills.tenant(location, backup.tenant);
      this.tenantStatus.copied(owners, {
        backup: backupKey,
        location: name,
        time: result.manifest.completedAt,
        verified: true,
      });
      const bytes = result.manifest.objects.reduce((sum, o) => sum + o.size, 0);
      state.lastCopy = {
        backup: backupKey,
        time: result.manifest.completedAt,
        objects: result.manifest.objects.length,
        bytes,
      };
      this.#metrics.copies.inc({ location: name, result: "copied" });
      this.#metrics.lastCopy.set({ location: name }, Date.parse(result.manifest.completedAt) / 1000);
      logger.info(
        {
          location: name,
          backup: backupKey,
          objects: result.manifest.objects.length,
          copied: result.copied,
          present: result.present,
          bytes: result.bytes,
        },
        "backup copied off-site and verified",
      );
      await this.#writeStatus(name);
      return {};
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      if (error instanceof IntegrityError) {
        state.issues.set(backupKey, { reason: "CopyFailed", message: error.message });
        this.tenantStatus.copied(owners, {
          backup: backupKey,
          location: name,
          time: new Date().toISOString(),
          verified: false,
          message: error.message,
        });
        logger.error(
          { location: name, backup: backupKey, key: error.key, problem: error.problem, error: error.message },
          "off-site copy FAILED verification",
        );
        if (!state.reported.has(`${backupKey} failed`)) {
          state.reported.add(`${backupKey} failed`);
          this.#metrics.copies.inc({ location: name, result: "failed" });
          await this.#record({
            kind: "backup.copied",
            time: new Date().toISOString(),
            scope,
            subject,
            data: {
              ...place,
              outcome: "failed",
              problem: error.problem,
              object: error.key,
              detail: error.message,
            },
          });
        }
        await this.#writeStatus(name);
        // Not retried: the same bytes would fail the same way. A new backup is copied as usual.
        return {};
      }
      const config = error instanceof ConfigError;
      state.issues.set(backupKey, {
        reason: config ? "ConfigError" : "S3Unavailable",
        message: config
          ? error.message
          : `backup ${backupKey}: ${errorMessage(error)} (retrying with backoff; the copy resumes where it stopped)`,
      });
      this.#metrics.copies.inc({ location: name, result: "unavailable" });
      await this.#writeStatus(name).catch(() => undefined);
      throw error;
    } finally {
      primary?.client.destroy();
      offsite?.client.destroy();
    }
  }

  /** Appends an evidence record (waiting for room); `flush`: and waits until it is written. */
  async #record(event: EvidenceEvent, flush = false): Promise<void> {
    const store = this.#store;
    if (store === undefined) return;
    while (!store.append(event)) await store.writable();
    if (flush)
      await within(
        store.flush(),
        30_000,
        "the evidence history did not write the copy's record within 30 s; the copy completes (its manifest) once it does",
      );
  }

  #condition(
    state: LocationState,
    generation: number,
    type: string,
    status: Condition["status"],
    reason: string,
    message: string,
  ): Condition {
    const before = state.conditions.get(type);
    const condition: Condition = {
      type,
      status,
      reason,
      message: message.slice(0, 4000),
      lastTransitionTime:
        before !== undefined && before.status === status
          ? before.lastTransitionTime
          : new Date().toISOString(),
      observedGeneration: generation,
    };
    state.conditions.set(type, condition);
    return condition;
  }

  /** The location's status from what this run knows; written only when it changed. */
  async #writeStatus(name: string): Promise<void> {
    const entry = this.#locations.get(name);
    if (entry === undefined) return;
    const state = this.#state(name);
    const location = entry.location;
    const generation = location?.generation ?? 0;
    const conditions: Condition[] = [];
    if (location === undefined) {
      const problems = entry.problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; ");
      conditions.push(
        this.#condition(
          state,
          generation,
          "Ready",
          "False",
          "InvalidSpec",
          `fix the BackupLocation: ${problems}`,
        ),
      );
    } else {
      conditions.push(this.#condition(state, generation, "Ready", "True", "Valid", "the spec is valid"));
      const lock = state.lock;
      if (lock?.result !== undefined)
        conditions.push(
          lock.result.passed
            ? this.#condition(
                state,
                generation,
                "LockVerified",
                "True",
                "Passed",
                `Object Lock on, COMPLIANCE, default retention ${lock.result.defaultDays ?? "?"} days (policy ${location.spec.retention.minimumDays}); a locked delete was refused at ${lock.result.time}`,
              )
            : this.#condition(
                state,
                generation,
                "LockVerified",
                "False",
                "LockCheckFailed",
                lock.result.problems.join("; "),
              ),
        );
      else if (lock?.error !== undefined)
        conditions.push(
          this.#condition(
            state,
            generation,
            "LockVerified",
            "Unknown",
            "S3Unavailable",
            `the lock check could not run: ${lock.error}`,
          ),
        );
      const pending = this.#pending(name, location);
      this.#metrics.pending.set({ location: name }, pending.count);
      this.#metrics.lag.set(
        { location: name },
        pending.oldestMs === undefined ? 0 : Math.max(0, (Date.now() - pending.oldestMs) / 1000),
      );
      const issues = [...state.issues.values()];
      const worst = (["CopyFailed", "ResidencyRefused", "ConfigError", "S3Unavailable"] as const).find(
        (reason) => issues.some((i) => i.reason === reason),
      );
      if (worst !== undefined)
        conditions.push(
          this.#condition(
            state,
            generation,
            "CopiesUpToDate",
            "False",
            worst,
            issues
              .filter((i) => i.reason === worst)
              .map((i) => i.message)
              .slice(0, 5)
              .join("; "),
          ),
        );
      else if (pending.count > 0)
        conditions.push(
          this.#condition(
            state,
            generation,
            "CopiesUpToDate",
            "False",
            "Copying",
            `${pending.count} completed backup(s) waiting to be copied`,
          ),
        );
      else
        conditions.push(
          this.#condition(
            state,
            generation,
            "CopiesUpToDate",
            "True",
            "UpToDate",
            "every completed backup of the source is copied and verified",
          ),
        );
    }
    const drills = this.drills.status(name);
    const status: Json = {
      observedGeneration: generation,
      conditions,
      ...(state.lock?.result === undefined
        ? {}
        : {
            lastLockCheck: {
              time: state.lock.result.time,
              passed: state.lock.result.passed,
              problems: [...state.lock.result.problems],
            },
          }),
      ...(state.lastCopy === undefined ? {} : { lastCopy: state.lastCopy }),
      copiedBackups: state.done.size,
      ...(drills.length === 0 ? {} : { drills }),
    };
    const serialized = JSON.stringify(status);
    if (serialized === state.written) return;
    this.#checkLeader();
    await apply(
      this.#context.client,
      { apiVersion: API_VERSION, kind: BACKUP_LOCATION.kind, metadata: { name }, status },
      { subresource: "status", resource: LOCATION_RESOURCE },
    );
    state.written = serialized;
  }

  #pending(name: string, location: BackupLocation): { count: number; oldestMs: number | undefined } {
    const state = this.#state(name);
    let count = 0;
    let oldestMs: number | undefined;
    for (const backup of this.#backups.values()) {
      if (backup.phase !== "Completed" || !this.#sources(location, backup)) continue;
      const k = key(backup);
      if (state.done.has(k)) continue;
      const issue = state.issues.get(k);
      if (issue?.reason === "ResidencyRefused") continue;
      count++;
      const at = backup.completion === undefined ? NaN : Date.parse(backup.completion);
      if (!Number.isNaN(at) && (oldestMs === undefined || at < oldestMs)) oldestMs = at;
    }
    return { count, oldestMs };
  }
}

export class BackupPart implements Part {
  readonly name = "backup";
  readonly leaderElection = true;
  readonly #options: BackupPartOptions;
  #run: BackupRun | undefined;
  #metrics: BackupMetrics | undefined;
  #store: EvidenceStore | undefined;
  #evidenceError: string | undefined;

  constructor(options: BackupPartOptions = {}) {
    this.#options = options;
  }

  /** When this run drills each <location>/<tenant> next (ms since the epoch), once decided. */
  get drillSchedule(): ReadonlyMap<string, number> {
    return this.#run?.drills.schedule() ?? new Map();
  }

  /** The evidence store while the part runs with one. */
  get evidence(): EvidenceStore | undefined {
    return this.#store;
  }

  async start(context: PartContext): Promise<void> {
    if (this.#run !== undefined) throw new Error("the backup part is already running");
    this.#metrics ??= new BackupMetrics(context.registry);
    this.#evidenceError = undefined;
    const evidence = this.#options.evidence;
    if (evidence !== undefined)
      try {
        const store = await evidence.open();
        this.#store = store;
        exportEvidenceMetrics(context.registry, () => store.health());
      } catch (error) {
        this.#evidenceError = errorMessage(error);
        context.logger.error(
          { error: this.#evidenceError },
          "cannot open the evidence history; off-site copies are made and verified without evidence records until the part starts again",
        );
      }
    const run = new BackupRun(this.#options, context, this.#metrics, this.#store);
    this.#run = run;
    exportTenantBackupMetrics(context.registry, () => this.#run?.tenantStatus.rows() ?? []);
    run.start();
  }

  ready(): boolean {
    return this.#run !== undefined;
  }

  conditions(): string[] {
    const out = this.#run?.conditions() ?? [];
    if (this.#evidenceError !== undefined) out.push(`evidence history unavailable: ${this.#evidenceError}`);
    return out;
  }

  async stop(options?: { readonly crash?: boolean }): Promise<void> {
    const run = this.#run;
    this.#run = undefined;
    if (run === undefined) return;
    await run.stop(options);
    const store = this.#store;
    this.#store = undefined;
    if (store !== undefined && options?.crash !== true) await store.close();
  }
}
