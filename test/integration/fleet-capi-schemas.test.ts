// The Cluster API objects vakt renders for an AWS and a GCP Environment, applied with server-side
// apply (dryRun=All, fieldValidation=Strict) to the real control plane with the real CRDs of
// Cluster API v1.13 and of CAPA v2.13 and CAPG v1.13 installed from the Go module cache: every
// field is checked by the projects' own schemas (types, enums, patterns, CEL rules) and a field
// they do not know is an error.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { renderEnvironment } from "../../src/environment/render.ts";
import { parseEnvironment } from "../../src/environment/validate.ts";
import type { KubeObject } from "../../src/engine/types.ts";
import { makeDiscovery } from "../../src/kube/discovery.ts";
import { APPLY_PATCH, KubeError, makeKubeClient, resourcePath } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { exampleEnvironment, installFleetCrds } from "./fleet-crds.ts";

const client = makeKubeClient(testKubeConfig());
const discovery = makeDiscovery(client);
const namespaces: string[] = [];

/** Server-side apply as vakt does it, dry run, strict: the API server's verdict. */
async function dryRunApply(object: KubeObject): Promise<void> {
  const resource = await discovery.resourceFor(String(object.apiVersion), String(object.kind));
  assert.ok(resource, `${String(object.apiVersion)} ${String(object.kind)} is served`);
  const metadata = object.metadata as { name: string; namespace?: string };
  await client.request("PATCH", resourcePath(resource, metadata.namespace, metadata.name), {
    query: { fieldManager: "vakt", force: "true", dryRun: "All", fieldValidation: "Strict" },
    contentType: APPLY_PATCH,
    body: object,
  });
}

/** Renders an example; creates its namespace for real (namespaced objects need one), the rest dry. */
async function renderExample(file: string): Promise<KubeObject[]> {
  const parsed = parseEnvironment(exampleEnvironment(file, "schema"));
  assert.ok(parsed.environment, JSON.stringify(parsed.problems));
  const { rendered } = renderEnvironment(parsed.environment);
  assert.ok(rendered);
  const [namespace, ...rest] = rendered.objects;
  assert.equal(namespace?.kind, "Namespace");
  await kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(namespace));
  namespaces.push(rendered.namespace);
  return rest;
}

async function refusal(object: KubeObject): Promise<string> {
  try {
    await dryRunApply(object);
  } catch (error) {
    assert.ok(error instanceof KubeError, String(error));
    return error.message;
  }
  assert.fail(`${String(object.kind)} was accepted`);
}

function withSpec(object: KubeObject, spec: Json): KubeObject {
  return { ...object, spec: { ...(object["spec"] as Json), ...spec } };
}

describe("rendered Cluster API objects against the real CRDs (server-side apply, dry run)", () => {
  before(installFleetCrds);
  after(async () => {
    for (const namespace of namespaces) await kubectl(["delete", "namespace", namespace, "--wait=false"]);
  });

  it("AWS (EKS): Cluster, AWSManagedCluster, AWSManagedControlPlane, MachinePools, AWSManagedMachinePools", async () => {
    const objects = await renderExample("carelink-aws.yaml");
    assert.deepEqual(
      [...new Set(objects.map((o) => `${String(o.apiVersion)}/${String(o.kind)}`))],
      [
        "cluster.x-k8s.io/v1beta2/Cluster",
        "infrastructure.cluster.x-k8s.io/v1beta2/AWSManagedCluster",
        "controlplane.cluster.x-k8s.io/v1beta2/AWSManagedControlPlane",
        "cluster.x-k8s.io/v1beta2/MachinePool",
        "infrastructure.cluster.x-k8s.io/v1beta2/AWSManagedMachinePool",
      ],
    );
    for (const object of objects) await dryRunApply(object);
  });

  it("GCP (GKE): Cluster, GCPManagedCluster, GCPManagedControlPlane, MachinePool, GCPManagedMachinePool", async () => {
    const objects = await renderExample("nordlab-gcp.yaml");
    assert.equal(objects.length, 5);
    for (const object of objects) await dryRunApply(object);
  });

  it("the same check refuses what the schemas do not allow (so a pass means something)", async () => {
    const aws = await renderExample("carelink-aws.yaml");
    const pool = aws.find((o) => o.kind === "AWSManagedMachinePool");
    const controlPlane = aws.find((o) => o.kind === "AWSManagedControlPlane");
    const cluster = aws.find((o) => o.kind === "Cluster");
    assert.ok(pool && controlPlane && cluster);
    assert.match(await refusal(withSpec(pool, { capacityType: "cheap" })), /capacityType/);
    assert.match(await refusal(withSpec(controlPlane, { version: "latest" })), /version/);
    assert.match(
      await refusal(withSpec(cluster, { infrastructureRef: { kind: "AWSManagedCluster", name: "x" } })),
      /apiGroup/,
    );
    assert.match(
      await refusal(withSpec(pool, { instanceTypes: ["m7i.large"] })),
      /instanceTypes: field not declared in schema/,
    );
  });
});
