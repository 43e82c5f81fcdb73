/**
 * The backup stack beside a local control plane (`vakt dev up --backups`), and the pieces of it
 * the tests share (src/testing/s3.ts, velero.ts): versitygw (S3 with Object Lock; POSIX backend
 * with a versioning directory) with Velero's bucket and an off-site bucket under a COMPLIANCE
 * default retention; Velero's own CRDs from the Go module cache; two `velero server`s run as host
 * processes with the admin kubeconfig: the primary's (namespace velero, location default on
 * Velero's bucket) and the restore drills' (namespace vakt-drill, location offsite on the off-site
 * bucket, ReadOnly; ADR 0028). Binaries from scripts/build-backup-tools.sh. Every server listens on
 * 127.0.0.1 only. The processes are recorded in <state dir>/backups/state.json; `stopBackups`
 * stops them.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { goModuleDir } from "./go-modules.ts";
import { freePort, isOurProcess, startDetached, stopProcess, tail } from "./processes.ts";

const VELERO_MODULE = "github.com/vmware-tanzu/velero";
const VELERO_GO_MOD = resolve(import.meta.dirname, "../../tools/velero/go.mod");

/** The Velero release tools/velero/go.mod pins (the binary and the CRDs come from the same one). */
export function veleroVersion(): string {
  const match = /^\s*github\.com\/vmware-tanzu\/velero (v\S+)/m.exec(readFileSync(VELERO_GO_MOD, "utf8"));
  if (match?.[1] === undefined) throw new Error(`${VELERO_GO_MOD} does not require ${VELERO_MODULE}`);
  return match[1];
}

/** Velero's own CRD files (v1 and v2alpha1 bases) in the Go module cache. */
export async function veleroCrdFiles(): Promise<string[]> {
  const dir = await goModuleDir(VELERO_MODULE, veleroVersion());
  return ["config/crd/v1/bases", "config/crd/v2alpha1/bases"].map((sub) => join(dir, sub));
}

/** The velero binary and its plugin directory, or an error saying how to build them. */
export function veleroBinaries(binDir: string): { readonly velero: string; readonly pluginDir: string } {
  const velero = join(binDir, "velero");
  const pluginDir = join(binDir, "plugins");
  if (!existsSync(velero) || !existsSync(join(pluginDir, "velero-plugin-for-aws")))
    throw new Error(
      `Velero is not built (looked for ${velero} and ${pluginDir}/velero-plugin-for-aws); run \`bash scripts/build-backup-tools.sh\` (npm run setup does), or set VAKT_BACKUP_BIN_DIR`,
    );
  return { velero, pluginDir };
}

/** The versitygw binary, or an error saying how to build it. */
export function versitygwBinary(binDir: string): string {
  const binary = join(binDir, "versitygw");
  if (!existsSync(binary))
    throw new Error(
      `versitygw is not built (looked for ${binary}); run \`bash scripts/build-backup-tools.sh\` (npm run setup does), or set VAKT_BACKUP_BIN_DIR`,
    );
  return binary;
}

/** versitygw's command line: POSIX backend, versioning (Object Lock needs it), 127.0.0.1 only. */
export function versitygwArgs(port: number, region: string, dataDir: string, versionsDir: string): string[] {
  return [
    "--port",
    `127.0.0.1:${port}`,
    "--region",
    region,
    "--health",
    "/health",
    "--quiet",
    "posix",
    "--versioning-dir",
    versionsDir,
    dataDir,
  ];
}

/** versitygw's root credentials go through its environment, not the command line (which `ps` shows). */
export function versitygwEnv(accessKeyId: string, secretAccessKey: string): Record<string, string> {
  return { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey };
}

export interface BackupBuckets {
  /** Velero's bucket: plain, unversioned (Velero rewrites its metadata; ADR 0026). */
  readonly primary: string;
  /** The off-site bucket: Object Lock on, default retention in COMPLIANCE mode. */
  readonly offsite: string;
  /** Default retention of the off-site bucket, in days (default 1). */
  readonly retentionDays?: number;
}

/** Creates Velero's bucket and an off-site bucket with Object Lock and a COMPLIANCE default retention. */
export async function createBackupBuckets(s3: S3Client, buckets: BackupBuckets): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: buckets.primary }));
  await s3.send(new CreateBucketCommand({ Bucket: buckets.offsite, ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: buckets.offsite,
      ObjectLockConfiguration: {
        ObjectLockEnabled: "Enabled",
        Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: buckets.retentionDays ?? 1 } },
      },
    }),
  );
}

/** The credentials file velero-plugin-for-aws reads (the AWS shared credentials format). */
export function awsCredentialsFile(accessKeyId: string, secretAccessKey: string): string {
  return `[default]\naws_access_key_id=${accessKeyId}\naws_secret_access_key=${secretAccessKey}\n`;
}

