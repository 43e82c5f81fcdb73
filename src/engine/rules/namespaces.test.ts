import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { findingsOf, pathsOf } from "../../testing/rule-fixtures.ts";

function object(kind: string, namespace: string | undefined, name = "x"): KubeObject {
  return { kind, metadata: namespace === undefined ? { name } : { name, namespace } };
}

describe("default-namespace", () => {
  it("reports namespaced objects explicitly in default", () => {
    for (const kind of ["Deployment", "ConfigMap", "Service", "RoleBinding", "Ingress"]) {
      const found = findingsOf("default-namespace", object(kind, "default"));
      assert.deepEqual(
        found.map((finding) => finding.path),
        [["metadata", "namespace"]],
        kind,
      );
      assert.match(found[0]?.message ?? "", new RegExp(kind));
    }
  });

  it("passes objects in another namespace or without a namespace", () => {
    assert.deepEqual(pathsOf("default-namespace", object("Deployment", "shop")), []);
    assert.deepEqual(pathsOf("default-namespace", object("Deployment", undefined)), []);
  });

  it("never reports cluster-scoped kinds", () => {
    for (const kind of [
      "Namespace",
      "ClusterRole",
      "ClusterRoleBinding",
      "StorageClass",
      "PersistentVolume",
      "CustomResourceDefinition",
      "PriorityClass",
    ]) {
      assert.deepEqual(pathsOf("default-namespace", object(kind, "default")), [], kind);
    }
  });

  it("does not report the objects Kubernetes itself keeps in default", () => {
    assert.deepEqual(pathsOf("default-namespace", object("Service", "default", "kubernetes")), []);
    assert.deepEqual(pathsOf("default-namespace", object("ServiceAccount", "default", "default")), []);
    assert.deepEqual(pathsOf("default-namespace", object("ServiceAccount", "default", "app")), [
      ["metadata", "namespace"],
    ]);
  });
});
