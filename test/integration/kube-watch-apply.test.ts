// src/kube/ on the real API server: server-side apply (created, unchanged, refused with the
// object named) and the webhook's watches of custom resources (manager/informer.ts on the
// Reflector): the full list after every change, a CRD installed after the watch started, a
// relist when the server says the resourceVersion is too old, and stop.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ApplyError, FIELD_MANAGER, apply } from "../../src/kube/apply.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json, KubeClient } from "../../src/kube/client.ts";
import { watchCustomResources } from "../../src/manager/informer.ts";
import type { CustomObject } from "../../src/manager/informer.ts";
import { eventually, testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";

const id = randomBytes(3).toString("hex");
const GROUP = "watch.test.vakt.dev";
const logger = pino({ level: "warn" });
let client: KubeClient;
const crds: string[] = [];

function crd(plural: string, kind: string): Json {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { plural, singular: plural, kind, listKind: `${kind}List` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          },
        },
      ],
    },
  };
}

/** Applies the CRD and waits until its resource is served. */
async function installCrd(plural: string, kind: string): Promise<void> {
  crds.push(`${plural}.${GROUP}`);
  await apply(client, crd(plural, kind));
  await eventually(`${plural} to be served`, 30_000, async () => {
    await client.request("GET", `/apis/${GROUP}/v1/${plural}`);
    return true;
  });
}

async function create(
  plural: string,
  kind: string,
  namespace: string,
  name: string,
  value: string,
): Promise<void> {
  await client.request("POST", `/apis/${GROUP}/v1/namespaces/${namespace}/${plural}`, {
    body: { apiVersion: `${GROUP}/v1`, kind, metadata: { name, namespace }, spec: { value } },
  });
}

/** What a watch handed over last, of one namespace, as name=value sorted. */
function recorder(namespace: string): {
  lists: string[][];
  onList: (objects: readonly CustomObject[]) => void;
} {
  const lists: string[][] = [];
  return {
    lists,
    onList: (objects) => {
      lists.push(
        objects
          .filter((object) => object.metadata?.namespace === namespace)
          .map((object) => `${object.metadata?.name ?? ""}=${String((object["spec"] as Json)["value"])}`)
          .sort(),
      );
    },
  };
}

/** Waits until `condition` holds (what the watches hand over arrives on its own time). */
function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<true> {
  return eventually(what, timeoutMs, () => Promise.resolve(condition() ? true : undefined));
}

const last = (lists: readonly string[][]): string => (lists.at(-1) ?? ["(nothing yet)"]).join(",");