export interface VeleroSetup {
  readonly namespace: string;
  readonly locationName: string;
  readonly bucket: string;
  readonly prefix?: string;
  /** A restore drill's Velero reads its location ReadOnly. */
  readonly accessMode?: "ReadOnly";
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
}

/**
 * What one `velero server` outside the cluster needs in its namespace: the namespace, the cloud
 * credentials Secret, a record of its Deployment, and its one BackupStorageLocation.
 */
export function veleroObjects(setup: VeleroSetup): Record<string, unknown>[] {
  const { namespace, s3 } = setup;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "cloud-credentials", namespace },
      stringData: { cloud: awsCredentialsFile(s3.accessKeyId, s3.secretAccessKey) },
    },
    // Velero's restores read the image of its own Deployment "velero" (the pod-volume restore
    // action is built for every restore and fails it without one). In a cluster it runs as that
    // Deployment; here it runs outside, so the Deployment is a record with no replicas.
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "velero", namespace },
      spec: {
        replicas: 0,
        selector: { matchLabels: { deploy: "velero" } },
        template: {
          metadata: { labels: { deploy: "velero" } },
          spec: { containers: [{ name: "velero", image: `velero/velero:${veleroVersion()}` }] },
        },
      },
    },
    {
      apiVersion: "velero.io/v1",
      kind: "BackupStorageLocation",
      metadata: { name: setup.locationName, namespace },
      spec: {
        provider: "aws",
        default: true,
        ...(setup.accessMode === undefined ? {} : { accessMode: setup.accessMode }),
        objectStorage: {
          bucket: setup.bucket,
          ...(setup.prefix === undefined ? {} : { prefix: setup.prefix }),
        },
        config: { region: s3.region, s3ForcePathStyle: "true", s3Url: s3.endpoint },
        credential: { name: "cloud-credentials", key: "cloud" },
      },
    },
  ];
}

/** `velero server`'s command line: its metrics on 127.0.0.1, pprof off, no node agent. */
export function veleroServerArgs(options: {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly pluginDir: string;
  readonly metricsPort: number;
}): string[] {
  return [
    "server",
    `--kubeconfig=${options.kubeconfig}`,
    `--namespace=${options.namespace}`,
    `--plugin-dir=${options.pluginDir}`,
    `--metrics-address=127.0.0.1:${String(options.metricsPort)}`,
    // Velero's pprof listener defaults to :6060 on every interface; off.
    "--profiler-address=",
    "--log-format=json",
    // Locations are validated every 10 s (default 1 min), so Available comes soon.
    "--store-validation-frequency=10s",
  ];
}

// ---------------------------------------------------------------------------------------------
// `vakt dev up --backups`

export interface BackupStackOptions {
  readonly stateDir: string;
  /** The admin kubeconfig of the control plane. */
  readonly kubeconfig: string;
  /** Where kubectl is (the control plane's binaries). */
  readonly binDir: string;
  /** Where velero, its plugins and versitygw are (scripts/build-backup-tools.sh). */
  readonly backupBinDir: string;
  /** Default retention of the off-site bucket in days (default 1). */
  readonly retentionDays?: number;
  readonly progress?: (line: string) => void;
}

export interface BackupStack {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly primaryBucket: string;
  readonly offsiteBucket: string;
  /** The primary's Velero and the drills' Velero, with their locations. */
  readonly velero: { readonly namespace: string; readonly location: string };
  readonly drillVelero: { readonly namespace: string; readonly location: string };
  readonly processes: readonly { readonly name: string; readonly pid: number; readonly log: string }[];
}

/** The dev stack's region: the one the example tenants (examples/tenants) keep their data in. */
const REGION = "se-north";

function stackDir(stateDir: string): string {
  return join(stateDir, "backups");
}

