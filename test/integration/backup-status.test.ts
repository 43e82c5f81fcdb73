// Backup status for people, on the real control plane with the real Velero and S3 server: a
// Tenant's backup completes and is copied off-site -> the backup part writes the Tenant's
// status.backup (last backup, policy, off-site copy verified) -> `vakt backup drill` restores it
// and writes lastDrill -> `vakt backup status` shows all of it -> the Tenant controller reconciles
// the Tenant and leaves status.backup as it was -> the per-tenant metrics say the same.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { TENANTS_PATH } from "../../src/controllers/tenant/status.ts";
import { TenantControllerPart } from "../../src/controllers/tenant/part.ts";
import type { Json } from "../../src/kube/client.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import { Manager } from "../../src/manager/manager.ts";
import { tenantCrd } from "../../src/tenant/schema.ts";
import type { TenantBackupStatus } from "../../src/backup/status-core.ts";
import type { BackupStatusRow } from "../../src/backup/status-table.ts";
import type { EvidenceRecord } from "../../src/evidence/types.ts";
import { createBackupLocation, startBackupRun } from "../../src/testing/backup.ts";
import { eventually, kubectl, testKubeConfig, testKubeconfigPath } from "../../src/testing/cluster.ts";
import { createBackupBuckets, startS3 } from "../../src/testing/s3.ts";
import { startVelero } from "../../src/testing/velero.ts";
import { vaktCli } from "./vakt-process.ts";

const client = makeKubeClient(testKubeConfig());

async function tenantObject(name: string): Promise<Json> {
  return (await client.request("GET", `${TENANTS_PATH}/${name}`)).body;
}

function backupStatus(tenant: Json): TenantBackupStatus | undefined {
  return (tenant["status"] as { backup?: TenantBackupStatus } | undefined)?.backup;
}

/** The field managers that own something under status.backup. */
function backupOwners(tenant: Json): string[] {
  const entries = ((tenant["metadata"] as { managedFields?: Json[] }).managedFields ?? []).filter(
    (entry) => entry["subresource"] === "status",
  );
  return entries
    .filter((entry) => {
      const fields = (entry["fieldsV1"] as Json | undefined)?.["f:status"] as Json | undefined;
      return fields?.["f:backup"] !== undefined;
    })
    .map((entry) => String(entry["manager"]))
    .sort();
}

