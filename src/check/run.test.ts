// runCheck evaluates objects as they are read and keeps back only what inventory rules need.
// These tests hold it to the plain definition (every object, every rule, the whole input as
// inventory, exceptions from anywhere in the input) and hold every rule to its inventoryKinds.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { writeCorpus } from "../../bench/corpus.ts";
import { DEFAULT_CONFIG, engineSettings, parseConfig } from "../config/vakt-config.ts";
import { exceptionMatcher } from "../engine/exceptions.ts";
import { RuleSet, evaluateObject, ruleContext } from "../engine/evaluate.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { Inventory, KubeObject } from "../engine/types.ts";
import { metaOf, relationalView } from "../engine/workloads.ts";
import { loadManifests } from "../inputs/manifests.ts";
import { INVENTORY_RESOURCES } from "../manager/inventory.ts";
import { formatPath } from "../outputs/report.ts";
import { runCheck } from "./run.ts";

const dir = mkdtempSync(path.join(tmpdir(), "vakt-run-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const corpus = writeCorpus(path.join(dir, "corpus"), { objects: 3_000, files: 5, seed: 11 });
const config = parseConfig(
  readFileSync(corpus.config, "utf8"),
  corpus.config,
  new Set(ALL_RULES.map((rule) => rule.id)),
);
const NOW = new Date("2026-06-01T00:00:00Z");

/**
 * A second input set where what governs an object comes in a later file than the object: the
 * PodDisruptionBudget, NetworkPolicy, autoscaler and ServiceAccount of a Deployment, and an
 * exception for the Deployment and a Service.
 */
const EARLY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
        - name: app
          image: registry.example.com/web:1.0
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 443}]
`;
const LATE = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 5
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata: {name: web-exposure, namespace: shop}
spec:
  rules: [service-exposure, probes]
  match: {kinds: [Service, Deployment], names: [web]}
  justification: a test value, rotated daily
  approvedBy: security@example.com
  expires: "2027-01-01T00:00:00Z"
`;
const ordered = path.join(dir, "ordered");
writeFileSync(`${ordered}-1.yaml`, EARLY);
writeFileSync(`${ordered}-2.yaml`, LATE);
const ORDERED_FILES = [`${ordered}-1.yaml`, `${ordered}-2.yaml`];

/** The definition runCheck must meet: every object read first, then evaluated with all of them. */
async function reference(inputs: readonly string[], options: typeof config): Promise<unknown[]> {
  const loaded = [];
  for await (const event of loadManifests(inputs)) if (event.type === "object") loaded.push(event);
  const objects = loaded.map((entry) => entry.object);
  const ruleSet = new RuleSet(ALL_RULES, options.rules);
  const context = {
    settings: engineSettings(options, NOW),
    inventory: listInventory(objects, false),
    exceptions: exceptionMatcher(objects, ALL_RULES, NOW),
  };
  const expected = [];
  for (const entry of loaded) {
    const meta = metaOf(entry.object);
    for (const finding of evaluateObject(entry.object, ruleSet, context)) {
      const position = entry.locate(finding.path);
      expected.push({
        rule: finding.rule,
        file: entry.file,
        line: position.line,
        column: position.column,
        field: formatPath(finding.path),
        kind: entry.object.kind,
        name: meta.name ?? "",
        namespace: meta.namespace ?? "",
        message: finding.message,
        suppressed: finding.suppressedBy !== undefined,
        exception: finding.suppressedBy,
      });
    }
  }
  return expected;
}

async function actual(inputs: readonly string[], options: typeof config): Promise<unknown[]> {
  const report = await runCheck(inputs, {
    rules: ALL_RULES,
    allRules: ALL_RULES,
    actions: options.rules,
    settings: engineSettings(options, NOW),
  });
  return report.findings.map((finding) => ({
    rule: finding.rule,
    file: finding.file,
    line: finding.line,
    column: finding.column,
    field: finding.field,
    kind: finding.kind,
    name: finding.name,
    namespace: finding.namespace,
    message: finding.message,
    suppressed: finding.suppressed,
    exception: finding.exception,
  }));
}

