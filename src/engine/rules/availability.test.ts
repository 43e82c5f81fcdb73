import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { disruptionsAllowed, scaledIntOrPercent } from "./availability.ts";
import {
  CONTAINERS,
  deployment,
  findingsOf,
  goodContainer,
  pathsOf,
  pod,
} from "../../testing/rule-fixtures.ts";

describe("probes", () => {
  it("passes containers with both probes", () => {
    assert.deepEqual(pathsOf("probes", deployment()), []);
  });

  it("reports missing readiness and liveness probes of regular containers only", () => {
    const object = deployment({
      containers: [
        goodContainer({ readinessProbe: undefined }),
        goodContainer({ name: "b", livenessProbe: undefined }),
      ],
      podSpec: { initContainers: [{ name: "init", image: "x.io/i:1" }] },
    });
    assert.deepEqual(pathsOf("probes", object), [
      [...CONTAINERS, 0, "readinessProbe"],
      [...CONTAINERS, 1, "livenessProbe"],
    ]);
  });

  it("checks long-running Pods but not Pods of Jobs or run-to-completion Pods", () => {
    const bare = { containers: [{ name: "a", image: "x.io/a:1" }] };
    assert.deepEqual(pathsOf("probes", pod(bare)), [
      ["spec", "containers", 0, "readinessProbe"],
      ["spec", "containers", 0, "livenessProbe"],
    ]);
    const ofJob = pod(bare, {
      ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "j", uid: "1" }],
    });
    assert.deepEqual(pathsOf("probes", ofJob), []);
    assert.deepEqual(pathsOf("probes", pod({ ...bare, restartPolicy: "Never" })), []);
  });

  it("does not apply to Jobs", () => {
    const job: KubeObject = {
      kind: "Job",
      metadata: { name: "j", namespace: "shop" },
      spec: { template: { spec: { containers: [{ name: "a", image: "x.io/a:1" }] } } },
    };
    assert.deepEqual(pathsOf("probes", job), []);
  });
});

function hpa(target: string, minReplicas?: number, kind = "Deployment"): KubeObject {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: `${target}-hpa`, namespace: "shop" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind, name: target },
      maxReplicas: 10,
      ...(minReplicas === undefined ? {} : { minReplicas }),
    },
  };
}

describe("replicas", () => {
  it("reports missing and single replicas at spec.replicas", () => {
    assert.deepEqual(pathsOf("replicas", deployment()), [["spec", "replicas"]]);
    assert.deepEqual(pathsOf("replicas", deployment({ replicas: 1 })), [["spec", "replicas"]]);
    assert.deepEqual(pathsOf("replicas", deployment({ replicas: "3" })), [["spec", "replicas"]]);
  });

  it("passes two or more replicas", () => {
    assert.deepEqual(pathsOf("replicas", deployment({ replicas: 2 })), []);
  });

  it("judges an autoscaled workload by the autoscaler's minReplicas", () => {
    assert.deepEqual(pathsOf("replicas", deployment(), { objects: [hpa("web", 2)] }), []);
    const low = findingsOf("replicas", deployment({ replicas: 5 }), { objects: [hpa("web")] });
    assert.deepEqual(
      low.map((finding) => finding.path),
      [["spec", "replicas"]],
    );
    assert.match(low[0]?.message ?? "", /web-hpa/);
  });

  it("ignores autoscalers for other targets or namespaces", () => {
    const other = hpa("api", 3);
    const elsewhere = { ...hpa("web", 3), metadata: { name: "x", namespace: "other" } };
    const wrongKind = hpa("web", 3, "StatefulSet");
    assert.deepEqual(pathsOf("replicas", deployment(), { objects: [other, elsewhere, wrongKind] }), [
      ["spec", "replicas"],
    ]);
  });
});

function pdb(spec: Record<string, unknown>, name = "web-pdb", apiVersion = "policy/v1"): KubeObject {
  return { apiVersion, kind: "PodDisruptionBudget", metadata: { name, namespace: "shop" }, spec };
}

const LABELS_PATH = ["spec", "template", "metadata", "labels"];

