// kill -9 of `vakt run --parts backup` (a real process) in the middle of an off-site copy, on the
// real control plane, the real Velero and the real S3 server: the process is frozen (SIGSTOP) as
// soon as the first object of the backup is off-site, the copy is seen half done (some objects,
// no manifest), the process is killed with SIGKILL, and the next vakt finishes the copy: every
// object of the backup off-site as exactly one locked version (under Object Lock a second copy
// would be kept forever), the manifest written, one `backup.copied` record in the evidence
// history of the embedded database both processes used in turn.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ListObjectsV2Command, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { MANIFEST_DIR } from "../../src/backup/copier.ts";
import { openEvidenceStore } from "../../src/evidence/store.ts";
import type { EvidenceRecord } from "../../src/evidence/types.ts";
import { createBackupLocation } from "../../src/testing/backup.ts";
import { eventually, kubectl, testKubeconfigPath, withNamespace } from "../../src/testing/cluster.ts";
import { processesMentioning } from "../../src/testing/process.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";
import { startVelero } from "../../src/testing/velero.ts";
import { exited, spawnVakt } from "./vakt-process.ts";

/** ConfigMaps of random (incompressible) data: a tarball that takes a while to copy and verify. */
const CONFIGMAPS = 60;
const CONFIGMAP_BYTES = 700 * 1024;

describe("an off-site copy cut short by kill -9", () => {
  it("is finished by the next vakt: each object copied once, the copy recorded once", async (t) => {
    const app = await withNamespace(t, "backup-kill");
    const items = Array.from({ length: CONFIGMAPS }, (_, i) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `blob-${String(i)}` },
      data: { blob: randomBytes((CONFIGMAP_BYTES * 3) / 4).toString("base64") },
    }));
    await kubectl(
      ["-n", app, "create", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    );
    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite", retentionDays: 1 });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    const location = await createBackupLocation(t, s3, {
      bucket: "offsite",
      veleroNamespace: velero.namespace,
    });
    const backup = await velero.backup("before-kill", { includedNamespaces: [app], ttl: "24h0m0s" });
    const name = (backup["metadata"] as { name: string }).name;
    const prefix = `backups/${name}/`;
    const client = s3.client();
    const primaryKeys = (
      (await client.send(new ListObjectsV2Command({ Bucket: "velero", Prefix: prefix }))).Contents ?? []
    ).map((object) => object.Key ?? "");
    assert.ok(
      primaryKeys.some((key) => key.endsWith(".tar.gz")),
      `Velero wrote the backup: ${primaryKeys.join(", ")}`,
    );

    const versions = async (): Promise<Map<string, number>> => {
      const counts = new Map<string, number>();
      const listed = await client.send(new ListObjectVersionsCommand({ Bucket: "offsite", Prefix: prefix }));
      for (const version of listed.Versions ?? [])
        counts.set(version.Key ?? "", (counts.get(version.Key ?? "") ?? 0) + 1);
      return counts;
    };
    const manifest = async (): Promise<boolean> =>
      (
        (await client.send(new ListObjectsV2Command({ Bucket: "offsite", Prefix: `${MANIFEST_DIR}${name}` })))
          .Contents ?? []
      ).length > 0;

    const evidenceDir = mkdtempSync(join(tmpdir(), "vakt-kill-evidence-"));
    t.after(() => {
      rmSync(evidenceDir, { recursive: true, force: true });
    });
    const args = [
      "run",
      `--kubeconfig=${testKubeconfigPath()}`,
      "--parts=backup",
      `--namespace=${velero.namespace}`,
      `--backup-locations=${location.selector}`,
      "--probe-port=0",
      `--evidence-url=${evidenceDir}`,
    ];

    // 1. The first vakt: frozen the moment an object of the backup is off-site, then killed.
    const first = spawnVakt(t, args);
    const firstPid = first.child.pid ?? 0;
    await eventually("the first object of the backup off-site", 90_000, async () => {
      await Promise.race([first.exitedEarly, Promise.resolve()]);
      return (await versions()).size > 0 ? true : undefined;
    });
    process.kill(firstPid, "SIGSTOP");
    const half = await versions();
    assert.ok(
      half.size < primaryKeys.length && !(await manifest()),
      `the copy is half done when vakt is killed: ${String(half.size)} of ${String(primaryKeys.length)} objects off-site`,
    );
    const hosts = processesMentioning(evidenceDir);
    process.kill(firstPid, "SIGKILL");
    await exited(first.child);
    // The embedded database's process goes with its parent: no second writer on the directory.
    await eventually("the killed vakt's database process to exit", 20_000, () =>
      Promise.resolve(hosts.every((pid) => !existsSync(`/proc/${String(pid)}`)) ? true : undefined),
    );

    // 2. The next vakt finishes the copy.
    const second = spawnVakt(t, args);
    await eventually("the copy finished by the next vakt", 120_000, async () => {
      await Promise.race([second.exitedEarly, Promise.resolve()]);
      return (await manifest()) ? true : undefined;
    });
    const after = await versions();
    assert.deepEqual(
      [...after.keys()].sort(),
      [...primaryKeys].sort(),
      "every object of the backup is off-site",
    );
    for (const [key, count] of after)
      assert.equal(count, 1, `${key}: one locked version, not ${String(count)}`);
    assert.equal(await second.stop(), 0);

    const store = await openEvidenceStore({ url: evidenceDir });
    try {
      const copied: EvidenceRecord[] = [];
      for await (const record of store.query({ kinds: ["backup.copied"] })) copied.push(record);
      assert.equal(
        copied.filter((record) => JSON.stringify(record).includes(name)).length,
        1,
        `one backup.copied record for ${name}: ${JSON.stringify(copied)}`,
      );
      assert.equal((await store.verify()).ok, true, "the chain holds across the kill");
    } finally {
      await store.close();
    }
  });
});
