// Faults of the off-site copy, on the real control plane, Velero and S3 server: wrong credentials
// and an S3 server that is down (a clear condition, retries with backoff, the copy resumes), a
// crash mid-copy (finished by the retry, no object copied twice), residency (a location outside
// the namespace's jurisdiction is refused), and a tarball corrupted after Velero completed the
// backup (the copy's verification catches it and names the backup).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ListObjectVersionsCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { readManifest } from "../../src/backup/copier.ts";
import { bucketOf } from "../../src/backup/s3.ts";
import { kubectl, withNamespace } from "../../src/testing/cluster.ts";
import { conditionOf, createBackupLocation, startBackupRun } from "../../src/testing/backup.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";
import { startVelero } from "../../src/testing/velero.ts";

describe("off-site copy faults", () => {
  it("says what is wrong while S3 refuses or is down, retries, and resumes a copy a crash cut short", async (t) => {
    const app = await withNamespace(t, "backup-faults");
    for (const name of ["a", "b", "c"])
      await kubectl(["-n", app, "create", "configmap", name, "--from-literal=k=v"]);
    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite" });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    await velero.backup("b1", { includedNamespaces: [app] });

    const location = await createBackupLocation(t, s3, {
      bucket: "offsite",
      veleroNamespace: velero.namespace,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: "wrong-secret" },
    });
    let crashes = 0;
    let objects = 0;
    await startBackupRun(t, {
      selector: location.selector,
      leaseNamespace: velero.namespace,
      backup: {
        concurrency: 1,
        // One crash, at the third object of the copy: the two before it are already off-site.
        beforeObject: (_location, _backup, key) => {
          if (objects++ === 2) {
            crashes++;
            throw new Error(`simulated crash before ${key}`);
          }
        },
      },
    });

    // Credentials refused: both conditions say so, with the server's answer.
    const refused = await location.waitFor("CopiesUpToDate", "False", "S3Unavailable");
    assert.match(
      conditionOf(refused, "CopiesUpToDate")?.message ?? "",
      /backup .*\/b1: .*(Signature|credential|Access)/i,
    );
    await location.waitFor("LockVerified", "Unknown", "S3Unavailable");

    // The server goes down, then the credentials are fixed: still unavailable, now saying why.
    await s3.stop({ keepData: true });
    await location.setCredentials(s3);
    await location.waitFor("CopiesUpToDate", "False", "S3Unavailable");
    // The condition already said Unknown/S3Unavailable for the refused credentials: wait for the new cause.
    const down = await location.waitFor(
      "LockVerified",
      "Unknown",
      "S3Unavailable",
      30_000,
      /ECONNREFUSED|connect|socket/i,
    );
    assert.match(conditionOf(down, "LockVerified")?.message ?? "", /ECONNREFUSED|connect|socket/i);

    // The server comes back on the same endpoint: the retries (with backoff) copy the backup,
    // through one simulated crash, and the lock check passes.
    const port = Number(new URL(s3.endpoint).port);
    const back = await startS3(t, { port, reuse: s3 });
    const done = await location.waitFor("CopiesUpToDate", "True", "UpToDate", 90_000);
    assert.equal(crashes, 1, "the copy was cut short once");
    await location.waitFor("LockVerified", "True", "Passed");
    assert.equal((done["status"] as { copiedBackups?: number }).copiedBackups, 1);

    // Nothing was copied twice: one version per object, and the manifest says which objects an
    // earlier (cut-short) attempt had already copied.
    const offsite = bucketOf(back.client(), "offsite", undefined);
    const manifest = await readManifest(offsite, "b1");
    assert.ok(manifest !== undefined);
    const versions = await back
      .client()
      .send(new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: "backups/b1/" }));
    assert.equal(versions.Versions?.length, manifest.objects.length, "one version per object");
    assert.ok(
      manifest.objects.some((object) => object.action === "present"),
      "the retry found objects copied before the crash",
    );
  });

  it("refuses a location outside the namespace's jurisdiction, and catches a tarball corrupted after the backup", async (t) => {
    const app = await withNamespace(t, "backup-corrupt");
    await kubectl(["label", "namespace", app, "vakt.dev/backup-jurisdiction=SE"]);
    await kubectl(["-n", app, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite" });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    await velero.backup("corrupt-me", { includedNamespaces: [app] });

    // Bytes flipped in the tarball on the server's disk, after the Backup completed: Velero's
    // metadata (and the checksum the server stored at upload) still describe the original.
    const tarball = join(s3.dataDir, "velero", "backups", "corrupt-me", "corrupt-me.tar.gz");
    const bytes = readFileSync(tarball);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff;
    writeFileSync(tarball, bytes);

    const location = await createBackupLocation(t, s3, {
      bucket: "offsite",
      veleroNamespace: velero.namespace,
      jurisdiction: "EU",
    });
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
    const refused = await location.waitFor("CopiesUpToDate", "False", "ResidencyRefused");
    const why = conditionOf(refused, "CopiesUpToDate")?.message ?? "";
    assert.match(
      why,
      new RegExp(`namespace ${app} requires jurisdiction SE .*vakt.dev/backup-jurisdiction.*under EU`),
    );

    // The location is declared under SE: the copy is tried, and its verification fails on the
    // tarball, naming the backup.
    await location.patchSpec({ jurisdiction: "SE" });
    const failed = await location.waitFor("CopiesUpToDate", "False", "CopyFailed", 60_000);
    assert.match(
      conditionOf(failed, "CopiesUpToDate")?.message ?? "",
      /backup corrupt-me: backups\/corrupt-me\/corrupt-me\.tar\.gz: .*(checksum|gzip)/,
    );
    assert.equal(await readManifest(bucketOf(s3.client(), "offsite", undefined), "corrupt-me"), undefined);

    const store = run.backup?.evidence;
    assert.ok(store !== undefined);
    await store.flush();
    const outcomes: unknown[] = [];
    for await (const record of store.query({ kinds: ["backup.copied"] }))
      if (record.kind === "backup.copied")
        outcomes.push([record.data["outcome"], record.subject?.name, record.data["problem"] ?? null]);
    assert.deepEqual(outcomes, [
      ["refused", "corrupt-me", null],
      ["failed", "corrupt-me", "corrupt"],
    ]);
  });
});

