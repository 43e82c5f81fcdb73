import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseEnvironment } from "../environment/validate.ts";
import { devEnvironment, devFleetMembers } from "./dev-fleet.ts";

describe("vakt dev up --fleet", () => {
  it("its Environments are valid local ones in Sweden, named dev-1 .. dev-n", () => {
    for (const index of [1, 2]) {
      const object = devEnvironment(index);
      const parsed = parseEnvironment(object);
      assert.deepEqual(parsed.problems, []);
      assert.equal(parsed.environment?.metadata.name, `dev-${index}`);
      assert.equal(parsed.environment.spec.provider, "local");
    }
  });

  it("dev down finds the members by their state files under <home>/fleet", () => {
    const home = mkdtempSync(join(tmpdir(), "vakt-dev-fleet-"));
    try {
      assert.deepEqual(devFleetMembers(home), []);
      mkdirSync(join(home, "fleet", "dev-1"), { recursive: true });
      mkdirSync(join(home, "fleet", "empty"), { recursive: true });
      writeFileSync(join(home, "fleet", "dev-1", "state.json"), "{}");
      assert.deepEqual(devFleetMembers(home), [join(home, "fleet", "dev-1")]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
