// The Tenant controller on the real control plane, with the real CRDs of cert-manager, Velero,
// CloudNativePG, the RabbitMQ and Redis operators, the Prometheus operator and Argo CD installed
// from the projects' own files: the API server validates every object vakt applies, and the
// garbage collector and namespace controller of kube-controller-manager do the deleting.
// Tenants are cluster-scoped, so every name carries a random suffix; each test runs its own
// controller in this process, as `vakt run` does: the part under a Manager, with a Lease of its own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { pino } from "pino";
import { TenantControllerPart } from "../../src/controllers/tenant/part.ts";
import type { TenantControllerOptions } from "../../src/controllers/tenant/part.ts";
import { Manager } from "../../src/manager/manager.ts";
import { makeDiscovery } from "../../src/kube/discovery.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { EVENT_NAMESPACE, TENANTS_PATH } from "../../src/controllers/tenant/status.ts";
import type { WriteInfo } from "../../src/controllers/tenant/status.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import {
  assertTenantChildren,
  expectedChildren as renderedChildren,
  fullTenantManifest,
  installTenantCrds,
  readObject,
} from "./tenant-crds.ts";
import type { ChildRef } from "./tenant-crds.ts";

const config = testKubeConfig();
const client = makeKubeClient(config);
const discovery = makeDiscovery(client);
const core = config.makeApiClient(CoreV1Api);
const logger = pino({ level: "warn" });
const run = randomBytes(2).toString("hex");
/** Holds the Leases, the Velero Schedules and the Argo CD objects of this file's tenants. */
const infra = `tc-infra-${run}`;
const tenantsCreated: string[] = [];
const controllers: Running[] = [];
const CONVERGE_MS = 60_000;

function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/** A tenant rendering every kind vakt knows; its Velero and Argo CD objects go to `infra`. */
function tenantManifest(name: string, options: { second?: boolean } = {}): Json {
  return fullTenantManifest(name, infra, options);
}

async function applyTenant(manifest: Json): Promise<void> {
  const name = (manifest["metadata"] as { name: string }).name;
  if (!tenantsCreated.includes(name)) tenantsCreated.push(name);
  await kubectl(["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"], JSON.stringify(manifest));
}

async function getTenant(name: string): Promise<Json> {
  return (await client.request("GET", `${TENANTS_PATH}/${name}`)).body;
}

/** The objects the renderer says a tenant has, as API paths. */
function expectedChildren(manifest: Json): Promise<ChildRef[]> {
  return renderedChildren(discovery, manifest);
}

const read = (path: string): Promise<Json | undefined> => readObject(client, path);

function condition(
  tenant: Json,
  type: string,
): { status: string; reason: string; message: string; observedGeneration?: number } | undefined {
  const conditions = ((tenant["status"] as Json | undefined)?.["conditions"] ?? []) as {
    type: string;
    status: string;
    reason: string;
    message: string;
    observedGeneration?: number;
  }[];
  return conditions.find((c) => c.type === type);
}

/** Waits until the tenant is Ready for its current generation. */
async function waitReady(name: string): Promise<Json> {
  return eventually(`tenant ${name} Ready for its current generation`, CONVERGE_MS, async () => {
    const tenant = await getTenant(name);
    const generation = (tenant["metadata"] as { generation: number }).generation;
    const ready = condition(tenant, "Ready");
    const status = tenant["status"] as { observedGeneration?: number } | undefined;
    return ready?.status === "True" &&
      ready.observedGeneration === generation &&
      status?.observedGeneration === generation
      ? tenant
      : undefined;
  });
}

/** A replica of `vakt run --parts controller`: the Tenant controller under a Manager. */
interface Running {
  readonly manager: Manager;
  readonly part: TenantControllerPart;
  /** This replica holds the Lease and its controller runs. */
  isLeader(): boolean;
}

async function start(
  options: TenantControllerOptions & { readonly leaseName?: string; readonly identity?: string } = {},
): Promise<Running> {
  const part = new TenantControllerPart(options);
  const manager = new Manager({
    kubeconfig: config,
    parts: [part],
    lease: {
      namespace: infra,
      name: options.leaseName ?? uniqueName("lease"),
      identity: options.identity ?? uniqueName("replica"),
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
    },
    probes: { port: 0 },
    logger,
  });
  await manager.start();
  const running = { manager, part, isLeader: () => manager.isLeader() && part.ready() };
  controllers.push(running);
  return running;
}

/** Stops a replica; `crash` keeps the Lease, as a killed process would. */
async function stop(controller: Running, crash = false): Promise<void> {
  await controller.manager.stop({ crash });
  forget(controller);
}

/** No longer stopped by afterEach (it was stopped, or killed, by the test). */
function forget(controller: Running): void {
  const at = controllers.indexOf(controller);
  if (at >= 0) controllers.splice(at, 1);
}

/** The value of a metric series in a replica's registry (0 when absent). */
async function metric(controller: Running, name: string, labels: Record<string, string>): Promise<number> {
  const values = (await controller.manager.registry.getSingleMetric(name)?.get())?.values ?? [];
  const found = values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
  return found?.value ?? 0;
}

