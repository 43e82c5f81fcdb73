import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WeakMemo } from "../memo.ts";
import type { KubeObject } from "../types.ts";
import { objectsSelecting, objectsWithKey } from "./util/index.ts";
import { listInventory } from "./util/inventory.ts";
import { nameOf } from "./util/objects.ts";
import { parseLabelSelector, selectorMatches } from "./util/selector.ts";

const labels = { app: "web", tier: "frontend" };

function matches(selector: unknown, missing: "nothing" | "everything" = "nothing"): boolean {
  return selectorMatches(parseLabelSelector(selector, missing), labels);
}

describe("label selectors", () => {
  it("ANDs matchLabels and matchExpressions", () => {
    assert.equal(
      matches({
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["frontend"] }],
      }),
      true,
    );
    assert.equal(
      matches({
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "tier", operator: "In", values: ["backend"] }],
      }),
      false,
    );
    assert.equal(matches({ matchLabels: { app: "web", tier: "backend" } }), false);
  });

  it("NotIn and DoesNotExist match when the label is absent", () => {
    assert.equal(
      matches({ matchExpressions: [{ key: "canary", operator: "NotIn", values: ["true"] }] }),
      true,
    );
    assert.equal(matches({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }), true);
    assert.equal(matches({ matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] }), false);
  });

  it("empty selects everything, missing selects what the caller says, invalid selects nothing", () => {
    assert.equal(matches({}), true);
    assert.equal(matches(undefined), false);
    assert.equal(matches(null, "everything"), true);
    assert.equal(matches({ matchLabels: { app: 1 } }), false);
    assert.equal(matches({ matchExpressions: [{ key: "app", operator: "Exists", values: ["web"] }] }), false);
    assert.equal(matches({ matchExpressions: [{ operator: "Exists" }] }), false);
    assert.equal(matches({ matchExpressions: "app" }), false);
  });

  it("does not read inherited properties as labels", () => {
    assert.equal(
      selectorMatches(
        parseLabelSelector({ matchExpressions: [{ key: "toString", operator: "Exists" }] }, "nothing"),
        {},
      ),
      false,
    );
  });
});

function policy(name: string, selector: unknown): KubeObject {
  return { kind: "NetworkPolicy", metadata: { name }, spec: { podSelector: selector } };
}
const selectorOf = (object: KubeObject) =>
  parseLabelSelector((object["spec"] as { podSelector?: unknown }).podSelector, "everything");

describe("selector index", () => {
  const memo = new WeakMemo();

  it("finds every selecting object in original order, however it is indexed", () => {
    const objects = [
      policy("by-tier", { matchLabels: { tier: "frontend" } }),
      policy("other-app", { matchLabels: { app: "api" } }),
      policy("expression", { matchExpressions: [{ key: "app", operator: "In", values: ["web"] }] }),
      policy("all", {}),
      policy("two-labels", { matchLabels: { app: "web", tier: "backend" } }),
      policy("by-app", { matchLabels: { app: "web" } }),
      policy("invalid", { matchLabels: { app: ["web"] } }),
    ];
    const found = objectsSelecting(memo, objects, selectorOf, labels).map(nameOf);
    assert.deepEqual(found, ["by-tier", "expression", "all", "by-app"]);
    assert.deepEqual(objectsSelecting(memo, objects, selectorOf, {}).map(nameOf), ["all"]);
  });

  it("looks objects up by key", () => {
    const inventory = listInventory(
      [
        { kind: "ServiceAccount", metadata: { name: "a", namespace: "x" } },
        { kind: "ServiceAccount", metadata: { name: "b", namespace: "x" } },
        { kind: "ServiceAccount", metadata: { name: "a" } },
      ],
      true,
    );
    const inX = inventory.byKind("ServiceAccount", "x");
    assert.equal(objectsWithKey(memo, inX, nameOf, "b").length, 1);
    assert.equal(objectsWithKey(memo, inX, nameOf, "c").length, 0);
    assert.equal(inventory.byKind("ServiceAccount").length, 3);
    assert.equal(inventory.byKind("ServiceAccount", "default").length, 1);
    assert.equal(inventory.complete, true);
  });
});
