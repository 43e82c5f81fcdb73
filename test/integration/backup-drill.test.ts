// Restore drills on the real control plane, the real Velero (two: the primary's, and the drill's,
// reading the off-site bucket ReadOnly) and the real S3 server, the whole loop: a tenant's backup
// completes -> it is copied off-site under COMPLIANCE lock -> deleting any copied version is
// refused -> the drill restores it from the copy into scratch namespaces behind a deny-all
// NetworkPolicy -> every object is back with its content -> a restore-time exclusion of Secrets
// fails the drill naming the missing Secret -> both drills are evidence -> the scratch namespaces
// are gone.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { readManifest } from "../../src/backup/copier.ts";
import { runDrill } from "../../src/backup/drill.ts";
import { parseBackupLocation } from "../../src/backup/location.ts";
import { bucketOf, s3Client } from "../../src/backup/s3.ts";
import type { EvidenceRecord } from "../../src/evidence/types.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import { conditionOf, startBackupRun, startDrillStack, tenantBackup } from "../../src/testing/backup.ts";
import { eventually, kubectl, testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";

const DEPLOYMENT = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "registry.example/web:1.2.3" }] },
    },
  },
};

describe("restore drills from the off-site copy", () => {
  it("restores everything into a scratch namespace, then fails naming what a restore left out", async (t) => {
    const tenant = `drill-${Math.random().toString(16).slice(2, 8)}`;
    const app = await withNamespace(t, "drill-app");
    await kubectl(["-n", app, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    await kubectl(["-n", app, "create", "secret", "generic", "db", "--from-literal=password=s3cret"]);
    await kubectl(["-n", app, "apply", "-f", "-"], JSON.stringify(DEPLOYMENT));

    const { s3, velero, drillVelero, location } = await startDrillStack(t);
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
    await location.waitFor("LockVerified", "True", "Passed");
    await tenantBackup(velero, "nightly", app, tenant);
    await eventually("the backup copied off-site", 90_000, async () => {
      const object = await location.read();
      const copies = (object["status"] as { copiedBackups?: number } | undefined)?.copiedBackups;
      return copies === 1 && conditionOf(object, "CopiesUpToDate")?.status === "True" ? true : undefined;
    });

    const parsed = parseBackupLocation(await location.read()).location;
    assert.ok(parsed !== undefined);
    const offsite = bucketOf(
      s3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true }, s3),
      "offsite",
      undefined,
    );
    t.after(() => {
      offsite.client.destroy();
    });
    // The copy is locked: deleting any of its versions is refused by the bucket, before the drill
    // reads it back.
    const manifest = await readManifest(offsite, "nightly");
    assert.ok(manifest !== undefined && manifest.objects.length > 0, "the copy's manifest is off-site");
    for (const object of manifest.objects)
      await assert.rejects(
        offsite.client.send(
          new DeleteObjectCommand({ Bucket: "offsite", Key: object.key, VersionId: object.versionId }),
        ),
        (error: unknown) => error instanceof Error && error.name === "AccessDenied",
        `deleting ${object.key} is refused`,
      );
    const store = run.backup?.evidence;
    assert.ok(store !== undefined, "the backup part runs with an evidence history");
    const client = makeKubeClient(testKubeConfig());
    const options = {
      client,
      tenant,
      location: parsed,
      offsite,
      drillVelero: { namespace: drillVelero.namespace, storageLocation: "offsite" },
      evidence: { store, cluster: "test" },
      timeoutMs: 120_000,
    };

    const good = await runDrill(options);
    assert.equal(
      good.passed,
      true,
      `${good.problems.join("; ")}\n${readFileSync(drillVelero.logFile, "utf8")
        .split("\n")
        .filter((line) => /"level":"(error|warning)"/.test(line))
        .slice(-10)
        .join("\n")}`,
    );
    assert.equal(good.backup, `${velero.namespace}/nightly`);
    assert.equal(good.restore.phase, "Completed");
    assert.deepEqual(good.comparison.missing, []);
    assert.deepEqual(good.comparison.changed, []);
    assert.equal(good.comparison.restored, good.comparison.expected);
    // What the backup holds includes the tenant's own objects (not the Deployment's ReplicaSet).
    assert.ok(
      good.comparison.expected >= 3,
      `expected at least 3 objects, got ${String(good.comparison.expected)}`,
    );
    assert.ok(good.rpoSeconds >= 0 && good.rtoSeconds > 0);
    // The restore read the off-site copy: the Backup it restored names the drill's ReadOnly location.
    const { stdout } = await kubectl([
      "-n",
      drillVelero.namespace,
      "get",
      "backups.velero.io",
      "nightly",
      "-o",
      "jsonpath={.spec.storageLocation}",
    ]);
    assert.equal(stdout, "offsite");

    // A restore that leaves the Secrets out: the drill fails and says which.
    const bad = await runDrill({ ...options, alsoExclude: ["secrets"] });
    assert.equal(bad.passed, false);
    assert.ok(bad.comparison.missing.includes(`Secret ${app}/db`), bad.comparison.missing.join(", "));
    assert.ok(!bad.comparison.missing.includes(`ConfigMap ${app}/settings`));
    assert.match(bad.problems.join("; "), /missing: .*Secret .*\/db/);

    await store.flush();
    const drills: EvidenceRecord[] = [];
    for await (const record of store.query({ kinds: ["restore.drill"] })) drills.push(record);
    assert.deepEqual(
      drills.map((r) => (r.data as { outcome?: string }).outcome),
      ["passed", "failed"],
    );
    assert.equal(drills[0]?.scope.tenant, tenant);

    for (const namespace of [...good.scratchNamespaces, ...bad.scratchNamespaces])
      await eventually(`scratch namespace ${namespace} gone`, 90_000, async () => {
        const { stdout: names } = await kubectl(["get", "namespaces", "-o", "name"]);
        return names.includes(`namespace/${namespace}\n`) ? undefined : true;
      });
  });
});
