/**
 * vakt's backup part in-process, as its integration tests and bench/backup-copy.ts run it: a
 * BackupLocation on an S3 server of s3.ts (its Secret beside it) and `vakt run --parts backup`
 * started with a Lease of its own and a label selector, so tests side by side on one control
 * plane each see only their own location.
 *
 *   const s3 = await startS3(t);
 *   await createBackupBuckets(s3, { primary: "velero", offsite: "offsite" });
 *   const velero = await startVelero(t, { s3, bucket: "velero" });
 *   const location = await createBackupLocation(t, s3, { bucket: "offsite", veleroNamespace: velero.namespace });
 *   const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { pino } from "pino";
import { API_VERSION, BACKUP_LOCATION } from "../api/registry.ts";
import type { BackupPartOptions } from "../backup/part.ts";
import type { Json } from "../kube/client.ts";
import { startManager } from "../manager/run.ts";
import type { RunningManager } from "../manager/run.ts";
import { eventually, kubectl, testKubeConfig } from "./cluster.ts";
import { createBackupBuckets, startS3 } from "./s3.ts";
import type { S3Server } from "./s3.ts";
import { startVelero } from "./velero.ts";
import type { VeleroServer } from "./velero.ts";

export interface LocationOptions {
  readonly bucket: string;
  /** Velero's namespace: the source, and where the credentials Secret is put. */
  readonly veleroNamespace: string;
  readonly name?: string;
  readonly region?: string;
  readonly jurisdiction?: string;
  readonly minimumDays?: number;
  readonly tenants?: readonly string[];
  /** Credentials other than the server's (wrong ones, for the fault tests). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface TestLocation {
  readonly name: string;
  /** The label selector that picks this location alone. */
  readonly selector: string;
  readonly secret: { readonly namespace: string; readonly name: string };
  /** Writes the credentials Secret again (to fix or break them). */
  setCredentials(credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  }): Promise<void>;
  /** The BackupLocation as the API server has it. */
  read(): Promise<Json>;
  /** Merges `spec` into the location's spec (a new generation). */
  patchSpec(spec: Json): Promise<void>;
  /** Waits until a condition has the status (and reason, when given); returns the object. */
  /** Until the condition has this status (and reason, and a message matching `message`). */
  waitFor(type: string, status: string, reason?: string, timeoutMs?: number, message?: RegExp): Promise<Json>;
}

async function applyJson(object: Json): Promise<void> {
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-test", "-f", "-"],
    JSON.stringify(object),
  );
}

export interface TestCondition {
  readonly type: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

export function conditionOf(object: Json, type: string): TestCondition | undefined {
  const conditions = ((object["status"] ?? {}) as { conditions?: TestCondition[] }).conditions ?? [];
  return conditions.find((condition) => condition.type === type);
}

/** Creates a BackupLocation (and its Secret) on `s3`; deleted when the test ends. */
export async function createBackupLocation(
  t: TestContext,
  s3: S3Server,
  options: LocationOptions,
): Promise<TestLocation> {
  const { backupLocationCrd } = await import("../backup/location.ts");
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", "-f", "-"],
    JSON.stringify(backupLocationCrd()),
  );
  await kubectl([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    `crd/${BACKUP_LOCATION.plural}.vakt.dev`,
  ]);
  const id = randomBytes(3).toString("hex");
  const name = options.name ?? `offsite-${id}`;
  const secret = { namespace: options.veleroNamespace, name: `${name}-s3` };
  const setCredentials = (credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  }): Promise<void> =>
    applyJson({
      apiVersion: "v1",
      kind: "Secret",
      metadata: secret,
      stringData: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    });
  await setCredentials(options.credentials ?? s3);
  await applyJson({
    apiVersion: API_VERSION,
    kind: BACKUP_LOCATION.kind,
    metadata: { name, labels: { "vakt.dev/test-location": id } },
    spec: {
      s3: {
        bucket: options.bucket,
        region: options.region ?? s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentialsSecret: secret,
      },
      ...(options.jurisdiction === undefined ? {} : { jurisdiction: options.jurisdiction }),
      retention: { minimumDays: options.minimumDays ?? 1 },
      source: { veleroNamespace: options.veleroNamespace, storageLocation: "default" },
      ...(options.tenants === undefined ? {} : { tenants: options.tenants }),
    },
  });
  t.after(async () => {
    await kubectl(["delete", `${BACKUP_LOCATION.plural}.vakt.dev`, name, "--wait=false"]).catch(
      () => undefined,
    );
  });
  const read = async (): Promise<Json> => {
    const { stdout } = await kubectl(["get", `${BACKUP_LOCATION.plural}.vakt.dev`, name, "-o", "json"]);
    return JSON.parse(stdout) as Json;
  };
  return {
    name,
    patchSpec: async (spec) => {
      await kubectl([
        "patch",
        `${BACKUP_LOCATION.plural}.vakt.dev`,
        name,
        "--type=merge",
        "-p",
        JSON.stringify({ spec }),
      ]);
    },
    selector: `vakt.dev/test-location=${id}`,
    secret,
    setCredentials,
    read,
    waitFor: (type, status, reason, timeoutMs = 60_000, message) =>
      eventually(
        `BackupLocation ${name} ${type}=${status}${reason === undefined ? "" : ` (${reason})`}`,
        timeoutMs,
        async () => {
          const object = await read();
          const condition = conditionOf(object, type);
          return condition?.status === status &&
            (reason === undefined || condition.reason === reason) &&
            (message === undefined || message.test(condition.message ?? ""))
            ? object
            : undefined;
        },
      ),
  };
}

