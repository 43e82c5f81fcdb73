import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fleetRows, fleetTable } from "./fleet-status.ts";

const environment = (name: string, provider: string, conditions: object[], vaktVersion?: string) => ({
  metadata: { name },
  spec: {
    provider,
    region: provider === "aws" ? "eu-north-1" : "local",
    baseline: vaktVersion === undefined ? {} : { vaktVersion },
  },
  status: { phase: "Provisioned", conditions },
});

describe("vakt fleet status", () => {
  it("one row per Environment, sorted; findings are the False conditions besides Ready", () => {
    const rows = fleetRows(
      [
        environment("zeta", "local", [
          { type: "Ready", status: "True" },
          { type: "Autoscaling", status: "False", reason: "KarpenterNotInstalled" },
        ]),
        environment("alpha", "aws", [{ type: "Ready", status: "False" }], "0.2.0"),
      ],
      "0.1.0",
    );
    assert.deepEqual(
      rows.map((r) => [r.environment, r.provider, r.ready, r.vaktVersion, r.findings]),
      [
        ["alpha", "aws", "False", "0.2.0", []],
        ["zeta", "local", "True", "0.1.0", ["Autoscaling: KarpenterNotInstalled"]],
      ],
    );
    const table = fleetTable(rows).split("\n");
    assert.match(
      table[0] ?? "",
      /^ENVIRONMENT\s+PROVIDER\s+REGION\s+PHASE\s+READY\s+VAKT\s+FINDINGS\s+LAST BACKUP\s+LAST DRILL$/,
    );
    assert.match(
      table[2] ?? "",
      /^zeta\s+local\s+local\s+Provisioned\s+True\s+0\.1\.0\s+1 \(Autoscaling: KarpenterNotInstalled\)\s+-\s+-$/,
    );
  });
});
