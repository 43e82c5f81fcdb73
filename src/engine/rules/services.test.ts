import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { findingsOf, pathsOf } from "../../testing/rule-fixtures.ts";

function service(
  type: string | undefined,
  annotations: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "shop", annotations },
    spec: { ...(type === undefined ? {} : { type }), ports: [{ port: 80 }], ...extra },
  };
}

describe("service-exposure", () => {
  it("reports LoadBalancer and NodePort Services at spec.type", () => {
    const found = findingsOf("service-exposure", service("LoadBalancer"));
    assert.deepEqual(
      found.map((finding) => finding.path),
      [["spec", "type"]],
    );
    assert.match(found[0]?.message ?? "", /LoadBalancer/);
    assert.deepEqual(pathsOf("service-exposure", service("NodePort")), [["spec", "type"]]);
  });

  it("passes ClusterIP and default-typed Services", () => {
    assert.deepEqual(pathsOf("service-exposure", service("ClusterIP")), []);
    assert.deepEqual(pathsOf("service-exposure", service(undefined)), []);
  });

  it("passes a justified exposure but not an empty justification", () => {
    const justified = service("NodePort", {
      "vakt.dev/exposure-justification": "ingress controller, approved CHG-12",
    });
    assert.deepEqual(pathsOf("service-exposure", justified), []);
    const empty = service("NodePort", { "vakt.dev/exposure-justification": "  " });
    assert.deepEqual(pathsOf("service-exposure", empty), [["spec", "type"]]);
  });

  it("passes internal load balancers by provider annotation", () => {
    for (const annotations of [
      { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" },
      { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal" },
      { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" },
      { "networking.gke.io/load-balancer-type": "Internal" },
    ]) {
      assert.deepEqual(
        pathsOf("service-exposure", service("LoadBalancer", annotations)),
        [],
        JSON.stringify(annotations),
      );
    }
  });

  it("does not treat explicitly external annotations as internal", () => {
    for (const annotations of [
      { "service.beta.kubernetes.io/aws-load-balancer-internal": "false" },
      { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing" },
      { "service.beta.kubernetes.io/azure-load-balancer-internal": "false" },
    ]) {
      assert.deepEqual(pathsOf("service-exposure", service("LoadBalancer", annotations)), [["spec", "type"]]);
    }
  });

  it("internal annotations do not make a NodePort internal", () => {
    const nodePort = service("NodePort", { "networking.gke.io/load-balancer-type": "Internal" });
    assert.deepEqual(pathsOf("service-exposure", nodePort), [["spec", "type"]]);
  });

  it("reports externalIPs", () => {
    assert.deepEqual(
      pathsOf("service-exposure", service("ClusterIP", {}, { externalIPs: ["203.0.113.7"] })),
      [["spec", "externalIPs"]],
    );
  });
});
