// An attacker holding vakt's ServiceAccount token: what `vakt install` prints (RBAC and the
// ValidatingAdmissionPolicy, ADR 0012) is applied for real, and every request below is sent with
// a TokenRequest token of that ServiceAccount to the real kube-apiserver, which must refuse it.
// Each case also sends one request vakt's work needs, so a policy that refused everything would
// fail here too. install-rbac.test.ts proves vakt's normal work succeeds under the same policy.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { KubeConfig } from "@kubernetes/client-node";
import { APPLY_PATCH, KubeError, makeKubeClient } from "../../src/kube/client.ts";
import type { Json, KubeClient } from "../../src/kube/client.ts";
import { INTEGRATIONS_ALLOWED, INTEGRATIONS_LABEL } from "../../src/install/confinement.ts";
import { TENANT_LABEL } from "../../src/tenant/render.ts";
import { eventually, kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import {
  allowed,
  applyInstall,
  bindingsInEffect,
  clusterScopedNames,
  serviceAccountKubeconfig,
} from "./install-apply.ts";
import type { Named } from "./install-apply.ts";

const id = randomBytes(3).toString("hex");
/** vakt's namespace. */
const own = `vakt-conf-${id}`;
/** A namespace vakt creates for a Tenant (labelled vakt.dev/tenant). */
const managed = `conf-tenant-${id}`;
/** A namespace someone else owns. */
const foreign = `conf-foreign-${id}`;
const admin = makeKubeClient(testKubeConfig());

const ns = (namespace: string): string => `/api/v1/namespaces/${namespace}`;
const roleBindings = (namespace: string): string =>
  `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`;
const networkPolicies = (namespace: string): string =>
  `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`;

function roleBinding(name: string, role: string, subject: Json): Json {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [subject],
  };
}
const user = (name: string): Json => ({ kind: "User", apiGroup: "rbac.authorization.k8s.io", name });
const denyAll = (name: string): Json => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name },
  spec: { podSelector: {}, policyTypes: ["Ingress"] },
});

/** Asserts that the API server refused `request` (403) with a message matching `why`. */
async function refused(what: string, request: Promise<unknown>, why: RegExp): Promise<void> {
  try {
    await request;
  } catch (error) {
    assert.ok(error instanceof KubeError, `${what}: ${String(error)}`);
    assert.equal(
      error.code,
      403,
      `${what}: refused as forbidden, not ${String(error.code)}: ${error.message}`,
    );
    assert.match(error.message, why, what);
    return;
  }
  assert.fail(`${what}: the API server accepted it from vakt's ServiceAccount`);
}

/** Refused by the install's ValidatingAdmissionPolicy (not only by RBAC). */
const byPolicy = (detail: string): RegExp =>
  new RegExp(`ValidatingAdmissionPolicy 'vakt-${id}' .*denied request: .*${detail}`);
/** Refused by RBAC. */
const byRbac = new RegExp(`User "system:serviceaccount:${own}:vakt" cannot`);

