// `npm start -- --backups` as a user runs it on a fresh home: `vakt dev up --backups` starts the
// control plane, versitygw (Velero's bucket and an Object Lock bucket), both Velero servers and a
// BackupLocation with a daily drill, then vakt; the example tenants are applied and `vakt backup
// now` takes their first backups, as scripts/start.sh does; vakt copies them off-site and drills
// them: each tenant has a passed drill in the location's status.
// `vakt dev down` stops every process, the backup stack's included.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { lastDrills } from "../../src/backup/schedule.ts";
import { setting } from "../../src/config/settings.ts";
import { isOurProcess } from "../../src/devcluster/processes.ts";
import { eventually } from "../../src/testing/cluster.ts";
import { freshHome } from "./vakt-process.ts";

const { dir: home, vakt, kubectl } = freshHome("vakt-dev-backups-");

test("vakt dev up --backups shows each example tenant with a passed restore drill", async () => {
  await vakt("dev", "up", "--nodes", "1", "--backups", "--bin-dir", setting("testBinDir"));
  const state = JSON.parse(readFileSync(join(home, "dev", "backups", "state.json"), "utf8")) as {
    endpoint: string;
    processes: { name: string; pid: number }[];
  };
  assert.deepEqual(
    state.processes.map((p) => p.name),
    ["versitygw", "velero", "velero-drill"],
  );
  assert.match(state.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  await kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/tenants.vakt.dev");
  await kubectl("apply", "--server-side", "--field-manager=vakt-examples", "-f", "examples/tenants/");
  const made = await vakt("backup", "now", "--wait", "180");
  assert.match(
    made,
    /^carelink: backup velero\/tenant-carelink-now-\d+ from Schedule tenant-carelink Completed$/m,
  );
  assert.match(
    made,
    /^labflow: backup velero\/tenant-labflow-now-\d+ from Schedule tenant-labflow Completed$/m,
  );

  const drills = await eventually("a passed drill of each example tenant", 240_000, async () => {
    const location = JSON.parse(await kubectl("get", "backuplocation", "offsite", "-o", "json")) as Record<
      string,
      unknown
    >;
    const passed = lastDrills(location).filter((drill) => drill.passed);
    return passed.length === 2 ? passed : undefined;
  });
  assert.deepEqual(drills.map((drill) => drill.tenant).sort(), ["carelink", "labflow"]);

  await vakt("dev", "down");
  for (const process of state.processes)
    assert.equal(isOurProcess(process.pid, home), false, `${process.name} still runs after vakt dev down`);
});
