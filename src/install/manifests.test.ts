import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { RuleSet, evaluateObject } from "../engine/evaluate.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import { TENANT_CHILD_KINDS } from "../api/registry.ts";
import { thirdPartyCrdFiles } from "../testing/third-party-crds.ts";
import { tenantCrd } from "../tenant/schema.ts";
import type { KubeObject } from "../engine/types.ts";
import { INVENTORY_RESOURCES } from "../manager/inventory.ts";
import { parseAllDocuments } from "yaml";
import { parseParts } from "../cli/run.ts";
import { installManifests } from "./manifests.ts";
import { TENANT_WRITES } from "./confinement.ts";

function manifests(tls: "cert-manager" | "self"): KubeObject[] {
  return installManifests({
    namespace: "vakt-system",
    image: "ghcr.io/vakt-dev/vakt:0.1.0",
    replicas: 2,
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    tls,
    rules: ALL_RULES,
    crds: [tenantCrd()],
  });
}

describe("vakt install", () => {
  for (const tls of ["cert-manager", "self"] as const) {
    it(`passes vakt's own rules with a registry allow-list (tls ${tls})`, () => {
      const objects = manifests(tls);
      const ruleSet = new RuleSet(ALL_RULES);
      const context = {
        settings: {
          pssVersion: "latest",
          registries: ["ghcr.io/vakt-dev"],
          allowedRegions: [],
          now: new Date("2026-01-01T00:00:00Z"),
        },
        inventory: listInventory(objects, true),
      };
      const findings = objects.flatMap((object) =>
        evaluateObject(object, ruleSet, context).map(
          (f) => `${String(object.kind)}: ${f.rule}: ${f.message}`,
        ),
      );
      assert.deepEqual(findings, []);
    });
  }

  it("grants no wildcard permissions and limits webhook-configuration writes to vakt's own", () => {
    const roles = manifests("self").filter((o) => o.kind === "ClusterRole" || o.kind === "Role");
    const rules = roles.flatMap(
      (role) =>
        role["rules"] as {
          apiGroups: string[];
          resources: string[];
          verbs: string[];
          resourceNames?: string[];
        }[],
    );
    assert.ok(rules.length > 10);
    for (const rule of rules) {
      for (const list of [rule.apiGroups, rule.resources, rule.verbs])
        assert.ok(!list.includes("*"), JSON.stringify(rule));
      if (rule.resources.some((r) => r.endsWith("webhookconfigurations")))
        assert.deepEqual(rule.resourceNames, ["vakt"]);
      if (rule.verbs.includes("bind")) assert.deepEqual(rule.resourceNames, ["admin", "edit", "view"]);
    }
  });

  for (const tls of ["cert-manager", "self"] as const)
    it(`confines vakt's ServiceAccount with a fail-closed ValidatingAdmissionPolicy, in place before its ClusterRole is bound (tls ${tls})`, () => {
      const objects = manifests(tls);
      const index = (kind: string): number => objects.findIndex((o) => o.kind === kind);
      const policy = objects[index("ValidatingAdmissionPolicy")];
      const binding = objects[index("ValidatingAdmissionPolicyBinding")];
      assert.ok(policy !== undefined && binding !== undefined, "a policy and its binding are printed");
      const spec = policy["spec"] as {
        failurePolicy: string;
        matchConditions: { expression: string }[];
        validations: { expression: string }[];
      };
      assert.equal(spec.failurePolicy, "Fail");
      assert.deepEqual(
        spec.matchConditions.map((c) => c.expression),
        ['request.userInfo.username == "system:serviceaccount:vakt-system:vakt"'],
      );
      assert.deepEqual(binding["spec"], { policyName: "vakt", validationActions: ["Deny"] });
      assert.ok(index("ValidatingAdmissionPolicyBinding") < index("ClusterRoleBinding"));
      // Every kind the ClusterRole lets vakt write is one the policy knows; the rest it refuses.
      const writes = ["create", "update", "patch", "delete"];
      const role = objects.find((o) => o.kind === "ClusterRole");
      const allowList = spec.validations[0]?.expression ?? "";
      for (const rule of (role?.["rules"] ?? []) as {
        apiGroups: string[];
        resources: string[];
        verbs: string[];
      }[])
        if (rule.verbs.some((verb) => writes.includes(verb)))
          for (const group of rule.apiGroups)
            for (const resource of rule.resources)
              assert.ok(
                allowList.includes(`"${group}/${resource}"`),
                `${group}/${resource} is in the policy`,
              );
    });

  it("reads no Secret cluster-wide: only vakt's own namespace, for its CA", () => {
    const rules = (kind: string) =>
      manifests("self")
        .filter((o) => o.kind === kind)
        .flatMap((o) => (o["rules"] ?? []) as { apiGroups: string[]; resources: string[] }[]);
    const namesSecrets = (rule: { apiGroups: string[]; resources: string[] }) =>
      rule.apiGroups.includes("") && rule.resources.some((r) => r === "secrets" || r === "*");
    assert.deepEqual(rules("ClusterRole").filter(namesSecrets), []);
    assert.equal(rules("Role").filter(namesSecrets).length, 1);
  });

  it("writes cluster-wide only what the Tenant controller applies, namespaces, events, the audit's reports and the backup locations' status", () => {
    const role = manifests("self").find((o) => o.kind === "ClusterRole");
    const written = (
      (role?.["rules"] ?? []) as { apiGroups: string[]; resources: string[]; verbs: string[] }[]
    )
      .filter((rule) => rule.verbs.some((verb) => ["create", "update", "patch", "delete"].includes(verb)))
      .flatMap((rule) =>
        rule.apiGroups.flatMap((group) => rule.resources.map((resource) => `${group}/${resource}`)),
      )
      .sort();
    const expected = [
      ...TENANT_WRITES.flatMap((grant) => grant.resources.map((resource) => `${grant.group}/${resource}`)),
      "/namespaces",
      "/events",
      "events.k8s.io/events",
      "vakt.dev/tenants",
      "vakt.dev/tenants/status",
      "vakt.dev/backuplocations/status",
      "admissionregistration.k8s.io/validatingwebhookconfigurations",
      "admissionregistration.k8s.io/mutatingwebhookconfigurations",
      "openreports.io/reports",
      "openreports.io/clusterreports",
    ].sort();
    assert.deepEqual(written, expected);
  });

  it("lets the webhook list and watch every kind of its live inventory, cluster-wide", () => {
    const role = manifests("self").find((o) => o.kind === "ClusterRole");
    const rules = (role?.["rules"] ?? []) as {
      apiGroups: string[];
      resources: string[];
      verbs: string[];
      resourceNames?: string[];
    }[];
    for (const { apiVersion, plural } of INVENTORY_RESOURCES) {
      const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
      for (const verb of ["get", "list", "watch"])
        assert.ok(
          rules.some(
            (rule) =>
              rule.apiGroups.includes(group ?? "") &&
              rule.resources.includes(plural) &&
              rule.verbs.includes(verb) &&
              rule.resourceNames === undefined,
          ),
          `${verb} ${plural}`,
        );
    }
  });

  it("registers webhooks that skip kube-system and vakt's namespace, fail closed, and inject the CA via cert-manager", () => {
    const validating = manifests("cert-manager").find((o) => o.kind === "ValidatingWebhookConfiguration");
    assert.ok(validating !== undefined);
    const webhook = (validating["webhooks"] as Record<string, unknown>[])[0];
    assert.ok(webhook !== undefined);
    assert.equal(webhook["failurePolicy"], "Fail");
    assert.deepEqual(webhook["namespaceSelector"], {
      matchExpressions: [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "vakt-system"] },
      ],
    });
    const resources = (webhook["rules"] as { resources: string[] }[]).flatMap((r) => r.resources);
    for (const resource of ["pods", "deployments", "cronjobs", "services", "ingresses", "policyexceptions"])
      assert.ok(resources.includes(resource), resource);
    assert.deepEqual((validating.metadata as Record<string, unknown>)["annotations"], {
      "cert-manager.io/inject-ca-from": "vakt-system/vakt-webhook",
    });
  });

  it("starts Node in the Deployment with the run flags, and Node accepts them in NODE_OPTIONS", () => {
    const deployment = manifests("self").find((o) => o.kind === "Deployment");
    const spec = (deployment?.["spec"] as { template: { spec: { containers: { env?: unknown[] }[] } } })
      .template.spec;
    const env = spec.containers[0]?.env as { name: string; value: string }[] | undefined;
    const nodeOptions = env?.find((e) => e.name === "NODE_OPTIONS")?.value;
    assert.ok(nodeOptions?.includes("--max-semi-space-size=16"), JSON.stringify(env));
    // Node refuses flags it does not allow in NODE_OPTIONS (exit 9) and unknown ones.
    const run = spawnSync(process.execPath, ["-e", "0"], {
      env: { NODE_OPTIONS: nodeOptions },
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
  });

  it("grants the Tenant controller every verb it uses on every kind it applies", async () => {
    // Resource names: the built-in kinds here, the others from their projects' own CRDs.
    const plurals = new Map<string, string>([
      ["/Namespace", "namespaces"],
      ["/ResourceQuota", "resourcequotas"],
      ["/LimitRange", "limitranges"],
      ["rbac.authorization.k8s.io/RoleBinding", "rolebindings"],
      ["networking.k8s.io/NetworkPolicy", "networkpolicies"],
    ]);
    for (const project of await thirdPartyCrdFiles())
      for (const file of project.files)
        for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
          const crd = document.toJS() as {
            kind?: string;
            spec?: { group: string; names: { kind: string; plural: string } };
          } | null;
          if (crd?.kind === "CustomResourceDefinition" && crd.spec !== undefined)
            plurals.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd.spec.names.plural);
        }
    const role = manifests("self").find((o) => o.kind === "ClusterRole");
    const rules = (role?.["rules"] ?? []) as {
      apiGroups: string[];
      resources: string[];
      resourceNames?: string[];
      verbs: string[];
    }[];
    // Server-side apply (patch), list and watch for the informers, get, delete for pruning.
    const needed = ["get", "list", "watch", "patch", "delete"];
    const missing: string[] = [];
    for (const { apiVersion, kind } of TENANT_CHILD_KINDS) {
      const group = apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
      const plural = plurals.get(`${group}/${kind}`);
      assert.ok(plural !== undefined, `no resource name known for ${apiVersion} ${kind}`);
      for (const verb of needed)
        if (
          !rules.some(
            (r) =>
              r.apiGroups.includes(group) &&
              r.resources.includes(plural) &&
              r.resourceNames === undefined &&
              r.verbs.includes(verb),
          )
        )
          missing.push(`${verb} ${plural}.${group === "" ? "core" : group}`);
    }
    assert.deepEqual(missing, []);
  });
});

describe("vakt install's Deployment", () => {
  it("names the parts it runs: known ones, and not the fleet part its ClusterRole does not grant", () => {
    const deployment = manifests("self").find((object) => object.kind === "Deployment");
    const args = (
      deployment?.["spec"] as { template: { spec: { containers: { args: string[] }[] } } } | undefined
    )?.template.spec.containers[0]?.args;
    const flag = args?.find((arg) => arg.startsWith("--parts="));
    assert.ok(flag !== undefined, `--parts is given: ${JSON.stringify(args)}`);
    const parts = parseParts(flag.slice("--parts=".length));
    assert.deepEqual(parts, ["webhook", "controller", "audit", "backup"]);
    const role = JSON.stringify(manifests("self").find((object) => object.kind === "ClusterRole"));
    assert.ok(!role.includes('"environments"'), "no grant on Environments");
  });
});
