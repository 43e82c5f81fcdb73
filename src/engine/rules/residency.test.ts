import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { deployment, findingsOf, pathsOf } from "../../testing/rule-fixtures.ts";

const REGION = "topology.kubernetes.io/region";
const allowedRegions = ["eu-north-1", "eu-west-1"];

function storageClass(allowedTopologies?: unknown): KubeObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "fast" },
    provisioner: "ebs.csi.aws.com",
    ...(allowedTopologies === undefined ? {} : { allowedTopologies }),
  };
}

describe("data-residency: StorageClass", () => {
  it("reports a region outside the allowed ones at its value", () => {
    const object = storageClass([
      { matchLabelExpressions: [{ key: REGION, values: ["eu-north-1", "us-east-1"] }] },
    ]);
    const found = findingsOf("data-residency", object, { allowedRegions });
    assert.deepEqual(
      found.map((finding) => finding.path),
      [["allowedTopologies", 0, "matchLabelExpressions", 0, "values", 1]],
    );
    assert.match(found[0]?.message ?? "", /us-east-1/);
  });

  it("passes allowed regions, including the deprecated key", () => {
    const object = storageClass([
      { matchLabelExpressions: [{ key: REGION, values: ["eu-north-1"] }] },
      { matchLabelExpressions: [{ key: "failure-domain.beta.kubernetes.io/region", values: ["eu-west-1"] }] },
    ]);
    assert.deepEqual(pathsOf("data-residency", object, { allowedRegions }), []);
  });

  it("reports a StorageClass without region constraints as unconstrained", () => {
    const unconstrained = findingsOf("data-residency", storageClass(), { allowedRegions });
    assert.deepEqual(
      unconstrained.map((finding) => finding.path),
      [["allowedTopologies"]],
    );
    assert.match(unconstrained[0]?.message ?? "", /any region/);
    const zoneOnly = storageClass([
      { matchLabelExpressions: [{ key: REGION, values: ["eu-north-1"] }] },
      { matchLabelExpressions: [{ key: "topology.kubernetes.io/zone", values: ["eu-north-1a"] }] },
    ]);
    assert.deepEqual(pathsOf("data-residency", zoneOnly, { allowedRegions }), [["allowedTopologies", 1]]);
  });

  it("reports nothing when no allowed regions are configured", () => {
    assert.deepEqual(pathsOf("data-residency", storageClass(), { allowedRegions: [] }), []);
  });
});

describe("data-residency: PersistentVolume", () => {
  it("checks node affinity In terms and region labels", () => {
    const volume: KubeObject = {
      kind: "PersistentVolume",
      metadata: { name: "pv1", labels: { [REGION]: "us-west-2" } },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "topology.kubernetes.io/zone", operator: "In", values: ["us-west-2a"] },
                ],
              },
              { matchExpressions: [{ key: REGION, operator: "In", values: ["eu-west-1", "us-west-2"] }] },
              { matchExpressions: [{ key: REGION, operator: "NotIn", values: ["ap-south-1"] }] },
            ],
          },
        },
      },
    };
    assert.deepEqual(pathsOf("data-residency", volume, { allowedRegions }), [
      ["metadata", "labels", REGION],
      ["spec", "nodeAffinity", "required", "nodeSelectorTerms", 1, "matchExpressions", 0, "values", 1],
    ]);
  });

  it("passes a volume pinned to an allowed region", () => {
    const volume: KubeObject = {
      kind: "PersistentVolume",
      metadata: { name: "pv1" },
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: REGION, operator: "In", values: ["eu-north-1"] }] },
            ],
          },
        },
      },
    };
    assert.deepEqual(pathsOf("data-residency", volume, { allowedRegions }), []);
  });
});

describe("data-residency: workloads", () => {
  it("checks nodeSelector and required node affinity, not preferred", () => {
    const object = deployment({
      podSpec: {
        nodeSelector: { [REGION]: "us-east-1" },
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: REGION, operator: "In", values: ["ap-south-1"] }] },
              ],
            },
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 1,
                preference: { matchExpressions: [{ key: REGION, operator: "In", values: ["sa-east-1"] }] },
              },
            ],
          },
        },
      },
    });
    const spec = ["spec", "template", "spec"];
    assert.deepEqual(pathsOf("data-residency", object, { allowedRegions }), [
      [...spec, "nodeSelector", REGION],
      [
        ...spec,
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
        0,
        "matchExpressions",
        0,
        "values",
        0,
      ],
    ]);
  });

  it("passes workloads pinned to allowed regions or not pinned at all", () => {
    assert.deepEqual(
      pathsOf("data-residency", deployment({ podSpec: { nodeSelector: { [REGION]: "eu-west-1" } } }), {
        allowedRegions,
      }),
      [],
    );
    assert.deepEqual(pathsOf("data-residency", deployment(), { allowedRegions }), []);
  });
});