describe("backup status in Tenants, vakt backup status and metrics", () => {
  it("shows the copied backup and the drill, and the Tenant controller leaves them", async (t) => {
    const tenant = `bstatus-${Math.random().toString(16).slice(2, 8)}`;
    // A Tenant's namespaces are named after it; the Tenant controller (at the end) takes it over.
    const app = `${tenant}-app`;
    await kubectl(["create", "namespace", app]);
    t.after(async () => {
      await kubectl(["delete", "namespace", app, "--wait=false"]).catch(() => undefined);
    });
    await kubectl(["label", "namespace", app, `vakt.dev/tenant=${tenant}`]);
    await kubectl(["-n", app, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    await kubectl(["-n", app, "create", "secret", "generic", "db", "--from-literal=password=s3cret"]);
    await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], JSON.stringify(tenantCrd()));
    await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/tenants.vakt.dev"]);

    const s3 = await startS3(t);
    await createBackupBuckets(s3, { primary: "velero", offsite: "offsite", retentionDays: 1 });
    const velero = await startVelero(t, { s3, bucket: "velero" });
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify({
        apiVersion: "vakt.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: tenant },
        spec: {
          owners: [{ kind: "Group", name: `${tenant}-admins`, role: "admin" }],
          namespaces: [{ name: app }],
          backup: { veleroNamespace: velero.namespace, schedule: "0 2 * * *" },
        },
      }),
    );
    t.after(async () => {
      await kubectl(["delete", "tenants.vakt.dev", tenant, "--wait=false"]).catch(() => undefined);
    });
    const location = await createBackupLocation(t, s3, {
      bucket: "offsite",
      veleroNamespace: velero.namespace,
    });
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
    await location.waitFor("LockVerified", "True", "Passed");
    await velero.backup("nightly", { includedNamespaces: [app], ttl: "72h0m0s" });
    await kubectl([
      "-n",
      velero.namespace,
      "label",
      "backups.velero.io",
      "nightly",
      `vakt.dev/tenant=${tenant}`,
    ]);

    // The backup part writes the backup and its verified copy into the Tenant's status.
    const copied = await eventually(
      "status.backup with the backup and its off-site copy",
      90_000,
      async () => {
        const status = backupStatus(await tenantObject(tenant));
        return status?.lastCopy?.verified === true && status.lastCompletedBackup?.name === "nightly"
          ? status
          : undefined;
      },
    );
    assert.equal(copied.lastBackup?.name, "nightly");
    assert.equal(copied.lastBackup.namespace, velero.namespace);
    assert.equal(copied.lastBackup.phase, "Completed");
    assert.deepEqual(copied.policy, { schedule: "0 2 * * *", maxAgeSeconds: 24 * 3600 + 3600 });
    assert.equal(copied.withinPolicy, true);
    assert.ok(copied.dueBy !== undefined && Date.parse(copied.dueBy) > Date.now());
    assert.ok(copied.lastCopy !== undefined);
    assert.equal(copied.lastCopy.backup, `${velero.namespace}/nightly`);
    assert.equal(copied.lastCopy.location, location.name);
    // The copy's evidence states the tenant's policy (what vakt report judges its age against).
    const store = run.backup?.evidence;
    assert.ok(store !== undefined, "the backup part runs with an evidence history");
    await store.flush();
    const records: EvidenceRecord[] = [];
    for await (const record of store.query({ kinds: ["backup.copied"] })) records.push(record);
    const record = records.find((r) => r.scope.tenant === tenant);
    assert.equal(
      (record?.data as { policyMaxAgeSeconds?: number } | undefined)?.policyMaxAgeSeconds,
      25 * 3600,
    );

    // A drill by hand, as an operator runs it: the primary's Velero stops (a disaster), the
    // drill's Velero reads the off-site bucket ReadOnly.
    await velero.stop();
    const drillVelero = await startVelero(t, {
      s3,
      bucket: "offsite",
      accessMode: "ReadOnly",
      locationName: "offsite",
    });
    const output = await vaktCli([
      "backup",
      "drill",
      tenant,
      "--location",
      location.name,
      "--drill-namespace",
      drillVelero.namespace,
      "--drill-location",
      "offsite",
      "--kubeconfig",
      testKubeconfigPath(),
      "--timeout",
      "120",
      "-o",
      "json",
    ]);
    const drill = JSON.parse(output) as {
      id: string;
      passed: boolean;
      rpoSeconds: number;
      rtoSeconds: number;
    };
    assert.equal(drill.passed, true, output);

    const drilled = backupStatus(await tenantObject(tenant));
    assert.equal(drilled?.lastDrill?.id, drill.id);
    assert.equal(drilled.lastDrill.passed, true);
    assert.equal(drilled.lastDrill.backup, `${velero.namespace}/nightly`);
    assert.equal(drilled.lastDrill.rpoSeconds, Math.round(drill.rpoSeconds));
    assert.equal(drilled.lastDrill.rtoSeconds, Math.ceil(drill.rtoSeconds));
    assert.deepEqual(drilled.lastPassedDrill, { id: drill.id, time: drilled.lastDrill.time });
    // The backup part's fields are still there beside the drill's.
    assert.deepEqual(drilled.lastCopy, copied.lastCopy);
    assert.deepEqual(backupOwners(await tenantObject(tenant)), ["vakt-backup", "vakt-drill"]);

    // vakt backup status, against the real API server.
    const rows = JSON.parse(
      await vaktCli(["backup", "status", "--kubeconfig", testKubeconfigPath(), "-o", "json"]),
    ) as BackupStatusRow[];
    const row = rows.find((r) => r.tenant === tenant);
    assert.ok(row !== undefined, `no row for ${tenant}`);
    assert.equal(row.lastBackup?.name, `${velero.namespace}/nightly`);
    assert.equal(row.withinPolicy, true);
    assert.equal(row.offsiteCopy?.verified, true);
    assert.equal(row.lastDrill?.passed, true);
    assert.equal(row.rtoSeconds, drilled.lastDrill.rtoSeconds);
    assert.deepEqual(row.lockCheck, { location: location.name, status: "True", reason: "Passed" });
    const table = await vaktCli(["backup", "status", "--kubeconfig", testKubeconfigPath()]);
    const line = table.split("\n").find((l) => l.startsWith(`${tenant} `));
    assert.match(
      line ?? "",
      new RegExp(`verified .* ago \\(${location.name}\\) +passed .* ago .*passed \\(${location.name}\\)$`),
    );

    // The per-tenant metrics of the backup part.
    const metrics = await run.manager.registry.metrics();
    const sample = (name: string): number | undefined => {
      const match = new RegExp(`^${name}\\{tenant="${tenant}"\\} (\\S+)$`, "m").exec(metrics);
      return match?.[1] === undefined ? undefined : Number(match[1]);
    };
    const age = sample("vakt_backup_tenant_last_backup_age_seconds");
    assert.ok(age !== undefined && age >= 0 && age < 3600, `backup age ${String(age)}\n${metrics}`);
    assert.equal(sample("vakt_backup_tenant_backup_within_policy"), 1);
    assert.equal(sample("vakt_backup_tenant_copy_lag_seconds"), 0);
    assert.equal(sample("vakt_backup_tenant_lock_check_passed"), 1);
    const drillMetric = await eventually(
      "the drill in the metrics (through the Tenant watch)",
      30_000,
      async () => {
        const text = await run.manager.registry.metrics();
        return new RegExp(`^vakt_backup_tenant_last_drill_passed\\{tenant="${tenant}"\\} 1$`, "m").test(text)
          ? text
          : undefined;
      },
    );
    assert.match(
      drillMetric,
      new RegExp(`^vakt_backup_tenant_last_good_drill_age_seconds\\{tenant="${tenant}"\\} `, "m"),
    );

    // The Tenant controller reconciles the Tenant (its own status writes, field manager vakt):
    // status.backup stays as it was.
    const before = backupStatus(await tenantObject(tenant));
    const part = new TenantControllerPart();
    const manager = new Manager({
      kubeconfig: testKubeConfig(),
      parts: [part],
      lease: {
        namespace: velero.namespace,
        name: `bstatus-${tenant}`,
        identity: "bstatus-test",
        leaseDurationMs: 4_000,
        renewDeadlineMs: 3_000,
        retryPeriodMs: 500,
      },
      probes: { port: 0 },
      logger: pino({ level: "warn" }),
    });
    await manager.start();
    t.after(() => manager.stop());
    const reconciled = await eventually(
      "the Tenant controller's status for the current generation",
      60_000,
      async () => {
        const object = await tenantObject(tenant);
        const status = object["status"] as
          { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
        return status?.observedGeneration === (object["metadata"] as { generation: number }).generation &&
          status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
          ? object
          : undefined;
      },
    );
    assert.deepEqual(backupStatus(reconciled), before);
    await manager.stop();
    const after = await tenantObject(tenant);
    assert.deepEqual(backupStatus(after), before);
    assert.deepEqual(backupOwners(after), ["vakt-backup", "vakt-drill"]);
  });
});