export interface BackupRunOptions {
  /** The location's label selector (TestLocation.selector). */
  readonly selector: string;
  /** Namespace of the Lease (an existing test namespace). */
  readonly leaseNamespace: string;
  readonly identity?: string;
  /** memory:// by default: the evidence history the run writes. */
  readonly evidenceUrl?: string;
  readonly backup?: Omit<BackupPartOptions, "evidence" | "locationSelector">;
}

/** `vakt run --parts backup` in-process; stopped when the test ends (or by `close()`). */
export async function startBackupRun(
  t: TestContext | undefined,
  options: BackupRunOptions,
): Promise<RunningManager> {
  const running = await startManager({
    kubeconfig: testKubeConfig(),
    parts: ["backup"],
    installCrds: true,
    webhookHost: "127.0.0.1",
    webhookPort: 0,
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system"],
    controller: {
      leaseNamespace: options.leaseNamespace,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
    },
    probes: { host: "127.0.0.1", port: 0 },
    logger: pino({ level: "warn" }),
    evidence: { url: options.evidenceUrl ?? "memory://", cluster: "test" },
    backup: {
      // Short backoff: the fault tests wait for retries.
      queue: { baseDelayMs: 200, maxDelayMs: 2_000 },
      ...options.backup,
      locationSelector: options.selector,
    },
  });
  t?.after(() => running.close());
  return running;
}

export interface DrillStack {
  readonly s3: S3Server;
  /** The primary's Velero, on bucket "velero". */
  readonly velero: VeleroServer;
  /** The drill's Velero: its one location, "offsite", reads the off-site bucket ReadOnly (ADR 0028). */
  readonly drillVelero: VeleroServer;
  /** A BackupLocation on the off-site bucket "offsite" whose source is the primary's Velero. */
  readonly location: TestLocation;
}

/**
 * What a restore drill needs, for drill tests and bench/backup-drill.ts: versitygw with Velero's
 * bucket and an off-site bucket under Object Lock (COMPLIANCE, 1 day), both Velero servers side by
 * side, and a BackupLocation. Everything is stopped or deleted when the test ends.
 */
export async function startDrillStack(t: TestContext): Promise<DrillStack> {
  const s3 = await startS3(t);
  await createBackupBuckets(s3, { primary: "velero", offsite: "offsite", retentionDays: 1 });
  const velero = await startVelero(t, { s3, bucket: "velero" });
  const drillVelero = await startVelero(t, {
    s3,
    bucket: "offsite",
    accessMode: "ReadOnly",
    locationName: "offsite",
  });
  const location = await createBackupLocation(t, s3, {
    bucket: "offsite",
    veleroNamespace: velero.namespace,
  });
  return { s3, velero, drillVelero, location };
}

/** A Completed Velero Backup of `namespace`, labelled as a Tenant's Schedule labels its backups. */
export async function tenantBackup(
  velero: VeleroServer,
  name: string,
  namespace: string,
  tenant: string,
): Promise<void> {
  await velero.backup(name, { includedNamespaces: [namespace], ttl: "72h0m0s" });
  await kubectl(["-n", velero.namespace, "label", "backups.velero.io", name, `vakt.dev/tenant=${tenant}`]);
}
