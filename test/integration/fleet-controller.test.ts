// The fleet controller on the real control plane with the real CRDs of Cluster API v1.13, CAPA
// v2.13 and CAPG v1.13 (from the Go module cache): Environments become their provider's Cluster API
// objects, owned and applied by vakt; status follows the Cluster's phase and conditions (written
// here through the status subresource, as Cluster API's controller writes them); drift is healed,
// what is no longer rendered is pruned, and deletion is guarded by a finalizer while tenants live.
// Environments are cluster-scoped: every name carries a random suffix. One controller runs in
// this process for the whole file, as `vakt run --parts fleet` runs it: under a Manager, leader.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { FleetPart } from "../../src/fleet/part.ts";
import { ALLOW_DELETE_WITH_TENANTS, FINALIZER } from "../../src/fleet/reconciler.ts";
import { ENVIRONMENTS_PATH } from "../../src/fleet/watches.ts";
import { Manager } from "../../src/manager/manager.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { condition, exampleEnvironment, installFleetCrds, readObject, startFleet } from "./fleet-crds.ts";

const config = testKubeConfig();
const client = makeKubeClient(config);
const run = randomBytes(2).toString("hex");
const infra = `fleet-infra-${run}`;
const created: string[] = [];
const CONVERGE_MS = 30_000;
let manager: Manager | undefined;

function read(path: string): Promise<Json | undefined> {
  return readObject(client, path);
}

async function applyEnvironment(environment: Json): Promise<string> {
  const name = (environment["metadata"] as { name: string }).name;
  if (!created.includes(name)) created.push(name);
  await kubectl(
    ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
    JSON.stringify(environment),
  );
  return name;
}

/** Waits until the Environment's status, for its current generation, satisfies `check`. */
function waitFor(name: string, what: string, check: (environment: Json) => boolean): Promise<Json> {
  return eventually(`${name}: ${what}`, CONVERGE_MS, async () => {
    const environment = await read(`${ENVIRONMENTS_PATH}/${name}`);
    if (environment === undefined) return undefined;
    const generation = (environment["metadata"] as { generation: number }).generation;
    const status = environment["status"] as { observedGeneration?: number } | undefined;
    return status?.observedGeneration === generation && check(environment) ? environment : undefined;
  });
}

const capi = (namespace: string, plural: string, name = ""): string =>
  `/apis/cluster.x-k8s.io/v1beta2/namespaces/${namespace}/${plural}${name === "" ? "" : `/${name}`}`;
const capa = (namespace: string, plural: string, name = ""): string =>
  `/apis/infrastructure.cluster.x-k8s.io/v1beta2/namespaces/${namespace}/${plural}${name === "" ? "" : `/${name}`}`;

/** Writes a Cluster's status as Cluster API's controller would (the status subresource). */
async function patchClusterStatus(namespace: string, name: string, status: Json): Promise<void> {
  await kubectl([
    "patch",
    "cluster.v1beta2.cluster.x-k8s.io",
    name,
    "-n",
    namespace,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status }),
  ]);
}

async function names(path: string): Promise<string[]> {
  const list = await read(path);
  return ((list?.["items"] ?? []) as { metadata: { name: string } }[])
    .map((item) => item.metadata.name)
    .sort();
}

