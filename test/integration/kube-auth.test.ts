// kube/client.ts authenticates as the kubeconfig says, on the real API server: the in-cluster
// service-account token file (as client-node's loadFromCluster describes it) is read again once
// the credentials are a minute old, so a rotated token is used without a restart.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";

/** A token for the ServiceAccount `name` (created here) from the TokenRequest API. */
async function tokenFor(admin: KubeClient, namespace: string, name: string): Promise<string> {
  await admin.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } },
  });
  const { body } = await admin.request(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 600 },
      },
    },
  );
  const token = (body["status"] as { token?: string } | undefined)?.token;
  assert.ok(token !== undefined && token !== "", "TokenRequest returned no token");
  return token;
}

/** Who the API server says the client is (SelfSubjectReview: any authenticated user may ask). */
async function whoAmI(client: KubeClient): Promise<string> {
  const { body } = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  return (body["status"] as { userInfo: { username: string } }).userInfo.username;
}

describe("kube/client.ts authentication", () => {
  it("reads a service-account token file again after a minute and uses the rotated token", async (t) => {
    const namespace = await withNamespace(t, "kube-auth");
    const admin = makeKubeClient(testKubeConfig(), { maxConnections: 2 });
    t.after(() => admin.close?.());
    const first = await tokenFor(admin, namespace, "first");
    const second = await tokenFor(admin, namespace, "second");

    const directory = mkdtempSync(join(tmpdir(), "vakt-kube-auth-"));
    t.after(() => {
      rmSync(directory, { recursive: true, force: true });
    });
    const tokenFile = join(directory, "token");
    writeFileSync(tokenFile, first);
    const cluster = testKubeConfig().getCurrentCluster();
    assert.ok(cluster !== null);
    const config = new KubeConfig();
    // What loadFromCluster builds inside a Pod, with the token file somewhere we can write.
    config.loadFromClusterAndUser(cluster, {
      name: "in-cluster",
      authProvider: { name: "tokenFile", config: { tokenFile } },
    });
    const client = makeKubeClient(config, { maxConnections: 2 });
    t.after(() => client.close?.());

    // Only Date is mocked: requests and the API server run in real time.
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    assert.equal(await whoAmI(client), `system:serviceaccount:${namespace}:first`);
    writeFileSync(tokenFile, second);
    t.mock.timers.tick(30_000);
    assert.equal(
      await whoAmI(client),
      `system:serviceaccount:${namespace}:first`,
      "read again within the minute",
    );
    t.mock.timers.tick(31_000);
    assert.equal(await whoAmI(client), `system:serviceaccount:${namespace}:second`);
  });
});
