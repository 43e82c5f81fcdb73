// The self-bootstrapped webhook CA rotates across replicas without a failed admission call. Two
// replicas share the CA Secret; the CA lives 20 s, serving certificates 6 s. The real
// kube-apiserver reaches the replicas through a round-robin TCP proxy (as a Service would) and,
// because the proxy drops its connections after every request, makes a fresh TLS handshake for
// each call, so every certificate a replica serves is checked against the caBundle the API
// server holds at that moment. Meanwhile the test keeps creating a privileged Pod (dry run),
// which vakt must deny every time, and samples the Secret, the caBundle and what each replica
// serves.
import assert from "node:assert/strict";
import { X509Certificate, randomBytes } from "node:crypto";
import { createServer, connect as connectTcp } from "node:net";
import type { Server, Socket } from "node:net";
import { connect } from "node:tls";
import { after, describe, it } from "node:test";
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
} from "@kubernetes/client-node";
import type { KubernetesObject, V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { ALL_RULES } from "../../src/engine/rules/index.ts";
import { startManager } from "../../src/manager/run.ts";
import type { RunningManager } from "../../src/manager/run.ts";
import { webhookConfigurations } from "../../src/webhook/registration.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";

const id = randomBytes(3).toString("hex");
const vaktNamespace = `vakt-rot-${id}`;
const podNamespace = `rot-pods-${id}`;
const name = `vakt-rot-${id}`;
const label = "vakt.dev/rotation-test";
const config = testKubeConfig();
const core = config.makeApiClient(CoreV1Api);
const admission = config.makeApiClient(AdmissionregistrationV1Api);
const lifetimes = {
  caLifetimeMs: 20_000,
  caRenewBeforeMs: 10_000,
  caPublishAheadMs: 3_000,
  servingLifetimeMs: 6_000,
  servingRenewBeforeMs: 3_000,
};
const managers: RunningManager[] = [];
const cleanups: (() => Promise<void>)[] = [];

/** A TCP proxy spreading connections over the replicas in turn, like a Service. */
async function roundRobinProxy(ports: readonly number[]): Promise<{
  port: number;
  connections: () => number;
  dropConnections: () => void;
  close: () => Promise<void>;
}> {
  const open = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    const upstream = connectTcp({ host: "127.0.0.1", port: ports[connections++ % ports.length] ?? 0 });
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on("close", () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(typeof address === "object" && address !== null);
  return {
    port: address.port,
    connections: () => connections,
    // Between requests every connection is idle: closing them makes the next call handshake anew.
    dropConnections: () => {
      for (const socket of open) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function pemCertificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

/** The serving certificate of a replica, and whether it verifies against `caBundle`. */
function handshake(
  port: number,
  caBundle: string,
): Promise<{ leaf: X509Certificate; authorized: boolean; error: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port, ca: caBundle, rejectUnauthorized: false, timeout: 5_000 },
      () => {
        const leaf = socket.getPeerX509Certificate();
        const authorized = socket.authorized;
        const error = socket.authorizationError instanceof Error ? socket.authorizationError.message : "";
        socket.end();
        if (leaf === undefined) reject(new Error("no certificate served"));
        else resolve({ leaf, authorized, error });
      },
    );
    socket.on("error", reject);
    socket.on("timeout", () => socket.destroy(new Error("handshake timed out")));
  });
}

interface Sample {
  /** When caBundle had been read (the handshakes follow). */
  readonly at: number;
  /** Fingerprints: the Secret's current CA, the caBundle's CAs, the CA that signed each replica's certificate. */
  readonly secretCa: string;
  readonly bundle: readonly string[];
  readonly issuers: readonly string[];
  /** Problems: a replica serving a certificate the published caBundle does not trust. */
  readonly untrusted: readonly string[];
}

interface Attempt {
  readonly at: number;
  readonly denied: boolean;
  readonly message: string;
}

function privilegedPod(n: number): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `privileged-${n}`, namespace: podNamespace },
    spec: {
      containers: [
        {
          name: "app",
          image: "registry.example/app:1.2.3",
          securityContext: { privileged: true },
        },
      ],
    },
  };
}

