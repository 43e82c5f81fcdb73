// The permissions `vakt install` grants are enough: its CRDs, Namespace, ServiceAccount and RBAC
// are applied for real, and `vakt run` (webhook, Tenant controller and backup part, a process of
// its own, as the Deployment runs it) works as that ServiceAccount with a token from the TokenRequest API.
// A permission missing from the ClusterRole or Role shows up as a forbidden request in vakt's
// log, as vakt exiting, or (Lease attempts are logged at debug level only) as a Lease never held,
// and the test fails naming it.
//
// The install's ValidatingAdmissionPolicy confining vakt's writes is applied too, so this also
// proves it lets vakt do its work (install-confinement.test.ts proves what it refuses).
//
// What this does not cover: the Deployment, Service, PodDisruptionBudget, NetworkPolicy and the
// webhook configurations are not applied (kwok nodes run no pods, and webhook configurations
// named "vakt" with failurePolicy Fail would judge the other test files sharing the cluster).
// So vakt runs without --register-url, as in a cluster, and its caBundle update finds no
// configuration (a `get` through the ClusterRole's resourceNames, answered 404); the `update`
// it would then send is checked with SelfSubjectAccessReviews instead.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { request } from "node:https";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { makeDiscovery } from "../../src/kube/discovery.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { EVENT_NAMESPACE, TENANTS_PATH } from "../../src/controllers/tenant/status.ts";
import { getOk } from "../../src/devcluster/cluster.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { getText } from "../../src/testing/http.ts";
import { admissionReview, compliantPod } from "../../src/testing/admission-fixtures.ts";
import {
  allowed,
  applyInstall,
  bindingsInEffect,
  clusterScopedNames,
  serviceAccountKubeconfig,
} from "./install-apply.ts";
import { assertTenantChildren, expectedChildren, fullTenantManifest, readObject } from "./tenant-crds.ts";
import { spawnVakt } from "./vakt-process.ts";

const id = randomBytes(3).toString("hex");
/** vakt's namespace; also where the tenant's Velero Schedule and Argo CD objects go. */
const namespace = `vakt-rbac-${id}`;
const tenant = `rbac-${id}`;
const admin = testKubeConfig();
const client = makeKubeClient(admin);
const core = admin.makeApiClient(CoreV1Api);

/**
 * A log line that reports a request the API server refused for lack of permission: "forbidden"
 * anywhere, or 403 as a status code or in an error text (JSON lines; other lines as text).
 */
function reportsForbidden(line: string): boolean {
  if (/forbidden/i.test(line)) return true;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return /\b403\b/.test(line);
  }
  const visit = (value: unknown, key: string): boolean => {
    if (typeof value === "number") return value === 403 && /^(code|status|statusCode)$/.test(key);
    if (typeof value === "string") return !/^\d+$/.test(value) && /\b403\b/.test(value);
    if (typeof value === "object" && value !== null)
      return Object.entries(value).some(([k, v]) => visit(v, k));
    return false;
  };
  return visit(entry, "");
}

/** POSTs an AdmissionReview to vakt's /validate, verifying its certificate against `ca`. */
function validate(port: number, ca: string, servername: string, review: Json): Promise<Json> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        servername,
        ca,
        method: "POST",
        path: "/validate",
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200) resolve(JSON.parse(body) as Json);
          else reject(new Error(`POST /validate: ${String(res.statusCode)} ${body}`));
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(review));
  });
}

