// Server-side apply through a recording client: the request it makes, and errors that name the
// object whatever went wrong (bad object, kind not served, refused by the server, no answer).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { APPLY_PATCH, KubeError, METADATA_ONLY } from "./client.ts";
import type { Json, KubeClient, RequestOptions } from "./client.ts";
import { ApplyError, FIELD_MANAGER, apply, describeObject } from "./apply.ts";

interface Call {
  readonly method: string;
  readonly path: string;
  readonly options: RequestOptions;
}

/** Discovery of rbac.authorization.k8s.io/v1 and v1 (Namespace); PATCH answers with `patch`. */
function recordingClient(patch: (path: string) => Json | Error = () => ({})): {
  client: KubeClient;
  calls: Call[];
} {
  const calls: Call[] = [];
  const client: KubeClient = {
    requests: 0,
    request(method, path, options = {}) {
      calls.push({ method, path, options });
      if (method === "GET" && path === "/apis/rbac.authorization.k8s.io/v1")
        return Promise.resolve({
          status: 200,
          body: {
            resources: [
              { name: "roles", kind: "Role", namespaced: true },
              { name: "roles/status", kind: "Role", namespaced: true },
              { name: "clusterroles", kind: "ClusterRole", namespaced: false },
            ],
          },
        });
      if (method === "GET" && path === "/api/v1")
        return Promise.resolve({
          status: 200,
          body: { resources: [{ name: "namespaces", kind: "Namespace", namespaced: false }] },
        });
      if (method === "GET")
        return Promise.reject(
          new KubeError(404, "NotFound", "the server could not find the requested resource"),
        );
      const answer = patch(path);
      return answer instanceof Error
        ? Promise.reject(answer)
        : Promise.resolve({ status: 201, body: answer });
    },
    watch() {
      return Promise.reject(new Error("no watches here"));
    },
  };
  return { client, calls };
}

const role = (namespace?: string): Json => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: { name: "vakt", ...(namespace === undefined ? {} : { namespace }) },
  rules: [],
});

/** Asserts `promise` rejects with an ApplyError and returns it. */
async function applyError(promise: Promise<unknown>): Promise<ApplyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApplyError, String(error));
    return error;
  }
  assert.fail("apply did not fail");
}

