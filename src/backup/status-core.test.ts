import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  backupStatusFields,
  drillStatusFields,
  longestCronGapSeconds,
  POLICY_GRACE_SECONDS,
} from "./status-core.ts";
import type { TenantBackup } from "./status-core.ts";

const HOUR = 3600;
const DAY = 24 * HOUR;

describe("longestCronGapSeconds", () => {
  it("reads the schedules Velero takes in five fields", () => {
    assert.equal(longestCronGapSeconds("0 2 * * *"), DAY);
    assert.equal(longestCronGapSeconds("*/15 * * * *"), 15 * 60);
    assert.equal(longestCronGapSeconds("0 2,14 * * *"), 12 * HOUR);
    assert.equal(longestCronGapSeconds("0 1,3 * * *"), 22 * HOUR);
    assert.equal(longestCronGapSeconds("30 3 * * 0"), 7 * DAY);
    assert.equal(longestCronGapSeconds("30 3 * * SUN"), 7 * DAY);
    assert.equal(longestCronGapSeconds("30 3 * * 7"), 7 * DAY);
    // Weekdays only: Friday to Monday.
    assert.equal(longestCronGapSeconds("0 2 * * MON-FRI"), 3 * DAY);
    // Monthly on the 1st: the longest month is 31 days.
    assert.equal(longestCronGapSeconds("0 0 1 * *"), 31 * DAY);
    // Day of month and day of week both set: either fires (the 1st, and every Sunday).
    const either = longestCronGapSeconds("0 0 1 * 0");
    assert.ok(either !== undefined && either <= 7 * DAY, String(either));
    // The 31st: months without one are skipped (31 Jan -> 31 Mar is 59 or 60 days).
    assert.equal(longestCronGapSeconds("0 0 31 * *"), 61 * DAY);
    // Leap days: every four years.
    assert.equal(longestCronGapSeconds("0 0 29 2 *"), (4 * 365 + 1) * DAY);
  });

  it("names the field that is wrong", () => {
    assert.throws(() => longestCronGapSeconds("0 25 * * *"), /the hour field "25" has 25, out of range/);
    assert.throws(() => longestCronGapSeconds("0 2 * * * *"), /five fields .* not 6/);
    assert.throws(() => longestCronGapSeconds("x 2 * * *"), /the minute field "x" has "x", not a number/);
    assert.throws(() => longestCronGapSeconds("0 5-2 * * *"), /range 5-2 backwards/);
    assert.throws(() => longestCronGapSeconds("*/0 * * * *"), /step "0"/);
  });

  it("says when a schedule never fires twice", () => {
    assert.equal(longestCronGapSeconds("0 0 30 2 *"), undefined);
  });
});

const backup = (name: string, phase: string, completion?: string, start?: string): TenantBackup => ({
  namespace: "velero",
  name,
  phase,
  completion,
  start,
});

describe("backupStatusFields", () => {
  const now = new Date("2026-12-06T03:00:00Z");

  it("reports the latest backup, the latest completed one and its age against the policy", () => {
    const fields = backupStatusFields({
      schedule: "0 2 * * *",
      backups: [
        backup("b1", "Completed", "2026-12-05T02:03:00Z", "2026-12-05T02:00:00Z"),
        backup("b2", "Completed", "2026-12-06T02:04:00Z", "2026-12-06T02:00:00Z"),
        backup("b3", "InProgress", undefined, "2026-12-06T02:30:00Z"),
        backup("b0", "Failed", "2026-12-04T02:01:00Z"),
      ],
      lastCopy: {
        backup: "velero/b2",
        location: "offsite",
        time: "2026-12-06T02:05:00Z",
        verified: true,
      },
      now,
    });
    assert.deepEqual(fields.status, {
      lastBackup: { namespace: "velero", name: "b3", phase: "InProgress", time: "2026-12-06T02:30:00Z" },
      lastCompletedBackup: { namespace: "velero", name: "b2", time: "2026-12-06T02:04:00Z" },
      policy: { schedule: "0 2 * * *", maxAgeSeconds: DAY + POLICY_GRACE_SECONDS },
      dueBy: "2026-12-07T03:04:00Z",
      withinPolicy: true,
      lastCopy: { backup: "velero/b2", location: "offsite", time: "2026-12-06T02:05:00Z", verified: true },
    });
    assert.equal(fields.recheckAt, Date.parse("2026-12-07T03:04:00Z"));
  });

  it("is out of policy when the last completed backup is too old or missing", () => {
    const old = backupStatusFields({
      schedule: "0 2 * * *",
      backups: [backup("b1", "Completed", "2026-12-04T02:03:00Z")],
      lastCopy: undefined,
      now,
    });
    assert.equal(old.status.withinPolicy, false);
    assert.equal(old.status.dueBy, "2026-12-05T03:03:00Z");
    assert.equal(old.recheckAt, undefined);
    const none = backupStatusFields({
      schedule: "0 2 * * *",
      backups: [backup("b1", "Failed", "2026-12-06T02:03:00Z")],
      lastCopy: undefined,
      now,
    });
    assert.equal(none.status.withinPolicy, false);
    assert.equal(none.status.lastCompletedBackup, undefined);
    assert.equal(none.status.lastBackup?.phase, "Failed");
  });

  it("has no policy for a tenant without backed-up namespaces, and says why a schedule is unreadable", () => {
    const off = backupStatusFields({ schedule: undefined, backups: [], lastCopy: undefined, now });
    assert.deepEqual(off.status, {});
    const bad = backupStatusFields({ schedule: "0 99 * * *", backups: [], lastCopy: undefined, now });
    assert.match(bad.scheduleProblem ?? "", /hour field "99"/);
    assert.equal(bad.status.policy, undefined);
  });
});

describe("drillStatusFields", () => {
  const drill = {
    id: "ab12",
    tenant: "carelink",
    backup: "velero/b2",
    location: "offsite",
    finishedAt: "2026-12-06T02:10:00Z",
    rpoSeconds: 612.4,
    rtoSeconds: 2.3,
    problems: [] as string[],
  };

  it("records a passed drill as the last and the last passed one, RTO rounded up", () => {
    assert.deepEqual(drillStatusFields({ ...drill, passed: true }, undefined), {
      lastDrill: {
        id: "ab12",
        time: "2026-12-06T02:10:00Z",
        passed: true,
        backup: "velero/b2",
        location: "offsite",
        rpoSeconds: 612,
        rtoSeconds: 3,
        problems: [],
      },
      lastPassedDrill: { id: "ab12", time: "2026-12-06T02:10:00Z" },
    });
  });

  it("keeps the earlier passed drill when one fails", () => {
    const fields = drillStatusFields(
      { ...drill, id: "cd34", passed: false, problems: ["1 object(s) missing: Secret app/db"] },
      { lastPassedDrill: { id: "ab12", time: "2026-12-05T02:10:00Z" } },
    );
    assert.equal(fields.lastDrill?.passed, false);
    assert.deepEqual(fields.lastDrill.problems, ["1 object(s) missing: Secret app/db"]);
    assert.deepEqual(fields.lastPassedDrill, { id: "ab12", time: "2026-12-05T02:10:00Z" });
  });
});
