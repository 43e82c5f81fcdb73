import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { test } from "node:test";
import { backupInventory, compareRestore, contentHash } from "./drill-core.ts";

/** A ustar archive of `files` (what Go's archive/tar writes for short names). */
function tar(files: Record<string, unknown>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, value] of Object.entries(files)) {
    const data = Buffer.from(JSON.stringify(value));
    const header = Buffer.alloc(512);
    header.write(name, 0);
    header.write("0000644\0", 100);
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("0", 156);
    header.write("ustar\0", 257);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024)]));
}

const cm = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "app" },
  data: { a: "1" },
};
const rs = {
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name: "web-1", namespace: "app", ownerReferences: [{ kind: "Deployment", name: "web" }] },
  spec: {},
};
const ingress = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name: "www", namespace: "app" },
  spec: {},
};

test("the inventory holds top-level objects once, without excluded kinds or other namespaces", () => {
  const inventory = backupInventory(
    tar({
      "resources/configmaps/namespaces/app/settings.json": cm,
      "resources/configmaps/v1-preferredversion/namespaces/app/settings.json": cm,
      "resources/replicasets.apps/namespaces/app/web-1.json": rs,
      "resources/ingresses.networking.k8s.io/namespaces/app/www.json": ingress,
      "resources/configmaps/namespaces/other/x.json": { ...cm, metadata: { name: "x", namespace: "other" } },
      "metadata/version": 1,
    }),
    { namespaces: new Map([["app", "drill-1"]]) },
  );
  assert.deepEqual(
    inventory.map((o) => `${o.kind} ${o.namespace}/${o.name}`),
    ["ConfigMap app/settings"],
  );
});

test("the comparison names what is missing and what changed", () => {
  const secret = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "app" },
    data: { p: "eA==" },
  };
  const inventory = backupInventory(
    tar({
      "resources/configmaps/namespaces/app/settings.json": cm,
      "resources/secrets/namespaces/app/db.json": secret,
    }),
  );
  const restoredCm = {
    ...cm,
    metadata: { name: "settings", namespace: "drill-1", labels: { "velero.io/restore-name": "r" } },
  };
  assert.deepEqual(
    compareRestore(inventory, (o) => (o.kind === "ConfigMap" ? restoredCm : undefined)),
    {
      expected: 2,
      restored: 1,
      missing: ["Secret app/db"],
      changed: [],
    },
  );
  const edited = { ...restoredCm, data: { a: "2" } };
  assert.deepEqual(compareRestore(inventory, (o) => (o.kind === "ConfigMap" ? edited : secret)).changed, [
    "ConfigMap app/settings",
  ]);
});

test("content hashes ignore key order and a Service's cluster IPs", () => {
  const svc = (ip: string): Record<string, unknown> => ({
    kind: "Service",
    spec: { clusterIP: ip, clusterIPs: [ip], ports: [{ port: 80, nodePort: 30000 }], type: "ClusterIP" },
  });
  assert.equal(contentHash(svc("10.0.0.1")), contentHash(svc("10.0.0.2")));
  assert.equal(contentHash({ data: { a: "1", b: "2" } }), contentHash({ data: { b: "2", a: "1" } }));
  assert.notEqual(contentHash({ data: { a: "1" } }), contentHash({ data: { a: "2" } }));
});
