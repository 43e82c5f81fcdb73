// In a cluster without cert-manager, vakt bootstraps its own CA: kept in a Secret so that every
// replica serves a certificate the same CA signed, and written into the caBundle of the webhook
// configurations that `vakt install` created.
import assert from "node:assert/strict";
import { X509Certificate, randomBytes } from "node:crypto";
import { connect } from "node:tls";
import { after, describe, it } from "node:test";
import { CoreV1Api, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { ALL_RULES } from "../../src/engine/rules/index.ts";
import { startManager } from "../../src/manager/run.ts";
import type { RunningManager } from "../../src/manager/run.ts";
import { webhookConfigurations } from "../../src/webhook/registration.ts";
import { kubectl, testKubeConfig } from "../../src/testing/cluster.ts";

const id = randomBytes(3).toString("hex");
const namespace = `vakt-ca-${id}`;
const name = `vakt-ca-${id}`;
const config = testKubeConfig();
const managers: RunningManager[] = [];

function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerX509Certificate();
      socket.end();
      if (peer === undefined) reject(new Error("no certificate served"));
      else resolve(peer);
    });
    socket.on("error", reject);
  });
}

describe("self-bootstrapped webhook CA in a cluster", () => {
  after(async () => {
    await Promise.all(managers.map((m) => m.close()));
    await kubectl([
      "delete",
      "validatingwebhookconfiguration,mutatingwebhookconfiguration",
      name,
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "namespace", namespace, "--wait=false"]);
  });

  it("shares one CA between replicas through a Secret and keeps caBundle current", async () => {
    await kubectl(["create", "namespace", namespace]);
    const objects = KubernetesObjectApi.makeApiClient(config);
    // As `vakt install --tls=self` creates them: a Service target and an empty caBundle. The
    // namespace selector matches nothing, so other tests sharing the cluster are unaffected.
    for (const object of webhookConfigurations({
      name,
      target: { service: { namespace, name: "vakt", port: 443 } },
      caBundle: "",
      failurePolicy: "Ignore",
      timeoutSeconds: 5,
      excludedNamespaces: ["kube-system", namespace],
      rules: ALL_RULES,
      mutate: true,
      namespaceLabels: { "vakt.dev/never-matches": id },
    })) {
      await objects.patch(
        object as KubernetesObject,
        undefined,
        undefined,
        "vakt-test",
        true,
        PatchStrategy.ServerSideApply,
      );
    }
    const start = (): Promise<RunningManager> =>
      startManager({
        kubeconfig: config,
        webhookHost: "127.0.0.1",
        webhookPort: 0,
        failurePolicy: "Fail",
        timeoutSeconds: 5,
        excludedNamespaces: ["kube-system", namespace],
        installCrds: false,
        namespace,
        webhookName: name,
        logger: pino({ level: "silent" }),
      });
    // Two replicas starting at the same time race to create the CA; one must win for both.
    const started = await Promise.allSettled([start(), start()]);
    for (const result of started) if (result.status === "fulfilled") managers.push(result.value);
    for (const result of started) if (result.status === "rejected") throw result.reason;

    const secret = await config
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: "vakt-webhook-ca", namespace });
    const caPem = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString();
    const ca = new X509Certificate(caPem);
    for (const manager of managers) {
      const served = await servedCertificate(manager.webhook.port);
      assert.ok(served.verify(ca.publicKey), "each replica serves a certificate signed by the shared CA");
      assert.match(served.subjectAltName ?? "", new RegExp(`DNS:vakt\\.${namespace}\\.svc`));
    }
    for (const kind of ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"]) {
      const bundle = (
        await kubectl(["get", kind, name, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"])
      ).stdout;
      assert.equal(Buffer.from(bundle, "base64").toString(), caPem, `${kind} caBundle is the shared CA`);
    }
  });
});
