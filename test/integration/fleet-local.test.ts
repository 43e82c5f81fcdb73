// The local provider end to end on the real control plane as the hub: an Environment becomes a
// real control plane started by the fleet controller (etcd, kube-apiserver, controller-manager,
// scheduler, kwok nodes), its kubeconfig Secret in Cluster API's convention, the Argo CD
// registration on the hub (cluster Secret and an ApplicationSet checked by Argo CD's own CRD),
// and the baseline in the member (vakt's CRDs, VaktConfiguration, the Environment's Tenant, the
// KEDA namespace, a Karpenter NodePool and KWOKNodeClass checked by Karpenter's CRDs in the
// member's API server); a deleted baseline object comes back; deleting the Environment stops the
// control plane and removes its state.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { setting } from "../../src/config/settings.ts";
import { isOurProcess } from "../../src/devcluster/processes.ts";
import { readState } from "../../src/devcluster/cluster.ts";
import { FleetPart } from "../../src/fleet/part.ts";
import { ENVIRONMENTS_PATH } from "../../src/fleet/watches.ts";
import { Manager } from "../../src/manager/manager.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json, KubeClient } from "../../src/kube/client.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { baselineCrds } from "../../src/testing/fleet-baseline-crds.ts";
import { condition, installFleetCrds, localEnvironment, readObject, startFleet } from "./fleet-crds.ts";

const config = testKubeConfig();
const hub = makeKubeClient(config);
const run = randomBytes(2).toString("hex");
const infra = `fleet-local-${run}`;
const argocd = `argocd-${run}`;
const root = mkdtempSync(join(tmpdir(), "vakt-fleet-local-"));
const name = `loc-${run}`;
const tenant = `lt-${run}`;
const START_MS = 150_000;
let manager: Manager | undefined;

const read = readObject;

function memberClient(): { client: KubeClient; kubeconfig: string } {
  const state = readState(join(root, name));
  assert.ok(state, "the local cluster's state file exists");
  const member = new KubeConfig();
  member.loadFromFile(state.kubeconfig);
  return { client: makeKubeClient(member), kubeconfig: state.kubeconfig };
}

const spec = localEnvironment(name, {
  nodePools: [
    {
      name: "general",
      instanceTypes: ["local.small", "local.large"],
      min: 2,
      max: 5,
      zones: ["local-a", "local-b"],
    },
  ],
  tenants: [tenant],
  gitops: { repoURL: "https://git.example.se/nordlab/apps.git" },
  baseline: { failOn: "warn", rules: { "image-tag": "deny" } },
});

