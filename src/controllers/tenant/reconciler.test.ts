// reconcileTenant with a fake API server: the cases the real control plane in the integration
// tests cannot show because every CRD is installed there (a kind whose CRD is missing).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { DiscoverFn } from "../../kube/discovery.ts";
import { ChildIndex } from "./children.ts";
import type { Json, KubeClient, KubeResponse } from "../../kube/client.ts";
import { TenantReconciler } from "./reconciler.ts";
import type { TenantReconcilerDeps } from "./reconciler.ts";

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

function fakeClient(tenant: Json): { client: KubeClient; calls: Call[] } {
  const calls: Call[] = [];
  const client: KubeClient = {
    requests: 0,
    watch: () => Promise.resolve(),
    request: (method, path, options = {}): Promise<KubeResponse> => {
      const body = options.json === undefined ? options.body : (JSON.parse(options.json) as unknown);
      calls.push({ method, path, body });
      if (method === "GET") return Promise.resolve({ status: 200, body: structuredClone(tenant) });
      return Promise.resolve({ status: 201, body: structuredClone((body ?? {}) as Json) });
    },
  };
  return { client, calls };
}

const tenant = (spec: Json): Json => ({
  apiVersion: "vakt.dev/v1alpha1",
  kind: "Tenant",
  metadata: { name: "acme", uid: "uid-1", generation: 3 },
  spec,
});

const spec: Json = {
  owners: [{ kind: "Group", name: "acme-admins", role: "admin" }],
  namespaces: [{ name: "acme" }],
  tls: {
    issuerRef: { name: "ca", kind: "ClusterIssuer" },
    certificates: [{ name: "web", namespace: "acme", hosts: ["acme.example.com"] }],
  },
};

/** Serves core and RBAC/networking kinds only: no cert-manager, no Velero, ... */
const coreOnly: DiscoverFn = (apiVersion, kind) => {
  const served: Record<string, string> = {
    "v1/Namespace": "namespaces",
    "v1/ResourceQuota": "resourcequotas",
    "v1/LimitRange": "limitranges",
    "rbac.authorization.k8s.io/v1/RoleBinding": "rolebindings",
    "networking.k8s.io/v1/NetworkPolicy": "networkpolicies",
  };
  const plural = served[`${apiVersion}/${kind}`];
  return Promise.resolve(
    plural === undefined ? undefined : { apiVersion, kind, plural, namespaced: kind !== "Namespace" },
  );
};

function statusOf(calls: Call[]): Json {
  const call = calls.find((c) => c.method === "PATCH" && c.path.endsWith("/status"));
  assert.ok(call, "status is written");
  return (call.body as Json)["status"] as Json;
}

function conditions(status: Json): Record<string, { status: string; reason: string; message: string }> {
  const list = status["conditions"] as { type: string; status: string; reason: string; message: string }[];
  return Object.fromEntries(list.map((c) => [c.type, c]));
}

/** One reconcile of "acme", as the controller's workers run it. */
function reconcile(deps: TenantReconcilerDeps): ReturnType<TenantReconciler["reconcile"]> {
  return new TenantReconciler(deps).reconcile("acme", {
    logger: pino({ level: "silent" }),
    reconcileID: "test",
  });
}

describe("TenantReconciler", () => {
  it("skips kinds whose CRD is missing, lists them in status and stays Ready with Degraded MissingCRDs", async () => {
    const { client, calls } = fakeClient(tenant(spec));
    const result = await reconcile({
      client,
      discover: coreOnly,
      index: new ChildIndex(),
      mayWrite: () => true,
    });
    const applied = calls.filter((c) => c.method === "PATCH" && !c.path.endsWith("/status"));
    assert.ok(applied.length > 0);
    assert.ok(!applied.some((c) => c.path.includes("cert-manager.io")), "no Certificate is applied");
    const status = statusOf(calls);
    assert.ok((status["skippedKinds"] as string[]).includes("Certificate.cert-manager.io"));
    assert.ok((status["skippedKinds"] as string[]).includes("Schedule.velero.io"));
    const c = conditions(status);
    assert.equal(c["Ready"]?.status, "True");
    assert.equal(c["Degraded"]?.status, "True");
    assert.equal(c["Degraded"].reason, "MissingCRDs");
    assert.match(c["Degraded"].message, /Certificate\.cert-manager\.io \(1\)/);
    assert.equal(status["observedGeneration"], 3);
    assert.equal(result.requeueAfterMs, 30_000, "re-checked so a CRD installed later is picked up");
    // Every applied child is owned by the Tenant.
    for (const call of applied) {
      const owners = ((call.body as Json)["metadata"] as Json)["ownerReferences"] as Json[];
      assert.deepEqual(owners[0], {
        apiVersion: "vakt.dev/v1alpha1",
        kind: "Tenant",
        name: "acme",
        uid: "uid-1",
        controller: true,
        blockOwnerDeletion: true,
      });
    }
  });

  it("applies nothing for a semantically invalid spec and says which field is wrong", async () => {
    const { client, calls } = fakeClient(tenant({ ...spec, namespaces: [{ name: "other" }] }));
    await reconcile({
      client,
      discover: coreOnly,
      index: new ChildIndex(),
      mayWrite: () => true,
    });
    assert.equal(calls.filter((c) => c.method === "PATCH" && !c.path.endsWith("/status")).length, 0);
    const c = conditions(statusOf(calls));
    assert.equal(c["Ready"]?.status, "False");
    assert.equal(c["Degraded"]?.reason, "InvalidSpec");
    assert.match(
      c["Degraded"].message,
      /spec\.namespaces\[0\]\.name: namespace "other" must be named after the tenant/,
    );
  });

  it("writes nothing when it may not (not the leader)", async () => {
    const { client, calls } = fakeClient(tenant(spec));
    await assert.rejects(
      reconcile({
        client,
        discover: coreOnly,
        index: new ChildIndex(),
        mayWrite: () => false,
      }),
      { name: "NotLeaderError" },
    );
    assert.deepEqual(
      calls.filter((c) => c.method !== "GET"),
      [],
    );
  });
});
