// The admission webhook end to end: kube-apiserver calls vakt (running in this process as it
// would on a host next to the control plane) and enforces its verdicts. The webhook is scoped to
// namespaces labelled for this test so that other test files sharing the cluster are unaffected.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { get as httpsGet } from "node:https";
import { after, before, describe, it } from "node:test";
import { KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
import { get } from "../../src/engine/workloads.ts";
import { ALL_RULES } from "../../src/engine/rules/index.ts";
import type { RunningManager } from "../../src/manager/run.ts";
import { webhookConfigurations } from "../../src/webhook/registration.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { startTestWebhook, unregisterTestWebhook, webhookReady } from "../../src/testing/webhook.ts";

const id = randomBytes(3).toString("hex");
const name = `vakt-e2e-${id}`;
const namespace = `webhook-${id}`;
const labels = { "vakt.dev/e2e": id };
const objects = KubernetesObjectApi.makeApiClient(testKubeConfig());
let manager: RunningManager | undefined;

function pod(
  podName: string,
  overrides: { image?: string; privileged?: boolean; probes?: boolean } = {},
): string {
  const probes =
    overrides.probes === false
      ? ""
      : `
      readinessProbe: {httpGet: {path: /ready, port: 8080}}
      livenessProbe: {httpGet: {path: /healthz, port: 8080}}`;
  return `apiVersion: v1
kind: Pod
metadata: {name: ${podName}, namespace: ${namespace}}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  containers:
    - name: app
      image: ${overrides.image ?? "registry.example/app:1.2.3"}
      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}${probes}
      ${overrides.privileged === true ? "securityContext: {privileged: true}" : ""}
`;
}

async function create(manifest: string): Promise<{ stdout: string; stderr: string }> {
  return kubectl(["create", "-f", "-"], manifest);
}

async function register(failurePolicy: "Fail" | "Ignore", url: string, caBundle: string): Promise<void> {
  for (const object of webhookConfigurations({
    name,
    target: { url },
    caBundle,
    failurePolicy,
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system"],
    rules: ALL_RULES,
    mutate: true,
    namespaceLabels: labels,
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
}

describe("admission webhook on the real API server", () => {
  before(async () => {
    manager = await startTestWebhook(name, labels);
    await kubectl(["create", "namespace", namespace]);
    await kubectl(["label", "namespace", namespace, `vakt.dev/e2e=${id}`]);
    // Pods are refused until kube-controller-manager has created the namespace's default ServiceAccount.
    await eventually("the default ServiceAccount", 15_000, async () =>
      (await kubectl(["get", "serviceaccount", "default", "-n", namespace]).catch(() => undefined))
        ? true
        : undefined,
    );
    await eventually("the webhook to be ready", 15_000, async () =>
      (await webhookReady(manager)) ? true : undefined,
    );
  });

  after(async () => {
    await manager?.close();
    await unregisterTestWebhook(name);
    await kubectl(["delete", "namespace", namespace, "--wait=false"]);
  });

  it("rejects a privileged Pod with a message naming rule, object, field, fix and controls", async () => {
    await assert.rejects(create(pod("privileged", { privileged: true })), (error: Error) => {
      assert.match(error.message, /denied the request/);
      assert.match(error.message, /\[pss-privileged\] Pod\/webhook-[0-9a-f]+\/privileged/);
      assert.match(error.message, /field spec\.containers\[0\]\.securityContext\.privileged/);
      assert.match(error.message, /Fix: /);
      assert.match(error.message, /Controls: .*iso27001:A\.8\.2/);
      return true;
    });
  });

  it("rejects a Deployment on its pod template", async () => {
    const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${namespace}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:latest"}]
`;
    await assert.rejects(
      create(deployment),
      /\[image-tag\] Deployment\/webhook-[0-9a-f]+\/web: .*field spec\.template\.spec\.containers\[0\]\.image/,
    );
  });

  it("judges ephemeral containers added by kubectl debug (pods/ephemeralcontainers)", async () => {
    await create(pod("debug-target"));
    const debug = (profile: string, container: string): Promise<{ stdout: string; stderr: string }> =>
      kubectl([
        "debug",
        "-n",
        namespace,
        "debug-target",
        "--image=registry.example/debug:1.0.0",
        `--profile=${profile}`,
        `--container=${container}`,
      ]);
    // The sysadmin profile makes the ephemeral container privileged.
    await assert.rejects(debug("sysadmin", "root-shell"), (error: Error) => {
      assert.match(error.message, /denied the request/);
      assert.match(error.message, /\[pss-privileged\] Pod\/webhook-[0-9a-f]+\/debug-target/);
      assert.match(error.message, /field spec\.ephemeralContainers\[0\]\.securityContext\.privileged/);
      return true;
    });
    // A restricted debug container is judged and admitted: the subresource is not refused wholesale.
    await debug("restricted", "shell");
    const stored: unknown = JSON.parse(
      (await kubectl(["get", "pod", "debug-target", "-n", namespace, "-o", "json"])).stdout,
    );
    const names = (get(stored, ["spec", "ephemeralContainers"]) as { name: string }[]).map((c) => c.name);
    assert.deepEqual(names, ["shell"]);
  });

  it("admits a warn-level finding with a warning, and stores the safe-default mutations", async () => {
    const result = await create(pod("no-probes", { probes: false }));
    assert.match(result.stderr, /Warning: \[probes\] container "app" has no readinessProbe/);
    const stored: unknown = JSON.parse(
      (await kubectl(["get", "pod", "no-probes", "-n", namespace, "-o", "json"])).stdout,
    );
    const container = ["spec", "containers", 0, "securityContext"];
    assert.equal(get(stored, ["spec", "securityContext", "seccompProfile", "type"]), "RuntimeDefault");
    assert.equal(get(stored, [...container, "allowPrivilegeEscalation"]), false);
    assert.deepEqual(get(stored, [...container, "capabilities", "drop"]), ["ALL"]);
    assert.equal(get(stored, ["spec", "automountServiceAccountToken"]), false);
  });

  it("admits an object covered by a PolicyException within seconds, and denies again once it has expired", async () => {
    const exception = (expires: string): string => `apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata: {name: legacy-tag, namespace: ${namespace}}
spec:
  rules: [image-tag]
  match: {kinds: [Pod], namespaces: [${namespace}], names: ["legacy-*"]}
  justification: "vendor image only published as latest; tracked in RISK-42"
  approvedBy: ciso@example.com
  expires: "${expires}"
`;
    const legacy = (n: number): string => pod(`legacy-${n}`, { image: "registry.example/vendor:latest" });
    await assert.rejects(create(legacy(0)), /\[image-tag\]/);
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      exception(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)),
    );
    const started = Date.now();
    await eventually("the exception to take effect", 10_000, async () =>
      (await create(legacy(1)).catch(() => undefined)) ? true : undefined,
    );
    assert.ok(Date.now() - started < 10_000);
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      exception("2000-01-01"),
    );
    await eventually(
      "the expired exception to stop applying",
      10_000,
      async () =>
        await create(legacy(2)).then(
          () => undefined,
          (error: unknown) =>
            error instanceof Error && /\[image-tag\]/.test(error.message) ? true : undefined,
        ),
    );
  });

  it("refuses a PolicyException over rule sets that runs until 9999, naming each field (exception-scope)", async () => {
    const forever = `apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata: {name: forever, namespace: ${namespace}}
spec:
  rules: [pss-baseline, platform]
  match: {kinds: [Pod]}
  justification: "switch vakt off in this namespace, approved in a hurry"
  approvedBy: ciso@example.com
  expires: "9999-01-01"
`;
    await assert.rejects(create(forever), (error: Error) => {
      assert.match(error.message, /denied the request/);
      assert.match(
        error.message,
        new RegExp(
          `\\[exception-scope\\] PolicyException/${namespace}/forever: spec\\.rules names the rule sets "pss-baseline", "platform"`,
        ),
      );
      assert.match(
        error.message,
        /spec\.expires 9999-01-01 is more than 365 days after .*\(field spec\.expires\)/,
      );
      return true;
    });
    // Nothing was stored, and the pods it would have covered are still judged.
    await assert.rejects(
      create(pod("still-judged", { image: "registry.example/vendor:latest" })),
      /\[image-tag\]/,
    );
  });

  it("calls the mutating webhook only for objects that may lack a default (matchConditions)", async () => {
    const container = (containerName: string, context: Record<string, unknown>): Record<string, unknown> => ({
      name: containerName,
      image: "registry.example/app:1.2.3",
      resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "32Mi" } },
      // Probes are for long-running containers only (the API server refuses them on init containers).
      ...(containerName === "init"
        ? {}
        : {
            readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
            livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
          }),
      securityContext: context,
    });
    const declared = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
    // A pod spec declaring every field a default could fill, then with one of them left out.
    const podSpec = (leftOut: string | undefined): Record<string, unknown> => ({
      ...(leftOut === "automountServiceAccountToken" ? {} : { automountServiceAccountToken: false }),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        ...(leftOut === "seccompProfile" ? {} : { seccompProfile: { type: "RuntimeDefault" } }),
      },
      restartPolicy: "Never",
      initContainers: [
        container(
          "init",
          leftOut === "init.allowPrivilegeEscalation" ? { capabilities: { drop: ["ALL"] } } : declared,
        ),
      ],
      containers: [
        container(
          "app",
          leftOut === "app.capabilities.drop"
            ? { allowPrivilegeEscalation: false, capabilities: {} }
            : leftOut === "app.securityContext"
              ? {}
              : declared,
        ),
      ],
    });
    const template = (leftOut: string | undefined): Record<string, unknown> => ({
      metadata: { labels: { app: "mc" } },
      spec: podSpec(leftOut),
    });
    const kinds: Record<
      string,
      { object: (leftOut?: string) => Record<string, unknown>; spec: (string | number)[] }
    > = {
      Pod: {
        object: (leftOut) => ({ apiVersion: "v1", kind: "Pod", spec: podSpec(leftOut) }),
        spec: ["spec"],
      },
      Job: {
        object: (leftOut) => ({
          apiVersion: "batch/v1",
          kind: "Job",
          spec: {
            ...(leftOut === "ttl" ? {} : { ttlSecondsAfterFinished: 60 }),
            template: template(leftOut),
          },
        }),
        spec: ["spec", "template", "spec"],
      },
      CronJob: {
        object: (leftOut) => ({
          apiVersion: "batch/v1",
          kind: "CronJob",
          spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: template(leftOut) } } },
        }),
        spec: ["spec", "jobTemplate", "spec", "template", "spec"],
      },
    };
    // What each left-out field becomes once vakt's defaults are added.
    const expected: Record<string, { path: (string | number)[]; value: unknown }> = {
      automountServiceAccountToken: { path: ["automountServiceAccountToken"], value: false },
      seccompProfile: { path: ["securityContext", "seccompProfile", "type"], value: "RuntimeDefault" },
      "init.allowPrivilegeEscalation": {
        path: ["initContainers", 0, "securityContext", "allowPrivilegeEscalation"],
        value: false,
      },
      "app.capabilities.drop": {
        path: ["containers", 0, "securityContext", "capabilities", "drop"],
        value: ["ALL"],
      },
      "app.securityContext": {
        path: ["containers", 0, "securityContext", "allowPrivilegeEscalation"],
        value: false,
      },
    };
    const dryRun = async (object: Record<string, unknown>, objectName: string): Promise<unknown> =>
      objects.create({ ...object, metadata: { name: objectName, namespace } }, undefined, "All");
    let n = 0;
    for (const [kind, { object, spec }] of Object.entries(kinds)) {
      const calls = await mutateCalls();
      await dryRun(object(), `mc-${String(n++)}`);
      assert.equal(await mutateCalls(), calls, `a fully declared ${kind} is not sent to /mutate`);
      for (const [leftOut, { path, value }] of Object.entries(expected)) {
        const stored = await dryRun(object(leftOut), `mc-${String(n++)}`);
        assert.deepEqual(
          get(stored, [...spec, ...path]),
          value,
          `${kind} without ${leftOut} gets the default`,
        );
      }
    }
    const job = await dryRun(kinds["Job"]?.object("ttl") ?? {}, "mc-ttl");
    assert.equal(
      typeof get(job, ["spec", "ttlSecondsAfterFinished"]),
      "number",
      "a Job without a TTL gets one",
    );
  });

  it("with vakt stopped, failurePolicy Fail refuses and Ignore admits", async () => {
    assert.ok(manager !== undefined);
    const url = manager.webhook.url;
    const caBundle = (
      await kubectl([
        "get",
        "validatingwebhookconfiguration",
        name,
        "-o",
        "jsonpath={.webhooks[0].clientConfig.caBundle}",
      ])
    ).stdout;
    await manager.close();
    manager = undefined;
    await assert.rejects(create(pod("while-down-fail")), /failed calling webhook/);
    await register("Ignore", url, Buffer.from(caBundle, "base64").toString());
    await eventually("Ignore to admit while vakt is down", 10_000, async () =>
      (await create(pod("while-down-ignore")).catch(() => undefined)) ? true : undefined,
    );
  });
});

/** How many reviews vakt's /mutate endpoint has answered, from its own metrics. */
async function mutateCalls(): Promise<number> {
  const url = manager?.webhook.url;
  assert.ok(url !== undefined);
  const text = await new Promise<string>((resolve, reject) => {
    // The server's certificate is signed by vakt's own CA; only the counter matters here.
    httpsGet(`${url}/metrics`, { rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve(body);
      });
    }).on("error", reject);
  });
  return Number(/^vakt_admission_duration_seconds_count\{endpoint="mutate"\} (\d+)$/m.exec(text)?.[1] ?? "0");
}