describe("apply", () => {
  it("patches the object's path as vakt with force, as apply-patch, and returns the server's answer", async () => {
    const { client, calls } = recordingClient(() => ({ kind: "Role", metadata: { name: "vakt" } }));
    const response = await apply(client, role("team-a"));
    assert.equal(response.status, 201);
    const patch = calls.find((call) => call.method === "PATCH");
    assert.equal(patch?.path, "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles/vakt");
    assert.deepEqual(patch.options.query, {
      fieldManager: FIELD_MANAGER,
      force: "true",
      fieldValidation: undefined,
    });
    assert.equal(patch.options.contentType, APPLY_PATCH);
    assert.deepEqual(patch.options.body, role("team-a"));
    assert.equal(FIELD_MANAGER, "vakt");
  });

  it("reads discovery once per client, and uses a given resource without asking", async () => {
    const { client, calls } = recordingClient();
    await apply(client, role("team-a"));
    await apply(client, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "x" },
    });
    assert.equal(calls.filter((call) => call.method === "GET").length, 1);
    const other = recordingClient();
    await apply(
      other.client,
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "vakt-system" } },
      { resource: { apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false } },
    );
    assert.deepEqual(
      other.calls.map((call) => `${call.method} ${call.path}`),
      ["PATCH /api/v1/namespaces/vakt-system"],
    );
  });

  it("applies a status subresource with the options given", async () => {
    const { client, calls } = recordingClient();
    await apply(client, role("team-a"), { subresource: "status", force: false, fieldValidation: "Ignore" });
    const patch = calls.find((call) => call.method === "PATCH");
    assert.equal(patch?.path, "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles/vakt/status");
    assert.deepEqual(patch.options.query, {
      fieldManager: "vakt",
      force: "false",
      fieldValidation: "Ignore",
    });
  });

  it("sends an object serialized by the caller as it is, and asks for the answer it names", async () => {
    const { client, calls } = recordingClient();
    const json = JSON.stringify(role("team-a"));
    await apply(client, role("team-a"), { json, accept: METADATA_ONLY });
    const patch = calls.find((call) => call.method === "PATCH");
    assert.equal(patch?.options.json, json);
    assert.equal(patch.options.body, undefined);
    assert.equal(patch.options.accept, METADATA_ONLY);
  });

  it("refuses an object without apiVersion, kind or name before any request, naming what it has", async () => {
    const { client, calls } = recordingClient();
    const noKind = await applyError(apply(client, { apiVersion: "v1", metadata: { name: "a" } }));
    assert.equal(noKind.message, "cannot apply (no kind) a: it needs apiVersion and kind");
    const noName = await applyError(apply(client, { apiVersion: "v1", kind: "Namespace", metadata: {} }));
    assert.equal(noName.message, "cannot apply Namespace (no name): it needs metadata.name");
    assert.equal(noName.object, "Namespace (no name)");
    assert.equal(calls.length, 0);
  });

  it("says which namespaced object lacks its namespace", async () => {
    const { client, calls } = recordingClient();
    const error = await applyError(apply(client, role()));
    assert.equal(error.message, "cannot apply Role vakt: Role is namespaced; set metadata.namespace");
    assert.equal(
      calls.some((call) => call.method === "PATCH"),
      false,
    );
  });

  it("says when the kind is not served (its CRD is not installed)", async () => {
    const { client } = recordingClient();
    const error = await applyError(
      apply(client, { apiVersion: "vakt.dev/v1alpha1", kind: "Tenant", metadata: { name: "team-a" } }),
    );
    assert.equal(
      error.message,
      "cannot apply Tenant team-a: the API server does not serve Tenant in vakt.dev/v1alpha1 (is its CRD installed?)",
    );
    assert.equal(error.reason, "NotServed");
  });

  it("names the object in the server's refusal and keeps its status, as a KubeError", async () => {
    const refusal = new KubeError(
      422,
      "Invalid",
      'Role.rbac.authorization.k8s.io "vakt" is invalid: rules[0].verbs: Required value',
    );
    const { client } = recordingClient(() => refusal);
    const error = await applyError(apply(client, role("team-a")));
    assert.ok(error instanceof KubeError);
    assert.equal(error.code, 422);
    assert.equal(error.reason, "Invalid");
    assert.equal(error.object, "Role team-a/vakt");
    assert.equal(error.cause, refusal);
    assert.equal(
      error.message,
      'cannot apply Role team-a/vakt: Role.rbac.authorization.k8s.io "vakt" is invalid: rules[0].verbs: Required value',
    );
    const status = await applyError(apply(client, role("team-a"), { subresource: "status" }));
    assert.match(status.message, /^cannot apply Role team-a\/vakt \(status\): /);
  });

  it("names the object when no answer came, and forgets discovery after a 404", async () => {
    let answer: Error = new Error("connect ECONNREFUSED 127.0.0.1:6443");
    const { client, calls } = recordingClient(() => answer);
    const broken = await applyError(apply(client, role("team-a")));
    assert.equal(broken.code, 0);
    assert.equal(broken.message, "cannot apply Role team-a/vakt: connect ECONNREFUSED 127.0.0.1:6443");
    answer = new KubeError(404, "NotFound", "the server could not find the requested resource");
    await applyError(apply(client, role("team-a")));
    await applyError(apply(client, role("team-a")));
    // The first apply and the one after the 404 read discovery; the one before did not.
    assert.equal(calls.filter((call) => call.method === "GET").length, 2);
  });
});

describe("describeObject", () => {
  it("reads kind and namespace/name, and says what is missing", () => {
    assert.equal(describeObject(role("team-a")), "Role team-a/vakt");
    assert.equal(describeObject({ kind: "Namespace", metadata: { name: "a" } }), "Namespace a");
    assert.equal(describeObject({}), "(no kind) (no name)");
  });
});
