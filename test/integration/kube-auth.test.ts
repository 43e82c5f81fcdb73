// kube/client.ts authenticates as the kubeconfig says, on the real API server: the in-cluster
// service-account token file (as client-node's loadFromCluster describes it) is read again once
// the credentials are a minute old, so a rotated token is used without a restart; exec plugins
// give tokens or client certificates, and the credentials are read again from them too.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { TestContext } from "node:test";
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

/** A temporary directory, removed when the test ends. */
function scratch(t: TestContext): string {
  const directory = mkdtempSync(join(tmpdir(), "vakt-kube-auth-"));
  t.after(() => {
    rmSync(directory, { recursive: true, force: true });
  });
  return directory;
}

/**
 * A kubeconfig for the test cluster whose user runs an exec plugin (`cat` of an ExecCredential
 * written to `credentialFile`).
 */
function execKubeConfig(credentialFile: string): KubeConfig {
  const cluster = testKubeConfig().getCurrentCluster();
  assert.ok(cluster !== null);
  const config = new KubeConfig();
  config.loadFromClusterAndUser(cluster, {
    name: "exec-user",
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command: "cat",
      args: [credentialFile],
      interactiveMode: "Never",
    },
  });
  return config;
}

function execCredential(status: Record<string, string>): string {
  return JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status });
}

describe("kube/client.ts authentication", () => {
  it("reads a service-account token file again after a minute and uses the rotated token", async (t) => {
    const namespace = await withNamespace(t, "kube-auth");
    const admin = makeKubeClient(testKubeConfig(), { maxConnections: 2 });
    t.after(() => admin.close?.());
    const first = await tokenFor(admin, namespace, "first");
    const second = await tokenFor(admin, namespace, "second");

    const tokenFile = join(scratch(t), "token");
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

  it("authenticates with an exec plugin's token, and runs it again once its credential expires", async (t) => {
    const namespace = await withNamespace(t, "kube-exec");
    const admin = makeKubeClient(testKubeConfig(), { maxConnections: 2 });
    t.after(() => admin.close?.());
    const first = await tokenFor(admin, namespace, "first");
    const second = await tokenFor(admin, namespace, "second");
    const credentialFile = join(scratch(t), "credential.json");
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const expiry = new Date(Date.now() + 45_000).toISOString();
    writeFileSync(credentialFile, execCredential({ token: first, expirationTimestamp: expiry }));
    const client = makeKubeClient(execKubeConfig(credentialFile), { maxConnections: 2 });
    t.after(() => client.close?.());
    assert.equal(await whoAmI(client), `system:serviceaccount:${namespace}:first`);
    writeFileSync(credentialFile, execCredential({ token: second }));
    t.mock.timers.tick(61_000);
    assert.equal(await whoAmI(client), `system:serviceaccount:${namespace}:second`);
  });

  it("authenticates with an exec plugin's client certificate, and keeps doing so when it reads it again", async (t) => {
    const user = testKubeConfig().getCurrentUser();
    assert.ok(user !== null);
    const pem = (file: string | undefined, data: string | undefined): string =>
      file !== undefined && file !== ""
        ? readFileSync(file, "utf8")
        : Buffer.from(data ?? "", "base64").toString("utf8");
    const certificate = pem(user.certFile, user.certData);
    const key = pem(user.keyFile, user.keyData);
    assert.match(
      certificate,
      /BEGIN CERTIFICATE/,
      "the test kubeconfig authenticates with a client certificate",
    );
    const admin = makeKubeClient(testKubeConfig(), { maxConnections: 2 });
    t.after(() => admin.close?.());
    const expected = await whoAmI(admin);
    const credentialFile = join(scratch(t), "credential.json");
    writeFileSync(credentialFile, execCredential({ clientCertificateData: certificate, clientKeyData: key }));
    t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
    const client = makeKubeClient(execKubeConfig(credentialFile), { maxConnections: 2 });
    t.after(() => client.close?.());
    assert.equal(await whoAmI(client), expected);
    // The second read compares the plugin's PEM (strings) with what the agents were built from.
    t.mock.timers.tick(61_000);
    assert.equal(await whoAmI(client), expected);
  });
});
