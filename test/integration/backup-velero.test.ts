// The real Velero server (built from its Go module) backs a namespace of the test control plane
// up into the real S3 server: the harness the off-site copy and the restore drills build on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { kubectl, withNamespace } from "../../src/testing/cluster.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";
import { startVelero } from "../../src/testing/velero.ts";

describe("Velero against the test control plane and versitygw", () => {
  it("backs a namespace up into the primary bucket", async (t) => {
    const namespace = await withNamespace(t, "backup-velero");
    await kubectl(["-n", namespace, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    await kubectl(["-n", namespace, "create", "secret", "generic", "db", "--from-literal=password=s3cret"]);
    await kubectl(["-n", namespace, "create", "serviceaccount", "app"]);

    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite" });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    const backup = await velero.backup("nightly", { includedNamespaces: [namespace] });

    const status = backup["status"] as { phase: string; progress?: { itemsBackedUp?: number } };
    assert.equal(status.phase, "Completed");
    assert.ok((status.progress?.itemsBackedUp ?? 0) >= 3, "the namespace's objects were backed up");

    const listed = await s3
      .client()
      .send(new ListObjectsV2Command({ Bucket: "velero", Prefix: "backups/nightly/" }));
    const keys = (listed.Contents ?? []).map((object) => object.Key);
    assert.ok(keys.includes("backups/nightly/nightly.tar.gz"), `the tarball is there: ${keys.join(", ")}`);
    assert.ok(keys.includes("backups/nightly/velero-backup.json"), "and Velero's metadata");
  });
});
