import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { unknownControlIds } from "../catalog/index.ts";
import { DEFAULT_CONFIG, engineSettings } from "../config/vakt-config.ts";
import { evaluateObject, RuleSet } from "../engine/evaluate.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { EMPTY_INVENTORY } from "../engine/rules/util/inventory.ts";
import type { KubeObject } from "../engine/types.ts";
import { AdmissionState, review } from "../webhook/admission.ts";
import { ENVIRONMENT_RULES } from "./rules.ts";

const example = parse(
  readFileSync(
    join(import.meta.dirname, "..", "..", "examples", "environments", "carelink-aws.yaml"),
    "utf8",
  ),
) as KubeObject & { spec: Record<string, unknown> };

function findings(object: KubeObject) {
  const ruleSet = new RuleSet(ENVIRONMENT_RULES, DEFAULT_CONFIG.rules);
  return evaluateObject(object, ruleSet, {
    settings: engineSettings(DEFAULT_CONFIG, new Date("2026-01-01T00:00:00Z")),
    inventory: EMPTY_INVENTORY,
  });
}

describe("Environment rules", () => {
  it("are documented, deny by default, name controls of the catalog and ids no engine rule has", () => {
    assert.deepEqual(unknownControlIds(ENVIRONMENT_RULES), []);
    for (const rule of ENVIRONMENT_RULES) {
      assert.equal(rule.defaultAction, "deny");
      assert.deepEqual(rule.kinds, ["Environment"]);
      assert.ok(rule.rationale !== "" && rule.fix !== "" && rule.evidenceBoundary !== "");
      assert.ok(!ALL_RULES.some((other) => other.id === rule.id), rule.id);
    }
    const residency = ENVIRONMENT_RULES.find((rule) => rule.id === "environment-residency");
    assert.ok(
      residency?.controls.includes("gdpr:44") && residency.controls.some((c) => c.startsWith("pdl:")),
    );
  });

  it("pass a valid Environment and judge no other kind", () => {
    assert.deepEqual(findings(example), []);
    assert.deepEqual(findings({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }), []);
  });

  it("refuse data outside the jurisdiction under the residency rule, an impossible pool under the other", () => {
    const pool = (example.spec["nodePools"] as Record<string, unknown>[])[0];
    const bad = {
      ...example,
      spec: {
        ...example.spec,
        backup: { provider: "aws", bucket: "carelink-prod-backups", region: "us-east-1" },
        nodePools: [{ ...pool, min: 9, max: 3 }],
      },
    };
    const found = findings(bad);
    assert.deepEqual(
      found.map((f) => [f.rule, f.action, f.path.join(".")]),
      [
        ["environment-residency", "deny", "spec.backup.region"],
        ["environment-valid", "deny", "spec.nodePools.0.min"],
      ],
    );
    assert.ok(found[0]?.controls.includes("gdpr:46"));
  });
});

describe("Environment admission", () => {
  it("refuses an Environment outside its jurisdiction with the rule, the field, the fix and the controls", () => {
    const body = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      request: {
        uid: "u1",
        kind: { group: "vakt.dev", version: "v1alpha1", kind: "Environment" },
        operation: "CREATE",
        name: "carelink-prod",
        object: { ...example, spec: { ...example.spec, region: "us-east-1" } },
      },
    };
    const outcome = review(body, new AdmissionState());
    assert.ok(outcome.type === "review", "a review, not an invalid envelope");
    const response = outcome.body.response;
    assert.equal(response.allowed, false);
    const message = response.status?.message ?? "";
    for (const words of [
      "[environment-residency] Environment/carelink-prod",
      "(field spec.region)",
      "outside the jurisdiction SE (Sweden)",
      "eu-north-1",
      "Controls: gdpr:44",
    ])
      assert.ok(message.includes(words), `${message} says ${words}`);
    const valid = review({ ...body, request: { ...body.request, object: example } }, new AdmissionState());
    assert.ok(valid.type === "review" && valid.body.response.allowed);
  });
});