describe("pod-disruption-budget", () => {
  const web = deployment({ replicas: 3, labels: { app: "web", tier: "frontend" } });

  it("reports a workload without a budget, saying none was found in the checked files", () => {
    const found = findingsOf("pod-disruption-budget", web);
    assert.deepEqual(
      found.map((finding) => finding.path),
      [LABELS_PATH],
    );
    assert.match(found[0]?.message ?? "", /checked files/);
    const complete = findingsOf("pod-disruption-budget", web, { complete: true });
    assert.match(complete[0]?.message ?? "", /namespace "shop"/);
  });

  it("passes a matching budget that allows a disruption", () => {
    const budget = pdb({ maxUnavailable: 1, selector: { matchLabels: { app: "web" } } });
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [budget] }), []);
  });

  it("implements matchExpressions", () => {
    const selects = pdb({
      minAvailable: 1,
      selector: {
        matchExpressions: [
          { key: "app", operator: "In", values: ["web", "api"] },
          { key: "tier", operator: "NotIn", values: ["backend"] },
          { key: "tier", operator: "Exists" },
          { key: "canary", operator: "DoesNotExist" },
        ],
      },
    });
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [selects] }), []);
    for (const expression of [
      { key: "app", operator: "In", values: ["api"] },
      { key: "tier", operator: "NotIn", values: ["frontend"] },
      { key: "zone", operator: "Exists" },
      { key: "app", operator: "DoesNotExist" },
      { key: "app", operator: "Bogus", values: ["web"] },
      { key: "app", operator: "In", values: [] },
    ]) {
      const other = pdb({ minAvailable: 1, selector: { matchExpressions: [expression] } });
      assert.deepEqual(
        pathsOf("pod-disruption-budget", web, { objects: [other] }),
        [LABELS_PATH],
        JSON.stringify(expression),
      );
    }
  });

  it("does not use budgets from other namespaces", () => {
    const elsewhere = {
      ...pdb({ maxUnavailable: 1, selector: {} }),
      metadata: { name: "x", namespace: "other" },
    };
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [elsewhere] }), [LABELS_PATH]);
  });

  it("treats an empty selector as everything in policy/v1 and nothing in policy/v1beta1, a missing one as nothing", () => {
    assert.deepEqual(
      pathsOf("pod-disruption-budget", web, { objects: [pdb({ maxUnavailable: 1, selector: {} })] }),
      [],
    );
    const beta = pdb({ maxUnavailable: 1, selector: {} }, "b", "policy/v1beta1");
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [beta] }), [LABELS_PATH]);
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [pdb({ maxUnavailable: 1 })] }), [
      LABELS_PATH,
    ]);
  });

  it("reports a budget that allows no disruption", () => {
    for (const spec of [
      { maxUnavailable: 0 },
      { maxUnavailable: "0%" },
      { minAvailable: 3 },
      { minAvailable: "67%" },
      {},
    ]) {
      const budget = pdb({ ...spec, selector: { matchLabels: { app: "web" } } });
      const found = findingsOf("pod-disruption-budget", web, { objects: [budget] });
      assert.deepEqual(
        found.map((finding) => finding.path),
        [LABELS_PATH],
        JSON.stringify(spec),
      );
      assert.match(found[0]?.message ?? "", /web-pdb/);
    }
    for (const spec of [{ maxUnavailable: "10%" }, { minAvailable: "66%" }, { minAvailable: 2 }]) {
      const budget = pdb({ ...spec, selector: { matchLabels: { app: "web" } } });
      assert.deepEqual(
        pathsOf("pod-disruption-budget", web, { objects: [budget] }),
        [],
        JSON.stringify(spec),
      );
    }
  });

  it("uses the autoscaler minimum as the replica count", () => {
    const budget = pdb({ minAvailable: 2, selector: { matchLabels: { app: "web" } } });
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [budget] }), []);
    assert.deepEqual(pathsOf("pod-disruption-budget", web, { objects: [budget, hpa("web", 2)] }), [
      LABELS_PATH,
    ]);
  });

  it("reports pods selected by more than one budget", () => {
    const a = pdb({ maxUnavailable: 1, selector: { matchLabels: { app: "web" } } }, "a");
    const b = pdb({ maxUnavailable: 1, selector: { matchLabels: { tier: "frontend" } } }, "b");
    const found = findingsOf("pod-disruption-budget", web, { objects: [a, b] });
    assert.deepEqual(
      found.map((finding) => finding.path),
      [LABELS_PATH],
    );
    assert.match(found[0]?.message ?? "", /more than one/);
  });

  it("applies to StatefulSets", () => {
    const set: KubeObject = {
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "shop" },
      spec: { replicas: 3, template: { metadata: { labels: { app: "db" } }, spec: { containers: [] } } },
    };
    assert.deepEqual(pathsOf("pod-disruption-budget", set), [LABELS_PATH]);
  });
});

describe("PodDisruptionBudget arithmetic", () => {
  it("rounds percentages up like the disruption controller", () => {
    assert.equal(scaledIntOrPercent("50%", 3), 2);
    assert.equal(scaledIntOrPercent("1%", 3), 1);
    assert.equal(scaledIntOrPercent("0%", 3), 0);
    assert.equal(scaledIntOrPercent(2, 3), 2);
    assert.equal(scaledIntOrPercent("2", 3), undefined);
    assert.equal(scaledIntOrPercent(-1, 3), undefined);
  });

  it("computes allowed disruptions", () => {
    const budget = (spec: Record<string, unknown>): KubeObject => ({ kind: "PodDisruptionBudget", spec });
    assert.deepEqual(disruptionsAllowed(budget({ minAvailable: "50%" }), 3), {
      allowed: 1,
      setting: 'minAvailable "50%"',
    });
    assert.deepEqual(disruptionsAllowed(budget({ maxUnavailable: "34%" }), 3), {
      allowed: 2,
      setting: 'maxUnavailable "34%"',
    });
    assert.ok("invalid" in disruptionsAllowed(budget({ minAvailable: "half" }), 3));
  });
});
