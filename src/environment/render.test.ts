import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KubeObject } from "../engine/types.ts";
import { clusterProgress, ENVIRONMENT_LABEL } from "./cluster-api.ts";
import { renderEnvironment } from "./render.ts";
import type { Environment } from "./types.ts";
import { parseEnvironment } from "./validate.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "environments");

function example(file: string): Environment {
  const parsed = parseEnvironment(parse(readFileSync(join(EXAMPLES, file), "utf8")));
  assert.ok(parsed.environment, JSON.stringify(parsed.problems));
  return parsed.environment;
}

type Json = Record<string, unknown>;
const meta = (o: KubeObject): { name: string; namespace?: string; labels: Record<string, string> } =>
  o.metadata as { name: string; namespace?: string; labels: Record<string, string> };
const spec = (o: KubeObject | undefined): Json => (o?.["spec"] ?? {}) as Json;

function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && meta(o).name === name);
  assert.ok(found, `${kind} ${name} is rendered`);
  return found;
}

/** Every contract reference names an object rendered beside it, of its group and kind. */
function assertRefsResolve(objects: readonly KubeObject[]): void {
  const refs: Json[] = [];
  for (const o of objects) {
    const s = spec(o);
    if (o.kind === "Cluster") refs.push(s["infrastructureRef"] as Json, s["controlPlaneRef"] as Json);
    if (o.kind === "MachinePool")
      refs.push(((s["template"] as Json)["spec"] as Json)["infrastructureRef"] as Json);
  }
  assert.ok(refs.length >= 3);
  for (const ref of refs) {
    const target = find(objects, String(ref["kind"]), String(ref["name"]));
    assert.equal(String(target.apiVersion).split("/")[0], ref["apiGroup"]);
  }
}

