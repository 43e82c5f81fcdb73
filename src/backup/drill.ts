/**
 * A restore drill: the latest completed backup of a Tenant, restored FROM THE OFF-SITE COPY into
 * scratch namespaces, compared with what the backup holds (drill-core.ts), measured (RPO: the
 * backup's age at drill time; RTO: from the Restore's creation to its completion), recorded as a
 * `restore.drill` evidence record, and cleaned up.
 *
 * How the off-site copy is restored. Velero restores a Backup object of its own namespace from
 * the location that object names, and its backup sync skips a backup whose name already exists
 * there, so the primary's Velero cannot restore from the copy. The drill uses a Velero of its own
 * (`drill.veleroNamespace`, e.g. vakt-drill) whose one location points at the off-site bucket in
 * ReadOnly mode. The drill checks that location, reads `velero-backup.json` from the copy
 * (verified against the copy's manifest) and registers the Backup there as Velero's backup sync
 * would; then a Restore with namespaceMapping, excluding Ingresses and cert-manager objects, into
 * namespaces that get a deny-all NetworkPolicy before anything is restored into them.
 */
import { createHash, randomBytes } from "node:crypto";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { EvidenceStore } from "../evidence/types.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { KubeError } from "../kube/client.ts";
import { TENANT_LABEL } from "../tenant/render.ts";
import { readManifest } from "./copier.ts";
import type { CopyManifest } from "./copier.ts";
import { backupInventory, compareRestore, DRILL_EXCLUDED_RESOURCES } from "./drill-core.ts";
import type { BackedUpObject, DrillComparison } from "./drill-core.ts";
import { parseBackupLocation } from "./location.ts";
import type { BackupLocation } from "./location.ts";
import type { Bucket } from "./s3.ts";
import { bucketOf, ConfigError, s3Client } from "./s3.ts";

/** Label of every scratch namespace: the drill's id. */
export const DRILL_LABEL = "vakt.dev/drill";
/** Label of every scratch namespace: the Tenant drilled. */
export const DRILL_TENANT_LABEL = "vakt.dev/drill-tenant";
/**
 * Annotations of every scratch namespace: what a later process needs to clean up after a drill
 * that was killed and to record it as an interrupted (failed) drill.
 */
export const DRILL_ANNOTATIONS = {
  startedAt: "vakt.dev/drill-started-at",
  location: "vakt.dev/drill-location",
  backup: "vakt.dev/drill-backup",
  /** "leader" (the backup part's schedule) or "cli" (`vakt backup drill`). */
  runner: "vakt.dev/drill-runner",
  /** After this time the drill is surely dead, whoever ran it. */
  deadline: "vakt.dev/drill-deadline",
} as const;

/** How long after its restore's timeout a drill's scratch namespaces are taken for a crash's. */
const DEADLINE_MARGIN_MS = 10 * 60_000;

export interface DrillOptions {
  readonly client: KubeClient;
  readonly tenant: string;
  /** The off-site location the copy is in, and a client for its bucket. */
  readonly location: BackupLocation;
  readonly offsite: Bucket;
  /** The Velero that restores the copy, and its ReadOnly location on the off-site bucket. */
  readonly drillVelero: { readonly namespace: string; readonly storageLocation: string };
  /** A given backup (its name in the source Velero namespace) instead of the tenant's latest. */
  readonly backup?: string;
  readonly evidence?: { readonly store: EvidenceStore; readonly cluster: string };
  /** How long the restore may take (default 10 minutes). */
  readonly timeoutMs?: number;
  /**
   * Fault injection for tests: resources also excluded from the restore, so that the drill must
   * see them missing.
   */
  readonly alsoExclude?: readonly string[];
  readonly now?: () => Date;
  /** Who runs the drill, written on its scratch namespaces (default "cli"). */
  readonly runner?: "leader" | "cli";
  /**
   * Test seam: called once the scratch namespaces exist and are isolated, before the restore; a
   * promise that never settles holds the drill there (a crash test stops the process meanwhile).
   */
  readonly afterIsolation?: (id: string, namespaces: readonly string[]) => Promise<void>;
}