describe("the local provider: a real cluster per Environment, registered and baselined", () => {
  before(async () => {
    await installFleetCrds();
    const { stdout } = await kubectl(
      ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: await baselineCrds("argocd") }),
    );
    // Right after the apply the CRD may have no conditions yet: kubectl wait fails on that, retried.
    await eventually("Argo CD's CRD established", 60_000, async () => {
      await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...stdout.trim().split("\n")]);
      return true;
    });
    await kubectl(["create", "namespace", argocd]);
    await kubectl(
      ["apply", "--server-side", "-f", "-"],
      JSON.stringify({
        apiVersion: "vakt.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: tenant },
        spec: {
          owners: [{ kind: "Group", name: "nordlab-devs", role: "view" }],
          namespaces: [{ name: "nordlab-app" }],
        },
      }),
    );
    manager = await startFleet(
      new FleetPart({ workers: 2, argocdNamespace: argocd, local: { binDir: setting("testBinDir"), root } }),
      infra,
      `fleet-local-${run}`,
    );
  });

  after(async () => {
    // Whatever happened, nothing of this test keeps running: delete through the controller, then
    // stop the controller, then make sure the local cluster's processes are gone.
    await kubectl([
      "annotate",
      "environment",
      name,
      "vakt.dev/allow-delete-with-tenants=true",
      "--overwrite",
    ]).catch(() => undefined);
    await kubectl(["delete", "environment", name, "--ignore-not-found", "--timeout=60s"]).catch(
      () => undefined,
    );
    await manager?.stop();
    const { down } = await import("../../src/devcluster/cluster.ts");
    await down(join(root, name));
    rmSync(root, { recursive: true, force: true });
    await kubectl(["delete", "tenant", tenant, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
    await kubectl(["delete", "namespace", infra, argocd, "--wait=false"]).catch(() => undefined);
  });

  it("starts a control plane, writes its kubeconfig Secret, registers it with Argo CD and baselines it", async () => {
    await kubectl(["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"], JSON.stringify(spec));
    const environment = await eventually(`${name} Ready`, START_MS, async () => {
      const object = await read(hub, `${ENVIRONMENTS_PATH}/${name}`);
      return object !== undefined && condition(object, "Ready")?.status === "True" ? object : undefined;
    });
    const status = environment["status"] as { phase: string; cluster: Json };
    assert.equal(status.phase, "Provisioned");
    assert.deepEqual(status.cluster, { namespace: `env-${name}`, name, phase: "Provisioned" });
    assert.equal(condition(environment, "ArgoCDRegistered")?.status, "True");
    // Karpenter is not installed in the new cluster yet: the rest of the baseline does not wait.
    assert.equal(condition(environment, "Autoscaling")?.reason, "KarpenterNotInstalled");

    const secret = await read(hub, `/api/v1/namespaces/env-${name}/secrets/${name}-kubeconfig`);
    assert.ok(secret, "the kubeconfig Secret exists");
    assert.equal(secret["type"], "cluster.x-k8s.io/secret");
    const kubeconfigText = Buffer.from((secret["data"] as { value: string }).value, "base64").toString();
    const state = readState(join(root, name));
    assert.ok(state);
    assert.match(kubeconfigText, new RegExp(`server: ${state.server}`));
    assert.ok(
      state.components.every((c) => isOurProcess(c.pid, join(root, name))),
      "every component runs",
    );
    assert.deepEqual(
      state.components.map((c) => c.name),
      ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"],
    );

    const argo = await read(hub, `/api/v1/namespaces/${argocd}/secrets/cluster-${name}`);
    const labels = (argo?.["metadata"] as { labels: Record<string, string> }).labels;
    assert.equal(labels["argocd.argoproj.io/secret-type"], "cluster");
    const data = argo?.["data"] as Record<string, string>;
    const decoded = (key: string): string => Buffer.from(data[key] ?? "", "base64").toString();
    assert.equal(decoded("name"), name);
    assert.equal(decoded("server"), state.server);
    const tls = (JSON.parse(decoded("config")) as { tlsClientConfig: Record<string, string> })
      .tlsClientConfig;
    assert.ok(tls["caData"] !== undefined && tls["certData"] !== undefined && tls["keyData"] !== undefined);
    const appSet = await read(hub, `/apis/argoproj.io/v1alpha1/namespaces/${argocd}/applicationsets/${name}`);
    assert.deepEqual(
      (appSet?.["spec"] as { generators: { clusters: { selector: Json } }[] }).generators[0]?.clusters
        .selector,
      { matchLabels: { "argocd.argoproj.io/secret-type": "cluster", "vakt.dev/environment": name } },
    );

    const { client } = memberClient();
    try {
      const nodes = ((await read(client, "/api/v1/nodes"))?.["items"] ?? []) as {
        metadata: { labels: Record<string, string> };
      }[];
      assert.deepEqual(nodes.map((n) => n.metadata.labels["topology.kubernetes.io/zone"]).sort(), [
        "local-a",
        "local-b",
      ]);
      const configuration = await read(client, "/apis/vakt.dev/v1alpha1/vaktconfigurations/default");
      assert.deepEqual(configuration?.["spec"], { failOn: "warn", rules: { "image-tag": "deny" } });
      const copied = await read(client, `/apis/vakt.dev/v1alpha1/tenants/${tenant}`);
      assert.deepEqual((copied?.["spec"] as { owners: Json[] }).owners, [
        { kind: "Group", name: "nordlab-devs", role: "view" },
      ]);
      const keda = await read(client, "/api/v1/namespaces/keda");
      assert.equal(
        (keda?.["metadata"] as { labels: Record<string, string> }).labels[
          "pod-security.kubernetes.io/enforce"
        ],
        "restricted",
      );
    } finally {
      await client.close?.();
    }
  });

  it("applies the Karpenter NodePool once the cluster serves it, bounded by the pools' zones and types", async () => {
    const { client, kubeconfig } = memberClient();
    try {
      const crds = await baselineCrds("karpenterKwok");
      const kubectlMember = join(setting("testBinDir"), "kubectl");
      const { execFileSync } = await import("node:child_process");
      execFileSync(kubectlMember, [`--kubeconfig=${kubeconfig}`, "apply", "--server-side", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: crds }),
      });
      const pool = await eventually("the NodePool in the member", START_MS, () =>
        read(client, "/apis/karpenter.sh/v1/nodepools/default"),
      );
      const spec = pool["spec"] as {
        template: { spec: { requirements: { key: string; values: string[] }[]; nodeClassRef: Json } };
        limits: Json;
      };
      assert.deepEqual(spec.template.spec.nodeClassRef, {
        group: "karpenter.kwok.sh",
        kind: "KWOKNodeClass",
        name: "default",
      });
      assert.deepEqual(
        spec.template.spec.requirements.slice(0, 2).map((r) => [r.key, r.values]),
        [
          ["topology.kubernetes.io/zone", ["local-a", "local-b"]],
          ["node.kubernetes.io/instance-type", ["local.large", "local.small"]],
        ],
      );
      assert.deepEqual(spec.limits, { nodes: "5" });
      await eventually("Autoscaling True", START_MS, async () => {
        const object = await read(hub, `${ENVIRONMENTS_PATH}/${name}`);
        return object !== undefined && condition(object, "Autoscaling")?.status === "True" ? true : undefined;
      });
    } finally {
      await client.close?.();
    }
  });

  it("heals a baseline object deleted in the member cluster", async () => {
    const { client } = memberClient();
    try {
      const path = "/apis/vakt.dev/v1alpha1/vaktconfigurations/default";
      const before = await read(client, path);
      const uid = (before?.["metadata"] as { uid: string }).uid;
      await client.request("DELETE", path);
      const back = await eventually("the VaktConfiguration back", 30_000, async () => {
        const object = await read(client, path);
        return object !== undefined && (object["metadata"] as { uid: string }).uid !== uid
          ? object
          : undefined;
      });
      assert.deepEqual(back["spec"], { failOn: "warn", rules: { "image-tag": "deny" } });
    } finally {
      await client.close?.();
    }
  });

  it("deleting the Environment stops its control plane and removes its state", async () => {
    const state = readState(join(root, name));
    assert.ok(state);
    await kubectl(["annotate", "environment", name, "vakt.dev/allow-delete-with-tenants=true"]);
    await kubectl(["delete", "environment", name, "--wait=false"]);
    await eventually("the Environment gone", 60_000, async () =>
      (await read(hub, `${ENVIRONMENTS_PATH}/${name}`)) === undefined ? true : undefined,
    );
    assert.deepEqual(
      state.components.filter((c) => isOurProcess(c.pid, join(root, name))).map((c) => c.name),
      [],
      "no component of the local cluster runs",
    );
    assert.equal(existsSync(join(root, name)), false, "its state directory is removed");
  });
});
