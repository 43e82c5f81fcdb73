/**
 * A real Velero server for integration tests and benchmarks, against the shared test control
 * plane: `velero server` (built from its Go module by scripts/build-backup-tools.sh) with a
 * kubeconfig, in a namespace of its own, with velero-plugin-for-aws from a plugin directory,
 * Velero's own CRDs (config/crd/v1/bases and v2alpha1/bases of the pinned module, from the Go module cache) and a
 * BackupStorageLocation on an S3 server of src/testing/s3.ts. No node agent and no volume
 * snapshot locations: backups hold Kubernetes objects only.
 *
 *   const s3 = await startS3(t);
 *   await createBackupBuckets(s3, { primary: "velero", offsite: "offsite" });
 *   const velero = await startVelero(t, { s3, bucket: "velero" });
 *   const backup = await velero.backup("b1", { includedNamespaces: [namespace] });  // Completed
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setting } from "../config/settings.ts";
import {
  veleroBinaries as binariesIn,
  veleroCrdFiles,
  veleroObjects,
  veleroServerArgs,
} from "../devcluster/backups.ts";
import { freePort, tail } from "../devcluster/processes.ts";
import type { Json } from "../kube/client.ts";
import { eventually, kubectl, testKubeconfigPath } from "./cluster.ts";
import { startTestProcess } from "./process.ts";
import type { TestProcess } from "./process.ts";
import type { S3Server } from "./s3.ts";

/** Applies Velero's CRDs to the test control plane and waits until they are served. */
export async function installVeleroCrds(): Promise<void> {
  const names: string[] = [];
  for (const dir of await veleroCrdFiles()) {
    const { stdout } = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "-o",
      "name",
      "-f",
      dir,
    ]);
    names.push(...stdout.trim().split("\n"));
  }
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names]);
}

export interface StartVeleroOptions {
  readonly s3: S3Server;
  /** Velero's (primary) bucket on that server. */
  readonly bucket: string;
  /** Prefix inside the bucket (default none). */
  readonly prefix?: string;
  /** Velero's namespace (default velero-<random>: tests run side by side on one control plane). */
  readonly namespace?: string;
  /** The BackupStorageLocation's name (default "default"). */
  readonly locationName?: string;
  /** The location's access mode (default Velero's, ReadWrite); a restore drill's Velero reads ReadOnly. */
  readonly accessMode?: "ReadOnly";
}

export interface BackupSpec {
  readonly includedNamespaces: readonly string[];
  /** Go duration (default 720h0m0s, Velero's). */
  readonly ttl?: string;
}

export interface VeleroServer {
  readonly namespace: string;
  readonly locationName: string;
  readonly pid: number;
  readonly logFile: string;
  /** Creates a velero.io/v1 Backup and waits until it is Completed (throws naming its phase otherwise). */
  backup(name: string, spec: BackupSpec): Promise<Json>;
  /** Stops the server (SIGTERM, then SIGKILL); the namespace stays until the test ends. */
  stop(): Promise<void>;
}

/** The velero binary and its plugin directory, or an error saying how to build them. */
export function veleroBinaries(): { readonly velero: string; readonly pluginDir: string } {
  return binariesIn(setting("backupBinDir"));
}

async function applyJson(objects: readonly Json[]): Promise<void> {
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-test", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  );
}

async function getJson(kind: string, namespace: string, name: string): Promise<Json | undefined> {
  try {
    const { stdout } = await kubectl(["get", kind, "-n", namespace, name, "-o", "json"]);
    return JSON.parse(stdout) as Json;
  } catch {
    return undefined;
  }
}

/**
 * Starts `velero server` in a fresh namespace with a BackupStorageLocation on `options.s3` and
 * waits until the location is Available. Stopped, and its namespace deleted, when the test ends.
 */
export async function startVelero(t: TestContext, options: StartVeleroOptions): Promise<VeleroServer> {
  const { velero, pluginDir } = veleroBinaries();
  await installVeleroCrds();
  const namespace = options.namespace ?? `velero-${randomBytes(3).toString("hex")}`;
  const locationName = options.locationName ?? "default";
  const { s3 } = options;
  const objects = veleroObjects({
    namespace,
    locationName,
    bucket: options.bucket,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.accessMode === undefined ? {} : { accessMode: options.accessMode }),
    s3,
  });
  await applyJson(objects.slice(0, 1));
  t.after(async () => {
    await kubectl(["delete", "namespace", namespace, "--wait=false"]).catch(() => undefined);
  });
  await applyJson(objects.slice(1));

  const home = mkdtempSync(join(tmpdir(), "vakt-velero-"));
  const logFile = join(home, "velero.log");
  const metricsPort = await freePort();
  const launch = (): TestProcess =>
    startTestProcess(
      velero,
      veleroServerArgs({ kubeconfig: testKubeconfigPath(), namespace, pluginDir, metricsPort }),
      // HOME (Velero's client config) and TMPDIR (its credential files) of its own.
      { HOME: home, TMPDIR: home },
      logFile,
    );
  let server = launch();
  let starts = 1;
  const stop = (): Promise<void> => server.stop();
  t.after(async () => {
    await stop();
    rmSync(home, { recursive: true, force: true });
  });

  const failed = (what: string): Error =>
    new Error(`${what}; last lines of ${logFile}:\n${tail(logFile, 15)}`);
  let exited: Error | undefined;
  await eventually(`BackupStorageLocation ${namespace}/${locationName} Available`, 120_000, async () => {
    if (!server.alive()) {
      // On a loaded machine Velero can exit at start when its informers do not sync in time
      // ("failed waiting for ... Informer to sync"); its Deployment would restart it, so does this.
      if (starts >= 3) {
        exited = failed(`velero server exited ${starts} times`);
        return true;
      }
      starts++;
      server = launch();
      return undefined;
    }
    const location = await getJson("backupstoragelocations.velero.io", namespace, locationName);
    const phase = (location?.["status"] as { phase?: string } | undefined)?.phase;
    return phase === "Available" ? true : undefined;
  }).catch((error: unknown) => {
    throw failed(error instanceof Error ? error.message : String(error));
  });
  if (exited !== undefined) throw exited;

  return {
    namespace,
    locationName,
    get pid() {
      return server.pid;
    },
    logFile,
    stop,
    async backup(name, spec) {
      await applyJson([
        {
          apiVersion: "velero.io/v1",
          kind: "Backup",
          metadata: { name, namespace },
          spec: {
            includedNamespaces: spec.includedNamespaces,
            storageLocation: locationName,
            snapshotVolumes: false,
            includeClusterResources: false,
            ...(spec.ttl === undefined ? {} : { ttl: spec.ttl }),
          },
        },
      ]);
      return eventually(`Backup ${namespace}/${name} Completed`, 120_000, async () => {
        const backup = await getJson("backups.velero.io", namespace, name);
        const phase = (backup?.["status"] as { phase?: string } | undefined)?.phase;
        if (phase === "Completed") return backup;
        if (phase !== undefined && /Failed|PartiallyFailed/.test(phase))
          throw failed(`Backup ${namespace}/${name} ended ${phase}`);
        return undefined;
      });
    },
  };
}
