// Restore drills on a schedule and after a crash, on the real control plane, the real Velero (the
// primary's, and the drill's reading the off-site bucket ReadOnly) and the real S3 server:
// - a BackupLocation with a drill section: the backup part drills the tenant once its backup is
//   copied, without the CLI; the result is evidence and the location's status.drills;
// - a new run (a restart) reads the last drill back and does not drill again before the interval;
// - a run killed mid-drill (stop with crash, the drill held after its scratch namespaces exist)
//   leaves them; the next run deletes them and records the drill as failed and interrupted, and
//   does not drill again at once either.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DRILL_ANNOTATIONS, DRILL_LABEL, DRILL_TENANT_LABEL } from "../../src/backup/drill.ts";
import { lastDrills } from "../../src/backup/schedule.ts";
import type { LastDrill } from "../../src/backup/schedule.ts";
import type { EvidenceRecord, EvidenceStore } from "../../src/evidence/types.ts";
import type { RunningManager } from "../../src/manager/run.ts";
import { startBackupRun, startDrillStack, tenantBackup } from "../../src/testing/backup.ts";
import { eventually, kubectl, withNamespace } from "../../src/testing/cluster.ts";

const HOUR_MS = 3_600_000;

async function drillRecords(run: RunningManager): Promise<EvidenceRecord[]> {
  const store: EvidenceStore | undefined = run.backup?.evidence;
  assert.ok(store !== undefined, "the backup part runs with an evidence history");
  await store.flush();
  const out: EvidenceRecord[] = [];
  for await (const record of store.query({ kinds: ["restore.drill"] })) out.push(record);
  return out;
}

async function namespacesLabelled(selector: string): Promise<string[]> {
  const { stdout } = await kubectl(["get", "namespaces", "-l", selector, "-o", "name"]);
  return stdout.split("\n").filter((line) => line !== "");
}