describe("vakt install grants what vakt run needs", () => {
  it("runs the webhook, the Tenant controller and the backup part as vakt's ServiceAccount without a forbidden request", async (t) => {
    // 1. What `vakt install` prints: CRDs, Namespace, ServiceAccount, RBAC and the admission
    // policy applied for real.
    t.after(async () => {
      await kubectl(["delete", "tenant", tenant, "--ignore-not-found", "--wait=false"]).catch(
        () => undefined,
      );
      await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]).catch(
        () => undefined,
      );
    });
    const rest = await applyInstall(namespace, id);
    t.after(async () => {
      await kubectl(["delete", "--ignore-not-found", ...clusterScopedNames(rest)]).catch(() => undefined);
    });
    assert.ok(
      rest.some((o) => o.kind === "ValidatingAdmissionPolicy"),
      "`vakt install` confines vakt with a ValidatingAdmissionPolicy",
    );
    const account = rest.find((o) => o.kind === "ServiceAccount");
    assert.ok(account, "`vakt install` creates a ServiceAccount");
    assert.equal(account.metadata.namespace, namespace);

    // 2. A token of that ServiceAccount, and a kubeconfig with only that token.
    const sa = await serviceAccountKubeconfig({ namespace, name: account.metadata.name });
    t.after(sa.remove);
    await bindingsInEffect(sa.config, namespace);

    // 3. `vakt run`, both parts, as that ServiceAccount.
    const refused: string[] = [];
    let rejectRefused: (error: Error) => void = () => undefined;
    const forbidden = new Promise<never>((_, reject) => {
      rejectRefused = reject;
    });
    forbidden.catch(() => undefined);
    const vakt = spawnVakt(
      t,
      [
        "run",
        "--kubeconfig",
        sa.path,
        "--parts",
        "webhook,controller,backup",
        `--namespace=${namespace}`,
        "--webhook-host=127.0.0.1",
        "--webhook-port=0",
        "--tls=self",
        "--workers=2",
      ],
      (line) => {
        if (!reportsForbidden(line)) return;
        refused.push(line);
        rejectRefused(
          new Error(`vakt was refused a request: a permission is missing from \`vakt install\`:\n${line}`),
        );
      },
    );
    /** `eventually`, failing at once when vakt exits or is refused a request. */
    const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> =>
      Promise.race([
        eventually(what, timeoutMs, probe).catch((error: unknown) => {
          throw new Error(`${error instanceof Error ? error.message : String(error)}${vakt.diagnostics()}`);
        }),
        vakt.exitedEarly,
        forbidden,
      ]);

    // 4. The webhook: listening, ready (its informers and the live inventory listed and watched).
    const port = await until("vakt to report its webhook port", 60_000, () => {
      const match = /webhook listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(vakt.output());
      return Promise.resolve(match?.[1] === undefined ? undefined : Number(match[1]));
    });
    await until("/readyz to answer 200", 60_000, async () =>
      (await getOk(`https://127.0.0.1:${port}/readyz`, "insecure")) ? true : undefined,
    );
    // Self TLS: the CA vakt bootstrapped is in its namespace, and it signed what vakt serves.
    const secret = await core.readNamespacedSecret({ name: "vakt-webhook-ca", namespace });
    const ca = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString("utf8");
    assert.match(ca, /BEGIN CERTIFICATE/, "the Secret vakt-webhook-ca holds vakt's CA");
    const servername = `vakt.${namespace}.svc`;
    const denied = await validate(
      port,
      ca,
      servername,
      admissionReview(compliantPod({ image: "registry.example.com/acme/app" })),
    );
    assert.equal((denied["response"] as Json | undefined)?.["allowed"], false, "an untagged image is denied");
    const admitted = await validate(port, ca, servername, admissionReview(compliantPod()));
    assert.equal(
      (admitted["response"] as Json | undefined)?.["allowed"],
      true,
      "a compliant Pod is admitted",
    );

    // 5. The Tenant controller: it holds the Lease, and a Tenant with every child kind converges
    // to Ready, then shrinks.
    const identity = `${hostname()}-${String(vakt.child.pid)}`;
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/vakt-tenant-controller`;
    await until(
      `the vakt process (${identity}) to hold the Lease ${namespace}/vakt-tenant-controller`,
      30_000,
      async () => {
        const lease = await readObject(client, leasePath);
        const holder = (lease?.["spec"] as { holderIdentity?: string } | undefined)?.holderIdentity;
        if (holder === identity) return true;
        if (lease !== undefined) throw new Error(`the Lease is held by "${holder ?? ""}"`);
        // vakt logs a failed Lease attempt at debug level only: say what it is missing.
        const may = await Promise.all(
          ["get", "create", "update"].map(async (verb) =>
            (await allowed(sa.config, { group: "coordination.k8s.io", resource: "leases", verb, namespace }))
              ? ""
              : ` ${verb}`,
          ),
        );
        const missing = may.join("");
        throw new Error(
          `there is no Lease${missing === "" ? "" : `; vakt's ServiceAccount may not${missing} leases in ${namespace}`}`,
        );
      },
    );
    const manifest = fullTenantManifest(tenant, namespace);
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify(manifest),
    );
    /** The tenant, once Ready for its current generation. */
    const tenantReady = (): Promise<Json> =>
      until(`tenant ${tenant} Ready for its current generation`, 90_000, async () => {
        const current = await readObject(client, `${TENANTS_PATH}/${tenant}`);
        const generation = (current?.["metadata"] as { generation?: number } | undefined)?.generation;
        const status = current?.["status"] as
          { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
        const condition = status?.conditions?.find((c) => c.type === "Ready");
        return condition?.status === "True" && status?.observedGeneration === generation
          ? current
          : undefined;
      });
    const ready = await tenantReady();
    // The backup part (same Lease) watched the Tenant and wrote its status.backup through the
    // confinement policy, as field manager vakt-backup: no backup yet, so not within policy.
    const backup = await until(`tenant ${tenant}'s status.backup`, 60_000, async () => {
      const current = await readObject(client, `${TENANTS_PATH}/${tenant}`);
      const block = (
        current?.["status"] as { backup?: { withinPolicy?: boolean; policy?: Json } } | undefined
      )?.backup;
      return block?.withinPolicy === undefined ? undefined : block;
    });
    assert.equal(backup.withinPolicy, false);
    assert.ok(backup.policy !== undefined, "the policy read from the tenant's schedule");
    // One registry: the webhook's port serves the controller's metrics next to its own.
    const metrics = await getText(`https://127.0.0.1:${port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^vakt_admission_requests_total\{/m);
    assert.match(metrics.body, /^vakt_controller_reconcile_total\{[^}]*controller="tenant"[^}]*\} [1-9]/m);
    assert.match(
      metrics.body,
      new RegExp(`^vakt_backup_tenant_copy_lag_seconds\\{tenant="${tenant}"\\} 0$`, "m"),
    );
    const discovery = makeDiscovery(client);
    const children = await expectedChildren(discovery, manifest);
    assert.equal((ready["status"] as { objectCount: number }).objectCount, children.length);
    for (const kind of ["Certificate", "Schedule", "ServiceMonitor", "RedisFailover", "AppProject"])
      assert.ok(
        children.some((child) => child.label.startsWith(`${kind} `)),
        `the tenant has a ${kind} (so its permissions are exercised)`,
      );
    await assertTenantChildren(client, discovery, tenant, manifest);
    const events = await core.listNamespacedEvent({
      namespace: EVENT_NAMESPACE,
      fieldSelector: `involvedObject.name=${tenant}`,
    });
    assert.ok(
      events.items.some((event) => event.reportingInstance === identity),
      `the vakt process recorded an Event about the tenant${vakt.diagnostics()}`,
    );

    // Pruning deletes: without its second namespace the tenant's children there are removed.
    const smaller = fullTenantManifest(tenant, namespace, { second: false });
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify(smaller),
    );
    await tenantReady();
    await until(`namespace ${tenant}-db to be pruned`, 60_000, async () => {
      const pruned = await readObject(client, `/api/v1/namespaces/${tenant}-db`);
      return pruned === undefined || (pruned["metadata"] as Json)["deletionTimestamp"] !== undefined
        ? true
        : undefined;
    });
    await assertTenantChildren(client, discovery, tenant, smaller);
    assert.match(
      vakt.output(),
      /"msg":"pruned child"/,
      `vakt deleted what it no longer renders${vakt.diagnostics()}`,
    );

    // 6. What vakt would write into webhook configurations `vakt install` created (caBundle):
    // allowed on those two by name, on no other.
    for (const resource of ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]) {
      const group = "admissionregistration.k8s.io";
      for (const verb of ["get", "update"])
        assert.ok(
          await allowed(sa.config, { group, resource, verb, name: "vakt" }),
          `vakt may ${verb} ${resource}/vakt`,
        );
      assert.equal(
        await allowed(sa.config, { group, resource, verb: "update", name: `other-${id}` }),
        false,
        `vakt may not update other ${resource}`,
      );
    }

    // 7. SIGTERM: a clean exit that releases the Lease; nothing was refused along the way.
    const code = await vakt.stop();
    assert.equal(code, 0, `vakt exits 0 on SIGTERM${vakt.diagnostics()}`);
    const released = await readObject(client, leasePath);
    assert.equal((released?.["spec"] as { holderIdentity?: string } | undefined)?.holderIdentity ?? "", "");
    assert.equal(refused.length, 0, `requests of vakt were forbidden:\n${refused.join("\n")}`);
  });
});
