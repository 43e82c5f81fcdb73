// The webhook's live inventory end to end: rules that judge a workload by the objects around it
// (NetworkPolicy, PodDisruptionBudget, HorizontalPodAutoscaler) see what is in the cluster when
// the workload is admitted, and name the namespace they searched.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { TestContext } from "node:test";
import type { RunningManager } from "../../src/manager/run.ts";
import { eventually, kubectl, withNamespace } from "../../src/testing/cluster.ts";
import { startTestWebhook, unregisterTestWebhook, webhookReady } from "../../src/testing/webhook.ts";

const id = randomBytes(3).toString("hex");
const name = `vakt-inventory-${id}`;
const label = "vakt.dev/e2e-inventory";
let manager: RunningManager | undefined;

const RELATIONAL = /^Warning: \[(network-policy-coverage|pod-disruption-budget)\]/m;

/** A Deployment that passes every deny rule (vakt's mutations add the safe defaults). */
function deployment(namespace: string, deploymentName: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${deploymentName}, namespace: ${namespace}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${deploymentName}}}
  template:
    metadata: {labels: {app: ${deploymentName}, tier: web}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
        - name: app
          image: registry.example/app:1.2.3
          resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
`;
}

/** kubectl's warnings for creating the object (server-side dry run: judged, not stored). */
async function warningsFor(manifest: string, dryRun = true): Promise<string> {
  const args = dryRun ? ["create", "--dry-run=server", "-f", "-"] : ["create", "-f", "-"];
  return (await kubectl(args, manifest)).stderr;
}

/** A namespace of this test that the webhook judges. */
async function judgedNamespace(t: TestContext, prefix: string): Promise<string> {
  const namespace = await withNamespace(t, prefix);
  await kubectl(["label", "namespace", namespace, `${label}=${id}`]);
  return namespace;
}

describe("admission with the live inventory", () => {
  before(async () => {
    manager = await startTestWebhook(name, { [label]: id });
    await eventually("the webhook to be ready (its inventory listed)", 15_000, async () =>
      (await webhookReady(manager)) ? true : undefined,
    );
    assert.equal(manager.inventory.synced, true);
  });

  after(async () => {
    await manager?.close();
    await unregisterTestWebhook(name);
  });

  it("admits a Deployment whose namespace has a NetworkPolicy and PodDisruptionBudget selecting its pods without warnings about them, and warns again once the policy is gone", async (t) => {
    const covered = await judgedNamespace(t, "inventory-covered");
    const bare = await judgedNamespace(t, "inventory-bare");
    await kubectl(
      ["apply", "-f", "-"],
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: ${covered}}
spec:
  podSelector: {matchLabels: {tier: web}}
  policyTypes: [Ingress, Egress]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${covered}}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {tier: web}}
`,
    );
    // The policies reach vakt through its watches, a moment after they are stored.
    await eventually("the webhook to see the NetworkPolicy and PodDisruptionBudget", 10_000, async () =>
      RELATIONAL.test(await warningsFor(deployment(covered, "web"))) ? undefined : true,
    );
    const admitted = await warningsFor(deployment(covered, "web"), false);
    assert.doesNotMatch(admitted, RELATIONAL);
    assert.ok(
      (await kubectl(["get", "deployment", "web", "-n", covered, "-o", "name"])).stdout.includes("web"),
    );

    const warned = await warningsFor(deployment(bare, "web"), false);
    assert.match(
      warned,
      new RegExp(
        `Warning: \\[network-policy-coverage\\] no NetworkPolicy in namespace "${bare}" selects the pods of Deployment "web"`,
      ),
    );
    assert.match(
      warned,
      new RegExp(
        `Warning: \\[pod-disruption-budget\\] no PodDisruptionBudget selecting the pods of Deployment "web" was found in namespace "${bare}"`,
      ),
    );
    assert.doesNotMatch(warned, /checked files/);

    await kubectl(["delete", "networkpolicy", "web", "-n", covered]);
    const again = await eventually("the network-policy warning to come back", 10_000, async () => {
      const stderr = await warningsFor(deployment(covered, "api"));
      return /\[network-policy-coverage\]/.test(stderr) ? stderr : undefined;
    });
    assert.match(again, new RegExp(`no NetworkPolicy in namespace "${covered}" selects the pods`));
    assert.doesNotMatch(again, /\[pod-disruption-budget\]/, "the budget still selects the pods");
  });

  it("judges a Deployment's replicas by the minReplicas of the HorizontalPodAutoscaler that scales it", async (t) => {
    const namespace = await judgedNamespace(t, "inventory-hpa");
    const single = deployment(namespace, "scaled", 1);
    assert.match(await warningsFor(single), /\[replicas\] spec\.replicas is 1/);
    await kubectl(
      ["apply", "-f", "-"],
      `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: scaled, namespace: ${namespace}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: scaled}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
`,
    );
    await eventually("the webhook to see the HorizontalPodAutoscaler", 10_000, async () =>
      /\[replicas\]/.test(await warningsFor(single)) ? undefined : true,
    );
  });
});