/** Every expected child exists, is controlled by the tenant and is managed by "vakt". */
function assertAllChildren(name: string, manifest: Json): Promise<void> {
  return assertTenantChildren(client, discovery, name, manifest);
}

describe("Tenant controller on the real API server", () => {
  before(async () => {
    await installTenantCrds();
    await core.createNamespace({ body: { metadata: { name: infra, labels: { "vakt.dev/test": "true" } } } });
  });

  // A test that fails half-way leaves its controllers running: stop them before the next test,
  // which would otherwise see their writes as its own (each test starts the replicas it judges).
  afterEach(async () => {
    for (const controller of controllers.splice(0)) await controller.manager.stop();
  });

  after(async () => {
    for (const name of tenantsCreated)
      await kubectl(["delete", "tenant", name, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
    await core.deleteNamespace({ name: infra }).catch(() => undefined);
  });

  it("converges a tenant: every rendered child exists, owned and applied by vakt; status and events say so", async () => {
    const controller = await start();
    const name = uniqueName("tc-conv");
    const manifest = tenantManifest(name);
    await applyTenant(manifest);
    const tenant = await waitReady(name);
    await assertAllChildren(name, manifest);
    const status = tenant["status"] as {
      objectCount: number;
      namespaceCount: number;
      children: Record<string, number>;
      skippedKinds: string[];
    };
    const expected = await expectedChildren(manifest);
    assert.equal(status.objectCount, expected.length);
    assert.equal(status.namespaceCount, 2);
    assert.deepEqual(status.skippedKinds, []);
    assert.equal(
      Object.values(status.children).reduce((a, b) => a + b, 0),
      expected.length,
    );
    assert.equal(status.children["Certificate.cert-manager.io"], 1);
    assert.equal(condition(tenant, "Degraded")?.status, "False");
    const events = await core.listNamespacedEvent({
      namespace: EVENT_NAMESPACE,
      fieldSelector: `involvedObject.name=${name},reason=Created`,
    });
    assert.ok(events.items.length >= 1, "a Created event is recorded");
    assert.ok(controller.isLeader());
    // The manager's one registry shows the controller's work.
    const labels = { controller: "tenant" };
    assert.ok(
      (await metric(controller, "vakt_controller_reconcile_total", { ...labels, result: "success" })) >= 1,
    );
    assert.ok((await metric(controller, "vakt_workqueue_adds_total", labels)) >= 1);
    await stop(controller);
  });

  it("heals drift: a deleted NetworkPolicy comes back and an edited ResourceQuota is restored", async () => {
    const controller = await start();
    const name = uniqueName("tc-drift");
    await applyTenant(tenantManifest(name));
    await waitReady(name);
    const policyPath = `/apis/networking.k8s.io/v1/namespaces/${name}/networkpolicies/default-deny`;
    const oldUid = ((await read(policyPath))?.["metadata"] as Json)["uid"];
    await kubectl(["delete", "networkpolicy", "default-deny", "-n", name]);
    await eventually("the deleted NetworkPolicy to be recreated", 30_000, async () => {
      const policy = await read(policyPath);
      return policy !== undefined && (policy["metadata"] as Json)["uid"] !== oldUid ? true : undefined;
    });

    const quotaPath = `/api/v1/namespaces/${name}/resourcequotas/tenant-quota`;
    const original = ((await read(quotaPath))?.["spec"] as { hard: Record<string, string> }).hard["pods"];
    assert.ok(original !== undefined && original !== "100000");
    await kubectl([
      "patch",
      "resourcequota",
      "tenant-quota",
      "-n",
      name,
      "--type=merge",
      "-p",
      '{"spec":{"hard":{"pods":"100000"}}}',
    ]);
    await eventually("the edited ResourceQuota to be restored", 30_000, async () => {
      const quota = await read(quotaPath);
      return (quota?.["spec"] as { hard: Record<string, string> } | undefined)?.hard["pods"] === original
        ? true
        : undefined;
    });
    await stop(controller);
  });

  it("prunes a namespace removed from the spec, with its objects", async () => {
    const controller = await start();
    const name = uniqueName("tc-prune");
    await applyTenant(tenantManifest(name));
    await waitReady(name);
    assert.ok(await read(`/api/v1/namespaces/${name}-db`));
    const smaller = tenantManifest(name, { second: false });
    await applyTenant(smaller);
    await waitReady(name);
    await eventually(`namespace ${name}-db to be deleted`, CONVERGE_MS, async () => {
      const namespace = await read(`/api/v1/namespaces/${name}-db`);
      return namespace === undefined || (namespace["metadata"] as Json)["deletionTimestamp"] !== undefined
        ? true
        : undefined;
    });
    // The Application no longer names the removed namespace; what remains is exactly the render.
    await assertAllChildren(name, smaller);
    const project = await read(`/apis/argoproj.io/v1alpha1/namespaces/${infra}/appprojects/${name}`);
    const destinations = (project?.["spec"] as { destinations: { namespace: string }[] }).destinations;
    assert.deepEqual(
      destinations.map((d) => d.namespace),
      [name],
    );
    await stop(controller);
  });

  it("leaves nothing behind when a tenant is deleted", async () => {
    const controller = await start();
    const name = uniqueName("tc-del");
    const manifest = tenantManifest(name);
    await applyTenant(manifest);
    await waitReady(name);
    const children = await expectedChildren(manifest);
    await kubectl(["delete", "tenant", name, "--wait=false"]);
    await eventually(`every child of ${name} to be gone`, 90_000, async () => {
      for (const child of children) if ((await read(child.path)) !== undefined) return undefined;
      return true;
    });
    await stop(controller);
  });

  it("rejects invalid tenants: the CRD schema refuses bad fields, semantic errors give Degraded with the field", async () => {
    const controller = await start();
    const bad = tenantManifest(uniqueName("tc-bad"));
    (bad["spec"] as Json)["namespaces"] = [{ name: "Not_A_Label" }];
    await assert.rejects(applyTenant(bad), /spec\.namespaces\[0\]\.name|should match/);

    const name = uniqueName("tc-sem");
    const semantic = tenantManifest(name);
    (semantic["spec"] as Json)["namespaces"] = [{ name: "someone-elses" }];
    (semantic["spec"] as Json)["network"] = {};
    await applyTenant(semantic);
    const tenant = await eventually("a Degraded condition", 30_000, async () => {
      const t = await getTenant(name);
      return condition(t, "Degraded")?.status === "True" ? t : undefined;
    });
    const degraded = condition(tenant, "Degraded");
    assert.ok(degraded);
    assert.equal(degraded.reason, "InvalidSpec");
    assert.match(
      degraded.message,
      /spec\.namespaces\[0\]\.name: namespace "someone-elses" must be named after the tenant/,
    );
    assert.equal(condition(tenant, "Ready")?.status, "False");
    assert.equal(await read("/api/v1/namespaces/someone-elses"), undefined, "nothing is applied");
    // The controller is still working: a valid tenant converges.
    const good = uniqueName("tc-ok");
    await applyTenant(tenantManifest(good, { second: false }));
    await waitReady(good);
    await stop(controller);
  });

  it("of two instances on one Lease only the leader writes; the other takes over when it goes", async () => {
    const leaseName = uniqueName("lease");
    const writes = new Map<string, number>();
    const counting =
      (id: string) =>
      (_write: WriteInfo): void => {
        writes.set(id, (writes.get(id) ?? 0) + 1);
      };
    const a = await start({ leaseName, identity: "a", onWrite: counting("a") });
    const b = await start({ leaseName, identity: "b", onWrite: counting("b") });
    const leader = await eventually("one leader", 20_000, () =>
      Promise.resolve(a.isLeader() ? a : b.isLeader() ? b : undefined),
    );
    const [follower, leaderId, followerId] = leader === a ? [b, "a", "b"] : [a, "b", "a"];
    const name = uniqueName("tc-lead");
    await applyTenant(tenantManifest(name, { second: false }));
    await waitReady(name);
    assert.equal(a.isLeader() && b.isLeader(), false, "never both leaders");
    assert.ok((writes.get(leaderId) ?? 0) > 0, "the leader wrote");
    assert.equal(writes.get(followerId) ?? 0, 0, "the follower wrote nothing");

    await stop(leader);
    await eventually("the follower to take over", 20_000, () =>
      Promise.resolve(follower.isLeader() ? true : undefined),
    );
    await kubectl(["delete", "networkpolicy", "default-deny", "-n", name]);
    await eventually("the new leader to heal drift", 30_000, async () =>
      (await read(`/apis/networking.k8s.io/v1/namespaces/${name}/networkpolicies/default-deny`)) === undefined
        ? undefined
        : true,
    );
    assert.ok((writes.get(followerId) ?? 0) > 0, "the new leader wrote");
    await stop(follower);
  });

  it("converges to the same state after being killed mid-reconcile and restarted", async () => {
    const leaseName = uniqueName("lease");
    const name = uniqueName("tc-kill");
    const manifest = tenantManifest(name);
    let applies = 0;
    let killed: Promise<void> | undefined;
    const first = await start({
      leaseName,
      workers: 1,
      applyConcurrency: 1,
      onWrite: (write) => {
        if (write.tenant !== name || write.verb !== "apply") return;
        applies += 1;
        if (applies === 6) {
          // A crash: no Lease release, the in-flight reconcile is cut off here.
          killed ??= first.manager.stop({ crash: true });
          throw new Error("killed mid-reconcile");
        }
      },
    });
    await applyTenant(manifest);
    await eventually("the first controller to be killed", 30_000, () =>
      Promise.resolve(killed === undefined ? undefined : true),
    );
    await killed;
    forget(first);
    const expected = await expectedChildren(manifest);
    let present = 0;
    for (const child of expected) if ((await read(child.path)) !== undefined) present += 1;
    assert.ok(
      present >= 5 && present < expected.length,
      `killed mid-way: ${present} of ${expected.length} applied`,
    );
    assert.notEqual(condition(await getTenant(name), "Ready")?.status, "True");

    const second = await start({ leaseName });
    await waitReady(name);
    await assertAllChildren(name, manifest);
    await stop(second);
  });
});
