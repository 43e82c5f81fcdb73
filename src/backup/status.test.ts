import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { KubeClient, RequestOptions } from "../kube/client.ts";
import { locationDrills, policyMaxAgeSeconds, TenantBackupStatusTracker, tenantInfo } from "./status.ts";
import type { DrillOutcome, TenantBackupStatus } from "./status-core.ts";
import type { LabelledBackup, TenantInfo } from "./status.ts";

/** Records the requests the tracker makes (the API server's side is the integration test's). */
function recorder(): {
  client: KubeClient;
  calls: { method: string; path: string; options?: RequestOptions }[];
} {
  const calls: { method: string; path: string; options?: RequestOptions }[] = [];
  const client = {
    request: (
      method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
      path: string,
      options?: RequestOptions,
    ) => {
      calls.push({ method, path, ...(options === undefined ? {} : { options }) });
      return Promise.resolve({ status: 200, body: {} });
    },
    watch: () => Promise.resolve(),
    requests: 0,
  } as unknown as KubeClient;
  return { client, calls };
}

const logger = pino({ level: "silent" });
const NOW = new Date("2026-12-06T03:00:00Z");

function tracker(
  client: KubeClient,
  state: {
    backups: LabelledBackup[];
    tenants: Map<string, TenantInfo>;
    drills?: DrillOutcome[];
  },
): TenantBackupStatusTracker {
  return new TenantBackupStatusTracker({
    client,
    logger,
    enqueue: () => undefined,
    backups: () => state.backups,
    tenant: (name) => state.tenants.get(name),
    tenants: () => state.tenants.keys(),
    settled: () => true,
    drills: (tenant) => (state.drills ?? []).filter((d) => d.tenant === tenant),
    lockPassed: (location) => (location === "offsite" ? 1 : undefined),
    checkLeader: () => undefined,
    now: () => NOW,
  });
}

const backup = (name: string, completion: string, tenant = "carelink"): LabelledBackup => ({
  namespace: "velero",
  name,
  phase: "Completed",
  start: completion,
  completion,
  tenant,
});

describe("tenantInfo and locationDrills", () => {
  it("read a Tenant's regions, schedule (none when every namespace opts out) and status.backup", () => {
    const info = tenantInfo({
      spec: { regions: ["eu-north-1"], namespaces: [{ name: "a" }], backup: { schedule: "0 3 * * *" } },
      status: { backup: { withinPolicy: true } },
    });
    assert.deepEqual(info, {
      regions: ["eu-north-1"],
      schedule: "0 3 * * *",
      status: { withinPolicy: true },
    });
    const off = tenantInfo({
      spec: { namespaces: [{ name: "a", backup: { enabled: false, justification: "cache" } }] },
    });
    assert.equal(off.schedule, undefined);
    assert.equal(policyMaxAgeSeconds(info), 25 * 3600);
    assert.equal(policyMaxAgeSeconds(off), undefined);
    assert.equal(policyMaxAgeSeconds({ ...info, schedule: "0 99 * * *" }), undefined);
  });

  it("read the finished, uninterrupted drills of a BackupLocation's status", () => {
    const drills = locationDrills({
      metadata: { name: "offsite" },
      status: {
        drills: [
          {
            tenant: "a",
            id: "1",
            finishedAt: "2026-12-06T02:00:00Z",
            passed: true,
            rpoSeconds: 5,
            rtoSeconds: 2.5,
          },
          { tenant: "b", id: "2", startedAt: "2026-12-06T02:00:00Z" },
          { tenant: "c", id: "3", finishedAt: "2026-12-06T02:00:00Z", passed: false, interrupted: true },
        ],
      },
    });
    assert.deepEqual(drills, [
      {
        id: "1",
        tenant: "a",
        backup: "",
        location: "offsite",
        passed: true,
        finishedAt: "2026-12-06T02:00:00Z",
        rpoSeconds: 5,
        rtoSeconds: 2.5,
        problems: [],
      },
    ]);
  });
});

