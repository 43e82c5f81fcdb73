// The webhook's live inventory against a fake API server: what it keeps of an object, when it
// counts as synced, kinds that are not served, and bursts of changes published together.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TestContext } from "node:test";
import { pino } from "pino";
import { KubeError, resourcePath } from "../kube/client.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import { ruleContext } from "../engine/evaluate.ts";
import { networkPolicyCoverage } from "../engine/rules/network.ts";
import type { Inventory } from "../engine/types.ts";
import { INVENTORY_RESOURCES, LiveInventory, trimForInventory } from "./inventory.ts";

interface FakeApi {
  readonly client: KubeClient;
  /** Sends a watch event on the open watch of `kind`, once it is open. */
  emit(kind: string, type: "ADDED" | "MODIFIED" | "DELETED", object: Json): Promise<void>;
  /** Answers a list that `hold` kept waiting. */
  release(kind: string): void;
}

/**
 * Lists answer with `items` per kind (none when absent; a number: that HTTP error); kinds in
 * `hold` answer only on release(). Watches stay open until aborted and deliver what emit() sends.
 */
function fakeApi(
  items: Readonly<Record<string, readonly Json[] | number>>,
  hold: readonly string[] = [],
): FakeApi {
  const watches = new Map<string, (event: Json) => void>();
  const watchOpened = new Map<string, () => void>();
  const held = new Map<string, () => void>();
  const kindOf = (path: string): string => {
    const resource = INVENTORY_RESOURCES.find((r) => resourcePath(r) === path);
    assert.ok(resource !== undefined, path);
    return resource.kind;
  };
  const client: KubeClient = {
    requests: 0,
    async request(_method, path) {
      const kind = kindOf(path);
      if (hold.includes(kind)) await new Promise<void>((resolve) => held.set(kind, resolve));
      const listed = items[kind] ?? [];
      if (typeof listed === "number")
        throw new KubeError(listed, "NotFound", "the server could not find the requested resource");
      const apiVersion = INVENTORY_RESOURCES.find((r) => r.kind === kind)?.apiVersion;
      return {
        status: 200,
        body: {
          apiVersion,
          kind: `${kind}List`,
          metadata: { resourceVersion: "10" },
          items: structuredClone(listed),
        },
      };
    },
    watch(path, _query, onEvent, signal) {
      const kind = kindOf(path);
      watches.set(kind, onEvent);
      watchOpened.get(kind)?.();
      return new Promise((resolve) => {
        signal.addEventListener("abort", () => {
          resolve();
        });
      });
    },
  };
  return {
    client,
    async emit(kind, type, object) {
      if (!watches.has(kind)) await new Promise<void>((resolve) => watchOpened.set(kind, resolve));
      const apiVersion = INVENTORY_RESOURCES.find((r) => r.kind === kind)?.apiVersion;
      watches.get(kind)?.({ type, object: { apiVersion, kind, ...object } });
    },
    release(kind) {
      held.get(kind)?.();
    },
  };
}

function object(name: string, namespace: string, spec: Json = {}): Json {
  return { metadata: { name, namespace, resourceVersion: "5" }, spec };
}

const policy = (name: string, namespace: string): Json => object(name, namespace, { podSelector: {} });

/** A LiveInventory over `api`, stopped when the test ends, with a way to wait for its next publish. */
function started(
  t: TestContext,
  api: FakeApi,
): { inventory: LiveInventory; published: Inventory[]; next: () => Promise<Inventory> } {
  const published: Inventory[] = [];
  let waiter: ((inventory: Inventory) => void) | undefined;
  const inventory = new LiveInventory({
    client: api.client,
    logger: pino({ level: "silent" }),
    coalesceMs: 20,
    publish: (current) => {
      published.push(current);
      waiter?.(current);
      waiter = undefined;
    },
  });
  inventory.start();
  t.after(() => {
    inventory.stop();
  });
  return { inventory, published, next: () => new Promise((resolve) => (waiter = resolve)) };
}

