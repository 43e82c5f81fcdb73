import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ruleContext } from "../evaluate.ts";
import { ACTIONS, SEVERITIES } from "../types.ts";
import { WORKLOAD_KINDS } from "../workloads.ts";
import { PLATFORM_RULES } from "./platform.ts";

/** The control ids the catalog defines for platform rules to cite. */
const KNOWN_CONTROLS: ReadonlySet<string> = new Set(
  [
    ...[
      "A.8.9",
      "A.8.2",
      "A.8.22",
      "A.8.27",
      "A.5.15",
      "A.8.13",
      "A.8.20",
      "A.8.24",
      "A.8.8",
      "A.8.6",
      "A.8.14",
    ],
    ...[
      "A.8.32",
      "A.5.23",
      "A.5.34",
      "A.8.5",
      "A.8.16",
      "A.8.15",
      "A.5.30",
      "A.8.19",
      "A.8.25",
      "A.8.28",
      "A.8.31",
    ],
    ...["A.5.33", "A.5.17", "A.8.3", "A.8.12", "A.8.21"],
  ]
    .map((id) => `iso27001:${id}`)
    .concat(
      ["gdpr:5", "gdpr:25", "gdpr:32", "gdpr:44", "gdpr:30", "gdpr:33"],
      ["a", "b", "c", "d", "e", "h", "i", "j"].map((letter) => `nis2:21.2.${letter}`),
      ["164.312(a)(1)", "164.312(b)", "164.312(c)(1)", "164.312(e)(1)", "164.312(a)(2)(ii)"].map(
        (id) => `hipaa:${id}`,
      ),
      ["3.6", "3.1", "3.2", "3.9", "3.12", "3.15"].map((id) => `pdl:${id}`),
    ),
);

const EXPECTED_ACTIONS: Readonly<Record<string, string>> = {
  "trusted-registry": "deny",
  "image-tag": "deny",
  "resource-requests": "warn",
  probes: "warn",
  replicas: "warn",
  "pod-disruption-budget": "warn",
  "network-policy-coverage": "warn",
  "ingress-tls": "deny",
  "service-exposure": "warn",
  "service-account-token": "warn",
  "secret-literals": "deny",
  "backup-opt-out": "deny",
  "data-residency": "deny",
  "job-ttl": "warn",
  "default-namespace": "deny",
};

describe("PLATFORM_RULES", () => {
  it("contains exactly the platform rules, in a stable order, with their default actions", () => {
    assert.deepEqual(
      PLATFORM_RULES.map((rule) => [rule.id, rule.defaultAction]),
      Object.entries(EXPECTED_ACTIONS),
    );
  });

  it("has unique kebab-case ids", () => {
    const ids = PLATFORM_RULES.map((rule) => rule.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/);
  });

  it("puts every rule in the platform set and one platform-<family> set", () => {
    for (const rule of PLATFORM_RULES) {
      assert.ok(rule.sets.includes("platform"), rule.id);
      assert.equal(rule.sets.filter((set) => set.startsWith("platform-")).length, 1, rule.id);
    }
  });

  it("cites only known controls, and at least one", () => {
    for (const rule of PLATFORM_RULES) {
      assert.ok(rule.controls.length > 0, rule.id);
      for (const control of rule.controls) assert.ok(KNOWN_CONTROLS.has(control), `${rule.id}: ${control}`);
      assert.equal(new Set(rule.controls).size, rule.controls.length, rule.id);
    }
  });

  it("has complete metadata", () => {
    for (const rule of PLATFORM_RULES) {
      assert.ok(SEVERITIES.includes(rule.severity), rule.id);
      assert.ok(ACTIONS.includes(rule.defaultAction) && rule.defaultAction !== "off", rule.id);
      assert.ok(rule.kinds.length > 0, rule.id);
      for (const text of [rule.title, rule.rationale, rule.fix, rule.evidenceBoundary]) {
        assert.ok(text.trim().length > 10, rule.id);
      }
      if (rule.reference !== undefined) assert.match(rule.reference, /^https:\/\//, rule.id);
    }
  });

  it("survives malformed objects of every kind it applies to", () => {
    const options = {
      settings: {
        pssVersion: "latest",
        registries: ["x.io"],
        allowedRegions: ["eu-north-1"],
        now: new Date("2026-06-15T12:00:00Z"),
      },
      inventory: { complete: false, byKind: () => [] },
    };
    const shapes: unknown[] = [undefined, null, 1, "x", [], {}, { spec: [] }, { spec: { template: 1 } }];
    for (const rule of PLATFORM_RULES) {
      for (const kind of new Set([...rule.kinds, ...WORKLOAD_KINDS])) {
        for (const shape of shapes) {
          const object = { kind, metadata: shape, spec: shape, template: shape, allowedTopologies: shape };
          assert.doesNotThrow(
            () => rule.check(object, ruleContext(object, options)),
            `${rule.id} on ${kind}`,
          );
        }
      }
    }
  });
});
