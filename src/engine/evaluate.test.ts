import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_EVALUATION_LIMITS, LIMITS_RULE, RuleSet, evaluateObject } from "./evaluate.ts";
import type { EvaluationLimits } from "./evaluate.ts";
import { ALL_RULES } from "./rules/index.ts";
import { EMPTY_INVENTORY } from "./rules/util/inventory.ts";
import type { Action, EngineSettings, Finding, KubeObject, Rule } from "./types.ts";

const settings: EngineSettings = {
  pssVersion: "latest",
  registries: [],
  allowedRegions: [],
  now: new Date("2026-06-15T12:00:00Z"),
};
const ALL = new RuleSet(ALL_RULES);

function evaluate(object: KubeObject, ruleSet = ALL, limits?: EvaluationLimits): Finding[] {
  return evaluateObject(object, ruleSet, {
    settings,
    inventory: EMPTY_INVENTORY,
    ...(limits === undefined ? {} : { limits }),
  });
}

/** A pod of `count` containers that each break several rules (no tag, no resources, no probes). */
function podOf(count: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "team-a" },
    spec: { containers: Array.from({ length: count }, (_, i) => ({ name: `c${i}`, image: "x" })), ...extra },
  };
}

/** A rule that reports `count` violations on every ConfigMap. */
function noisy(id: string, action: Action, count: number): Rule {
  return {
    id,
    title: id,
    severity: "medium",
    defaultAction: action,
    kinds: ["ConfigMap"],
    sets: [],
    rationale: "",
    fix: "",
    controls: [],
    evidenceBoundary: "",
    check: () =>
      Array.from({ length: count }, (_, i) => ({ path: ["data", `k${i}`], message: `violation ${i}` })),
  };
}

const configMap: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };

describe("evaluateObject: evaluation limits", () => {
  it("keeps at most maxFindingsPerRule findings of a rule and records how many it cut, with the rule's action", () => {
    const findings = evaluate(podOf(DEFAULT_EVALUATION_LIMITS.maxContainers));
    const imageTag = findings.filter((finding) => finding.rule === "image-tag");
    assert.equal(imageTag.length, DEFAULT_EVALUATION_LIMITS.maxFindingsPerRule + 1);
    const record = imageTag.at(-1);
    assert.equal(
      record?.cut,
      DEFAULT_EVALUATION_LIMITS.maxContainers - DEFAULT_EVALUATION_LIMITS.maxFindingsPerRule,
    );
    assert.equal(record.action, "deny");
    assert.match(record.message, /^150 more findings of this rule not listed \(vakt keeps 100 per rule/);
    assert.ok(findings.length <= DEFAULT_EVALUATION_LIMITS.maxFindingsPerObject + ALL_RULES.length);
  });

  it("past maxFindingsPerObject, a later deny rule still leaves a deny record (a cap never admits)", () => {
    const ruleSet = new RuleSet([noisy("loud-warn", "warn", 10), noisy("late-deny", "deny", 3)]);
    const limits = { ...DEFAULT_EVALUATION_LIMITS, maxFindingsPerObject: 5 };
    const findings = evaluate(configMap, ruleSet, limits);
    assert.deepEqual(
      findings.map((finding) => [finding.rule, finding.action, finding.cut]),
      [
        ...Array.from({ length: 5 }, () => ["loud-warn", "warn", undefined]),
        ["loud-warn", "warn", 5],
        ["late-deny", "deny", 3],
      ],
    );
  });

  it("refuses a pod with more containers than maxContainers without running a rule", () => {
    let calls = 0;
    const counting: Rule = { ...noisy("counting", "audit", 0), kinds: ["Pod"], check: () => (calls++, []) };
    const pod = podOf(20_000);
    const findings = evaluate(pod, new RuleSet([...ALL_RULES, counting]));
    assert.equal(calls, 0);
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.rule, LIMITS_RULE);
    assert.equal(findings[0].action, "deny");
    assert.deepEqual(findings[0].path, ["spec"]);
    assert.match(findings[0].message, /the pod has 20000 containers .*more than the 250 vakt judges/);
  });

  it("counts init and ephemeral containers, and the template of a workload", () => {
    const containers = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ name: `c${i}` }));
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: {
        template: {
          spec: {
            initContainers: containers(100),
            containers: containers(100),
            ephemeralContainers: containers(51),
          },
        },
      },
    };
    const [finding] = evaluate(deployment);
    assert.equal(finding?.rule, LIMITS_RULE);
    assert.deepEqual(finding.path, ["spec", "template", "spec"]);
    assert.match(finding.message, /251 containers/);
  });

  it("refuses a workload with more list items and keys than maxEntries, managedFields aside", () => {
    const labels = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`l${i}`, "v"]));
    const [finding, ...rest] = evaluate({ ...podOf(1), metadata: { name: "p", labels } });
    assert.equal(rest.length, 0);
    assert.equal(finding?.rule, LIMITS_RULE);
    assert.match(finding.message, /more than 20000 list items and keys/);

    const managedFields = Array.from({ length: 30_000 }, () => ({
      manager: "kubectl",
      fieldsV1: { "f:spec": {} },
    }));
    const managed = evaluate({ ...podOf(1), metadata: { name: "p", managedFields } });
    assert.ok(managed.every((f) => f.rule !== LIMITS_RULE));
    assert.ok(managed.some((f) => f.rule === "image-tag"));

    // Kinds without a pod template are left to the finding caps.
    const data = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, "v"]));
    assert.deepEqual(evaluate({ ...configMap, data }, new RuleSet([noisy("quiet", "deny", 0)])), []);
  });
});