describe("TenantBackupStatusTracker", () => {
  it("applies status.backup as vakt-backup once, then only on a change, and re-checks when it falls due", async () => {
    const { client, calls } = recorder();
    const tenants = new Map([["carelink", tenantInfo({ spec: { namespaces: [{ name: "c" }] } })]]);
    const t = tracker(client, { backups: [backup("b1", "2026-12-06T02:04:00Z")], tenants });
    const result = await t.reconcile("carelink", logger);
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.equal(call?.method, "PATCH");
    assert.equal(call.path, "/apis/vakt.dev/v1alpha1/tenants/carelink/status");
    assert.deepEqual(call.options?.query, {
      fieldManager: "vakt-backup",
      force: "true",
      fieldValidation: "Strict",
    });
    assert.equal(call.options.contentType, "application/apply-patch+yaml");
    const status = (call.options.body as { status: { backup: TenantBackupStatus } }).status.backup;
    assert.equal(status.withinPolicy, true);
    assert.equal(status.dueBy, "2026-12-07T03:04:00Z");
    // Due at 03:04 tomorrow: asked again a second after.
    assert.equal(result.requeueAfterMs, Date.parse("2026-12-07T03:04:00Z") - NOW.getTime() + 1000);
    await t.reconcile("carelink", logger);
    assert.equal(calls.length, 1, "an unchanged status is not written again");
    t.copied(["carelink"], {
      backup: "velero/b1",
      location: "offsite",
      time: "2026-12-06T02:06:00Z",
      verified: true,
    });
    await t.reconcile("carelink", logger);
    assert.equal(calls.length, 2);
  });

  it("writes a scheduled drill newer than the Tenant's lastDrill as vakt-drill, once", async () => {
    const { client, calls } = recorder();
    const drill: DrillOutcome = {
      id: "d2",
      tenant: "carelink",
      backup: "velero/b1",
      location: "offsite",
      passed: false,
      finishedAt: "2026-12-06T02:30:00Z",
      rpoSeconds: 1500,
      rtoSeconds: 3,
      problems: ["1 object(s) missing: Secret c/db"],
    };
    const tenants = new Map([
      [
        "carelink",
        tenantInfo({
          spec: { namespaces: [{ name: "c" }] },
          status: {
            backup: {
              lastDrill: { id: "d1", time: "2026-12-05T02:30:00Z", passed: true },
              lastPassedDrill: { id: "d1", time: "2026-12-05T02:30:00Z" },
            },
          },
        }),
      ],
    ]);
    const t = tracker(client, { backups: [], tenants, drills: [drill] });
    await t.reconcile("carelink", logger);
    const drillWrites = calls.filter((c) => c.options?.query?.["fieldManager"] === "vakt-drill");
    assert.equal(drillWrites.length, 1);
    const written = (drillWrites[0]?.options?.body as { status: { backup: TenantBackupStatus } }).status
      .backup;
    assert.equal(written.lastDrill?.id, "d2");
    assert.equal(written.lastDrill.passed, false);
    // The earlier passed drill stays the last passed one.
    assert.deepEqual(written.lastPassedDrill, { id: "d1", time: "2026-12-05T02:30:00Z" });
    await t.reconcile("carelink", logger);
    assert.equal(calls.filter((c) => c.options?.query?.["fieldManager"] === "vakt-drill").length, 1);
    // A drill older than what the Tenant shows (a later one by hand) is not written.
    const { client: other, calls: none } = recorder();
    await tracker(other, {
      backups: [],
      tenants,
      drills: [{ ...drill, finishedAt: "2026-12-04T00:00:00Z" }],
    }).reconcile("carelink", logger);
    assert.equal(none.filter((c) => c.options?.query?.["fieldManager"] === "vakt-drill").length, 0);
  });

  it("gives each Tenant's metrics: backup age, copy lag of what is not copied, the lock of its copy's location", () => {
    const { client } = recorder();
    const tenants = new Map([
      [
        "carelink",
        tenantInfo({
          spec: { namespaces: [{ name: "c" }] },
          status: { backup: { policy: { maxAgeSeconds: 90_000 } } },
        }),
      ],
      ["labflow", tenantInfo({ spec: { namespaces: [{ name: "l" }] } })],
    ]);
    const t = tracker(client, {
      backups: [
        backup("b1", "2026-12-06T02:00:00Z"),
        backup("b0", "2026-12-05T02:00:00Z"),
        backup("l1", "2026-12-06T01:00:00Z", "labflow"),
      ],
      tenants,
    });
    t.copied(["carelink"], {
      backup: "velero/b0",
      location: "offsite",
      time: "2026-12-05T02:05:00Z",
      verified: true,
    });
    const [carelink, labflow] = t.rows();
    assert.deepEqual(carelink, {
      tenant: "carelink",
      backupAgeSeconds: 3600,
      withinPolicy: true,
      drillAgeSeconds: undefined,
      drillPassed: undefined,
      copyLagSeconds: 3600,
      lockPassed: 1,
    });
    assert.equal(labflow?.copyLagSeconds, 7200);
    assert.equal(labflow.lockPassed, undefined);
  });
});