describe("webhook CA rotation across replicas on the real API server", () => {
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await Promise.all(managers.map((m) => m.close()));
    await kubectl([
      "delete",
      "validatingwebhookconfiguration,mutatingwebhookconfiguration",
      name,
      "--ignore-not-found",
    ]);
    await kubectl(["delete", "namespace", vaktNamespace, podNamespace, "--wait=false", "--ignore-not-found"]);
  });

  it(
    "rotates the CA with two replicas while every admission call succeeds",
    { timeout: 85_000 },
    async (t) => {
      await core.createNamespace({ body: { metadata: { name: vaktNamespace } } });
      await core.createNamespace({ body: { metadata: { name: podNamespace, labels: { [label]: id } } } });

      const start = (): Promise<RunningManager> =>
        startManager({
          kubeconfig: config,
          webhookHost: "127.0.0.1",
          webhookPort: 0,
          failurePolicy: "Fail",
          timeoutSeconds: 5,
          excludedNamespaces: ["kube-system", vaktNamespace],
          installCrds: false,
          namespace: vaktNamespace,
          webhookName: name,
          // The API server reaches the replicas at 127.0.0.1 (through the proxy), not a Service name.
          selfSigned: { lifetimes, ipAddresses: ["127.0.0.1"] },
          logger: pino({ level: "silent" }),
        });
      // The replicas' ports are known once they run; nothing calls the proxy before that.
      const ports: number[] = [];
      const proxy = await roundRobinProxy(ports);
      cleanups.push(proxy.close);

      // As `vakt install --tls=self` makes them (empty caBundle, the replicas fill it in), but with
      // a URL target (the proxy), and only for this test's namespace.
      const objects = KubernetesObjectApi.makeApiClient(config);
      for (const object of webhookConfigurations({
        name,
        target: { url: `https://127.0.0.1:${proxy.port}` },
        caBundle: "",
        failurePolicy: "Fail",
        timeoutSeconds: 5,
        excludedNamespaces: ["kube-system", vaktNamespace],
        rules: ALL_RULES,
        mutate: true,
        namespaceLabels: { [label]: id },
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
      const started = await Promise.allSettled([start(), start()]);
      for (const result of started) if (result.status === "fulfilled") managers.push(result.value);
      for (const result of started) if (result.status === "rejected") throw result.reason;
      ports.push(...managers.map((m) => m.webhook.port));

      // Sampling: the Secret, both caBundles, and a handshake with each replica, every ~150 ms.
      const cas = new Map<string, X509Certificate>();
      const remember = (certificates: readonly X509Certificate[]): string[] =>
        certificates.map((ca) => {
          cas.set(ca.fingerprint256, ca);
          return ca.fingerprint256;
        });
      const issuerOf = (leaf: X509Certificate): string =>
        [...cas.values()].find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))?.fingerprint256 ??
        "unknown";
      const caBundle = async (kind: "validating" | "mutating"): Promise<string> => {
        const object =
          kind === "validating"
            ? await admission.readValidatingWebhookConfiguration({ name })
            : await admission.readMutatingWebhookConfiguration({ name });
        return Buffer.from(object.webhooks?.[0]?.clientConfig.caBundle ?? "", "base64").toString();
      };
      const samples: Sample[] = [];
      const attempts: Attempt[] = [];
      const run = { stopping: false };
      const samplingErrors: string[] = [];
      const sample = async (): Promise<void> => {
        const secret = await core.readNamespacedSecret({ name: "vakt-webhook-ca", namespace: vaktNamespace });
        const secretPem = (key: string): string => Buffer.from(secret.data?.[key] ?? "", "base64").toString();
        const [secretCa = "unknown"] = remember(pemCertificates(secretPem("ca.crt")));
        remember(pemCertificates(secretPem("ca-previous.crt")));
        // Read caBundle first, then handshake: a replica must never serve what was not yet trusted.
        const validating = await caBundle("validating");
        const at = Date.now();
        const bundle = remember(pemCertificates(validating));
        const served = await Promise.all(
          ports.map((port) =>
            handshake(port, validating).catch((error: unknown) => ({
              leaf: undefined,
              authorized: false,
              error: `handshake failed: ${String(error)}`,
            })),
          ),
        );
        samples.push({
          at,
          secretCa,
          bundle,
          issuers: served.map((s) => (s.leaf === undefined ? "none" : issuerOf(s.leaf))),
          untrusted: served.flatMap((s, i) =>
            s.authorized
              ? []
              : [`replica ${i}: ${s.error} (issuer ${s.leaf === undefined ? "none" : issuerOf(s.leaf)})`],
          ),
        });
      };
      const sampling = (async () => {
        while (!run.stopping) {
          // An API server read failing is not what this test is about: note it and sample again.
          await sample().catch((error: unknown) => {
            samplingErrors.push(String(error).slice(0, 200));
          });
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();
      cleanups.push(async () => {
        run.stopping = true;
        await sampling;
      });

      // The webhook is called once the API server has the replicas' caBundle.
      let n = 0;
      const attempt = async (): Promise<Attempt> => {
        const at = Date.now();
        try {
          await core.createNamespacedPod({
            namespace: podNamespace,
            body: privilegedPod(n++),
            dryRun: "All",
          });
          return { at, denied: false, message: "admitted" };
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const denied =
            /admission webhook\W+validate\.vakt-rot-[0-9a-f]+\.vakt\.dev\W+denied the request/.test(
              message,
            ) && /\[pss-privileged\]/.test(message);
          return { at, denied, message };
        } finally {
          proxy.dropConnections();
        }
      };
      let first: Attempt | undefined;
      await eventually("vakt to judge the first Pod", 15_000, async () => {
        first = await attempt();
        return first.denied ? true : undefined;
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}; last answer: ${first?.message.slice(0, 600) ?? "none"}`);
      });

      // From now on every attempt must be denied by vakt: no TLS error, no "failed calling webhook".
      const calling = (async () => {
        while (!run.stopping) {
          attempts.push(await attempt());
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      })();
      cleanups.push(async () => {
        run.stopping = true;
        await calling;
      });

      // Run until the first CA has been replaced, both replicas serve certificates of the new CA,
      // the first CA has left caBundle, and a few calls have been judged after that.
      const firstCa = await eventually("a first sample", 10_000, () => Promise.resolve(samples[0]?.secretCa));
      const done = await eventually("a complete CA rotation", 60_000, () => {
        const rotated = samples.find((s) => s.secretCa !== firstCa);
        if (rotated === undefined) return Promise.resolve(undefined);
        const secondCa = rotated.secretCa;
        const bothServe = samples.find((s) => s.at > rotated.at && s.issuers.every((i) => i === secondCa));
        const dropped = samples.find((s) => s.at > rotated.at && !s.bundle.includes(firstCa));
        if (bothServe === undefined || dropped === undefined) return Promise.resolve(undefined);
        const later = attempts.filter((a) => a.at > dropped.at);
        return Promise.resolve(later.length >= 3 ? { secondCa, rotated, bothServe, dropped } : undefined);
      });
      run.stopping = true;
      await Promise.all([sampling, calling]);

      const leads = [0, 1].map(
        (replica) =>
          (samples.find((s) => s.issuers[replica] === done.secondCa)?.at ?? NaN) -
          (samples.find((s) => s.bundle.includes(done.secondCa))?.at ?? NaN),
      );
      t.diagnostic(
        `${attempts.length} admission calls over ${proxy.connections()} connections; ` +
          `${new Set(samples.map((s) => s.secretCa)).size - 1} CA rotation(s); ${samples.length} samples; ` +
          `new CA trusted ${leads.join(" / ")} ms before each replica served it; ` +
          `${samplingErrors.length} failed API reads while sampling ${JSON.stringify(samplingErrors.slice(0, 3))}`,
      );
      // (a) the Secret's CA changed.
      const { secondCa } = done;
      assert.notEqual(secondCa, firstCa);
      // (b) both replicas went over to certificates issued by the new CA, each only after the new CA
      // was in caBundle (published ahead), and at every sample both served a trusted certificate.
      const trustedAt = samples.find((s) => s.bundle.includes(secondCa))?.at ?? Infinity;
      for (const replica of [0, 1]) {
        const servedAt = samples.find((s) => s.issuers[replica] === secondCa)?.at ?? Infinity;
        assert.ok(servedAt < Infinity, `replica ${replica} serves a certificate of the new CA`);
        // Published caPublishAheadMs (3 s, less up to 1 s as certificates carry whole seconds) ahead.
        assert.ok(
          servedAt - trustedAt >= 1_000,
          `replica ${replica} serves the new CA only after caBundle has trusted it for a while (${servedAt - trustedAt} ms)`,
        );
      }
      assert.deepEqual(
        samples.flatMap((s) => s.untrusted.map((u) => `${new Date(s.at).toISOString()} ${u}`)),
        [],
        "every served certificate verifies against the caBundle published at that time",
      );
      assert.deepEqual(
        samples.flatMap((s) => s.issuers.filter((i) => i === "unknown" || i === "none")),
        [],
        "every replica served a certificate issued by a CA from the Secret",
      );
      // (c) during the rollover caBundle held the old and the new CA; the old one left after it
      // expired; the mutating configuration's caBundle followed the validating one.
      assert.ok(
        samples.some((s) => s.bundle.includes(firstCa) && s.bundle.includes(secondCa)),
        "caBundle holds old and new CA during the rollover",
      );
      const firstExpiry = cas.get(firstCa)?.validToDate.getTime() ?? 0;
      assert.ok(done.dropped.at >= firstExpiry, "the old CA stays trusted until it expires");
      const last = samples.at(-1);
      assert.ok(last !== undefined);
      assert.ok(last.bundle.includes(last.secretCa), "caBundle holds the Secret's current CA");
      await eventually("the mutating caBundle to match the validating one", 5_000, async () => {
        const [v, m] = await Promise.all([caBundle("validating"), caBundle("mutating")]);
        return v === m && v !== "" ? true : undefined;
      });
      // (d) the API server called vakt successfully throughout: every attempt was denied by vakt.
      const failures = attempts.filter((a) => !a.denied);
      assert.deepEqual(
        failures.map((a) => `${new Date(a.at).toISOString()} ${a.message.slice(0, 400)}`),
        [],
        "every admission call during the rotation reached vakt",
      );
      assert.ok(attempts.length >= 20, `enough calls during the rotation (${attempts.length})`);
      assert.ok(
        attempts.some((a) => a.at < done.rotated.at) && attempts.some((a) => a.at > done.dropped.at),
        "calls before the rotation and after the old CA left",
      );
      assert.ok(proxy.connections() >= attempts.length, "each call made new connections to the replicas");
    },
  );
});