function kubectl(options: BackupStackOptions, args: readonly string[], input?: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = execFile(
      join(options.binDir, "kubectl"),
      [`--kubeconfig=${options.kubeconfig}`, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) fail(new Error(`kubectl ${args.slice(0, 3).join(" ")}: ${stderr || error.message}`));
        else done(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${String(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops what an earlier `startBackups` of this state directory started, and removes its data. */
export async function stopBackups(stateDir: string): Promise<string[]> {
  const file = join(stackDir(stateDir), "state.json");
  if (!existsSync(file)) return [];
  const state = JSON.parse(readFileSync(file, "utf8")) as BackupStack;
  const stopped: string[] = [];
  for (const process of [...state.processes].reverse())
    if (isOurProcess(process.pid, stateDir)) {
      await stopProcess(process.pid, stateDir, 10_000);
      stopped.push(process.name);
    }
  rmSync(stackDir(stateDir), { recursive: true, force: true });
  return stopped;
}

/**
 * Starts versitygw with the two buckets and both Velero servers against the control plane of
 * `options.kubeconfig`, and waits until both Velero locations are Available. An earlier stack
 * of the same state directory is stopped first.
 */
export async function startBackups(options: BackupStackOptions): Promise<BackupStack> {
  const progress = options.progress ?? (() => undefined);
  const versitygw = versitygwBinary(options.backupBinDir);
  const { velero, pluginDir } = veleroBinaries(options.backupBinDir);
  await stopBackups(options.stateDir);
  const dir = stackDir(options.stateDir);
  const dataDir = join(dir, "s3", "data");
  const versionsDir = join(dir, "s3", "versions");
  const logs = join(dir, "logs");
  for (const each of [dataDir, versionsDir, logs]) mkdirSync(each, { recursive: true });
  const processes: { name: string; pid: number; log: string }[] = [];
  const stack = (): BackupStack => ({ ...partial, processes });
  const save = (): void => {
    writeFileSync(join(dir, "state.json"), `${JSON.stringify(stack(), null, 2)}\n`, { mode: 0o600 });
  };

  const port = await freePort();
  const accessKeyId = `vakt${randomBytes(8).toString("hex")}`;
  const secretAccessKey = randomBytes(24).toString("base64url");
  const endpoint = `http://127.0.0.1:${String(port)}`;
  const partial = {
    endpoint,
    region: REGION,
    accessKeyId,
    secretAccessKey,
    primaryBucket: "velero",
    offsiteBucket: "offsite",
    velero: { namespace: "velero", location: "default" },
    drillVelero: { namespace: "vakt-drill", location: "offsite" },
  };
  try {
    progress(`starting versitygw (S3 with Object Lock) on ${endpoint}`);
    const s3log = join(logs, "versitygw.log");
    const s3process = startDetached(
      versitygw,
      versitygwArgs(port, REGION, dataDir, versionsDir),
      s3log,
      versitygwEnv(accessKeyId, secretAccessKey),
    );
    processes.push({ name: "versitygw", pid: s3process.pid, log: s3log });
    save();
    await until("versitygw answering /health", 30_000, async () =>
      (await fetch(`${endpoint}/health`)).ok ? true : undefined,
    ).catch((error: unknown) => {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; last lines of ${s3log}:\n${tail(s3log, 15)}`,
      );
    });
    const s3 = new S3Client({
      endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
    try {
      await createBackupBuckets(s3, {
        primary: partial.primaryBucket,
        offsite: partial.offsiteBucket,
        retentionDays: options.retentionDays ?? 1,
      });
    } finally {
      s3.destroy();
    }
    progress(
      `buckets ${partial.primaryBucket} (Velero's) and ${partial.offsiteBucket} (Object Lock, COMPLIANCE, ${String(options.retentionDays ?? 1)} day(s) default retention)`,
    );

    const crds: string[] = [];
    for (const crdDir of await veleroCrdFiles())
      crds.push(
        ...(
          await kubectl(options, ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", crdDir])
        )
          .trim()
          .split("\n"),
      );
    await kubectl(options, ["wait", "--for=condition=Established", "--timeout=60s", ...crds]);
    const credentials = { endpoint, region: REGION, accessKeyId, secretAccessKey };
    const servers = [
      { ...partial.velero, bucket: partial.primaryBucket, name: "velero" },
      {
        ...partial.drillVelero,
        bucket: partial.offsiteBucket,
        name: "velero-drill",
        accessMode: "ReadOnly" as const,
      },
    ];
    for (const server of servers) {
      await kubectl(
        options,
        ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-dev", "-f", "-"],
        JSON.stringify({
          apiVersion: "v1",
          kind: "List",
          items: veleroObjects({
            namespace: server.namespace,
            locationName: server.location,
            bucket: server.bucket,
            ...(server.name === "velero-drill" ? { accessMode: "ReadOnly" as const } : {}),
            s3: credentials,
          }),
        }),
      );
      const home = join(dir, server.name);
      mkdirSync(home, { recursive: true });
      const log = join(logs, `${server.name}.log`);
      progress(
        `starting velero server in namespace ${server.namespace} (location ${server.location} on bucket ${server.bucket})`,
      );
      const started = startDetached(
        velero,
        veleroServerArgs({
          kubeconfig: options.kubeconfig,
          namespace: server.namespace,
          pluginDir,
          metricsPort: await freePort(),
        }),
        log,
        { HOME: home, TMPDIR: home },
      );
      processes.push({ name: server.name, pid: started.pid, log });
      save();
    }
    for (const server of servers)
      await until(
        `BackupStorageLocation ${server.namespace}/${server.location} Available`,
        180_000,
        async () => {
          const phase = await kubectl(options, [
            "-n",
            server.namespace,
            "get",
            "backupstoragelocations.velero.io",
            server.location,
            "-o",
            "jsonpath={.status.phase}",
          ]);
          return phase === "Available" ? true : undefined;
        },
      ).catch((error: unknown) => {
        const log = processes.find((p) => p.name === server.name)?.log ?? "";
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}; last lines of ${log}:\n${tail(log, 15)}`,
        );
      });
    return stack();
  } catch (error) {
    await stopBackups(options.stateDir);
    throw error;
  }
}
