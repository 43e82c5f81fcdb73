// The S3 server the backup tests run on (versitygw, POSIX backend) really enforces Object Lock:
// a version written to the off-site bucket with COMPLIANCE retention (or held by the bucket's
// default) cannot be deleted, overwritten away or have its retention shortened, by the root user
// either.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
} from "@aws-sdk/client-s3";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";

/** The error name of a rejected S3 call, or "resolved" when it did not fail. */
async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "resolved";
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

describe("versitygw with Object Lock (the off-site bucket of the backup tests)", () => {
  it("keeps a locked version through delete, overwrite and a shorter retention", async (t) => {
    const server = await startS3(t);
    await createBackupBuckets(server, { primary: "velero", offsite: "offsite", retentionDays: 1 });
    const s3 = server.client();

    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: "offsite" }));
    assert.equal(lock.ObjectLockConfiguration?.ObjectLockEnabled, "Enabled");
    assert.equal(lock.ObjectLockConfiguration.Rule?.DefaultRetention?.Mode, "COMPLIANCE");
    assert.equal(lock.ObjectLockConfiguration.Rule.DefaultRetention.Days, 1);

    // A version written with its own COMPLIANCE retention, as vakt writes its copies.
    const until = new Date(Date.now() + 86_400_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: "offsite",
        Key: "backups/b1/b1.tar.gz",
        Body: "original",
        ObjectLockMode: "COMPLIANCE",
        ObjectLockRetainUntilDate: until,
      }),
    );
    const versionId = put.VersionId;
    assert.ok(versionId !== undefined && versionId !== "", "the off-site bucket is versioned");
    const retention = await s3.send(
      new GetObjectRetentionCommand({ Bucket: "offsite", Key: "backups/b1/b1.tar.gz", VersionId: versionId }),
    );
    assert.equal(retention.Retention?.Mode, "COMPLIANCE");
    assert.ok(Math.abs((retention.Retention.RetainUntilDate?.getTime() ?? 0) - until.getTime()) < 1_000);

    // A version without retention of its own is held by the bucket's default retention.
    const plain = await s3.send(new PutObjectCommand({ Bucket: "offsite", Key: "plain", Body: "x" }));
    assert.equal(
      await failure(
        s3.send(new DeleteObjectCommand({ Bucket: "offsite", Key: "plain", VersionId: plain.VersionId })),
      ),
      "AccessDenied",
    );

    // Deleting the version, even asking to bypass governance retention, is refused.
    assert.equal(
      await failure(
        s3.send(
          new DeleteObjectCommand({ Bucket: "offsite", Key: "backups/b1/b1.tar.gz", VersionId: versionId }),
        ),
      ),
      "AccessDenied",
    );
    assert.equal(
      await failure(
        s3.send(
          new DeleteObjectCommand({
            Bucket: "offsite",
            Key: "backups/b1/b1.tar.gz",
            VersionId: versionId,
            BypassGovernanceRetention: true,
          }),
        ),
      ),
      "AccessDenied",
    );
    // COMPLIANCE retention cannot be shortened.
    assert.notEqual(
      await failure(
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: "offsite",
            Key: "backups/b1/b1.tar.gz",
            VersionId: versionId,
            Retention: { Mode: "COMPLIANCE", RetainUntilDate: new Date(Date.now() + 60_000) },
          }),
        ),
      ),
      "resolved",
    );

    // An overwrite and a delete without a version only stack a new version and a delete marker.
    await s3.send(new PutObjectCommand({ Bucket: "offsite", Key: "backups/b1/b1.tar.gz", Body: "ransom" }));
    await s3.send(new DeleteObjectCommand({ Bucket: "offsite", Key: "backups/b1/b1.tar.gz" }));
    const kept = await s3.send(
      new GetObjectCommand({ Bucket: "offsite", Key: "backups/b1/b1.tar.gz", VersionId: versionId }),
    );
    assert.equal(await kept.Body?.transformToString(), "original");

    // The primary (Velero's) bucket is a plain bucket: its objects can be deleted.
    await s3.send(new PutObjectCommand({ Bucket: "velero", Key: "x", Body: "y" }));
    assert.equal(await failure(s3.send(new DeleteObjectCommand({ Bucket: "velero", Key: "x" }))), "resolved");
  });
});
