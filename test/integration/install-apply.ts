/**
 * Shared by the tests that apply what `vakt install` prints for real and act as vakt's
 * ServiceAccount (install-rbac, install-confinement).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthorizationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { installTenantCrds } from "./tenant-crds.ts";
import { vaktCli } from "./vakt-process.ts";

/** What `vakt install` prints that these tests apply for real. */
const APPLIED = new Set([
  "CustomResourceDefinition",
  "Namespace",
  "ServiceAccount",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
]);
/**
 * What they leave out: kwok nodes run no pods, and webhook configurations named "vakt" with
 * failurePolicy Fail would judge the other test files sharing the cluster. A kind in neither set
 * fails the test.
 */
const LEFT_OUT = new Set([
  "Deployment",
  "PodDisruptionBudget",
  "Service",
  "NetworkPolicy",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
]);
/** Cluster-scoped kinds renamed per test run; the policy binding names its policy. */
const RENAMED = new Set([
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

export interface Named {
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef?: { kind: string; name: string };
  spec?: { policyName?: string };
}

/**
 * The objects of `vakt install` to apply, in its order. Cluster-scoped RBAC and admission-policy
 * objects are renamed with `suffix` (and the references to them): other test files sharing the
 * cluster must not see them change. Their content (rules, CEL) is kept as printed.
 */
export function objectsToApply(manifests: string, suffix: string): Named[] {
  const objects = parseAllDocuments(manifests).map((document) => document.toJSON() as Named);
  const unknown = objects.map((o) => o.kind).filter((kind) => !APPLIED.has(kind) && !LEFT_OUT.has(kind));
  assert.deepEqual(
    unknown,
    [],
    "every kind `vakt install` prints is either applied here or left out on purpose",
  );
  const applied = objects.filter((o) => APPLIED.has(o.kind));
  const renamed = new Map<string, string>();
  for (const object of applied)
    if (RENAMED.has(object.kind)) {
      const unique = `${object.metadata.name}-${suffix}`;
      renamed.set(`${object.kind}/${object.metadata.name}`, unique);
      object.metadata.name = unique;
    }
  for (const object of applied) {
    if (object.roleRef?.kind === "ClusterRole") {
      const unique = renamed.get(`ClusterRole/${object.roleRef.name}`);
      // Bindings to the built-in roles keep their names.
      if (unique !== undefined) object.roleRef.name = unique;
    }
    const policy = object.spec?.policyName;
    if (object.kind === "ValidatingAdmissionPolicyBinding" && object.spec && policy !== undefined)
      object.spec.policyName = renamed.get(`ValidatingAdmissionPolicy/${policy}`) ?? policy;
  }
  return applied;
}

/**
 * Applies `vakt install --tls=self` for `namespace` (Tenant and third-party CRDs included) and
 * returns the objects applied besides the CRDs (clusterScopedNames says which to delete after).
 */
export async function applyInstall(namespace: string, suffix: string): Promise<Named[]> {
  const manifests = await vaktCli(["install", "--tls=self", `--namespace=${namespace}`]);
  const objects = objectsToApply(manifests, suffix);
  // The third-party CRDs a Tenant's children need, and the Tenant CRD.
  await installTenantCrds();
  const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
  assert.ok(crds.length >= 3, "PolicyException, VaktConfiguration and Tenant CRDs");
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-test", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: crds }),
  );
  await kubectl([
    "wait",
    "--for=condition=Established",
    "--timeout=30s",
    ...crds.map((crd) => `crd/${crd.metadata.name}`),
  ]);
  const rest = objects.filter((o) => o.kind !== "CustomResourceDefinition");
  await kubectl(
    ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: rest }),
  );
  return rest;
}

/** `kind/name` of the cluster-scoped objects among `objects` that a test run created. */
export function clusterScopedNames(objects: readonly Named[]): string[] {
  return objects
    .filter((o) => RENAMED.has(o.kind))
    .map(
      (o) =>
        `${o.kind.toLowerCase()}.${o.kind.startsWith("Validating") ? "admissionregistration.k8s.io" : "rbac.authorization.k8s.io"}/${o.metadata.name}`,
    );
}

/**
 * A kubeconfig file for the test cluster (its server and CA) with the bearer token of `account`;
 * the returned `remove` deletes the file.
 */
export async function serviceAccountKubeconfig(account: {
  namespace: string;
  name: string;
}): Promise<{ path: string; config: KubeConfig; remove: () => Promise<void> }> {
  const admin = testKubeConfig();
  const cluster = admin.getCurrentCluster();
  assert.ok(cluster, "the test kubeconfig names a cluster");
  const { status } = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    ...account,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  assert.ok(status?.token, "the TokenRequest API returns a token");
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: account.name, token: status.token }],
    contexts: [{ name: account.name, cluster: cluster.name, user: account.name }],
    currentContext: account.name,
  });
  const dir = await mkdtemp(join(tmpdir(), "vakt-rbac-"));
  const path = join(dir, "kubeconfig");
  await writeFile(path, config.exportConfig(), { mode: 0o600 });
  return { path, config, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether the identity of `config` may do `verb` (a SelfSubjectAccessReview). */
export async function allowed(
  config: KubeConfig,
  attributes: {
    group: string;
    resource: string;
    verb: string;
    name?: string;
    namespace?: string;
    subresource?: string;
  },
): Promise<boolean> {
  const review = await config
    .makeApiClient(AuthorizationV1Api)
    .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
  return review.status?.allowed === true;
}

/** Waits until the API server's authorizer applies the install's ClusterRoleBinding and RoleBinding. */
export async function bindingsInEffect(config: KubeConfig, namespace: string): Promise<void> {
  await eventually(
    "the ServiceAccount's ClusterRoleBinding and RoleBinding to take effect",
    30_000,
    async () =>
      (await allowed(config, { group: "vakt.dev", resource: "tenants", verb: "list" })) &&
      (await allowed(config, { group: "", resource: "secrets", verb: "get", namespace }))
        ? true
        : undefined,
  );
}
