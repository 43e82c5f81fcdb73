import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChildIndex, fingerprint, writtenBy } from "./index.ts";

const policy = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  kind: "NetworkPolicy",
  apiVersion: "networking.k8s.io/v1",
  metadata: { name: "deny", namespace: "a", resourceVersion: "1", labels: { "vakt.dev/tenant": "a" } },
  spec: { podSelector: {} },
  ...extra,
});

describe("fingerprint", () => {
  it("ignores key order, resourceVersion, managedFields and status (what list items and watch events differ in)", () => {
    const reordered = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: {
        labels: { "vakt.dev/tenant": "a" },
        namespace: "a",
        name: "deny",
        resourceVersion: "9",
        managedFields: [],
      },
      spec: { podSelector: {} },
      status: { ok: true },
    };
    assert.equal(fingerprint(reordered), fingerprint(policy()));
  });

  it("changes when the content changes (drift)", () => {
    assert.notEqual(
      fingerprint(policy({ spec: { podSelector: { matchLabels: { a: "b" } } } })),
      fingerprint(policy()),
    );
  });
});

describe("ChildIndex", () => {
  it("reports a change only when the content differs from what is known", () => {
    const index = new ChildIndex();
    assert.deepEqual(index.upsert(policy()), { tenant: "a", changed: true });
    assert.deepEqual(index.upsert(policy({ status: { x: 1 } })), { tenant: "a", changed: false });
    assert.deepEqual(index.upsert(policy({ spec: { podSelector: { matchLabels: { a: "b" } } } })), {
      tenant: "a",
      changed: true,
    });
    assert.equal(index.remove(policy()), "a");
    assert.equal(index.size, 0);
  });
});

describe("writtenBy", () => {
  const fields = (...entries: Record<string, string>[]): Record<string, unknown> => ({
    metadata: { managedFields: entries },
  });
  it("is true when vakt's apply is the newest write of the main resource", () => {
    const object = fields(
      { manager: "kubectl", operation: "Update", time: "2026-01-01T00:00:00Z" },
      { manager: "vakt", operation: "Apply", time: "2026-01-01T00:00:05Z" },
      {
        manager: "kube-controller-manager",
        operation: "Update",
        time: "2026-01-01T00:00:09Z",
        subresource: "status",
      },
    );
    assert.equal(writtenBy(object, "vakt"), true);
  });
  it("is false after someone else's edit, also in the same second", () => {
    assert.equal(
      writtenBy(
        fields(
          { manager: "vakt", operation: "Apply", time: "2026-01-01T00:00:05Z" },
          { manager: "kubectl-patch", operation: "Update", time: "2026-01-01T00:00:05Z" },
        ),
        "vakt",
      ),
      false,
    );
    assert.equal(writtenBy(fields(), "vakt"), false);
  });
});