export interface DrillResult {
  readonly id: string;
  readonly tenant: string;
  readonly backup: string;
  readonly location: string;
  readonly passed: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The backup's age when the drill started (from the backup's start). */
  readonly rpoSeconds: number;
  /** From the Restore's creation to its completion. */
  readonly rtoSeconds: number;
  readonly restore: {
    readonly name: string;
    readonly phase: string;
    readonly warnings: number;
    readonly errors: number;
  };
  readonly scratchNamespaces: readonly string[];
  readonly comparison: DrillComparison;
  /** Why it failed, in words (empty when it passed). */
  readonly problems: readonly string[];
}

/** A drill that could not run (no backup, a bad configuration): what and how to fix it. */
export class DrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrillError";
  }
}

const VELERO = "/apis/velero.io/v1";
const TERMINAL = new Set(["Completed", "PartiallyFailed", "Failed", "FailedValidation"]);

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A string field, or "" when it is absent or not a string. */
function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

async function getOrUndefined(client: KubeClient, path: string): Promise<Json | undefined> {
  try {
    return (await client.request("GET", path)).body;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return undefined;
    throw error;
  }
}

async function readOffsite(offsite: Bucket, manifest: CopyManifest, key: string): Promise<Buffer> {
  const entry = manifest.objects.find((object) => object.key === key);
  if (entry === undefined)
    throw new DrillError(`the off-site copy of backup ${manifest.backup} has no ${key} in its manifest`);
  const response = await offsite.client.send(
    new GetObjectCommand({ Bucket: offsite.bucket, Key: offsite.prefix + key, VersionId: entry.versionId }),
  );
  const body = Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
  const sha256 = createHash("sha256").update(body).digest("hex");
  if (sha256 !== entry.sha256)
    throw new DrillError(
      `the off-site copy of ${key} (backup ${manifest.backup}) does not match its manifest: SHA-256 ${sha256}, manifest ${entry.sha256}`,
    );
  return body;
}

/**
 * A BackupLocation by name and a client for its bucket (credentials from its Secret), for a drill
 * run outside the backup part (`vakt backup drill`).
 */
export async function openLocation(
  client: KubeClient,
  name: string,
): Promise<{ readonly location: BackupLocation; readonly offsite: Bucket }> {
  const object = await getOrUndefined(client, `/apis/vakt.dev/v1alpha1/backuplocations/${name}`);
  if (object === undefined)
    throw new ConfigError(`BackupLocation ${name} does not exist; kubectl get backuplocations lists them`);
  const { location, problems } = parseBackupLocation(object);
  if (location === undefined)
    throw new ConfigError(
      `BackupLocation ${name}: ${problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; ")}`,
    );
  const s3 = location.spec.s3;
  const ref = `Secret ${s3.credentialsSecret.namespace}/${s3.credentialsSecret.name}`;
  const secret = await getOrUndefined(
    client,
    `/api/v1/namespaces/${s3.credentialsSecret.namespace}/secrets/${s3.credentialsSecret.name}`,
  );
  const data = record(secret?.["data"]);
  const field = (key: string): string => {
    const value = text(data[key]);
    if (value === "")
      throw new ConfigError(`${ref} (BackupLocation ${name} spec.s3.credentialsSecret) has no key ${key}`);
    return Buffer.from(value, "base64").toString("utf8");
  };
  const credentials = { accessKeyId: field("accessKeyId"), secretAccessKey: field("secretAccessKey") };
  const s3client = s3Client(
    { region: s3.region, endpoint: s3.endpoint, forcePathStyle: s3.forcePathStyle },
    credentials,
  );
  return { location, offsite: bucketOf(s3client, s3.bucket, s3.prefix, s3.endpoint) };
}

/** The latest Completed backup of the tenant with a complete off-site copy, and that copy's manifest. */
async function latestCopied(
  options: DrillOptions,
): Promise<{ readonly backup: Json; readonly manifest: CopyManifest }> {
  const { client, tenant, location, offsite } = options;
  const source = location.spec.source.veleroNamespace;
  const list = (
    await client.request("GET", `${VELERO}/namespaces/${source}/backups`, {
      query: options.backup === undefined ? { labelSelector: `${TENANT_LABEL}=${tenant}` } : {},
    })
  ).body;
  const items = ((list["items"] ?? []) as Json[])
    .filter((b) => options.backup === undefined || record(b["metadata"])["name"] === options.backup)
    .filter((b) => record(b["status"])["phase"] === "Completed")
    .sort((a, b) =>
      text(record(b["status"])["completionTimestamp"]).localeCompare(
        text(record(a["status"])["completionTimestamp"]),
      ),
    );
  for (const backup of items) {
    const name = String(record(backup["metadata"])["name"]);
    const manifest = await readManifest(offsite, name);
    if (manifest !== undefined) return { backup, manifest };
  }
  throw new DrillError(
    options.backup === undefined
      ? `no Completed Velero backup in ${source} labelled ${TENANT_LABEL}=${tenant} has a complete off-site copy in BackupLocation ${location.name}; wait for the tenant's Schedule and the copy (kubectl get backuplocation ${location.name})`
      : `backup ${source}/${options.backup} is not Completed with a complete off-site copy in BackupLocation ${location.name}`,
  );
}

