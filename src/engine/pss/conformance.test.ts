/**
 * Conformance with the Kubernetes pod-security-admission fixtures: for every level, version and
 * fixture under ../shared/conformance/pss, the rules of that level at that version must admit
 * the "pass" pods (no finding) and refuse the "fail" pods (at least one finding).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { evaluateObject, RuleSet } from "../evaluate.ts";
import type { Inventory, KubeObject } from "../types.ts";
import { PSS_RULES } from "./index.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const fixtureRoot = path.resolve(repoRoot, "../shared/conformance/pss");

const emptyInventory: Inventory = { byKind: () => [], complete: false };

const LEVELS = [
  { level: "baseline", set: "pss-baseline" },
  { level: "restricted", set: "pss-restricted" },
] as const;

function versionsOf(levelDir: string): string[] {
  return readdirSync(levelDir)
    .filter((name) => /^v1\.\d+$/.test(name))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
}

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort();
}

test("PSS conformance fixtures agree with the rules at every level and version", (t) => {
  assert.ok(
    existsSync(fixtureRoot),
    `conformance fixtures not found at ${fixtureRoot} (expected <level>/<version>/<pass|fail>/*.yaml)`,
  );
  const disagreements: string[] = [];
  let checked = 0;
  for (const { level, set } of LEVELS) {
    const levelDir = path.join(fixtureRoot, level);
    assert.ok(existsSync(levelDir), `missing fixture level folder ${levelDir}`);
    const ruleSet = new RuleSet(PSS_RULES.filter((rule) => rule.sets.includes(set)));
    const versions = versionsOf(levelDir);
    assert.ok(versions.length > 0, `no version folders under ${levelDir}`);
    for (const version of versions) {
      const settings = { pssVersion: version, registries: [], allowedRegions: [] };
      for (const expectation of ["pass", "fail"] as const) {
        const dir = path.join(levelDir, version, expectation);
        for (const file of yamlFiles(dir)) {
          const object = parse(readFileSync(path.join(dir, file), "utf8")) as KubeObject;
          const findings = evaluateObject(object, ruleSet, { settings, inventory: emptyInventory });
          checked++;
          const where = `${level}/${version}/${expectation}/${file}`;
          if (expectation === "pass" && findings.length > 0) {
            const detail = findings.map((finding) => `${finding.rule}: ${finding.message}`).join("; ");
            disagreements.push(`${where}: expected admitted, got ${detail}`);
          } else if (expectation === "fail" && findings.length === 0) {
            disagreements.push(`${where}: expected refused, got no finding`);
          }
        }
      }
    }
  }
  assert.ok(checked > 0, `no fixture files found under ${fixtureRoot}`);
  t.diagnostic(`${checked} fixtures checked, ${checked - disagreements.length} agree`);
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${checked} fixtures disagree`);
});

test('"latest" judges the newest fixtures like their pinned version', () => {
  const disagreements: string[] = [];
  for (const { level, set } of LEVELS) {
    const levelDir = path.join(fixtureRoot, level);
    if (!existsSync(levelDir)) assert.fail(`missing fixture level folder ${levelDir}`);
    const newest = versionsOf(levelDir).at(-1);
    assert.ok(newest !== undefined, `no version folders under ${levelDir}`);
    const ruleSet = new RuleSet(PSS_RULES.filter((rule) => rule.sets.includes(set)));
    const settings = { pssVersion: "latest", registries: [], allowedRegions: [] };
    for (const expectation of ["pass", "fail"] as const) {
      const dir = path.join(levelDir, newest, expectation);
      for (const file of yamlFiles(dir)) {
        const object = parse(readFileSync(path.join(dir, file), "utf8")) as KubeObject;
        const refused = evaluateObject(object, ruleSet, { settings, inventory: emptyInventory }).length > 0;
        if (refused !== (expectation === "fail"))
          disagreements.push(`${level}/${newest}/${expectation}/${file}`);
      }
    }
  }
  assert.deepEqual(disagreements, []);
});
