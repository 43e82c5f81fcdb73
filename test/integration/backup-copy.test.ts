// The off-site copy end to end on the real control plane, the real Velero and the real S3 server:
// a Backup completes -> vakt copies every object to the off-site bucket under COMPLIANCE retention
// and verifies it -> deleting a copy is refused -> evidence is recorded -> the lock check passes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DeleteObjectCommand,
  GetObjectRetentionCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { bucketOf } from "../../src/backup/s3.ts";
import { readManifest, verifyCopy } from "../../src/backup/copier.ts";
import type { EvidenceRecord } from "../../src/evidence/types.ts";
import { eventually, kubectl, withNamespace } from "../../src/testing/cluster.ts";
import { conditionOf, createBackupLocation, startBackupRun } from "../../src/testing/backup.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";
import { startVelero } from "../../src/testing/velero.ts";

async function records(run: Awaited<ReturnType<typeof startBackupRun>>): Promise<EvidenceRecord[]> {
  const store = run.backup?.evidence;
  assert.ok(store !== undefined, "the backup part runs with an evidence history");
  await store.flush();
  const out: EvidenceRecord[] = [];
  for await (const record of store.query({ kinds: ["backup.copied", "backup.lock-checked"] }))
    out.push(record);
  return out;
}

describe("off-site copies of Velero backups", () => {
  it("copies a completed backup under COMPLIANCE retention, verified, recorded, and undeletable", async (t) => {
    const app = await withNamespace(t, "backup-app");
    await kubectl(["-n", app, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    await kubectl(["-n", app, "create", "secret", "generic", "db", "--from-literal=password=s3cret"]);
    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite", retentionDays: 1 });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    const location = await createBackupLocation(t, s3, {
      bucket: "offsite",
      veleroNamespace: velero.namespace,
    });
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });

    await location.waitFor("LockVerified", "True", "Passed");
    await velero.backup("nightly", { includedNamespaces: [app], ttl: "72h0m0s" });
    // Up to date (it was already, with no backup yet) with one backup copied.
    const copied = await eventually("the backup copied off-site", 90_000, async () => {
      const object = await location.read();
      const copies = (object["status"] as { copiedBackups?: number } | undefined)?.copiedBackups;
      return copies === 1 && conditionOf(object, "CopiesUpToDate")?.status === "True" ? object : undefined;
    });
    const status = copied["status"] as {
      lastCopy?: { backup: string; objects: number };
      copiedBackups?: number;
    };
    assert.equal(status.lastCopy?.backup, `${velero.namespace}/nightly`);
    assert.equal(status.copiedBackups, 1);

    // Every object of the backup is off-site, as a version retained in COMPLIANCE mode until at
    // least the backup's expiration (72 h: later than the policy's 1 day).
    const s3client = s3.client();
    const primary = await s3client.send(
      new ListObjectsV2Command({ Bucket: "velero", Prefix: "backups/nightly/" }),
    );
    const keys = (primary.Contents ?? []).map((object) => object.Key ?? "").sort();
    assert.ok(keys.includes("backups/nightly/nightly.tar.gz"), keys.join(", "));
    const offsite = bucketOf(s3client, "offsite", undefined);
    const manifest = await readManifest(offsite, "nightly");
    assert.ok(manifest !== undefined, "the manifest marks the copy complete");
    assert.deepEqual(
      manifest.objects.map((object) => object.key),
      keys,
    );
    for (const object of manifest.objects) {
      const retention = await s3client.send(
        new GetObjectRetentionCommand({ Bucket: "offsite", Key: object.key, VersionId: object.versionId }),
      );
      assert.equal(retention.Retention?.Mode, "COMPLIANCE", object.key);
      assert.ok(
        (retention.Retention.RetainUntilDate?.getTime() ?? 0) > Date.now() + 71 * 3600_000,
        object.key,
      );
    }

    // Someone deletes and overwrites the tarball's copy: the delete is refused, the overwrite only
    // stacks a version; the check against the manifest shows the copy stayed.
    const tarball = manifest.objects.find((object) => object.key.endsWith("nightly.tar.gz"));
    assert.ok(tarball !== undefined);
    await assert.rejects(
      s3client.send(
        new DeleteObjectCommand({ Bucket: "offsite", Key: tarball.key, VersionId: tarball.versionId }),
      ),
      (error: unknown) => error instanceof Error && error.name === "AccessDenied",
    );
    await s3client.send(
      new PutObjectCommand({ Bucket: "offsite", Key: tarball.key, Body: "encrypted by ransomware" }),
    );
    await s3client.send(new DeleteObjectCommand({ Bucket: "offsite", Key: tarball.key }));
    assert.deepEqual(await verifyCopy(offsite, manifest), []);
    // vakt's own check says so too: the next lock check (a spec change runs one now) verifies the
    // latest copies against their manifests.
    await location.patchSpec({ lockCheck: { intervalMinutes: 61 } });
    const recheck = await eventually("a second lock check that verified the copy", 60_000, async () =>
      (await records(run)).find(
        (record) => record.kind === "backup.lock-checked" && record.data["copiesVerified"] === 1,
      ),
    );
    assert.equal(recheck.kind === "backup.lock-checked" && recheck.data["passed"], true);

    // Evidence: the copy (each object with its SHA-256 and version) and the lock check.
    const evidence = await records(run);
    const copy = evidence.find((record) => record.kind === "backup.copied");
    assert.equal(copy?.data["outcome"], "copied");
    assert.equal(copy.subject?.name, "nightly");
    assert.equal(copy.data["objects"], keys.length);
    assert.equal(copy.data["mode"], "COMPLIANCE");
    const lock = evidence.find((record) => record.kind === "backup.lock-checked");
    assert.equal(lock?.data["passed"], true);
    assert.equal(lock.data["canaryDeleteRefused"], true);

    // The metrics say the same.
    const metrics = await run.manager.registry.metrics();
    assert.match(metrics, new RegExp(`vakt_backup_lock_check_passed\\{location="${location.name}"\\} 1`));
    assert.match(
      metrics,
      new RegExp(`vakt_backup_copies_total\\{location="${location.name}",result="copied"\\} 1`),
    );

    // A restart (a new leader) finds the copy complete and writes nothing again.
    await run.close();
    const versionsBefore = await s3client.send(
      new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: "backups/" }),
    );
    const again = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
    // Both of its keys (the lock check, which requeues, and the copy) reconciled without error.
    await eventually("the new run to reconcile the copy and the lock check", 60_000, async () => {
      const text = await again.manager.registry.metrics();
      const count = (result: string): number =>
        Number(
          new RegExp(
            `vakt_controller_reconcile_total\\{controller="backup",result="${result}"\\} (\\d+)`,
          ).exec(text)?.[1] ?? 0,
        );
      return count("success") >= 1 && count("requeue") >= 1 ? true : undefined;
    });
    const versionsAfter = await s3client.send(
      new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: "backups/" }),
    );
    assert.equal(versionsAfter.Versions?.length, versionsBefore.Versions?.length, "no object copied twice");
    assert.equal(conditionOf(await location.read(), "CopiesUpToDate")?.status, "True");
    await again.close();
  });
});
