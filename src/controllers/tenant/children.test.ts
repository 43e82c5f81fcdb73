import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChildIndex, ownedFields, writtenBy } from "./children.ts";

const applyEntry = (
  fieldsV1: Record<string, unknown>,
  time = "2026-01-01T00:00:05Z",
): Record<string, unknown> => ({
  manager: "vakt",
  operation: "Apply",
  apiVersion: "networking.k8s.io/v1",
  time,
  fieldsType: "FieldsV1",
  fieldsV1,
});
const OWNED = {
  "f:metadata": { "f:labels": { "f:vakt.dev/tenant": {} } },
  "f:spec": { "f:podSelector": {} },
};

/** A NetworkPolicy as a metadata-only watch or apply response shows it. */
const policy = (managedFields: unknown[] = [applyEntry(OWNED)], extra: Record<string, unknown> = {}) => ({
  kind: "NetworkPolicy",
  apiVersion: "networking.k8s.io/v1",
  metadata: {
    name: "deny",
    namespace: "a",
    uid: "u1",
    resourceVersion: "1",
    labels: { "vakt.dev/tenant": "a" },
    managedFields,
    ...extra,
  },
});

describe("ownedFields", () => {
  it("hashes the fields vakt owns by apply, not its time, status writes or other managers", () => {
    const base = ownedFields(policy());
    assert.notEqual(base, "");
    assert.equal(ownedFields(policy([applyEntry(OWNED, "2026-02-02T00:00:00Z")])), base);
    assert.equal(
      ownedFields(
        policy([
          applyEntry(OWNED),
          {
            manager: "kube-controller-manager",
            operation: "Update",
            subresource: "status",
            fieldsV1: { "f:status": {} },
          },
          {
            manager: "kubectl-label",
            operation: "Update",
            fieldsV1: { "f:metadata": { "f:labels": { "f:x": {} } } },
          },
        ]),
      ),
      base,
    );
  });

  it("changes when someone takes a field from vakt, and is empty without vakt's apply", () => {
    // kubectl patch of spec.podSelector: the field moves to kubectl-patch.
    const edited = policy([
      applyEntry({ "f:metadata": { "f:labels": { "f:vakt.dev/tenant": {} } } }),
      { manager: "kubectl-patch", operation: "Update", fieldsV1: { "f:spec": { "f:podSelector": {} } } },
    ]);
    assert.notEqual(ownedFields(edited), ownedFields(policy()));
    assert.equal(ownedFields(policy([])), "");
  });
});

describe("ChildIndex", () => {
  it("reports a change only when vakt's owned fields change", () => {
    const index = new ChildIndex();
    assert.deepEqual(index.upsert(policy()), { tenant: "a", changed: true });
    assert.deepEqual(index.upsert(policy(undefined, { resourceVersion: "2" })), {
      tenant: "a",
      changed: false,
    });
    assert.deepEqual(index.upsert(policy([applyEntry({ "f:spec": {} })])), { tenant: "a", changed: true });
    assert.equal(index.remove(policy()), "a");
    assert.equal(index.size, 0);
  });

  it("knows an applied child is up to date until its fields are taken or the request changes", () => {
    const index = new ChildIndex();
    const key = "networking.k8s.io/v1|NetworkPolicy|a|deny";
    index.applied(policy(), "h1");
    assert.equal(index.upToDate("a", key, "h1"), true);
    assert.equal(index.upToDate("a", key, "h2"), false, "another request");
    // A status update or our own event again: still up to date.
    index.upsert(policy(undefined, { resourceVersion: "3" }));
    assert.equal(index.upToDate("a", key, "h1"), true);
    assert.equal(index.drifted("a", key), false);
    // Someone edits a field vakt applied.
    index.upsert(policy([applyEntry({ "f:metadata": {} })]));
    assert.equal(index.upToDate("a", key, "h1"), false);
    assert.equal(index.drifted("a", key), true);
    // Being deleted: not up to date either.
    index.applied(policy(undefined, { deletionTimestamp: "2026-01-01T00:00:09Z" }), "h1");
    assert.equal(index.upToDate("a", key, "h1"), false);
  });

  it("takes apiVersion and kind from the caller for metadata-only objects", () => {
    const index = new ChildIndex();
    const partial = { ...policy(), kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1" };
    index.applied(partial, "h1", { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" });
    assert.equal(index.upToDate("a", "networking.k8s.io/v1|NetworkPolicy|a|deny", "h1"), true);
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