describe("runCheck", () => {
  it("finds what evaluating every object against the whole input finds, in the same order (corpus)", async () => {
    const expected = await reference(corpus.files, config);
    assert.ok(expected.length > 1000, `only ${expected.length} findings: the corpus should have many`);
    assert.deepStrictEqual(await actual(corpus.files, config), expected);
  });

  it("applies budgets, policies, autoscalers, service accounts and exceptions read after the objects they govern", async () => {
    const expected = await reference(ORDERED_FILES, DEFAULT_CONFIG);
    const found = await actual(ORDERED_FILES, DEFAULT_CONFIG);
    assert.deepStrictEqual(found, expected);
    const rules = new Set(found.map((finding) => (finding as { rule: string }).rule));
    for (const rule of [
      "pod-disruption-budget",
      "network-policy-coverage",
      "replicas",
      "service-account-token",
    ])
      assert.ok(!rules.has(rule), `${rule} should be satisfied by the objects in the later file`);
    // The exception in the later file covers an object evaluated as it was read (the Service) and
    // one kept back for the inventory rules (the Deployment).
    for (const rule of ["service-exposure", "probes"]) {
      const covered = found.filter((finding) => (finding as { rule: string }).rule === rule);
      assert.ok(covered.length > 0, `expected ${rule} findings`);
      for (const finding of covered)
        assert.equal((finding as { exception?: string }).exception, "web-exposure", `${rule} is suppressed`);
    }
  });
});

/** An inventory over `objects` that records which kinds were asked for. */
function recordingInventory(objects: readonly KubeObject[]): { inventory: Inventory; asked: Set<string> } {
  const real = listInventory(objects, false);
  const asked = new Set<string>();
  return {
    asked,
    inventory: {
      complete: false,
      byKind(kind, namespace) {
        asked.add(kind);
        return real.byKind(kind, namespace);
      },
    },
  };
}

describe("Rule.inventoryKinds", () => {
  it("names exactly the kinds each rule looks up in the inventory", async () => {
    const objects: KubeObject[] = [];
    for await (const event of loadManifests([...corpus.files, ...ORDERED_FILES]))
      if (event.type === "object") objects.push(event.object);
    const settings = engineSettings(config, NOW);
    for (const rule of ALL_RULES) {
      const { inventory, asked } = recordingInventory(objects);
      for (const object of objects)
        if (typeof object.kind === "string" && rule.kinds.includes(object.kind))
          rule.check(object, ruleContext(object, { settings, inventory }));
      assert.deepStrictEqual(
        [...asked].sort(),
        [...(rule.inventoryKinds ?? [])].sort(),
        `rule ${rule.id} looked up ${JSON.stringify([...asked])} but declares ${JSON.stringify(rule.inventoryKinds ?? [])}`,
      );
    }
  });

  it("rules that read the inventory find the same on an object's relationalView as on the object", async () => {
    const objects: KubeObject[] = [];
    for await (const event of loadManifests([...corpus.files, ...ORDERED_FILES]))
      if (event.type === "object") objects.push(event.object);
    const options = { settings: engineSettings(config, NOW), inventory: listInventory(objects, false) };
    let compared = 0;
    for (const rule of ALL_RULES) {
      if (rule.inventoryKinds === undefined) continue;
      for (const object of objects) {
        if (typeof object.kind !== "string" || !rule.kinds.includes(object.kind)) continue;
        const view = relationalView(object);
        assert.deepStrictEqual(
          rule.check(view, ruleContext(view, options)),
          rule.check(object, ruleContext(object, options)),
          `${rule.id} on ${object.kind} ${String(metaOf(object).name)}`,
        );
        if (view !== object) compared++;
      }
    }
    assert.ok(compared > 1000, `only ${String(compared)} trimmed views compared`);
  });

  it("every kind a rule looks up is watched by the admission webhook's live inventory", () => {
    const watched = new Set(INVENTORY_RESOURCES.map((resource) => resource.kind));
    for (const rule of ALL_RULES)
      for (const kind of rule.inventoryKinds ?? [])
        assert.ok(watched.has(kind), `rule ${rule.id} reads ${kind}, which LiveInventory does not watch`);
  });
});