/** The drill's Velero location must read the off-site bucket, ReadOnly, and be Available. */
async function checkDrillLocation(options: DrillOptions): Promise<void> {
  const { namespace, storageLocation } = options.drillVelero;
  const where = `BackupStorageLocation ${namespace}/${storageLocation}`;
  const bsl = await getOrUndefined(
    options.client,
    `${VELERO}/namespaces/${namespace}/backupstoragelocations/${storageLocation}`,
  );
  if (bsl === undefined)
    throw new ConfigError(
      `${where} does not exist; create it on bucket ${options.location.spec.s3.bucket} with accessMode ReadOnly, in the namespace of the Velero that runs drills`,
    );
  const spec = record(bsl["spec"]);
  const storage = record(spec["objectStorage"]);
  const wantPrefix = options.location.spec.s3.prefix ?? "";
  const problems: string[] = [];
  if (storage["bucket"] !== options.location.spec.s3.bucket)
    problems.push(
      `spec.objectStorage.bucket is ${JSON.stringify(storage["bucket"])}, not the off-site bucket ${options.location.spec.s3.bucket}`,
    );
  if ((storage["prefix"] ?? "") !== wantPrefix)
    problems.push(
      `spec.objectStorage.prefix is ${JSON.stringify(storage["prefix"] ?? "")}, not ${JSON.stringify(wantPrefix)}`,
    );
  if (spec["accessMode"] !== "ReadOnly")
    problems.push(
      `spec.accessMode is ${JSON.stringify(spec["accessMode"] ?? "ReadWrite")}; set ReadOnly: a drill never writes backups`,
    );
  if (record(bsl["status"])["phase"] !== "Available")
    problems.push(
      `it is not Available (${text(record(bsl["status"])["message"]) || text(record(bsl["status"])["phase"]) || "no status yet"})`,
    );
  if (problems.length > 0) throw new ConfigError(`${where}: ${problems.join("; ")}`);
}

/** Registers the backup in the drill's Velero from the copy's velero-backup.json, as Velero's sync would. */
async function registerBackup(options: DrillOptions, manifest: CopyManifest): Promise<void> {
  const { client, drillVelero } = options;
  const name = manifest.backup;
  const path = `${VELERO}/namespaces/${drillVelero.namespace}/backups`;
  const existing = await getOrUndefined(client, `${path}/${name}`);
  if (existing !== undefined) {
    const at = record(existing["spec"])["storageLocation"];
    if (at !== drillVelero.storageLocation)
      throw new DrillError(
        `Backup ${drillVelero.namespace}/${name} exists with storageLocation ${String(at)}, not ${drillVelero.storageLocation}; delete it so the drill registers the off-site copy`,
      );
    return;
  }
  const metadata = JSON.parse(
    (await readOffsite(options.offsite, manifest, `backups/${name}/velero-backup.json`)).toString("utf8"),
  ) as Json;
  const labels = { ...(record(record(metadata["metadata"])["labels"]) as Record<string, string>) };
  labels["velero.io/storage-location"] = drillVelero.storageLocation;
  const spec = { ...record(metadata["spec"]), storageLocation: drillVelero.storageLocation, hooks: {} };
  try {
    await client.request("POST", path, {
      body: {
        apiVersion: "velero.io/v1",
        kind: "Backup",
        metadata: { name, namespace: drillVelero.namespace, labels },
        spec,
        status: metadata["status"],
      },
    });
  } catch (error) {
    // Velero's own backup sync of the drill location got there first: the same object.
    if (!(error instanceof KubeError && error.code === 409)) throw error;
  }
}

/** A drill whose process stopped before it finished: found by its scratch namespaces. */
export interface InterruptedDrill {
  readonly id: string;
  readonly tenant: string;
  /** The BackupLocation and the backup (velero namespace/name), "" when a namespace does not say. */
  readonly location: string;
  readonly backup: string;
  readonly runner: string;
  readonly startedAt: string;
  /** When its scratch namespaces were found and deleted. */
  readonly foundAt: string;
  readonly namespaces: readonly string[];
}

