// The local control plane is real: the API server stores and validates objects in etcd, the
// controller manager runs controllers, kwok runs pods on fake nodes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import { eventually, testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";

const config = testKubeConfig();
const core = config.makeApiClient(CoreV1Api);
const apps = config.makeApiClient(AppsV1Api);

describe("local control plane", () => {
  it("stores a CRD and a custom object, and validates against the CRD schema", async (t) => {
    const namespace = await withNamespace(t, "crd");
    const extensions = config.makeApiClient(ApiextensionsV1Api);
    const group = "probe.test.vakt.dev";
    await extensions
      .createCustomResourceDefinition({
        body: {
          metadata: { name: `gauges.${group}` },
          spec: {
            group,
            scope: "Namespaced",
            names: { plural: "gauges", singular: "gauge", kind: "Gauge" },
            versions: [
              {
                name: "v1",
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: {
                    type: "object",
                    properties: {
                      spec: { type: "object", properties: { level: { type: "integer", minimum: 0 } } },
                    },
                  },
                },
              },
            ],
          },
        },
      })
      .catch((error: unknown) => {
        if (!(typeof error === "object" && error !== null && "code" in error && error.code === 409))
          throw error;
      });
    const custom = config.makeApiClient(CustomObjectsApi);
    const body = { apiVersion: `${group}/v1`, kind: "Gauge", metadata: { name: "g1" }, spec: { level: 7 } };
    await eventually(
      "the Gauge CRD to be served",
      15_000,
      async () =>
        (await custom.createNamespacedCustomObject({
          group,
          version: "v1",
          namespace,
          plural: "gauges",
          body,
        })) as object,
    );
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: "v1",
      namespace,
      plural: "gauges",
      name: "g1",
    })) as {
      spec: { level: number };
      metadata: { uid?: string };
    };
    assert.equal(read.spec.level, 7);
    assert.match(read.metadata.uid ?? "", /^[0-9a-f-]{36}$/);
    await assert.rejects(
      custom.createNamespacedCustomObject({
        group,
        version: "v1",
        namespace,
        plural: "gauges",
        body: { ...body, metadata: { name: "g2" }, spec: { level: -1 } },
      }),
      /should be greater than or equal to 0|must be greater than or equal to 0/,
    );
  });

  it("server-side applies with a field manager and records field ownership", async (t) => {
    const namespace = await withNamespace(t, "ssa");
    const objects = KubernetesObjectApi.makeApiClient(config);
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "applied", namespace },
      data: { owner: "vakt-test" },
    };
    await objects.patch(configMap, undefined, undefined, "vakt-test", true, PatchStrategy.ServerSideApply);
    const stored = await core.readNamespacedConfigMap({ name: "applied", namespace });
    assert.equal(stored.data?.["owner"], "vakt-test");
    const managers = (stored.metadata?.managedFields ?? []).map(
      (entry) => `${entry.manager ?? ""}/${entry.operation ?? ""}`,
    );
    assert.ok(managers.includes("vakt-test/Apply"), `managedFields: ${managers.join(", ")}`);
    // A second manager applying a conflicting value is refused without force.
    await assert.rejects(
      objects.patch(
        { ...configMap, data: { owner: "other" } },
        undefined,
        undefined,
        "other-manager",
        false,
        PatchStrategy.ServerSideApply,
      ),
      /conflict/i,
    );
  });

  it("finalizes a deleted namespace and its objects (namespace controller)", async () => {
    const name = `gone-${Date.now().toString(36)}`;
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({
      namespace: name,
      body: { metadata: { name: "inside" }, data: { a: "b" } },
    });
    await core.deleteNamespace({ name });
    await eventually("the namespace to be finalized and removed", 60_000, async () => {
      try {
        await core.readNamespace({ name });
        return undefined;
      } catch (error) {
        return typeof error === "object" && error !== null && "code" in error && error.code === 404
          ? true
          : undefined;
      }
    });
  });

  it("turns a Deployment into a ReplicaSet and Pods that run on kwok's fake nodes", async (t) => {
    const namespace = await withNamespace(t, "deploy");
    const labels = { app: "web" };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: "web", image: "registry.example/web:1.0" }],
              tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }],
            },
          },
        },
      },
    });
    const replicaSets = await eventually("a ReplicaSet owned by the Deployment", 30_000, async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items.length > 0 ? list.items : undefined;
    });
    assert.equal(replicaSets[0]?.metadata?.ownerReferences?.[0]?.kind, "Deployment");
    const pods = await eventually("2 Running pods on fake nodes", 60_000, async () => {
      const list = await core.listNamespacedPod({ namespace });
      const running = list.items.filter((pod) => pod.status?.phase === "Running");
      return running.length === 2 ? running : undefined;
    });
    for (const pod of pods) assert.match(pod.spec?.nodeName ?? "", /^kwok-node-/);
  });
});