describe("rendering an Environment into its provider's Cluster API objects", () => {
  it("aws: Namespace, Cluster, AWSManagedCluster, AWSManagedControlPlane (EKS), a MachinePool and AWSManagedMachinePool per pool", () => {
    const environment = example("carelink-aws.yaml");
    const { rendered, problems } = renderEnvironment(environment);
    assert.deepEqual(problems, []);
    assert.ok(rendered);
    const objects = rendered.objects;
    assert.deepEqual(
      objects.map((o) => `${String(o.kind)}/${meta(o).name}`),
      [
        "Namespace/env-carelink-prod",
        "Cluster/carelink-prod",
        "AWSManagedCluster/carelink-prod",
        "AWSManagedControlPlane/carelink-prod-control-plane",
        "MachinePool/carelink-prod-system",
        "AWSManagedMachinePool/carelink-prod-system",
        "MachinePool/carelink-prod-apps",
        "AWSManagedMachinePool/carelink-prod-apps",
      ],
    );
    for (const o of objects) {
      assert.equal(meta(o).labels[ENVIRONMENT_LABEL], "carelink-prod");
      if (o.kind !== "Namespace") assert.equal(meta(o).namespace, "env-carelink-prod");
    }
    assertRefsResolve(objects);
    const controlPlane = spec(find(objects, "AWSManagedControlPlane", "carelink-prod-control-plane"));
    assert.equal(controlPlane["region"], "eu-north-1");
    assert.equal(controlPlane["version"], "v1.33");
    const subnets = (
      controlPlane["network"] as {
        subnets: { availabilityZone: string; isPublic: boolean; cidrBlock: string }[];
      }
    ).subnets;
    assert.deepEqual(
      [...new Set(subnets.map((s) => s.availabilityZone))],
      ["eu-north-1a", "eu-north-1b", "eu-north-1c"],
      "a subnet in each zone the pools name",
    );
    assert.equal(new Set(subnets.map((s) => s.cidrBlock)).size, subnets.length, "subnets do not overlap");
    const apps = spec(find(objects, "AWSManagedMachinePool", "carelink-prod-apps"));
    assert.deepEqual(apps["scaling"], { minSize: 2, maxSize: 12 });
    assert.equal(apps["instanceType"], "m7i.xlarge");
    assert.equal(apps["amiType"], "AL2023_x86_64_STANDARD");
    assert.deepEqual(apps["availabilityZones"], ["eu-north-1a", "eu-north-1b"]);
    const machinePool = find(objects, "MachinePool", "carelink-prod-apps");
    assert.equal(spec(machinePool)["replicas"], undefined, "the managed pool owns its replica count");
    assert.deepEqual(rendered.progress, {
      apiVersion: "cluster.x-k8s.io/v1beta2",
      kind: "Cluster",
      namespace: "env-carelink-prod",
      name: "carelink-prod",
    });
    assert.equal(rendered.kubeconfigSecret?.name, "carelink-prod-kubeconfig");
  });

  it("gcp: GCPManagedCluster, GCPManagedControlPlane (GKE) and per pool a GCPManagedMachinePool sized per zone", () => {
    const { rendered } = renderEnvironment(example("nordlab-gcp.yaml"));
    assert.ok(rendered);
    const objects = rendered.objects;
    assert.deepEqual(
      objects.map((o) => String(o.kind)),
      [
        "Namespace",
        "Cluster",
        "GCPManagedCluster",
        "GCPManagedControlPlane",
        "MachinePool",
        "GCPManagedMachinePool",
      ],
    );
    assertRefsResolve(objects);
    assert.deepEqual(spec(find(objects, "GCPManagedCluster", "nordlab-research")), {
      project: "nordlab-research-42",
      region: "europe-north2",
      network: { name: "vakt-nordlab-research" },
    });
    const pool = spec(find(objects, "GCPManagedMachinePool", "nordlab-research-general"));
    assert.deepEqual(pool["scaling"], {
      enableAutoscaling: true,
      minCount: 1,
      maxCount: 3,
      locationPolicy: "balanced",
    });
    assert.deepEqual(pool["nodeLocations"], ["europe-north2-a", "europe-north2-b", "europe-north2-c"]);
    assert.equal(
      spec(find(objects, "GCPManagedControlPlane", "nordlab-research-control-plane"))["version"],
      "1.33",
    );
  });

  it("is deterministic, and renders nothing for an environment with problems", () => {
    const environment = example("carelink-aws.yaml");
    assert.deepEqual(renderEnvironment(environment), renderEnvironment(environment));
    const outside = { ...environment, spec: { ...environment.spec, region: "us-east-1" } };
    const result = renderEnvironment(outside);
    assert.equal(result.rendered, undefined);
    assert.ok(result.problems.some((p) => p.kind === "residency"));
  });

  it("local: only the namespace until the local provider's control planes are built", () => {
    const parsed = parseEnvironment({
      apiVersion: "vakt.dev/v1alpha1",
      kind: "Environment",
      metadata: { name: "dev" },
      spec: {
        customer: "acme",
        provider: "local",
        region: "local",
        jurisdiction: "SE",
        kubernetesVersion: "v1.36",
        nodePools: [{ name: "nodes", instanceTypes: ["local.small"], min: 1, max: 2, zones: ["local-a"] }],
        backup: {
          provider: "s3",
          bucket: "dev",
          region: "local",
          endpoint: "https://127.0.0.1:9000",
          jurisdiction: "SE",
        },
      },
    });
    assert.ok(parsed.environment, JSON.stringify(parsed.problems));
    const { rendered, problems } = renderEnvironment(parsed.environment);
    assert.deepEqual(problems, []);
    assert.ok(rendered);
    assert.deepEqual(
      rendered.objects.map((o) => o.kind),
      ["Namespace"],
    );
    assert.equal(rendered.progress, undefined);
  });
});

describe("a Cluster's progress", () => {
  it("without status: Pending, waiting for Cluster API", () => {
    const progress = clusterProgress({ kind: "Cluster" });
    assert.equal(progress.phase, "Pending");
    assert.equal(progress.available.status, "Unknown");
    assert.equal(progress.available.reason, "WaitingForClusterAPI");
  });

  it("repeats the phase, Available and the provisioning conditions in order", () => {
    const progress = clusterProgress({
      status: {
        phase: "Provisioned",
        conditions: [
          { type: "WorkersAvailable", status: "True", reason: "Available" },
          { type: "Available", status: "True", reason: "Available", message: "" },
          { type: "InfrastructureReady", status: "True", reason: "Ready" },
          { type: "Paused", status: "False", reason: "NotPaused" },
          { type: "broken" },
        ],
      },
    });
    assert.equal(progress.phase, "Provisioned");
    assert.equal(progress.available.status, "True");
    assert.deepEqual(
      progress.conditions.map((c) => c.type),
      ["InfrastructureReady", "WorkersAvailable"],
    );
  });
});
