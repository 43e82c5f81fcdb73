// The copier against the real S3 server alone (no cluster): objects copied in parts are verified
// against their composite SHA-256, a second run finds every object and writes nothing, and a
// tarball whose gzip data is damaged is refused even when the primary's own checksum matches it
// (the damage was uploaded again: the checksum is of the damaged bytes).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { ListObjectVersionsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { copyBackup, IntegrityError, readManifest, verifyCopy } from "../../src/backup/copier.ts";
import { bucketOf } from "../../src/backup/s3.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";

describe("the off-site copier", () => {
  it("copies in parts, verifies, and copies nothing twice; a damaged gzip is refused", async (t) => {
    const server = await startS3(t);
    await createBackupBuckets(server, { primary: "velero", offsite: "offsite" });
    const s3 = server.client();
    const tarball = gzipSync(randomBytes(12 * 1024 * 1024), { level: 1 });
    await s3.send(new PutObjectCommand({ Bucket: "velero", Key: "backups/big/big.tar.gz", Body: tarball }));
    await s3.send(
      new PutObjectCommand({ Bucket: "velero", Key: "backups/big/velero-backup.json", Body: "{}" }),
    );
    const primary = bucketOf(s3, "velero", undefined);
    const offsite = bucketOf(s3, "offsite", "cluster-a");
    const retainUntil = new Date(Date.now() + 3600_000);

    // Parts from 5 MiB on (S3's smallest part): the 12 MiB tarball goes in three, the rest streamed.
    const first = await copyBackup({
      primary,
      offsite,
      backup: "big",
      retainUntil,
      partSize: 5 * 1024 * 1024,
      multipartThreshold: 5 * 1024 * 1024,
    });
    assert.equal(first.copied, 2);
    assert.equal(first.bytes, tarball.length + 2);
    const manifest = await readManifest(offsite, "big");
    assert.ok(manifest !== undefined);
    assert.deepEqual(await verifyCopy(offsite, manifest), []);

    const second = await copyBackup({
      primary,
      offsite,
      backup: "big",
      retainUntil,
      partSize: 5 * 1024 * 1024,
      multipartThreshold: 5 * 1024 * 1024,
    });
    assert.equal(second.copied, 0);
    assert.equal(second.present, 2);
    const versions = await s3.send(
      new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: "cluster-a/backups/big/" }),
    );
    assert.equal(versions.Versions?.length, 2, "one version per object after two runs");

    const damaged = Buffer.from(tarball);
    const at = Math.floor(damaged.length / 2);
    damaged[at] = (damaged[at] ?? 0) ^ 0xff;
    await s3.send(new PutObjectCommand({ Bucket: "velero", Key: "backups/bad/bad.tar.gz", Body: damaged }));
    await assert.rejects(
      copyBackup({ primary, offsite, backup: "bad", retainUntil }),
      (error: unknown) =>
        error instanceof IntegrityError &&
        error.problem === "corrupt" &&
        error.key === "backups/bad/bad.tar.gz" &&
        /^backup bad: backups\/bad\/bad\.tar\.gz: gzip check failed/.test(error.message),
    );
    assert.equal(await readManifest(offsite, "bad"), undefined);
    const bad = await s3.send(
      new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: "cluster-a/backups/bad/" }),
    );
    assert.equal(bad.Versions?.length ?? 0, 0, "the aborted upload left no locked version behind");
  });
});
