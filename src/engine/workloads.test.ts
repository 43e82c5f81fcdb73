import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "./types.ts";
import { metaOf, objectView, relationalView } from "./workloads.ts";

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
});

describe("objectView", () => {
  it("reads the metadata once, on first use, and the pod template and containers with their paths", () => {
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        template: {
          metadata: { labels: { app: "web" } },
          spec: { initContainers: [{ name: "init" }], containers: [{ name: "app" }, "junk", {}] },
        },
      },
    };
    const view = objectView(deployment);
    assert.equal(view.meta, view.meta, "one answer per view");
    assert.deepEqual(view.meta, metaOf(deployment));
    assert.deepEqual(view.pod?.specPath, ["spec", "template", "spec"]);
    assert.deepEqual(
      view.pod.containers.map(({ kind, name, path }) => [kind, name, path.join(".")]),
      [
        ["initContainers", "init", "spec.template.spec.initContainers.0"],
        ["containers", "app", "spec.template.spec.containers.0"],
        ["containers", "#2", "spec.template.spec.containers.2"],
      ],
    );
    assert.equal(objectView(object({ name: "c" })).pod, undefined, "no pod template: no pod view");
  });

  it("is a view of the object as it is when built: each object gets its own", () => {
    const metadata: Record<string, unknown> = { name: "a", labels: { app: "web" } };
    const first = objectView(object(metadata));
    assert.deepEqual(first.meta.labels, { app: "web" });
    metadata["labels"] = { app: "api" };
    assert.deepEqual(objectView(object(metadata)).meta.labels, { app: "api" }, "a new object is read afresh");
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
