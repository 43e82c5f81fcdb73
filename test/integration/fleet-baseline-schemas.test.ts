// The AWS baseline's Karpenter objects (EC2NodeClass and a NodePool bounded by the Environment's
// zones and instance types) applied with server-side apply (dryRun=All, fieldValidation=Strict)
// to the real control plane with Karpenter's own CRDs from karpenter-provider-aws v1.15.2 (Go
// module cache): its schemas and CEL rules judge every field. The local provider's NodePool and
// KWOKNodeClass, and Argo CD's ApplicationSet, are applied for real in fleet-local.test.ts.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { karpenterObjects } from "../../src/environment/baseline.ts";
import { parseEnvironment } from "../../src/environment/validate.ts";
import type { KubeObject } from "../../src/engine/types.ts";
import { APPLY_PATCH, KubeError, makeKubeClient, resourcePath } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { makeDiscovery } from "../../src/kube/discovery.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { baselineCrds } from "../../src/testing/fleet-baseline-crds.ts";
import { exampleEnvironment } from "./fleet-crds.ts";

const client = makeKubeClient(testKubeConfig());
const discovery = makeDiscovery(client, { missingTtlMs: 0 });

async function dryRun(object: KubeObject): Promise<void> {
  const resource = await discovery.resourceFor(String(object.apiVersion), String(object.kind));
  assert.ok(resource, `${String(object.apiVersion)} ${String(object.kind)} is served`);
  const metadata = object.metadata as { name: string };
  await client.request("PATCH", resourcePath(resource, undefined, metadata.name), {
    query: { fieldManager: "vakt", force: "true", dryRun: "All", fieldValidation: "Strict" },
    contentType: APPLY_PATCH,
    body: object,
  });
}

function awsObjects(): KubeObject[] {
  const parsed = parseEnvironment(exampleEnvironment("carelink-aws.yaml", "karpenter"));
  assert.ok(parsed.environment, JSON.stringify(parsed.problems));
  return karpenterObjects(parsed.environment);
}

describe("the AWS baseline's Karpenter objects against Karpenter's real CRDs", () => {
  before(async () => {
    const { stdout } = await kubectl(
      ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: await baselineCrds("karpenterAws") }),
    );
    await eventually("Karpenter's CRDs established", 60_000, async () => {
      await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...stdout.trim().split("\n")]);
      return true;
    });
  });

  it("accepts the EC2NodeClass and the NodePool vakt renders", async () => {
    const objects = awsObjects();
    assert.deepEqual(
      objects.map((o) => o.kind),
      ["EC2NodeClass", "NodePool"],
    );
    for (const object of objects) await dryRun(object);
  });

  it("the same check refuses what Karpenter's schema forbids (an EC2NodeClass without a role)", async () => {
    const [nodeClass] = awsObjects();
    assert.ok(nodeClass);
    const spec = { ...(nodeClass["spec"] as Json) };
    delete spec["role"];
    await assert.rejects(
      dryRun({ ...nodeClass, spec }),
      (error: unknown) => error instanceof KubeError && /role/.test(error.message),
    );
  });
});
