import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetRows, fleetTable } from "./fleet-status.ts";

const environment = (
  name: string,
  provider: string,
  conditions: object[],
  options: { vaktVersion?: string; posture?: object } = {},
) => ({
  metadata: { name },
  spec: {
    provider,
    region: provider === "aws" ? "eu-north-1" : "local",
    baseline: options.vaktVersion === undefined ? {} : { vaktVersion: options.vaktVersion },
  },
  status: {
    phase: "Provisioned",
    conditions,
    ...(options.posture === undefined ? {} : { posture: options.posture }),
  },
});

describe("vakt fleet status", () => {
  it("one row per Environment, sorted: the member's posture, and the False conditions besides Ready as problems", () => {
    const rows = fleetRows(
      [
        environment(
          "zeta",
          "local",
          [
            { type: "Ready", status: "True" },
            { type: "Autoscaling", status: "False", reason: "KarpenterNotInstalled" },
          ],
          { posture: { webhook: "Ready", vaktVersion: "0.1.0", wantedVersion: "0.1.0", findings: 4 } },
        ),
        environment("alpha", "aws", [{ type: "Ready", status: "False" }], { vaktVersion: "0.2.0" }),
        environment("mid", "local", [{ type: "VersionMatched", status: "False", reason: "VersionSkew" }], {
          posture: { webhook: "NotAnswering", vaktVersion: "0.0.9", wantedVersion: "0.1.0" },
        }),
      ],
      "0.1.0",
    );
    assert.deepEqual(
      rows.map((r) => [
        r.environment,
        r.provider,
        r.ready,
        r.vaktVersion,
        r.memberVersion,
        r.webhook,
        r.findings,
        r.problems,
      ]),
      [
        ["alpha", "aws", "False", "0.2.0", null, null, null, []],
        ["mid", "local", "Unknown", "0.1.0", "0.0.9", "NotAnswering", null, ["VersionMatched: VersionSkew"]],
        ["zeta", "local", "True", "0.1.0", "0.1.0", "Ready", 4, ["Autoscaling: KarpenterNotInstalled"]],
      ],
    );
    const table = fleetTable(rows).split("\n");
    assert.match(
      table[0] ?? "",
      /^ENVIRONMENT\s+PROVIDER\s+REGION\s+PHASE\s+READY\s+VAKT\s+WEBHOOK\s+FINDINGS\s+PROBLEMS\s+LAST BACKUP\s+LAST DRILL$/,
    );
    assert.match(
      table[1] ?? "",
      /^alpha\s+aws\s+eu-north-1\s+Provisioned\s+False\s+- \(wants 0\.2\.0\)\s+-\s+-\s+0\s+-\s+-$/,
    );
    assert.match(
      table[2] ?? "",
      /^mid\s+.*\s0\.0\.9 \(wants 0\.1\.0\)\s+NotAnswering\s+-\s+1 \(VersionMatched: VersionSkew\)/,
    );
    assert.match(
      table[3] ?? "",
      /^zeta\s+local\s+local\s+Provisioned\s+True\s+0\.1\.0\s+Ready\s+4\s+1 \(Autoscaling: KarpenterNotInstalled\)\s+-\s+-$/,
    );
  });
});