describe("vakt's ServiceAccount cannot reach beyond the namespaces it manages", () => {
  let vakt: KubeClient;
  let saConfig: KubeConfig;
  let rest: Named[] = [];
  let removeKubeconfig: () => Promise<void> = () => Promise.resolve();
  /** The ClusterRole of this run's install (renamed with the run's id). */
  let clusterRole = "";

  before(async () => {
    rest = await applyInstall(own, id);
    clusterRole = rest.find((o) => o.kind === "ClusterRole")?.metadata.name ?? "";
    await kubectl(["create", "namespace", foreign]);
    const sa = await serviceAccountKubeconfig({ namespace: own, name: "vakt" });
    removeKubeconfig = sa.remove;
    saConfig = sa.config;
    vakt = makeKubeClient(sa.config);
    await bindingsInEffect(sa.config, own);
    // The API server loads policies through an informer: wait until this one judges.
    await eventually("the install's ValidatingAdmissionPolicy to take effect", 30_000, async () => {
      try {
        await vakt.request("POST", networkPolicies(foreign), {
          body: denyAll("probe"),
          query: { dryRun: "All" },
        });
      } catch (error) {
        if (error instanceof KubeError && /ValidatingAdmissionPolicy/.test(error.message)) return true;
      }
      return undefined;
    });
    // vakt creates its Tenant namespaces itself, with the tenant label.
    await vakt.request("PATCH", ns(managed), {
      body: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: managed, labels: { [TENANT_LABEL]: id } },
      },
      contentType: APPLY_PATCH,
      query: { fieldManager: "vakt" },
    });
  });

  after(async () => {
    await removeKubeconfig();
    await kubectl([
      "delete",
      "--ignore-not-found",
      "--wait=false",
      `namespace/${own}`,
      `namespace/${managed}`,
      `namespace/${foreign}`,
      "validatingwebhookconfiguration/vakt",
      ...clusterScopedNames(rest),
    ]).catch(() => undefined);
  });

  it("(a) may not bind a role in kube-system or in a namespace it does not manage", async () => {
    for (const namespace of ["kube-system", foreign])
      await refused(
        `RoleBinding edit in ${namespace}`,
        vakt.request("POST", roleBindings(namespace), {
          body: roleBinding("tenant-edit", "edit", user("mallory")),
        }),
        byPolicy(`only in namespaces labelled ${TENANT_LABEL}`),
      );
    // What a Tenant's owners get, where vakt manages: allowed.
    await vakt.request("POST", roleBindings(managed), {
      body: roleBinding("tenant-edit", "edit", user("owner@example.com")),
    });
  });

  it("(b) may not label a namespace it does not manage as a Tenant's, nor write there after trying", async () => {
    for (const label of [TENANT_LABEL, INTEGRATIONS_LABEL])
      await refused(
        `label ${label} on namespace ${foreign}`,
        vakt.request("PATCH", ns(foreign), {
          body: { metadata: { labels: { [label]: INTEGRATIONS_ALLOWED } } },
          contentType: "application/merge-patch+json",
        }),
        byPolicy(`only if it is labelled ${TENANT_LABEL} before and after`),
      );
    await refused(
      `NetworkPolicy in ${foreign}`,
      vakt.request("POST", networkPolicies(foreign), { body: denyAll("open") }),
      byPolicy(`namespace ${foreign} is not one`),
    );
    // Its own Tenant namespace: labels may change.
    await vakt.request("PATCH", ns(managed), {
      body: { metadata: { labels: { team: "a" } } },
      contentType: "application/merge-patch+json",
    });
  });

  it("(c) may not delete a namespace it does not manage", async () => {
    await refused(
      `delete namespace ${foreign}`,
      vakt.request("DELETE", ns(foreign)),
      byPolicy(`may DELETE namespace ${foreign} only if`),
    );
    const still = await admin.request("GET", ns(foreign));
    assert.equal((still.body["metadata"] as Json)["deletionTimestamp"], undefined);
  });

  it("(d) may not switch its checks off: webhook configurations keep all but caBundle, the policy is out of reach", async () => {
    // A configuration named like the install's, judging nothing (other tests share the cluster).
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "vakt" },
        webhooks: [
          {
            name: "validate.vakt.dev",
            clientConfig: { url: "https://127.0.0.1:9/validate" },
            rules: [
              {
                apiGroups: ["vakt.test"],
                apiVersions: ["v1"],
                resources: ["nothings"],
                operations: ["CREATE"],
              },
            ],
            failurePolicy: "Fail",
            sideEffects: "None",
            admissionReviewVersions: ["v1"],
          },
        ],
      }),
    );
    const path = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/vakt";
    const patch = (operations: Json[]): Promise<unknown> =>
      vakt.request("PATCH", path, { body: operations, contentType: "application/json-patch+json" });
    for (const [field, value] of [
      ["failurePolicy", "Ignore"],
      ["namespaceSelector", { matchLabels: { nothing: "matches" } }],
      ["rules", []],
      ["clientConfig/url", "https://attacker.example.com/validate"],
    ] as const)
      await refused(
        `set ${field} of the webhook`,
        patch([{ op: "replace", path: `/webhooks/0/${field}`, value }]),
        byPolicy("may change only clientConfig.caBundle"),
      );
    await refused("delete the validating webhook configuration", vakt.request("DELETE", path), byRbac);
    // Keeping the CA current is vakt's work: allowed.
    await patch([
      { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: Buffer.from("ca").toString("base64") },
    ]);

    const policies = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
    const bindings = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
    for (const target of [`${policies}/vakt-${id}`, `${bindings}/vakt-${id}`]) {
      await refused(`delete ${target}`, vakt.request("DELETE", target), byRbac);
      await refused(
        `patch ${target}`,
        vakt.request("PATCH", target, {
          body: { spec: { validationActions: ["Audit"] } },
          contentType: "application/merge-patch+json",
        }),
        byRbac,
      );
    }
    await refused(
      "create another ValidatingAdmissionPolicyBinding",
      vakt.request("POST", bindings, {
        body: {
          metadata: { name: `vakt-audit-${id}` },
          spec: { policyName: `vakt-${id}`, validationActions: ["Audit"] },
        },
      }),
      byRbac,
    );
  });

  it("(e, g, h) binds only admin, edit and view to users and groups: no other role, no service account, no ClusterRoleBinding, no escalate or impersonate", async () => {
    await refused(
      "RoleBinding to vakt's own ClusterRole (RBAC allows it: vakt holds all its permissions)",
      vakt.request("POST", roleBindings(managed), {
        body: roleBinding("copy", clusterRole, user("mallory")),
      }),
      byPolicy("may bind only the ClusterRoles admin, edit, view"),
    );
    for (const [what, subject] of [
      ["vakt's own ServiceAccount", { kind: "ServiceAccount", name: "vakt", namespace: own }],
      [
        "every authenticated user",
        { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:authenticated" },
      ],
    ] as const)
      await refused(
        `RoleBinding admin to ${what}`,
        vakt.request("POST", roleBindings(managed), {
          body: roleBinding(`admin-${what.length}`, "admin", subject),
        }),
        byPolicy("to users and groups"),
      );
    await refused(
      "ClusterRoleBinding",
      vakt.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        body: {
          metadata: { name: `vakt-admin-${id}` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
          subjects: [{ kind: "ServiceAccount", name: "vakt", namespace: own }],
        },
      }),
      byRbac,
    );
    for (const attributes of [
      { group: "rbac.authorization.k8s.io", resource: "clusterroles", verb: "escalate" },
      { group: "rbac.authorization.k8s.io", resource: "roles", verb: "escalate", namespace: managed },
      { group: "rbac.authorization.k8s.io", resource: "clusterroles", verb: "bind", name: "cluster-admin" },
      { group: "", resource: "users", verb: "impersonate" },
      { group: "", resource: "serviceaccounts", verb: "impersonate", namespace: "kube-system" },
      { group: "", resource: "groups", verb: "impersonate", name: "system:masters" },
    ])
      assert.equal(await allowed(saConfig, attributes), false, JSON.stringify(attributes));
  });

  it("(f) may not write ConfigMaps, Secrets, Services, ServiceAccounts, NetworkPolicies or Events outside its namespaces", async () => {
    const objects = (namespace: string): [string, Json][] => [
      ["configmaps", { metadata: { name: "x" }, data: { a: "b" } }],
      ["secrets", { metadata: { name: "x" }, stringData: { a: "b" } }],
      ["services", { metadata: { name: "x" }, spec: { ports: [{ port: 80 }] } }],
      ["serviceaccounts", { metadata: { name: "x" } }],
      [
        "events",
        {
          metadata: { name: "x" },
          involvedObject: { kind: "Pod", name: "x", namespace },
          reason: "x",
          message: "x",
        },
      ],
    ];
    for (const namespace of ["kube-system", foreign]) {
      for (const [resource, body] of objects(namespace))
        await refused(
          `${resource} in ${namespace}`,
          vakt.request("POST", `${ns(namespace)}/${resource}`, { body }),
          resource === "events" ? byPolicy("may record Events only in") : byRbac,
        );
      await refused(
        `NetworkPolicy in ${namespace}`,
        vakt.request("POST", networkPolicies(namespace), { body: denyAll("open") }),
        byPolicy(`namespace ${namespace} is not one`),
      );
    }
    // Its Tenant namespace: the guardrails it owns are allowed.
    await vakt.request("POST", networkPolicies(managed), { body: denyAll("default-deny") });
  });

  it("(i) may not get a pod to run as another ServiceAccount", async () => {
    await refused(
      `RoleBinding edit to itself in ${managed}`,
      vakt.request("POST", roleBindings(managed), {
        body: roleBinding("self-edit", "edit", { kind: "ServiceAccount", name: "vakt", namespace: own }),
      }),
      byPolicy("to users and groups"),
    );
    const pod = {
      metadata: { name: "x" },
      spec: { serviceAccountName: "default", containers: [{ name: "x", image: "registry.example.com/x:1" }] },
    };
    for (const namespace of [managed, foreign, "kube-system"]) {
      await refused(
        `pod in ${namespace}`,
        vakt.request("POST", `${ns(namespace)}/pods`, { body: pod }),
        byRbac,
      );
      await refused(
        `Deployment in ${namespace}`,
        vakt.request("POST", `/apis/apps/v1/namespaces/${namespace}/deployments`, {
          body: {
            metadata: { name: "x" },
            spec: {
              selector: { matchLabels: { a: "b" } },
              template: { metadata: { labels: { a: "b" } }, spec: pod.spec },
            },
          },
        }),
        byRbac,
      );
    }
    await refused(
      "a token of kube-system's ServiceAccount",
      vakt.request("POST", `${ns("kube-system")}/serviceaccounts/default/token`, { body: { spec: {} } }),
      byRbac,
    );
  });

  it("writes a Tenant's Velero and Argo CD objects outside its namespaces only where an administrator allows it", async () => {
    const schedules = (namespace: string): string => `/apis/velero.io/v1/namespaces/${namespace}/schedules`;
    const schedule = {
      apiVersion: "velero.io/v1",
      kind: "Schedule",
      metadata: { name: "x" },
      spec: { schedule: "0 1 * * *", template: {} },
    };
    await refused(
      `Velero Schedule in ${foreign}`,
      vakt.request("POST", schedules(foreign), { body: schedule }),
      byPolicy(`kubectl label namespace ${foreign} ${INTEGRATIONS_LABEL}=${INTEGRATIONS_ALLOWED}`),
    );
    await kubectl(["label", "namespace", foreign, `${INTEGRATIONS_LABEL}=${INTEGRATIONS_ALLOWED}`]);
    await eventually("the Schedule to be admitted once the namespace is labelled", 10_000, async () => {
      try {
        await vakt.request("POST", schedules(foreign), { body: schedule });
        return true;
      } catch (error) {
        if (error instanceof KubeError && error.code === 403) return undefined;
        throw error;
      }
    });
  });
});