describe("fleet controller on the real API server", () => {
  before(async () => {
    await installFleetCrds();
    manager = await startFleet(new FleetPart({ workers: 4 }), infra, `fleet-test-${run}`);
  });

  after(async () => {
    await manager?.stop();
    for (const name of created) {
      // Release what the stopped controller held, then delete.
      await kubectl([
        "patch",
        "environment",
        name,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
      ]).catch(() => undefined);
      await kubectl(["delete", "environment", name, "--ignore-not-found", "--wait=false"]).catch(
        () => undefined,
      );
    }
    await kubectl(["delete", "namespace", infra, "--wait=false"]).catch(() => undefined);
  });

  it("provisions an AWS Environment: its Cluster API objects, owned by it; status waits for Cluster API", async () => {
    const name = await applyEnvironment(exampleEnvironment("carelink-aws.yaml", "fl-aws"));
    const namespace = `env-${name}`;
    const environment = await waitFor(name, "Applied", (e) => condition(e, "Applied")?.status === "True");
    const status = environment["status"] as {
      phase: string;
      objectCount: number;
      children: Record<string, number>;
      cluster: Json;
    };
    assert.equal(status.phase, "Pending");
    assert.equal(status.objectCount, 8);
    assert.deepEqual(status.cluster, { namespace, name, phase: "Pending" });
    assert.equal(status.children["AWSManagedMachinePool.infrastructure.cluster.x-k8s.io"], 2);
    assert.equal(condition(environment, "ClusterAvailable")?.reason, "WaitingForClusterAPI");
    assert.equal(condition(environment, "Ready")?.status, "False");
    assert.deepEqual((environment["metadata"] as { finalizers: string[] }).finalizers, [FINALIZER]);
    assert.deepEqual(await names(capi(namespace, "machinepools")), [`${name}-apps`, `${name}-system`]);
    const uid = (environment["metadata"] as { uid: string }).uid;
    const cluster = await read(capi(namespace, "clusters", name));
    const owners = (cluster?.["metadata"] as { ownerReferences: { uid: string; controller: boolean }[] })
      .ownerReferences;
    assert.deepEqual(
      owners.map((o) => [o.uid, o.controller]),
      [[uid, false]],
      "vakt owns the Cluster API objects without claiming to be their controller",
    );
    const ns = await read(`/api/v1/namespaces/${namespace}`);
    assert.equal(
      (ns?.["metadata"] as { ownerReferences: { controller: boolean }[] }).ownerReferences[0]?.controller,
      true,
    );
  });

  it("follows the Cluster: phase and conditions as Cluster API reports them; available, it waits for its kubeconfig", async () => {
    const name = await applyEnvironment(exampleEnvironment("nordlab-gcp.yaml", "fl-gcp"));
    const namespace = `env-${name}`;
    await waitFor(name, "Applied", (e) => condition(e, "Applied")?.status === "True");
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const status = (type: string, value: string, reason: string): Json => ({
      type,
      status: value,
      reason,
      message: "",
      lastTransitionTime: now,
    });
    await patchClusterStatus(namespace, name, {
      phase: "Provisioning",
      conditions: [
        status("Available", "False", "NotAvailable"),
        status("InfrastructureReady", "True", "Ready"),
      ],
    });
    let environment = await waitFor(
      name,
      "Provisioning",
      (e) => (e["status"] as { phase: string }).phase === "Provisioning",
    );
    assert.equal(condition(environment, "ClusterInfrastructureReady")?.status, "True");
    assert.equal(condition(environment, "Ready")?.reason, "NotAvailable");
    await patchClusterStatus(namespace, name, {
      phase: "Provisioned",
      conditions: [status("Available", "True", "Available")],
    });
    environment = await waitFor(
      name,
      "ClusterAvailable",
      (e) => condition(e, "ClusterAvailable")?.status === "True",
    );
    assert.equal((environment["status"] as { phase: string }).phase, "Provisioned");
    // Available is not Ready: the cluster is baselined first, once its kubeconfig Secret exists.
    assert.equal(condition(environment, "Baselined")?.reason, "WaitingForKubeconfig");
    assert.match(
      condition(environment, "Baselined")?.message ?? "",
      new RegExp(`${namespace}/${name}-kubeconfig`),
    );
    assert.equal(condition(environment, "Ready")?.status, "False");
    assert.equal(condition(environment, "Ready")?.reason, "WaitingForKubeconfig");
  });

  it("heals drift, prunes a node pool taken out of the spec", async () => {
    const manifest = exampleEnvironment("carelink-aws.yaml", "fl-drift");
    const name = await applyEnvironment(manifest);
    const namespace = `env-${name}`;
    await waitFor(name, "Applied", (e) => condition(e, "Applied")?.status === "True");
    await client.request("DELETE", capa(namespace, "awsmanagedmachinepools", `${name}-apps`));
    await kubectl([
      "patch",
      "awsmanagedcontrolplane.v1beta2.controlplane.cluster.x-k8s.io",
      `${name}-control-plane`,
      "-n",
      namespace,
      "--type=merge",
      "-p",
      '{"spec":{"region":"us-east-1"}}',
    ]);
    await eventually("the deleted pool is back and the region restored", CONVERGE_MS, async () => {
      const pool = await read(capa(namespace, "awsmanagedmachinepools", `${name}-apps`));
      const plane = await read(
        `/apis/controlplane.cluster.x-k8s.io/v1beta2/namespaces/${namespace}/awsmanagedcontrolplanes/${name}-control-plane`,
      );
      return pool !== undefined &&
        (plane?.["spec"] as { region?: string } | undefined)?.region === "eu-north-1"
        ? true
        : undefined;
    });
    const spec = manifest["spec"] as { nodePools: Json[] };
    await applyEnvironment({ ...manifest, spec: { ...spec, nodePools: spec.nodePools.slice(0, 1) } });
    await waitFor(name, "one pool", (e) => (e["status"] as { objectCount: number }).objectCount === 6);
    await eventually("the apps pool is pruned", CONVERGE_MS, async () =>
      (await names(capi(namespace, "machinepools"))).join() === `${name}-system` &&
      (await names(capa(namespace, "awsmanagedmachinepools"))).join() === `${name}-system`
        ? true
        : undefined,
    );
  });

  it("refuses to apply an invalid spec or a tenant another Environment hosts, and says why", async () => {
    const invalid = exampleEnvironment("carelink-aws.yaml", "fl-bad");
    // No webhook runs here: the CRD's schema admits it; the controller still refuses it.
    const name = await applyEnvironment({
      ...invalid,
      spec: { ...(invalid["spec"] as Json), region: "us-east-1" },
    });
    const environment = await waitFor(
      name,
      "InvalidSpec",
      (e) => condition(e, "Applied")?.reason === "InvalidSpec",
    );
    assert.match(
      condition(environment, "Applied")?.message ?? "",
      /spec\.region: region us-east-1 is in N\. Virginia/,
    );
    assert.equal((environment["status"] as { phase: string }).phase, "Invalid");
    assert.equal(await read(`/api/v1/namespaces/env-${name}`), undefined, "nothing applied");

    const first = exampleEnvironment("nordlab-gcp.yaml", "fl-first");
    const tenant = `shared-${run}`;
    const firstName = await applyEnvironment({
      ...first,
      spec: { ...(first["spec"] as Json), tenants: [tenant] },
    });
    await waitFor(firstName, "Applied", (e) => condition(e, "Applied")?.status === "True");
    const second = exampleEnvironment("nordlab-gcp.yaml", "fl-second");
    const secondName = await applyEnvironment({
      ...second,
      spec: { ...(second["spec"] as Json), tenants: [tenant] },
    });
    const refused = await waitFor(
      secondName,
      "TenantConflict",
      (e) => condition(e, "Applied")?.reason === "TenantConflict",
    );
    assert.match(
      condition(refused, "Applied")?.message ?? "",
      new RegExp(`tenant "${tenant}" is hosted by Environment ${firstName}`),
    );
    // The first one lets the tenant go: the second one proceeds.
    await applyEnvironment({ ...first, spec: { ...(first["spec"] as Json), tenants: [] } });
    await waitFor(
      secondName,
      "Applied after the conflict cleared",
      (e) => condition(e, "Applied")?.status === "True",
    );
  });

  it("guards deletion while a tenant lives; the annotation lets it go, the Cluster first, then the rest", async () => {
    const tenant = `guarded-${run}`;
    await kubectl(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({
        apiVersion: "vakt.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: tenant },
        spec: { owners: [{ kind: "Group", name: "team" }], namespaces: [{ name: tenant }] },
      }),
    );
    const manifest = exampleEnvironment("carelink-aws.yaml", "fl-del");
    const name = await applyEnvironment({
      ...manifest,
      spec: { ...(manifest["spec"] as Json), tenants: [tenant] },
    });
    const namespace = `env-${name}`;
    await waitFor(name, "Applied", (e) => condition(e, "Applied")?.status === "True");
    await kubectl(["delete", "environment", name, "--wait=false"]);
    const blocked = await eventually("deletion blocked", CONVERGE_MS, async () => {
      const environment = await read(`${ENVIRONMENTS_PATH}/${name}`);
      return environment !== undefined && condition(environment, "DeletionBlocked")?.status === "True"
        ? environment
        : undefined;
    });
    assert.match(
      condition(blocked, "DeletionBlocked")?.message ?? "",
      new RegExp(`live tenants ${tenant}.*${ALLOW_DELETE_WITH_TENANTS}`),
    );
    assert.ok(await read(capi(namespace, "clusters", name)), "the Cluster is still there");
    await kubectl(["annotate", "environment", name, `${ALLOW_DELETE_WITH_TENANTS}=true`]);
    await eventually("the Environment and its Cluster are gone", CONVERGE_MS, async () =>
      (await read(`${ENVIRONMENTS_PATH}/${name}`)) === undefined &&
      (await read(capi(namespace, "clusters", name))) === undefined
        ? true
        : undefined,
    );
    // The garbage collector learns of a new owner kind (the Environment CRD) at its next resync.
    await eventually("the garbage collector takes the namespace", 2 * CONVERGE_MS, async () => {
      const ns = await read(`/api/v1/namespaces/${namespace}`);
      return ns === undefined ||
        (ns["metadata"] as { deletionTimestamp?: string }).deletionTimestamp !== undefined
        ? true
        : undefined;
    });
    await kubectl(["delete", "tenant", tenant, "--wait=false"]);
  });
});
