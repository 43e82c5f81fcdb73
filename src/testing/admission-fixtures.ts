/**
 * Shared by the webhook tests and bench/webhook.ts: AdmissionReview and Pod builders, and a
 * tiny RFC 6902 "add" to apply the mutations' patches.
 */
import assert from "node:assert/strict";
import type { JsonPatchOperation } from "../webhook/mutate.ts";

type Json = Record<string, unknown>;

/** A tiny RFC 6902 "add" (the only operation the mutations use), on a deep copy. */
export function applyPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  const result = structuredClone(document) as unknown;
  for (const operation of operations) {
    assert.equal(operation.op, "add");
    const tokens = operation.path
      .split("/")
      .slice(1)
      .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = tokens.pop();
    assert.ok(last !== undefined, "the root is never replaced");
    let parent = result;
    for (const token of tokens) {
      assert.ok(typeof parent === "object" && parent !== null, `parent of ${operation.path} exists`);
      parent = Array.isArray(parent) ? parent[Number(token)] : (parent as Json)[token];
    }
    assert.ok(
      typeof parent === "object" && parent !== null && !Array.isArray(parent),
      `${operation.path}: the parent must exist and be an object`,
    );
    (parent as Json)[last] = structuredClone(operation.value);
  }
  return result as T;
}

/** A Pod that passes every deny rule (namespace comes from the request). */
export function compliantPod(overrides: Json = {}): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", labels: { app: "web" } },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "registry.example.com/acme/app:1.2.3",
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
          livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          ...overrides,
        },
      ],
    },
  };
}

export function admissionReview(object: unknown, request: Json = {}): Json {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: "team-a",
      userInfo: { username: "alice" },
      object,
      dryRun: false,
      ...request,
    },
  };
}
