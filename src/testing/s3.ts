/**
 * A real S3 server for tests and benchmarks: versitygw (built from its Go module by
 * scripts/build-backup-tools.sh) with its POSIX backend in a temporary directory, on a free port
 * of 127.0.0.1, with a root access key generated per start. `--versioning-dir` turns on bucket
 * versioning in the POSIX backend, which Object Lock needs: a bucket created with
 * ObjectLockEnabledForBucket is versioned, and a locked version survives overwrites and deletes.
 *
 *   const s3 = await startS3(t);                       // stopped when the test ends
 *   await createBackupBuckets(s3, { primary: "velero", offsite: "offsite", retentionDays: 1 });
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { S3Client } from "@aws-sdk/client-s3";
import { setting } from "../config/settings.ts";
import {
  createBackupBuckets as createBuckets,
  versitygwArgs,
  versitygwBinary as binaryIn,
  versitygwEnv,
} from "../devcluster/backups.ts";
import type { BackupBuckets } from "../devcluster/backups.ts";
import { freePort, tail } from "../devcluster/processes.ts";
import { startTestProcess } from "./process.ts";

export interface S3Server {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The POSIX backend's root: one directory per bucket, one file per object. */
  readonly dataDir: string;
  readonly logFile: string;
  readonly pid: number;
  /** A client with the root credentials (path-style: buckets are not DNS names here). */
  client(): S3Client;
  /** Stops the server (SIGTERM, then SIGKILL); `keepData` keeps its directory for a restart. */
  stop(options?: { readonly keepData?: boolean }): Promise<void>;
}

export interface StartS3Options {
  readonly region?: string;
  /** Reuse a directory (a restart after stop({ keepData: true })) and its credentials. */
  readonly reuse?: Pick<S3Server, "dataDir" | "accessKeyId" | "secretAccessKey">;
  /** Listen on this port (a restart on the same endpoint); default a free one. */
  readonly port?: number;
}

/** The versitygw binary, or an error saying how to build it. */
export function versitygwBinary(): string {
  return binaryIn(setting("backupBinDir"));
}

/**
 * Starts versitygw and waits until it answers its health path. With a test context, the server
 * is stopped (and its directory removed) when the test ends.
 */
export async function startS3(t?: TestContext, options: StartS3Options = {}): Promise<S3Server> {
  const binary = versitygwBinary();
  const base =
    options.reuse?.dataDir === undefined
      ? mkdtempSync(join(tmpdir(), "vakt-s3-"))
      : join(options.reuse.dataDir, "..");
  const dataDir = join(base, "data");
  const versionsDir = join(base, "versions");
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(versionsDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const region = options.region ?? "eu-north-1";
  const accessKeyId = options.reuse?.accessKeyId ?? `vakt${randomBytes(8).toString("hex")}`;
  const secretAccessKey = options.reuse?.secretAccessKey ?? randomBytes(24).toString("base64url");
  // Credentials through the environment, not the command line (which `ps` shows).
  const server = startTestProcess(
    binary,
    versitygwArgs(port, region, dataDir, versionsDir),
    versitygwEnv(accessKeyId, secretAccessKey),
    join(base, "versitygw.log"),
  );
  const { pid, logFile } = server;
  const endpoint = `http://127.0.0.1:${port}`;
  let client: S3Client | undefined;
  let stopped = false;
  const stop = async (stopOptions: { readonly keepData?: boolean } = {}): Promise<void> => {
    if (!stopped) {
      stopped = true;
      client?.destroy();
      await server.stop();
    }
    if (stopOptions.keepData !== true) rmSync(base, { recursive: true, force: true });
  };
  t?.after(() => stop());
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!server.alive()) {
      await stop({ keepData: true });
      throw new Error(`versitygw exited at start; last lines of ${logFile}:\n${tail(logFile, 20)}`);
    }
    const healthy = await fetch(`${endpoint}/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop({ keepData: true });
      throw new Error(`versitygw did not answer ${endpoint}/health within 20 s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    dataDir,
    logFile,
    pid,
    client: () =>
      (client ??= new S3Client({
        endpoint,
        region,
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        // Streamed uploads in 64 KiB aws-chunked frames (S3 refuses frames under 8 KiB but the last).
        requestStreamBufferSize: 65_536,
      })),
    stop,
  };
}

export type { BackupBuckets };

/** Creates Velero's bucket and an off-site bucket with Object Lock and a COMPLIANCE default retention. */
export async function createBackupBuckets(server: S3Server, buckets: BackupBuckets): Promise<void> {
  await createBuckets(server.client(), buckets);
}
