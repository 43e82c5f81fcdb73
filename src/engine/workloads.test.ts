import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./types.ts";
import { metaOf, relationalView } from "./workloads.ts";

const object = (metadata: unknown): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata });

describe("metaOf", () => {
  it("reads name, namespace and the string labels and annotations, tolerating bad shapes", () => {
    assert.deepEqual(
      metaOf(object({ name: "a", namespace: "n", labels: { x: "1", y: 2 }, annotations: [] })),
      {
        name: "a",
        namespace: "n",
        labels: { x: "1" },
        annotations: {},
      },
    );
    assert.deepEqual(metaOf(object("nonsense")), {
      name: undefined,
      namespace: undefined,
      labels: {},
      annotations: {},
    });
  });

  it("answers again from its last object only while the metadata, labels and annotations are the same", () => {
    const metadata: Record<string, unknown> = { name: "a", labels: { app: "web" }, annotations: { k: "v" } };
    const first = metaOf(object(metadata));
    assert.equal(metaOf(object(metadata)), first, "same metadata object: the same answer");
    metadata["labels"] = { app: "api" };
    assert.deepEqual(metaOf(object(metadata)).labels, { app: "api" }, "replaced labels are read again");
    metadata["annotations"] = { k: "w" };
    assert.deepEqual(metaOf(object(metadata)).annotations, { k: "w" }, "replaced annotations are read again");
    metadata["name"] = "b";
    assert.equal(metaOf(object(metadata)).name, "b", "a changed name is read again");
    metadata["namespace"] = "shop";
    assert.equal(metaOf(object(metadata)).namespace, "shop", "a changed namespace is read again");
    const other = { ...metadata };
    assert.notEqual(metaOf(object(other)), metaOf(object(metadata)), "another metadata object: read afresh");
  });
});

describe("relationalView", () => {
  it("keeps metadata, spec.replicas and the pod template's metadata and service account fields, at their paths", () => {
    const template = {
      metadata: { labels: { app: "web" }, annotations: { a: "b" } },
      spec: { serviceAccountName: "web", automountServiceAccountToken: false, containers: [{ name: "app" }] },
    };
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: { replicas: 3, selector: {}, template },
      status: {},
    };
    assert.deepEqual(relationalView(deployment), {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 3,
        template: {
          metadata: template.metadata,
          spec: { serviceAccountName: "web", automountServiceAccountToken: false },
        },
      },
    });
    const cronJob: KubeObject = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template } } },
    };
    assert.deepEqual(relationalView(cronJob), {
      apiVersion: "batch/v1",
      kind: "CronJob",
      spec: {
        jobTemplate: {
          spec: {
            template: {
              metadata: template.metadata,
              spec: { serviceAccountName: "web", automountServiceAccountToken: false },
            },
          },
        },
      },
    });
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: template.metadata,
      spec: template.spec,
    };
    assert.deepEqual(relationalView(pod), {
      apiVersion: "v1",
      kind: "Pod",
      metadata: template.metadata,
      spec: { serviceAccountName: "web", automountServiceAccountToken: false },
    });
    const account: KubeObject = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "web" } };
    assert.equal(relationalView(account), account, "objects without a pod template are kept whole");
  });
});