/** What a drill's scratch namespace says about the drill (labels and annotations). */
interface ScratchNamespace {
  readonly name: string;
  readonly id: string;
  readonly tenant: string;
  readonly annotations: Record<string, string>;
  /** Already being deleted (a drill's own cleanup, or an earlier recovery). */
  readonly terminating: boolean;
}

/**
 * Finds the scratch namespaces of drills that will never finish, deletes them, and records each
 * such drill as a failed `restore.drill` (outcome failed, interrupted). `interrupted` decides per
 * drill: the backup part's new leader takes every drill a leader ran (only one leader drills at a
 * time, and it has not started any yet) and any drill past its deadline; a drill's own start takes
 * those of its tenant past their deadline (a `vakt backup drill` running beside it is left alone).
 */
export async function recoverInterrupted(
  client: KubeClient,
  options: {
    readonly interrupted: (drill: { readonly runner: string; readonly deadline: number }) => boolean;
    readonly tenant?: string;
    readonly evidence?: { readonly store: EvidenceStore; readonly cluster: string } | undefined;
    readonly now?: () => Date;
  },
): Promise<InterruptedDrill[]> {
  const now = options.now ?? (() => new Date());
  const selector = options.tenant === undefined ? DRILL_LABEL : `${DRILL_TENANT_LABEL}=${options.tenant}`;
  const list = (await client.request("GET", "/api/v1/namespaces", { query: { labelSelector: selector } }))
    .body;
  const byDrill = new Map<string, ScratchNamespace[]>();
  for (const object of (list["items"] ?? []) as Json[]) {
    const metadata = record(object["metadata"]);
    const labels = record(metadata["labels"]);
    const namespace: ScratchNamespace = {
      name: text(metadata["name"]),
      id: text(labels[DRILL_LABEL]),
      tenant: text(labels[DRILL_TENANT_LABEL]),
      annotations: record(metadata["annotations"]) as Record<string, string>,
      terminating: text(metadata["deletionTimestamp"]) !== "",
    };
    if (namespace.id === "" || namespace.name === "") continue;
    byDrill.set(namespace.id, [...(byDrill.get(namespace.id) ?? []), namespace]);
  }
  const found: InterruptedDrill[] = [];
  for (const [id, namespaces] of byDrill) {
    const first = namespaces[0];
    if (first === undefined) continue;
    const annotations = first.annotations;
    const runner = text(annotations[DRILL_ANNOTATIONS.runner]) || "cli";
    const deadline = Date.parse(text(annotations[DRILL_ANNOTATIONS.deadline]));
    // Namespaces all terminating: the drill deleted them itself (it ended), or a recovery did.
    if (namespaces.every((n) => n.terminating)) continue;
    if (!options.interrupted({ runner, deadline: Number.isNaN(deadline) ? 0 : deadline })) continue;
    for (const namespace of namespaces)
      await client.request("DELETE", `/api/v1/namespaces/${namespace.name}`).catch((error: unknown) => {
        if (!(error instanceof KubeError && error.code === 404)) throw error;
      });
    const drill: InterruptedDrill = {
      id,
      tenant: first.tenant,
      location: text(annotations[DRILL_ANNOTATIONS.location]),
      backup: text(annotations[DRILL_ANNOTATIONS.backup]),
      runner,
      startedAt: text(annotations[DRILL_ANNOTATIONS.startedAt]),
      foundAt: now().toISOString(),
      namespaces: namespaces.map((n) => n.name).sort(),
    };
    found.push(drill);
    const evidence = options.evidence;
    if (evidence === undefined) continue;
    const [backupNamespace = "", backupName = ""] = drill.backup.split("/");
    while (
      !evidence.store.append({
        kind: "restore.drill",
        time: drill.foundAt,
        scope: { cluster: evidence.cluster, tenant: drill.tenant },
        ...(backupName === ""
          ? {}
          : {
              subject: {
                apiVersion: "velero.io/v1",
                kind: "Backup",
                namespace: backupNamespace,
                name: backupName,
              },
            }),
        data: {
          outcome: "failed",
          interrupted: true,
          id,
          location: drill.location,
          from: "off-site copy",
          runner,
          startedAt: drill.startedAt,
          scratchNamespaces: [...drill.namespaces],
          problems: [interruptedProblem(drill)],
        },
      })
    )
      await evidence.store.writable();
  }
  if (found.length > 0) await options.evidence?.store.flush();
  return found;
}

