// `vakt run --parts controller` end to end: the CLI entry point in a process of its own (as a
// Deployment would run it) against the shared test control plane, with the real CRDs installed.
// A Tenant applied with kubectl converges to Ready; the process holds the Lease while it runs,
// and SIGTERM stops it cleanly and frees the Lease for a successor. Without the webhook, the
// manager serves /healthz, /readyz and /metrics over plain HTTP on its probe port.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { TENANTS_PATH } from "../../src/controllers/tenant/status.ts";
import { renderTenant } from "../../src/tenant/render.ts";
import { parseTenant } from "../../src/tenant/validate.ts";
import { installTenantCrds, readObject } from "./tenant-crds.ts";
import { spawnVakt } from "./vakt-process.ts";
import {
  eventually,
  kubectl,
  testKubeConfig,
  testKubeconfigPath,
  withNamespace,
} from "../../src/testing/cluster.ts";
import { getText } from "../../src/testing/http.ts";

const client = makeKubeClient(testKubeConfig());

const read = (path: string): Promise<Json | undefined> => readObject(client, path);

describe("vakt run --parts controller (its own process)", () => {
  it("converges a Tenant to Ready, holds the Lease while running and frees it on SIGTERM", async (t) => {
    await installTenantCrds();
    // The Lease's namespace, also the Velero namespace of the tenant.
    const namespace = await withNamespace(t, "tc-run");
    const name = `tc-run-${randomBytes(3).toString("hex")}`;
    const vakt = spawnVakt(t, [
      "run",
      "--parts",
      "controller",
      "--kubeconfig",
      testKubeconfigPath(),
      "--namespace",
      namespace,
      "--workers",
      "2",
      "--probe-port",
      "0",
    ]);
    t.after(async () => {
      await kubectl(["delete", "tenant", name, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
    });
    const { diagnostics } = vakt;

    const manifest: Json = {
      apiVersion: "vakt.dev/v1alpha1",
      kind: "Tenant",
      metadata: { name },
      spec: {
        owners: [{ kind: "Group", name: `${name}-admins`, role: "admin" }],
        namespaces: [{ name }],
        tls: {
          issuerRef: { name: "internal-ca", kind: "ClusterIssuer" },
          certificates: [{ name: "web", namespace: name, hosts: [`${name}.example.com`] }],
        },
        backup: { veleroNamespace: namespace },
      },
    };
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify(manifest),
    );

    const tenant = await eventually(
      `tenant ${name} Ready from the vakt process${diagnostics()}`,
      90_000,
      async () => {
        if (vakt.child.exitCode !== null)
          throw new Error(`vakt exited with ${vakt.child.exitCode}${diagnostics()}`);
        const current = await read(`${TENANTS_PATH}/${name}`);
        const generation = (current?.["metadata"] as { generation?: number } | undefined)?.generation;
        const status = current?.["status"] as
          { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
        const ready = status?.conditions?.find((c) => c.type === "Ready");
        return ready?.status === "True" && status?.observedGeneration === generation ? current : undefined;
      },
    );

    const parsed = parseTenant(manifest);
    assert.ok(parsed.tenant);
    const rendered = renderTenant(parsed.tenant).objects;
    assert.equal((tenant["status"] as { objectCount: number }).objectCount, rendered.length);
    const policy = await read(`/apis/networking.k8s.io/v1/namespaces/${name}/networkpolicies/default-deny`);
    const managers = ((policy?.["metadata"] as Json | undefined)?.["managedFields"] ?? []) as {
      manager: string;
    }[];
    assert.ok(
      managers.some((m) => m.manager === "vakt"),
      `default-deny is applied by the vakt process${diagnostics()}`,
    );

    // The probe port: readiness, and the controller's metrics in the one registry.
    const probeUrl = /\/metrics on (http:\/\/127\.0\.0\.1:\d+)/.exec(vakt.output())?.[1];
    assert.ok(probeUrl !== undefined, `vakt prints its probe URL${diagnostics()}`);
    assert.equal((await getText(`${probeUrl}/readyz`)).status, 200);
    const metrics = await getText(`${probeUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^vakt_controller_reconcile_total\{[^}]*controller="tenant"[^}]*\} [1-9]/m);
    assert.match(metrics.body, /^vakt_workqueue_depth\{controller="tenant"\} /m);
    assert.match(metrics.body, /^process_resident_memory_bytes /m);

    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/vakt-tenant-controller`;
    const leases = ((
      await client.request("GET", `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`)
    ).body["items"] ?? []) as Json[];
    assert.deepEqual(
      leases.map((lease) => (lease["metadata"] as { name: string }).name),
      ["vakt-tenant-controller"],
      "one Lease for the leader parts",
    );
    const holder = ((await read(leasePath))?.["spec"] as { holderIdentity?: string } | undefined)
      ?.holderIdentity;
    assert.ok(holder !== undefined && holder !== "", `the vakt process holds the Lease${diagnostics()}`);

    const code = await vakt.stop();
    assert.equal(code, 0, `vakt exits 0 on SIGTERM${diagnostics()}`);
    const after = ((await read(leasePath))?.["spec"] as { holderIdentity?: string } | undefined)
      ?.holderIdentity;
    assert.equal(after ?? "", "", "the Lease is released for a successor");
  });
});
