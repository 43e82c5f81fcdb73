/** Shared by the Tenant controller's integration tests. */
import assert from "node:assert/strict";
import type { Discovery } from "../../src/kube/discovery.ts";
import { KubeError, resourcePath } from "../../src/kube/client.ts";
import type { Json, KubeClient } from "../../src/kube/client.ts";
import { TENANTS_PATH } from "../../src/controllers/tenant/status.ts";
import { thirdPartyCrdFiles } from "../../src/testing/third-party-crds.ts";
import { renderTenant } from "../../src/tenant/render.ts";
import { tenantCrd } from "../../src/tenant/schema.ts";
import { parseTenant } from "../../src/tenant/validate.ts";
import { kubectl } from "../../src/testing/cluster.ts";

/**
 * Applies the operators' own published CRDs (from the Go module cache) and the Tenant CRD, and
 * waits until the API server serves all of them.
 */
export async function installTenantCrds(): Promise<void> {
  const names: string[] = [];
  for (const file of (await thirdPartyCrdFiles()).flatMap((entry) => entry.files)) {
    const { stdout } = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "-o",
      "name",
      "-f",
      file,
    ]);
    names.push(...stdout.trim().split("\n"));
  }
  const { stdout } = await kubectl(
    ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-"],
    JSON.stringify(tenantCrd()),
  );
  names.push(stdout.trim());
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names]);
}

/** The object at `path`, or undefined when the API server says it does not exist. */
export async function readObject(client: KubeClient, path: string): Promise<Json | undefined> {
  try {
    return (await client.request("GET", path)).body;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return undefined;
    throw error;
  }
}

/**
 * A tenant rendering every kind vakt knows: two namespaces (one with `second: false`), guardrails
 * and managed services. Its Velero Schedule and Argo CD objects go to the namespace `infra`.
 */
export function fullTenantManifest(name: string, infra: string, options: { second?: boolean } = {}): Json {
  const second = options.second ?? true;
  return {
    apiVersion: "vakt.dev/v1alpha1",
    kind: "Tenant",
    metadata: { name },
    spec: {
      displayName: `Controller test ${name}`,
      owners: [
        { kind: "Group", name: `${name}-admins`, role: "admin" },
        { kind: "User", name: "auditor@example.com", role: "view" },
      ],
      namespaces: [{ name }, ...(second ? [{ name: `${name}-db` }] : [])],
      network: second
        ? { flows: [{ from: { namespace: name }, to: { namespace: `${name}-db` }, ports: [{ port: 5432 }] }] }
        : {},
      tls: {
        issuerRef: { name: "internal-ca", kind: "ClusterIssuer" },
        certificates: [{ name: "web", namespace: name, hosts: [`${name}.example.com`] }],
      },
      backup: { veleroNamespace: infra },
      monitoring: {
        serviceMonitors: [{ name: "web", namespace: name, selector: { app: "web" }, port: "metrics" }],
      },
      services: {
        postgresql: [
          {
            name: "db",
            namespace: second ? `${name}-db` : name,
            backup: { destinationPath: "s3://backups/db", credentialsSecret: "db-backup-s3" },
          },
        ],
        rabbitmq: [{ name: "mq", namespace: name }],
        redis: [{ name: "cache", namespace: name, passwordSecret: "cache-auth" }],
      },
      gitops: { repoURL: "https://git.example.com/deploy.git", namespace: name, argocdNamespace: infra },
    },
  };
}

export interface ChildRef {
  readonly label: string;
  readonly path: string;
}

/** The objects the renderer says a tenant has, as API paths. */
export async function expectedChildren(discovery: Discovery, manifest: Json): Promise<ChildRef[]> {
  const parsed = parseTenant(manifest);
  // Warnings (e.g. no egress declared for CloudNativePG) still render; errors would not.
  assert.deepEqual(
    parsed.problems.filter((problem) => problem.severity === "error"),
    [],
  );
  assert.ok(parsed.tenant);
  const refs: ChildRef[] = [];
  for (const object of renderTenant(parsed.tenant).objects) {
    const resource = await discovery.resourceFor(String(object.apiVersion), String(object.kind));
    assert.ok(resource, `${String(object.kind)} must be served (its CRD is installed by installTenantCrds)`);
    const m = object.metadata as { name: string; namespace?: string };
    refs.push({
      label: `${String(object.kind)} ${m.namespace ?? ""}/${m.name}`,
      path: resourcePath(resource, m.namespace, m.name),
    });
  }
  return refs;
}

/** Every expected child exists, is controlled by the tenant and is managed by "vakt". */
export async function assertTenantChildren(
  client: KubeClient,
  discovery: Discovery,
  name: string,
  manifest: Json,
): Promise<void> {
  const tenant = await readObject(client, `${TENANTS_PATH}/${name}`);
  assert.ok(tenant, `tenant ${name} exists`);
  const uid = (tenant["metadata"] as Json)["uid"] as string;
  for (const child of await expectedChildren(discovery, manifest)) {
    const object = await readObject(client, child.path);
    assert.ok(object, `${child.label} exists`);
    const metadata = object["metadata"] as {
      ownerReferences?: { uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
      managedFields?: { manager: string; operation: string }[];
    };
    assert.ok(
      metadata.ownerReferences?.some(
        (o) => o.uid === uid && o.controller === true && o.blockOwnerDeletion === true,
      ),
      `${child.label} is controlled by the tenant`,
    );
    assert.ok(
      metadata.managedFields?.some((f) => f.manager === "vakt" && f.operation === "Apply"),
      `${child.label} is applied by field manager vakt`,
    );
  }
}