/** Why an interrupted drill failed, in words. */
export function interruptedProblem(drill: InterruptedDrill): string {
  return `drill ${drill.id} (started ${drill.startedAt || "at an unknown time"} by the ${drill.runner === "leader" ? "backup part's leader" : "CLI"}) was interrupted before it finished (its process was killed or lost the Lease); its scratch namespaces ${drill.namespaces.join(", ")} were deleted at ${drill.foundAt}`;
}

/** The restored object for a backed-up one, in its scratch namespace, or undefined. */
function objectPath(object: BackedUpObject, namespace: string): string {
  const dot = object.resource.indexOf(".");
  const plural = dot < 0 ? object.resource : object.resource.slice(0, dot);
  const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  return `${base}/namespaces/${namespace}/${plural}/${encodeURIComponent(object.name)}`;
}

async function parallel<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      out[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Runs one drill; a drill that could not run throws (DrillError, ConfigError, S3 or API errors). */
export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const now = options.now ?? (() => new Date());
  const { client, tenant, location, drillVelero } = options;
  const started = now();
  const id = randomBytes(4).toString("hex");
  const timeoutMs = options.timeoutMs ?? 600_000;
  // Drills of this tenant killed long ago (past their deadline) left scratch namespaces: gone first.
  await recoverInterrupted(client, {
    tenant,
    evidence: options.evidence,
    interrupted: ({ deadline }) => deadline < started.getTime(),
    now,
  });
  await checkDrillLocation(options);
  const { backup, manifest } = await latestCopied(options);
  const backupName = manifest.backup;
  const backupStatus = record(backup["status"]);
  const capturedAt = Date.parse(
    text(backupStatus["startTimestamp"]) || text(backupStatus["completionTimestamp"]),
  );
  const tarball = await readOffsite(options.offsite, manifest, `backups/${backupName}/${backupName}.tar.gz`);
  const included = (record(backup["spec"])["includedNamespaces"] ?? []) as string[];
  const sources = included.filter((n) => n !== "*");
  if (sources.length === 0)
    throw new DrillError(
      `backup ${backupName} does not name its namespaces (includedNamespaces ${JSON.stringify(included)}); a drill restores a tenant's namespaces`,
    );
  const mapping = new Map(sources.map((n, i) => [n, `drill-${id}-${String(i)}`]));
  const expected = backupInventory(tarball, { namespaces: mapping });
  await registerBackup(options, manifest);

  const scratch = [...mapping.values()];
  const problems: string[] = [];
  let restore = { name: `vakt-drill-${id}`, phase: "", warnings: 0, errors: 0 };
  let comparison: DrillComparison;
  let rtoSeconds = 0;
  try {
    for (const namespace of scratch) {
      await client.request("POST", "/api/v1/namespaces", {
        body: {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: {
            name: namespace,
            labels: { [DRILL_LABEL]: id, [DRILL_TENANT_LABEL]: tenant },
            annotations: {
              [DRILL_ANNOTATIONS.startedAt]: started.toISOString(),
              [DRILL_ANNOTATIONS.location]: location.name,
              [DRILL_ANNOTATIONS.backup]: `${location.spec.source.veleroNamespace}/${backupName}`,
              [DRILL_ANNOTATIONS.runner]: options.runner ?? "cli",
              [DRILL_ANNOTATIONS.deadline]: new Date(
                started.getTime() + timeoutMs + DEADLINE_MARGIN_MS,
              ).toISOString(),
            },
          },
        },
      });
      // Before anything is restored: nothing in or out.
      await client.request("POST", `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`, {
        body: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "vakt-drill-deny-all", namespace },
          spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        },
      });
    }
    await options.afterIsolation?.(id, scratch);
    const restoreStart = performance.now();
    await client.request("POST", `${VELERO}/namespaces/${drillVelero.namespace}/restores`, {
      body: {
        apiVersion: "velero.io/v1",
        kind: "Restore",
        metadata: { name: restore.name, namespace: drillVelero.namespace, labels: { [DRILL_LABEL]: id } },
        spec: {
          backupName,
          includedNamespaces: sources,
          namespaceMapping: Object.fromEntries(mapping),
          excludedResources: [...DRILL_EXCLUDED_RESOURCES, ...(options.alsoExclude ?? [])],
          includeClusterResources: false,
          restorePVs: false,
        },
      },
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const object = await getOrUndefined(
        client,
        `${VELERO}/namespaces/${drillVelero.namespace}/restores/${restore.name}`,
      );
      const status = record(object?.["status"]);
      const phase = text(status["phase"]);
      if (TERMINAL.has(phase)) {
        rtoSeconds = (performance.now() - restoreStart) / 1000;
        restore = {
          name: restore.name,
          phase,
          warnings: Number(status["warnings"] ?? 0),
          errors: Number(status["errors"] ?? 0),
        };
        break;
      }
      if (Date.now() > deadline) {
        restore = { ...restore, phase: phase || "New" };
        problems.push(
          `the restore ${drillVelero.namespace}/${restore.name} did not finish in time (phase ${restore.phase})`,
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (restore.phase !== "Completed" && restore.phase !== "")
      problems.push(
        `Velero's restore ${drillVelero.namespace}/${restore.name} ended ${restore.phase} (${String(restore.errors)} errors, ${String(restore.warnings)} warnings)`,
      );
    const restored = await parallel(expected, 16, async (object) =>
      getOrUndefined(client, objectPath(object, mapping.get(object.namespace) ?? object.namespace)),
    );
    const byObject = new Map(expected.map((object, i) => [object, restored[i]]));
    comparison = compareRestore(expected, (object) => byObject.get(object));
    if (comparison.missing.length > 0)
      problems.push(
        `${String(comparison.missing.length)} object(s) missing: ${comparison.missing.join(", ")}`,
      );
    if (comparison.changed.length > 0)
      problems.push(
        `${String(comparison.changed.length)} object(s) changed: ${comparison.changed.join(", ")}`,
      );
  } finally {
    for (const namespace of scratch)
      await client.request("DELETE", `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  }
  const finished = now();
  const result: DrillResult = {
    id,
    tenant,
    backup: `${location.spec.source.veleroNamespace}/${backupName}`,
    location: location.name,
    passed: problems.length === 0,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    rpoSeconds: Number.isNaN(capturedAt) ? -1 : Math.max(0, (started.getTime() - capturedAt) / 1000),
    rtoSeconds,
    restore,
    scratchNamespaces: scratch,
    comparison,
    problems,
  };
  await recordDrill(options, backup, result);
  return result;
}

async function recordDrill(options: DrillOptions, backup: Json, result: DrillResult): Promise<void> {
  const evidence = options.evidence;
  if (evidence === undefined) return;
  const metadata = record(backup["metadata"]);
  const event = {
    kind: "restore.drill" as const,
    time: result.finishedAt,
    scope: { cluster: evidence.cluster, tenant: result.tenant },
    subject: {
      apiVersion: "velero.io/v1",
      kind: "Backup",
      namespace: text(metadata["namespace"]),
      name: text(metadata["name"]),
      uid: text(metadata["uid"]),
    },
    data: {
      outcome: result.passed ? "passed" : "failed",
      id: result.id,
      location: result.location,
      bucket: options.location.spec.s3.bucket,
      from: "off-site copy",
      restore: `${options.drillVelero.namespace}/${result.restore.name}`,
      restorePhase: result.restore.phase,
      rpoSeconds: Math.round(result.rpoSeconds),
      rtoSeconds: Math.round(result.rtoSeconds * 10) / 10,
      expected: result.comparison.expected,
      restored: result.comparison.restored,
      missing: [...result.comparison.missing],
      changed: [...result.comparison.changed],
      problems: [...result.problems],
      startedAt: result.startedAt,
    },
  };
  while (!evidence.store.append(event)) await evidence.store.writable();
  await evidence.store.flush();
}

/** A short line for logs and the CLI. */
export function describeDrill(result: DrillResult): string {
  return result.passed
    ? `drill ${result.id} of tenant ${result.tenant} PASSED: backup ${result.backup} restored from off-site location ${result.location}, ${String(result.comparison.restored)}/${String(result.comparison.expected)} objects identical; RPO ${result.rpoSeconds.toFixed(0)} s, RTO ${result.rtoSeconds.toFixed(1)} s`
    : `drill ${result.id} of tenant ${result.tenant} FAILED: backup ${result.backup} from off-site location ${result.location}: ${result.problems.join("; ")}`;
}