describe("scheduled restore drills", () => {
  it("drill on schedule, not again after a restart, and a drill killed midway is cleaned up and failed", async (t) => {
    const tenant = `sched-${Math.random().toString(16).slice(2, 8)}`;
    const app = await withNamespace(t, "drill-sched");
    await kubectl(["-n", app, "create", "configmap", "settings", "--from-literal=mode=clinical"]);
    await kubectl(["-n", app, "create", "secret", "generic", "db", "--from-literal=password=s3cret"]);

    const { velero, drillVelero, location } = await startDrillStack(t);
    const drillSpec = {
      veleroNamespace: drillVelero.namespace,
      storageLocation: "offsite",
      timeoutSeconds: 120,
    };
    await location.patchSpec({ drill: { interval: "1h", ...drillSpec } });
    const runOptions = { selector: location.selector, leaseNamespace: velero.namespace };
    const statusDrill = async (): Promise<LastDrill | undefined> =>
      lastDrills(await location.read()).find((drill) => drill.tenant === tenant);
    const key = `${location.name}/${tenant}`;

    // 1. On schedule: the tenant's backup is copied, then drilled without anyone asking.
    const first = await startBackupRun(t, runOptions);
    await tenantBackup(velero, "nightly", app, tenant);
    const drilled = await eventually("the scheduled drill in the location's status", 180_000, statusDrill);
    assert.equal(drilled.passed, true, drilled.problems.join("; "));
    assert.equal(drilled.backup, `${velero.namespace}/nightly`);
    assert.equal(drilled.nextAt, new Date(Date.parse(drilled.startedAt) + HOUR_MS).toISOString());
    const records = await drillRecords(first);
    assert.deepEqual(
      records.map((r) => [(r.data as { outcome?: string }).outcome, (r.data as { id?: string }).id]),
      [["passed", drilled.id]],
    );
    assert.equal(records[0]?.scope.tenant, tenant);
    await eventually("the drill's scratch namespaces gone", 90_000, async () =>
      (await namespacesLabelled(`${DRILL_TENANT_LABEL}=${tenant}`)).length === 0 ? true : undefined,
    );
    await first.close();

    // 2. A restart: the new run reads the drill back from the status and schedules the next one
    //    an interval after it, instead of drilling at once.
    let held: (namespaces: readonly string[]) => void = () => undefined;
    const heldAt = new Promise<readonly string[]>((resolve) => {
      held = resolve;
    });
    let holdDrills = false;
    const second = await startBackupRun(t, {
      ...runOptions,
      backup: {
        // Once armed, a drill stops after its scratch namespaces are isolated, for good: the
        // process is "killed" there.
        drillAfterIsolation: (_id, namespaces) => {
          if (!holdDrills) return Promise.resolve();
          held(namespaces);
          return new Promise<void>(() => undefined);
        },
      },
    });
    const next = await eventually("the restarted run's schedule for the tenant", 90_000, () =>
      Promise.resolve(second.backup?.drillSchedule.get(key)),
    );
    assert.equal(
      next,
      Date.parse(drilled.startedAt) + HOUR_MS,
      "the next drill is an interval after the last",
    );
    assert.deepEqual(await drillRecords(second), [], "the restarted run did not drill");
    assert.equal((await statusDrill())?.id, drilled.id);

    // 3. A shorter interval makes the drill due; it is killed after its scratch namespaces exist.
    holdDrills = true;
    await location.patchSpec({ drill: { interval: "2s", ...drillSpec } });
    const scratch = await heldAt;
    assert.ok(scratch.length > 0);
    // The crashed run's evidence store is left open, as a killed process leaves it; its database
    // process is stopped when the test ends (a killed vakt's would see its parent gone).
    const crashedStore = second.backup?.evidence;
    t.after(() => crashedStore?.close());
    await second.manager.stop({ crash: true });
    const left = await namespacesLabelled(`${DRILL_TENANT_LABEL}=${tenant}`);
    assert.deepEqual(
      left.sort(),
      scratch.map((n) => `namespace/${n}`).sort(),
      "the killed drill left its namespaces",
    );
    const { stdout: annotations } = await kubectl([
      "get",
      "namespace",
      scratch[0] ?? "",
      "-o",
      `jsonpath={.metadata.labels.vakt\\.dev/drill}|{.metadata.annotations.vakt\\.dev/drill-runner}`,
    ]);
    assert.match(annotations, /^[0-9a-f]{8}\|leader$/);
    assert.equal(DRILL_ANNOTATIONS.runner, "vakt.dev/drill-runner");
    assert.equal(DRILL_LABEL, "vakt.dev/drill");

    // 4. The next run: the leftovers are deleted, the drill is recorded as failed and interrupted,
    //    and (the interval back at 1h) the next drill is an interval after the interrupted one.
    await location.patchSpec({ drill: { interval: "1h", ...drillSpec } });
    const third = await startBackupRun(t, runOptions);
    const interrupted = await eventually(
      "the interrupted drill in the location's status",
      90_000,
      async () => {
        const drill = await statusDrill();
        return drill?.interrupted === true ? drill : undefined;
      },
    );
    assert.equal(interrupted.passed, false);
    assert.match(interrupted.problems[0] ?? "", /interrupted before it finished/);
    assert.notEqual(interrupted.id, drilled.id);
    const failed = await drillRecords(third);
    assert.deepEqual(
      failed.map((r) => [
        (r.data as { outcome?: string }).outcome,
        (r.data as { interrupted?: boolean }).interrupted,
        (r.data as { id?: string }).id,
      ]),
      [["failed", true, interrupted.id]],
    );
    await eventually("the killed drill's scratch namespaces gone", 90_000, async () =>
      (await namespacesLabelled(`${DRILL_TENANT_LABEL}=${tenant}`)).length === 0 ? true : undefined,
    );
    const after = await eventually("the new run's schedule for the tenant", 90_000, () =>
      Promise.resolve(third.backup?.drillSchedule.get(key)),
    );
    assert.equal(after, Date.parse(interrupted.startedAt) + HOUR_MS);
    assert.equal((await drillRecords(third)).length, 1, "no drill at once after the crash");
  });
});
