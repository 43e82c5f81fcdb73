import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBackupLocation } from "./location.ts";
import { intervalMs, lastDrills, nextDrillAt } from "./schedule.ts";
import type { LastDrill } from "./schedule.ts";

const location = (drill: unknown): unknown => ({
  apiVersion: "vakt.dev/v1alpha1",
  kind: "BackupLocation",
  metadata: { name: "offsite-se" },
  spec: {
    s3: {
      bucket: "vakt-offsite",
      region: "eu-north-1",
      credentialsSecret: { namespace: "vakt-system", name: "offsite" },
    },
    drill,
  },
});

describe("scheduled restore drills", () => {
  it("reads daily, weekly and durations as milliseconds", () => {
    assert.equal(intervalMs("daily"), 86_400_000);
    assert.equal(intervalMs("weekly"), 7 * 86_400_000);
    assert.equal(intervalMs("168h"), 7 * 86_400_000);
    assert.equal(intervalMs("1h30m"), 5_400_000);
    assert.equal(intervalMs("45s"), 45_000);
    assert.throws(() => intervalMs("0s"), /give daily, weekly or a duration/);
    assert.throws(() => intervalMs("fortnightly"), /"fortnightly"/);
  });

  it("drills a tenant that never drilled now, and one that did one interval after that drill started", () => {
    const now = Date.parse("2026-12-06T03:00:00Z");
    assert.equal(nextDrillAt(undefined, 3_600_000, now), now);
    const last: LastDrill = {
      tenant: "carelink",
      id: "abcd1234",
      backup: "velero/nightly",
      startedAt: "2026-12-06T02:30:00.000Z",
      finishedAt: "2026-12-06T02:30:20.000Z",
      passed: false,
      problems: ["1 object(s) missing: Secret app/db"],
    };
    // A failed drill counts as well: due one interval after it started, not at once.
    assert.equal(nextDrillAt(last, 3_600_000, now), Date.parse("2026-12-06T03:30:00Z"));
    assert.equal(nextDrillAt({ ...last, startedAt: "" }, 3_600_000, now), now);
  });

  it("reads the last drills back from a location's status, ignoring malformed entries", () => {
    const drills = lastDrills({
      status: {
        drills: [
          {
            tenant: "carelink",
            id: "abcd1234",
            backup: "velero/nightly",
            startedAt: "2026-12-06T02:30:00.000Z",
            finishedAt: "2026-12-06T02:30:20.000Z",
            passed: true,
            rpoSeconds: 120,
            rtoSeconds: 4.2,
            problems: [],
            nextAt: "2026-12-13T02:30:00.000Z",
          },
          { tenant: "labflow", id: "ef", passed: false, interrupted: true, problems: ["killed", 3] },
          { id: "no-tenant" },
          "junk",
        ],
      },
    });
    assert.deepEqual(
      drills.map((d) => [d.tenant, d.passed, d.interrupted ?? false, d.problems]),
      [
        ["carelink", true, false, []],
        ["labflow", false, true, ["killed"]],
      ],
    );
    const carelink = drills[0];
    assert.ok(carelink !== undefined);
    assert.equal(carelink.rtoSeconds, 4.2);
    assert.equal(carelink.nextAt, "2026-12-13T02:30:00.000Z");
    assert.deepEqual(lastDrills({}), []);
  });

  it("defaults the drill section and names a bad interval's field", () => {
    const { location: parsed, problems } = parseBackupLocation(location({ interval: "weekly" }));
    assert.deepEqual(problems, []);
    assert.deepEqual(parsed?.spec.drill, {
      interval: "weekly",
      veleroNamespace: "vakt-drill",
      timeoutSeconds: 600,
    });
    const bad = parseBackupLocation(location({ interval: "every week", timeoutSeconds: 1 }));
    assert.equal(bad.location, undefined);
    assert.deepEqual(
      bad.problems.map((p) => p.path.join(".")),
      ["spec.drill.interval", "spec.drill.timeoutSeconds"],
    );
    assert.match(bad.problems[0]?.message ?? "", /daily, weekly, or a duration/);
    const missing = parseBackupLocation(location({}));
    assert.deepEqual(
      missing.problems.map((p) => p.path.join(".")),
      ["spec.drill.interval"],
    );
  });
});
