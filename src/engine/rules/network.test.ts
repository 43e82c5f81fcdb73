import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { tlsHostCovers } from "./network.ts";
import { deployment, findingsOf, pathsOf, pod } from "../../testing/rule-fixtures.ts";

function policy(podSelector: unknown, namespace = "shop"): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "np", namespace },
    spec: podSelector === undefined ? { policyTypes: ["Ingress"] } : { podSelector },
  };
}

const LABELS_PATH = ["spec", "template", "metadata", "labels"];

describe("network-policy-coverage", () => {
  it("reports a workload no policy selects", () => {
    const found = findingsOf("network-policy-coverage", deployment(), {
      objects: [policy({ matchLabels: { app: "api" } })],
    });
    assert.deepEqual(
      found.map((finding) => finding.path),
      [LABELS_PATH],
    );
    assert.match(found[0]?.message ?? "", /checked files/);
  });

  it("passes when a policy in the namespace selects the pods", () => {
    assert.deepEqual(
      pathsOf("network-policy-coverage", deployment(), {
        objects: [policy({ matchLabels: { app: "web" } })],
      }),
      [],
    );
    const expression = { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] };
    assert.deepEqual(pathsOf("network-policy-coverage", deployment(), { objects: [policy(expression)] }), []);
  });

  it("treats podSelector {} and a missing podSelector as selecting every pod", () => {
    assert.deepEqual(pathsOf("network-policy-coverage", deployment(), { objects: [policy({})] }), []);
    assert.deepEqual(pathsOf("network-policy-coverage", deployment(), { objects: [policy(undefined)] }), []);
  });

  it("ignores policies in other namespaces", () => {
    assert.deepEqual(pathsOf("network-policy-coverage", deployment(), { objects: [policy({}, "other")] }), [
      LABELS_PATH,
    ]);
  });

  it("matches objects without namespace with policies without namespace", () => {
    const bare = pod({ containers: [] }, { namespace: undefined });
    const unnamespaced: KubeObject = {
      kind: "NetworkPolicy",
      metadata: { name: "np" },
      spec: { podSelector: {} },
    };
    assert.deepEqual(pathsOf("network-policy-coverage", bare, { objects: [unnamespaced] }), []);
    assert.deepEqual(pathsOf("network-policy-coverage", bare), [["metadata", "labels"]]);
  });
});

function ingress(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: "web", namespace: "shop" },
    spec,
  };
}

const backend = {
  http: {
    paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }],
  },
};

describe("ingress-tls", () => {
  it("reports hosts missing from spec.tls at the rule's host", () => {
    const object = ingress({
      tls: [{ hosts: ["shop.example.com"], secretName: "shop-tls" }],
      rules: [
        { host: "shop.example.com", ...backend },
        { host: "admin.example.com", ...backend },
      ],
    });
    const found = findingsOf("ingress-tls", object);
    assert.deepEqual(
      found.map((finding) => finding.path),
      [["spec", "rules", 1, "host"]],
    );
    assert.match(found[0]?.message ?? "", /admin\.example\.com/);
  });

  it("passes when every host is covered, including by a one-label wildcard", () => {
    const object = ingress({
      tls: [{ hosts: ["*.example.com", "Example.com"] }],
      rules: [
        { host: "a.example.com", ...backend },
        { host: "example.com", ...backend },
        { host: "*.example.com", ...backend },
      ],
    });
    assert.deepEqual(pathsOf("ingress-tls", object), []);
  });

  it("does not let a wildcard cover two labels or the apex", () => {
    const object = ingress({
      tls: [{ hosts: ["*.example.com"] }],
      rules: [
        { host: "a.b.example.com", ...backend },
        { host: "example.com", ...backend },
      ],
    });
    assert.deepEqual(pathsOf("ingress-tls", object), [
      ["spec", "rules", 0, "host"],
      ["spec", "rules", 1, "host"],
    ]);
  });

  it("reports catch-all rules when there is no tls at all", () => {
    assert.deepEqual(pathsOf("ingress-tls", ingress({ rules: [backend] })), [["spec", "tls"]]);
    assert.deepEqual(pathsOf("ingress-tls", ingress({ defaultBackend: { service: { name: "web" } } })), [
      ["spec", "tls"],
    ]);
    assert.deepEqual(
      pathsOf("ingress-tls", ingress({ tls: [{ secretName: "default" }], rules: [backend] })),
      [],
    );
  });

  it("wildcard matching", () => {
    assert.equal(tlsHostCovers("*.example.com", "x.example.com"), true);
    assert.equal(tlsHostCovers("*.example.com", "x.y.example.com"), false);
    assert.equal(tlsHostCovers("*.example.com", ".example.com"), false);
    assert.equal(tlsHostCovers("x.example.com", "*.example.com"), false);
  });
});