const deployment = (namespace: string): Json => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace },
  spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [] } } },
});
const settings = {
  pssVersion: "latest",
  registries: [],
  allowedRegions: [],
  now: new Date("2026-01-01T00:00:00Z"),
};

describe("live inventory", () => {
  it("keeps what rules read and drops status, managedFields, the last-applied copy and bookkeeping", () => {
    const trimmed = trimForInventory({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "app",
        namespace: "team-a",
        uid: "1234",
        resourceVersion: "99",
        creationTimestamp: "2026-01-01T00:00:00Z",
        labels: { team: "a" },
        annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{...}", note: "kept" },
        managedFields: [{ manager: "kubectl", fieldsV1: {} }],
      },
      automountServiceAccountToken: false,
      status: { anything: true },
    });
    assert.deepEqual(trimmed, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "app", namespace: "team-a", labels: { team: "a" }, annotations: { note: "kept" } },
      automountServiceAccountToken: false,
    });
    const onlyLastApplied = trimForInventory({
      metadata: { name: "x", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
    });
    assert.deepEqual(onlyLastApplied, { metadata: { name: "x" } });
    assert.equal(trimForInventory({ metadata: {} }), undefined);
  });

  it("publishes one complete inventory once every kind is listed, and only then is synced", async (t) => {
    const api = fakeApi(
      {
        ServiceAccount: [object("default", "team-a")],
        PodDisruptionBudget: [object("web", "team-a", { maxUnavailable: 1 })],
        NetworkPolicy: [policy("default-deny", "team-a")],
      },
      ["NetworkPolicy"],
    );
    const { inventory, published, next } = started(t, api);
    await next();
    assert.equal(inventory.synced, false, "NetworkPolicies are not listed yet");
    api.release("NetworkPolicy");
    const live = await next();
    assert.equal(inventory.synced, true);
    assert.equal(published.length, 2);
    assert.equal(live.complete, true);
    assert.equal(inventory.size, 3);
    assert.equal(live.byKind("NetworkPolicy", "team-a").length, 1);
    assert.equal(live.byKind("PodDisruptionBudget", "team-a")[0]?.apiVersion, "policy/v1");
    const check = (object: Json) =>
      networkPolicyCoverage.check(object, ruleContext(object, { settings, inventory: live }));
    assert.deepEqual(check(deployment("team-a")), []);
    assert.match(
      check(deployment("team-b"))[0]?.message ?? "",
      /^no NetworkPolicy in namespace "team-b" selects the pods of Deployment "web"$/,
    );
  });

  it("counts a kind whose API is not served as empty, without failing or blocking readiness", async (t) => {
    const { inventory, next } = started(
      t,
      fakeApi({ HorizontalPodAutoscaler: 404, NetworkPolicy: [policy("default-deny", "team-a")] }),
    );
    const live = await next();
    assert.equal(inventory.synced, true);
    assert.deepEqual(live.byKind("HorizontalPodAutoscaler"), []);
    assert.equal(live.byKind("NetworkPolicy").length, 1);
  });

  it("is not synced while a list fails for another reason (403: no permission to read)", async (t) => {
    const { inventory, next } = started(t, fakeApi({ PodDisruptionBudget: 403 }));
    await next();
    assert.equal(inventory.synced, false);
  });

  it("publishes a burst of watch events together, once", async (t) => {
    const api = fakeApi({});
    const { inventory, published, next } = started(t, api);
    await next();
    await api.emit("NetworkPolicy", "ADDED", policy("p-0", "ns-0"));
    for (let i = 1; i < 2_000; i++)
      await api.emit("NetworkPolicy", "ADDED", policy(`p-${i}`, `ns-${i % 50}`));
    await api.emit("NetworkPolicy", "MODIFIED", policy("p-1", "ns-1"));
    await api.emit("NetworkPolicy", "DELETED", policy("p-0", "ns-0"));
    const live = await next();
    assert.equal(published.length, 2);
    assert.equal(live.byKind("NetworkPolicy").length, 1_999);
    assert.equal(live.byKind("NetworkPolicy", "ns-0").length, 39);
    assert.equal(inventory.size, 1_999);
  });
});
