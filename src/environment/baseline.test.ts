import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { KubeObject } from "../engine/types.ts";
import {
  applicationSet,
  argoClusterSecret,
  baselineCrds,
  baselineObjects,
  karpenterObjects,
} from "./baseline.ts";
import { ENVIRONMENT_LABEL } from "./cluster-api.ts";
import type { Environment } from "./types.ts";
import { parseEnvironment } from "./validate.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "environments");

function example(file: string): Environment {
  const parsed = parseEnvironment(parse(readFileSync(join(EXAMPLES, file), "utf8")));
  assert.ok(parsed.environment, JSON.stringify(parsed.problems));
  return parsed.environment;
}

type Json = Record<string, unknown>;
const labels = (o: KubeObject): Record<string, string> =>
  (o.metadata as { labels: Record<string, string> }).labels;

describe("the baseline of a member cluster", () => {
  const aws = example("carelink-aws.yaml");
  const gcp = example("nordlab-gcp.yaml");

  it("labels every object with its Environment: the hub's watch of the member finds them by it", () => {
    const objects = [
      ...baselineCrds(aws),
      ...baselineObjects(aws, [{ name: "carelink", spec: { owners: [] } }]),
    ];
    assert.ok(objects.length >= 8);
    for (const object of objects) assert.equal(labels(object)[ENVIRONMENT_LABEL], aws.metadata.name);
    assert.deepEqual(
      objects.filter((o) => o.kind === "Tenant").map((o) => (o.metadata as { name: string }).name),
      ["carelink"],
    );
  });

  it("bounds the Karpenter NodePool by the pools' zones, instance types and summed maximum", () => {
    const [nodeClass, pool] = karpenterObjects(aws);
    assert.equal(nodeClass?.kind, "EC2NodeClass");
    const spec = pool?.["spec"] as {
      template: { spec: { requirements: { key: string; values: string[] }[]; nodeClassRef: Json } };
      limits: { nodes: string };
    };
    const zones = [...new Set(aws.spec.nodePools.flatMap((p) => p.zones))].sort();
    const types = [...new Set(aws.spec.nodePools.flatMap((p) => p.instanceTypes))].sort();
    assert.deepEqual(spec.template.spec.requirements[0]?.values, zones);
    assert.deepEqual(spec.template.spec.requirements[1]?.values, types);
    assert.equal(spec.limits.nodes, String(aws.spec.nodePools.reduce((sum, p) => sum + p.max, 0)));
    assert.deepEqual(spec.template.spec.nodeClassRef, {
      group: "karpenter.k8s.aws",
      kind: "EC2NodeClass",
      name: "default",
    });
  });

  it("renders no Karpenter objects for GKE, which has no Karpenter provider", () => {
    assert.deepEqual(karpenterObjects(gcp), []);
  });

  it("registers with Argo CD: a cluster Secret with name, server and TLS config; an ApplicationSet selecting it", () => {
    const secret = argoClusterSecret(gcp, "argocd", {
      server: "https://10.1.2.3:6443",
      caData: "Y2E=",
      certData: "Y2VydA==",
      keyData: "a2V5",
    });
    assert.equal(labels(secret)["argocd.argoproj.io/secret-type"], "cluster");
    const data = secret["stringData"] as Record<string, string>;
    assert.equal(data["server"], "https://10.1.2.3:6443");
    assert.deepEqual(JSON.parse(data["config"] ?? ""), {
      tlsClientConfig: { insecure: false, caData: "Y2E=", certData: "Y2VydA==", keyData: "a2V5" },
    });
    const appSet = applicationSet(gcp, "argocd");
    const template = (appSet?.["spec"] as { template: { spec: { source: Json } } }).template.spec;
    assert.equal(template.source["repoURL"], gcp.spec.gitops?.repoURL);
    const { gitops: _gitops, ...withoutGitops } = gcp.spec;
    assert.equal(applicationSet({ ...gcp, spec: withoutGitops }, "argocd"), undefined);
  });
});