describe("the lock check", () => {
  it("fails on a versioned bucket without Object Lock: condition, evidence and metric say so", async (t) => {
    const namespace = await withNamespace(t, "backup-lock");
    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "plain", offsite: "locked" });
    // Versioned, so the canary gets a version, which nothing protects.
    await s3
      .client()
      .send(
        new PutBucketVersioningCommand({ Bucket: "plain", VersioningConfiguration: { Status: "Enabled" } }),
      );
    const location = await createBackupLocation(t, s3, {
      bucket: "plain",
      veleroNamespace: namespace,
      minimumDays: 7,
    });
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: namespace });

    const failed = await location.waitFor("LockVerified", "False", "LockCheckFailed");
    const message = conditionOf(failed, "LockVerified")?.message ?? "";
    assert.match(message, /s3:\/\/plain\/ .*Object Lock is not enabled/);
    assert.match(message, /deleting a locked version was accepted: the lock is not enforced/);

    const store = run.backup?.evidence;
    assert.ok(store !== undefined);
    await store.flush();
    const checks: unknown[] = [];
    for await (const record of store.query({ kinds: ["backup.lock-checked"] }))
      if (record.kind === "backup.lock-checked")
        checks.push([record.data["passed"], record.data["canaryDeleteRefused"]]);
    assert.deepEqual(checks, [[false, false]]);
    assert.match(
      await run.manager.registry.metrics(),
      new RegExp(`vakt_backup_lock_check_passed\\{location="${location.name}"\\} 0`),
    );
  });
});
