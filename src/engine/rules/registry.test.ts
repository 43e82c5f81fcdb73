import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { unknownControlIds } from "../../catalog/index.ts";
import { BASELINE_RULES } from "../pss/baseline.ts";
import { RESTRICTED_RULES } from "../pss/restricted.ts";
import { ACTIONS, SEVERITIES } from "../types.ts";
import { ALL_RULES, RULE_SETS, ruleById, selectRules } from "./index.ts";
import { PLATFORM_RULES } from "./platform.ts";

const idsOf = (rules: readonly { readonly id: string }[]): string[] => rules.map((rule) => rule.id);
const inSet = (set: string): string[] => idsOf(ALL_RULES.filter((rule) => rule.sets.includes(set)));

describe("rule registry", () => {
  it("has unique, kebab-case rule ids", () => {
    const ids = idsOf(ALL_RULES);
    const duplicates = ids.filter((id, index) => ids.indexOf(id) !== index);
    assert.deepEqual(duplicates, []);
    assert.deepEqual(
      ids.filter((id) => !/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(id)),
      [],
    );
  });

  it("registers every PSS and platform rule and the exception rules", () => {
    assert.deepEqual(idsOf(ALL_RULES), [
      ...idsOf(BASELINE_RULES),
      ...idsOf(RESTRICTED_RULES),
      ...idsOf(PLATFORM_RULES),
      "exception-invalid",
      "exception-expired",
      "exception-scope",
    ]);
  });

  it("gives every rule its documentation, at least one kind and one set, and a valid action and severity", () => {
    const incomplete = ALL_RULES.filter(
      (rule) =>
        rule.title.trim() === "" ||
        rule.rationale.trim() === "" ||
        rule.fix.trim() === "" ||
        rule.evidenceBoundary.trim() === "" ||
        rule.controls.length === 0 ||
        rule.kinds.length === 0 ||
        rule.sets.length === 0 ||
        !ACTIONS.includes(rule.defaultAction) ||
        rule.defaultAction === "off" ||
        !SEVERITIES.includes(rule.severity),
    );
    assert.deepEqual(idsOf(incomplete), []);
  });

  it("names only controls that exist in the catalog, each once per rule", () => {
    assert.deepEqual(unknownControlIds(ALL_RULES), []);
    const repeated = ALL_RULES.filter((rule) => new Set(rule.controls).size !== rule.controls.length);
    assert.deepEqual(idsOf(repeated), []);
  });

  it("puts exactly the baseline checks in pss-baseline and baseline + restricted in pss-restricted", () => {
    const baseline = inSet("pss-baseline");
    const restricted = inSet("pss-restricted");
    assert.deepEqual(baseline, idsOf(BASELINE_RULES));
    assert.deepEqual(restricted, [...idsOf(BASELINE_RULES), ...idsOf(RESTRICTED_RULES)]);
    assert.ok(baseline.length > 0);
    assert.ok(
      baseline.every((id) => restricted.includes(id)),
      "pss-baseline ⊂ pss-restricted",
    );
    assert.ok(restricted.length > baseline.length, "pss-restricted adds checks to pss-baseline");
    assert.deepEqual(inSet("platform"), idsOf(PLATFORM_RULES));
  });

  it("lists every set once, sorted", () => {
    const sets = [...new Set(ALL_RULES.flatMap((rule) => rule.sets))].sort();
    assert.deepEqual(RULE_SETS, sets);
  });

  it("looks rules up by id", () => {
    for (const rule of ALL_RULES) assert.equal(ruleById(rule.id), rule);
    assert.equal(ruleById("pss-baseline"), undefined, "a set name is not a rule id");
    assert.equal(ruleById("nope"), undefined);
  });

  it("selects rules by id and set, in registry order, and reports unknown entries", () => {
    assert.deepEqual(idsOf(selectRules([]).rules), idsOf(ALL_RULES));
    assert.deepEqual(idsOf(selectRules(["pss-baseline"]).rules), idsOf(BASELINE_RULES));
    const mixed = selectRules(["image-tag", "pss-baseline", "nope", "image-tag"]);
    assert.deepEqual(idsOf(mixed.rules), [...idsOf(BASELINE_RULES), "image-tag"]);
    assert.deepEqual(mixed.unknown, ["nope"]);
  });
});
