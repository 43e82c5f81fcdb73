import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backupStatusRows, backupStatusTable, humanSeconds } from "./status-table.ts";

const now = new Date("2026-12-06T04:00:00Z");

const carelink = {
  metadata: { name: "carelink" },
  status: {
    conditions: [{ type: "Ready", status: "True" }],
    backup: {
      lastBackup: {
        namespace: "velero",
        name: "tenant-carelink-2",
        phase: "Completed",
        time: "2026-12-06T02:05:00Z",
      },
      lastCompletedBackup: { namespace: "velero", name: "tenant-carelink-2", time: "2026-12-06T02:05:00Z" },
      policy: { schedule: "0 2 * * *", maxAgeSeconds: 90_000 },
      withinPolicy: true,
      dueBy: "2026-12-07T03:05:00Z",
      lastCopy: {
        backup: "velero/tenant-carelink-2",
        location: "offsite-se",
        time: "2026-12-06T02:06:00Z",
        verified: true,
      },
      lastDrill: {
        id: "ab12",
        time: "2026-12-06T03:00:00Z",
        passed: true,
        backup: "velero/tenant-carelink-2",
        location: "offsite-se",
        rpoSeconds: 3300,
        rtoSeconds: 4,
        problems: [],
      },
      lastPassedDrill: { id: "ab12", time: "2026-12-06T03:00:00Z" },
    },
  },
};

const labflow = {
  metadata: { name: "labflow" },
  status: {
    backup: {
      lastBackup: {
        namespace: "velero",
        name: "tenant-labflow-9",
        phase: "Failed",
        time: "2026-12-06T02:01:00Z",
      },
      lastCompletedBackup: { namespace: "velero", name: "tenant-labflow-8", time: "2026-12-04T02:03:00Z" },
      policy: { schedule: "0 2 * * *", maxAgeSeconds: 90_000 },
      withinPolicy: false,
      lastCopy: {
        backup: "velero/tenant-labflow-8",
        location: "offsite-de",
        time: "2026-12-04T02:04:00Z",
        verified: false,
        message: "backups/tenant-labflow-8/tenant-labflow-8.tar.gz: CRC32 mismatch",
      },
      lastDrill: {
        id: "cd34",
        time: "2026-12-05T03:00:00Z",
        passed: false,
        backup: "velero/tenant-labflow-8",
        rpoSeconds: 89_000,
        rtoSeconds: 3,
        problems: ["1 object(s) missing: Secret lab/db"],
      },
    },
  },
};

const locations = [
  {
    metadata: { name: "offsite-se" },
    status: { conditions: [{ type: "LockVerified", status: "True", reason: "Passed" }] },
  },
  {
    metadata: { name: "offsite-de" },
    status: { conditions: [{ type: "LockVerified", status: "False", reason: "LockCheckFailed" }] },
  },
];

describe("vakt backup status", () => {
  it("reads one row per Tenant from its status.backup and its location's lock check", () => {
    const rows = backupStatusRows([labflow, carelink, { metadata: { name: "new" } }], locations, now);
    assert.deepEqual(
      rows.map((row) => row.tenant),
      ["carelink", "labflow", "new"],
    );
    const [c, l, n] = rows;
    assert.deepEqual(c, {
      tenant: "carelink",
      lastBackup: { name: "velero/tenant-carelink-2", phase: "Completed", time: "2026-12-06T02:05:00Z" },
      backupAgeSeconds: 6900,
      maxAgeSeconds: 90_000,
      withinPolicy: true,
      offsiteCopy: {
        backup: "velero/tenant-carelink-2",
        location: "offsite-se",
        time: "2026-12-06T02:06:00Z",
        verified: true,
        message: null,
      },
      lastDrill: {
        id: "ab12",
        time: "2026-12-06T03:00:00Z",
        passed: true,
        backup: "velero/tenant-carelink-2",
        problems: [],
      },
      rpoSeconds: 3300,
      rtoSeconds: 4,
      lockCheck: { location: "offsite-se", status: "True", reason: "Passed" },
    });
    assert.equal(l?.withinPolicy, false);
    assert.equal(l.offsiteCopy?.verified, false);
    assert.deepEqual(l.lockCheck, { location: "offsite-de", status: "False", reason: "LockCheckFailed" });
    assert.deepEqual(n, {
      tenant: "new",
      lastBackup: null,
      backupAgeSeconds: null,
      maxAgeSeconds: null,
      withinPolicy: null,
      offsiteCopy: null,
      lastDrill: null,
      rpoSeconds: null,
      rtoSeconds: null,
      lockCheck: null,
    });
  });

  it("prints a table that says what is wrong in capitals", () => {
    const table = backupStatusTable(backupStatusRows([carelink, labflow], locations, now), now);
    const lines = table.trimEnd().split("\n");
    assert.equal(lines.length, 3);
    assert.match(
      lines[0] ?? "",
      /^TENANT +LAST BACKUP +AGE +OFF-SITE COPY +LAST DRILL +RPO +RTO +LOCK CHECK$/,
    );
    assert.match(
      lines[1] ?? "",
      /^carelink +velero\/tenant-carelink-2 Completed +1h55m \(max 1d1h\) +verified 1h54m ago \(offsite-se\) +passed 1h ago +55m +4s +passed \(offsite-se\)$/,
    );
    assert.match(
      lines[2] ?? "",
      /^labflow +velero\/tenant-labflow-9 Failed +2d1h \(OVERDUE, max 1d1h\) +NOT VERIFIED 2d1h ago \(offsite-de\) +FAILED 1d1h ago +1d +3s +FAILED: LockCheckFailed \(offsite-de\)$/,
    );
    // Columns line up: each header starts where its cells do.
    const start = (line: string, text: string): number => line.indexOf(text);
    assert.equal(start(lines[0] ?? "", "LOCK CHECK"), start(lines[1] ?? "", "passed (offsite-se)"));
  });

  it("says durations the way people read them", () => {
    assert.deepEqual([0, 59, 60, 3599, 3600, 3660, 86_399, 86_400, 90_000, 604_800].map(humanSeconds), [
      "0s",
      "59s",
      "1m",
      "59m",
      "1h",
      "1h1m",
      "23h59m",
      "1d",
      "1d1h",
      "7d",
    ]);
  });
});
