/**
 * Conformance with the Kubernetes project's own Pod Security Standards fixtures, read from the
 * Go module cache (k8s.io/pod-security-admission at the control plane's version, test/testdata).
 * For every level, version and fixture, the rules of that level at that version must admit the
 * "pass" pods (no finding) and refuse the "fail" pods with the rule that mirrors the upstream
 * check the fixture's file name names (`<check><n>.yaml`, the check id in lower case): a fail
 * fixture refused only by some other rule would hide a gap in that check.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { podSecurityFixturesDir } from "../../devcluster/go-modules.ts";
import { evaluateObject, RuleSet } from "../evaluate.ts";
import type { EngineSettings, Inventory, KubeObject } from "../types.ts";
import { PSS_RULES } from "./index.ts";
import type { PssRule } from "./index.ts";

const emptyInventory: Inventory = { byKind: () => [], complete: false };
const NOW = new Date("2026-06-15T12:00:00Z");

const LEVELS = [
  { level: "baseline", set: "pss-baseline" },
  { level: "restricted", set: "pss-restricted" },
] as const;

/** Pass fixtures that are not about one check: the minimal valid pod of the level (and per OS). */
const BASE_FIXTURES: ReadonlySet<string> = new Set(["base", "base_linux", "base_windows"]);

const pssRules = PSS_RULES as readonly PssRule[];

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

/** The upstream check a fixture file is about: "hostpathvolumes3.yaml" -> "hostpathvolumes". */
function checkOf(file: string): string {
  return file.replace(/\d*\.yaml$/, "");
}

/**
 * The rule ids that must refuse a fail fixture of `check` in `rules` at `settings`: the rule
 * mirroring the check, or the rule upstream evaluates instead of it at this level and version.
 */
function expectedRules(check: string, rules: readonly PssRule[], settings: EngineSettings): Set<string> {
  const ids = new Set<string>();
  const inSet = new Set(rules.map((rule) => rule.id));
  for (const rule of rules) {
    if (rule.upstreamId.toLowerCase() !== check) continue;
    const replacement = rule.supersededBy;
    ids.add(
      replacement !== undefined && inSet.has(replacement.rule) && replacement.applies(settings)
        ? replacement.rule
        : rule.id,
    );
  }
  return ids;
}

interface Fixture {
  readonly level: (typeof LEVELS)[number]["level"];
  readonly set: (typeof LEVELS)[number]["set"];
  readonly version: string;
  readonly expectation: "pass" | "fail";
  readonly file: string;
  readonly object: KubeObject;
}

function* fixtures(fixtureRoot: string): Generator<Fixture> {
  for (const { level, set } of LEVELS) {
    const levelDir = path.join(fixtureRoot, level);
    assert.ok(existsSync(levelDir), `missing fixture level folder ${levelDir}`);
    const versions = versionsOf(levelDir);
    assert.ok(versions.length > 0, `no version folders under ${levelDir}`);
    for (const version of versions) {
      for (const expectation of ["pass", "fail"] as const) {
        const dir = path.join(levelDir, version, expectation);
        for (const file of yamlFiles(dir)) {
          const object = parse(readFileSync(path.join(dir, file), "utf8")) as KubeObject;
          yield { level, set, version, expectation, file, object };
        }
      }
    }
  }
}

const fixtureRoot = await podSecurityFixturesDir();
const all: readonly Fixture[] = [...fixtures(fixtureRoot)];

/** Disagreements of the rules with one fixture judged at `pssVersion`, as lines for the report. */
function judge(fixture: Fixture, pssVersion: string): string[] {
  const settings = { pssVersion, registries: [], allowedRegions: [], now: NOW };
  const rules = pssRules.filter((rule) => rule.sets.includes(fixture.set));
  const findings = evaluateObject(fixture.object, new RuleSet(rules), {
    settings,
    inventory: emptyInventory,
  });
  const where = `${fixture.level}/${fixture.version}/${fixture.expectation}/${fixture.file} at ${pssVersion}`;
  if (fixture.expectation === "pass") {
    if (findings.length === 0) return [];
    const detail = findings.map((finding) => `${finding.rule}: ${finding.message}`).join("; ");
    return [`${where}: expected admitted, got ${detail}`];
  }
  const check = checkOf(fixture.file);
  const expected = expectedRules(check, rules, settings);
  if (expected.size === 0) return [`${where}: no ${fixture.level} rule mirrors upstream check "${check}"`];
  if (findings.some((finding) => expected.has(finding.rule))) return [];
  const got = findings.length === 0 ? "no finding" : findings.map((finding) => finding.rule).join(", ");
  return [`${where}: expected refused by ${[...expected].join(" or ")}, got ${got}`];
}

test("PSS conformance fixtures agree with the rules at every level and version", (t) => {
  const disagreements: string[] = [];
  let checked = 0;
  for (const fixture of all) {
    checked++;
    disagreements.push(...judge(fixture, fixture.version));
  }
  assert.ok(
    checked > 1000,
    `only ${checked} fixture files under ${fixtureRoot}; expected the full upstream set`,
  );
  t.diagnostic(`${checked} fixtures from ${fixtureRoot}, ${checked - disagreements.length} agree`);
  assert.deepEqual(disagreements, [], `${disagreements.length} of ${checked} fixtures disagree`);
});

test("every upstream check the fixtures name maps to a vakt rule, and every PSS rule to a check", () => {
  const checks = new Set<string>();
  for (const fixture of all) {
    const check = checkOf(fixture.file);
    if (!BASE_FIXTURES.has(check)) checks.add(check);
  }
  const mirrored = new Set(pssRules.map((rule) => rule.upstreamId.toLowerCase()));
  assert.deepEqual(
    [...checks].filter((check) => !mirrored.has(check)).sort(),
    [],
    "upstream checks without a vakt rule (set upstreamId on the rule that mirrors each)",
  );
  assert.deepEqual(
    pssRules.filter((rule) => !checks.has(rule.upstreamId.toLowerCase())).map((rule) => rule.id),
    [],
    "PSS rules whose upstreamId names no check in the fixtures",
  );
});

test('"latest" judges the newest fixtures like their pinned version', () => {
  const disagreements: string[] = [];
  for (const { level } of LEVELS) {
    const newest = versionsOf(path.join(fixtureRoot, level)).at(-1);
    for (const fixture of all) {
      if (fixture.level === level && fixture.version === newest)
        disagreements.push(...judge(fixture, "latest"));
    }
  }
  assert.deepEqual(disagreements, []);
});
