/**
 * The lock check of an off-site bucket: Object Lock on, versioning on, default retention in
 * COMPLIANCE mode and at least the policy's days, and a proof by trial: a canary object is
 * written without retention of its own (so only the bucket's default protects it), then deleted
 * by version, with and without asking to bypass governance retention. Both deletes must be
 * refused and the canary must still be there. A configuration can say "locked" while the server
 * does not enforce it; only the trial shows enforcement.
 *
 * The canary's own retention is not read back: S3 stamps the default on each new version, but
 * versitygw enforces the default from the bucket's lock configuration instead (ADR 0026), so
 * GetObjectRetention has nothing to return there. Copies never rely on the default: each is
 * written with its own COMPLIANCE retention and checked (copier.ts).
 *
 * Canaries (metadata/vakt-lock-canary/<time>) stay for the bucket's default retention: one per check.
 */
import { randomBytes } from "node:crypto";
import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import type { Bucket } from "./s3.ts";
import { isNotFound } from "./copier.ts";

/** Under metadata/: see copier.ts MANIFEST_DIR (Velero refuses a location with other top-level directories). */
export const CANARY_DIR = "metadata/vakt-lock-canary/";

export interface LockCheckResult {
  readonly time: string;
  readonly passed: boolean;
  /** What failed, in words a person can act on (empty when passed). */
  readonly problems: readonly string[];
  readonly mode?: string;
  /** The bucket's default retention in days. */
  readonly defaultDays?: number;
  readonly canary?: {
    readonly key: string;
    readonly versionId: string;
    readonly deleteRefused: boolean;
    readonly stillThere: boolean;
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

async function refused(call: Promise<unknown>): Promise<{ refused: boolean; name: string }> {
  try {
    await call;
    return { refused: false, name: "accepted" };
  } catch (error) {
    return { refused: true, name: errorName(error) };
  }
}

/**
 * Runs the check. Throws when the bucket cannot be asked at all (unreachable, credentials
 * refused): that is "not checked", not "failed".
 */
export async function checkLock(
  offsite: Bucket,
  minimumDays: number,
  now: Date = new Date(),
): Promise<LockCheckResult> {
  const problems: string[] = [];
  const where = offsite.describe;
  let mode: string | undefined;
  let defaultDays: number | undefined;
  try {
    const lock = await offsite.client.send(new GetObjectLockConfigurationCommand({ Bucket: offsite.bucket }));
    const config = lock.ObjectLockConfiguration;
    if (config?.ObjectLockEnabled !== "Enabled")
      problems.push(`${where}: Object Lock is not enabled on the bucket`);
    const retention = config?.Rule?.DefaultRetention;
    mode = retention?.Mode;
    defaultDays = retention?.Days ?? (retention?.Years === undefined ? undefined : retention.Years * 365);
    if (retention === undefined)
      problems.push(
        `${where}: the bucket has no default retention; set one in COMPLIANCE mode of at least ${minimumDays} days`,
      );
    else {
      if (mode !== "COMPLIANCE")
        problems.push(
          `${where}: the default retention is in ${mode ?? "no"} mode; COMPLIANCE is required (GOVERNANCE can be bypassed)`,
        );
      if (defaultDays === undefined || defaultDays < minimumDays)
        problems.push(
          `${where}: the default retention is ${defaultDays ?? 0} days, below the policy's ${minimumDays}`,
        );
    }
  } catch (error) {
    if (
      errorName(error) !== "ObjectLockConfigurationNotFoundError" &&
      !/ObjectLockConfiguration/.test(errorName(error))
    )
      throw error;
    problems.push(
      `${where}: Object Lock is not enabled on the bucket (it can only be enabled when the bucket is created, or on a versioned bucket)`,
    );
  }
  const versioning = await offsite.client.send(new GetBucketVersioningCommand({ Bucket: offsite.bucket }));
  if (versioning.Status !== "Enabled")
    problems.push(`${where}: versioning is ${versioning.Status ?? "off"}; Object Lock needs it on`);

  const key = `${offsite.prefix}${CANARY_DIR}${now.toISOString().replace(/[:.]/g, "-")}-${randomBytes(3).toString("hex")}`;
  const put = await offsite.client.send(
    new PutObjectCommand({
      Bucket: offsite.bucket,
      Key: key,
      Body: `vakt lock canary ${now.toISOString()}\n`,
    }),
  );
  const versionId = put.VersionId ?? "";
  if (versionId === "") {
    problems.push(`${where}: a write returned no version id: the bucket does not keep versions`);
    return {
      time: now.toISOString(),
      passed: false,
      problems,
      ...(mode === undefined ? {} : { mode }),
      ...(defaultDays === undefined ? {} : { defaultDays }),
    };
  }
  const plain = await refused(
    offsite.client.send(new DeleteObjectCommand({ Bucket: offsite.bucket, Key: key, VersionId: versionId })),
  );
  const bypass = await refused(
    offsite.client.send(
      new DeleteObjectCommand({
        Bucket: offsite.bucket,
        Key: key,
        VersionId: versionId,
        BypassGovernanceRetention: true,
      }),
    ),
  );
  if (!plain.refused)
    problems.push(`${where}: deleting a locked version was accepted: the lock is not enforced`);
  else if (!bypass.refused)
    problems.push(
      `${where}: deleting a locked version with governance bypass was accepted: the lock is not COMPLIANCE`,
    );
  let stillThere = true;
  try {
    await offsite.client.send(
      new HeadObjectCommand({ Bucket: offsite.bucket, Key: key, VersionId: versionId }),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
    stillThere = false;
    if (plain.refused && bypass.refused)
      problems.push(`${where}: the canary version is gone although its deletes were refused`);
  }
  return {
    time: now.toISOString(),
    passed: problems.length === 0,
    problems,
    ...(mode === undefined ? {} : { mode }),
    ...(defaultDays === undefined ? {} : { defaultDays }),
    canary: { key, versionId, deleteRefused: plain.refused && bypass.refused, stillThere },
  };
}