describe("kube/ on the real API server", () => {
  before(() => {
    client = makeKubeClient(testKubeConfig(), { maxConnections: 4 });
  });

  after(async () => {
    for (const name of crds)
      await client
        .request("DELETE", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`)
        .catch(() => undefined);
    await client.close?.();
  });

  it("applies as vakt: created, then unchanged, owned by the one field manager", async (t) => {
    const namespace = await withNamespace(t, "kube-apply");
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "applied", namespace },
      data: { a: "1" },
    };
    assert.equal((await apply(client, configMap)).status, 201);
    const again = await apply(client, configMap);
    assert.equal(again.status, 200);
    const managers = (
      (again.body["metadata"] as Json)["managedFields"] as { manager: string; operation: string }[]
    ).map((entry) => `${entry.manager}/${entry.operation}`);
    assert.deepEqual(managers, [`${FIELD_MANAGER}/Apply`]);
  });

  it("names the object when the API server refuses it, or does not serve its kind", async (t) => {
    const namespace = await withNamespace(t, "kube-apply-bad");
    await assert.rejects(
      apply(client, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Not_A_Name", namespace } }),
      (error: unknown) => {
        assert.ok(error instanceof ApplyError);
        assert.equal(error.code, 422);
        assert.equal(error.object, `ConfigMap ${namespace}/Not_A_Name`);
        assert.match(
          error.message,
          new RegExp(`^cannot apply ConfigMap ${namespace}/Not_A_Name: .*Not_A_Name`),
        );
        return true;
      },
    );
    await assert.rejects(
      apply(client, { apiVersion: `${GROUP}/v1`, kind: "Missing", metadata: { name: "a", namespace } }),
      {
        name: "ApplyError",
        message: `cannot apply Missing ${namespace}/a: the API server does not serve Missing in ${GROUP}/v1 (is its CRD installed?)`,
      },
    );
  });

  it("hands the full list to the handler after the first list and after every change, and stops", async (t) => {
    const namespace = await withNamespace(t, "kube-watch");
    const plural = `probes${id}`;
    const kind = `Probe${id.toUpperCase()}`;
    await installCrd(plural, kind);
    await create(plural, kind, namespace, "a", "1");
    const seen = recorder(namespace);
    const watch = watchCustomResources(client, { group: GROUP, version: "v1", plural }, seen, logger);
    t.after(() => watch.stop());
    await until("the first list", () => watch.synced);
    assert.equal(last(seen.lists), "a=1");
    await create(plural, kind, namespace, "b", "2");
    await until("b in the list", () => last(seen.lists) === "a=1,b=2");
    await client.request("PATCH", `/apis/${GROUP}/v1/namespaces/${namespace}/${plural}/a`, {
      contentType: "application/merge-patch+json",
      body: { spec: { value: "3" } },
    });
    await until("a changed in the list", () => last(seen.lists) === "a=3,b=2");
    await client.request("DELETE", `/apis/${GROUP}/v1/namespaces/${namespace}/${plural}/b`);
    await until("b gone from the list", () => last(seen.lists) === "a=3");
    await watch.stop();
    const count = seen.lists.length;
    await create(plural, kind, namespace, "c", "4");
    // A watch that still ran would hand over c; the next change after it proves the wait was long enough.
    const witness = recorder(namespace);
    const second = watchCustomResources(client, { group: GROUP, version: "v1", plural }, witness, logger);
    t.after(() => second.stop());
    await until("c seen by a new watch", () => last(witness.lists) === "a=3,c=4");
    assert.equal(seen.lists.length, count);
  });

  it("waits for a CRD installed after the watch started", async (t) => {
    const namespace = await withNamespace(t, "kube-watch-late");
    const plural = `lates${id}`;
    const kind = `Late${id.toUpperCase()}`;
    const seen = recorder(namespace);
    const watch = watchCustomResources(client, { group: GROUP, version: "v1", plural }, seen, logger);
    t.after(() => watch.stop());
    assert.equal(watch.synced, false);
    await installCrd(plural, kind);
    await create(plural, kind, namespace, "a", "1");
    await until("the late CRD's object", () => last(seen.lists) === "a=1", 30_000);
    assert.equal(watch.synced, true);
  });

  it("lists again when the server says the resourceVersion is too old, and sees what changed meanwhile", async (t) => {
    const namespace = await withNamespace(t, "kube-watch-gone");
    const plural = `gones${id}`;
    const kind = `Gone${id.toUpperCase()}`;
    await installCrd(plural, kind);
    await create(plural, kind, namespace, "a", "1");
    // The real client, except that the first watch asks for resourceVersion 1 (long compacted
    // out of the watch cache) after b was created: the server answers 410 Gone.
    let lists = 0;
    let watches = 0;
    const expired: KubeClient = {
      get requests() {
        return client.requests;
      },
      request(method, path, options) {
        if (method === "GET") lists += 1;
        return client.request(method, path, options);
      },
      async watch(path, query, onEvent, signal, accept) {
        watches += 1;
        if (watches > 1) return client.watch(path, query, onEvent, signal, accept);
        await create(plural, kind, namespace, "b", "2");
        const events: string[] = [];
        await client.watch(
          path,
          { ...query, resourceVersion: "1" },
          (event) => {
            events.push(`${String(event["type"])}:${String((event["object"] as Json)["code"])}`);
            onEvent(event);
          },
          signal,
          accept,
        );
        assert.deepEqual(events, ["ERROR:410"], "the server's answer to resourceVersion 1");
      },
    };
    const seen = recorder(namespace);
    const watch = watchCustomResources(expired, { group: GROUP, version: "v1", plural }, seen, logger);
    t.after(() => watch.stop());
    await until("b after the relist", () => last(seen.lists) === "a=1,b=2");
    assert.equal(lists, 2);
    assert.equal(seen.lists[0]?.join(","), "a=1");
    await create(plural, kind, namespace, "c", "3");
    await until("c from the watch after the relist", () => last(seen.lists) === "a=1,b=2,c=3");
    assert.equal(lists, 2);
  });
});
