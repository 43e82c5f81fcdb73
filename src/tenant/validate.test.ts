import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderText } from "../cli/render-tenants.ts";
import { formatFieldPath, parseQuantity, parseTenant } from "./validate.ts";

const base = {
  apiVersion: "vakt.dev/v1alpha1",
  kind: "Tenant",
  metadata: { name: "acme" },
  spec: {
    owners: [{ kind: "Group", name: "acme-team", role: "admin" }],
    namespaces: [{ name: "acme" }, { name: "acme-db" }],
  },
};

function withSpec(spec: Record<string, unknown>): unknown {
  return { ...base, spec: { ...base.spec, ...spec } };
}

/** "path: message" of every problem of a given severity. */
function problems(value: unknown, severity: "error" | "warning" = "error"): string[] {
  return parseTenant(value)
    .problems.filter((p) => p.severity === severity)
    .map((p) => `${formatFieldPath(p.path)}: ${p.message}`);
}

function assertProblem(
  value: unknown,
  path: string,
  pattern: RegExp,
  severity: "error" | "warning" = "error",
): void {
  const found = problems(value, severity);
  assert.ok(
    found.some((p) => p.startsWith(`${path}: `) && pattern.test(p)),
    `expected ${severity} at ${path} matching ${String(pattern)}, got:\n${found.join("\n")}`,
  );
}

describe("parseTenant", () => {
  it("accepts a minimal tenant and fills in defaults", () => {
    const parsed = parseTenant(base);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.tenant?.spec.quota.pods, 100);
    assert.equal(parsed.tenant.spec.namespaces[1]?.backup.enabled, true);
  });

  it("checks the envelope", () => {
    assertProblem({ ...base, apiVersion: "vakt.dev/v1" }, "apiVersion", /must be vakt\.dev\/v1alpha1/);
    assertProblem({ ...base, metadata: { name: "Acme" } }, "metadata.name", /not a valid tenant name/);
    assertProblem(
      { ...base, metadata: { name: "acme", namespace: "x" } },
      "metadata.namespace",
      /cluster-scoped/,
    );
    assertProblem({ ...base, spec: undefined }, "spec", /is required/);
  });

  it("reports schema violations with paths, like the API server would", () => {
    assertProblem(withSpec({ owners: [] }), "spec.owners", /must not be empty/);
    assertProblem(
      withSpec({ owners: [{ kind: "Robot", name: "x" }] }),
      "spec.owners[0].kind",
      /"Robot" is not one of "Group", "User"/,
    );
    assertProblem(withSpec({ namespaces: [{ name: "Acme_DB" }] }), "spec.namespaces[0].name", /DNS label/);
    assertProblem(withSpec({ quota: { pods: "ten" } }), "spec.quota.pods", /must be an integer/);
    assertProblem(withSpec({ quota: { storage: "lots" } }), "spec.quota.storage", /Kubernetes quantity/);
    assertProblem(withSpec({ backup: { schedule: "daily" } }), "spec.backup.schedule", /five-field cron/);
    assertProblem(withSpec({ colour: "blue" }), "spec.colour", /unknown field/);
    assertProblem(
      withSpec({ namespaces: [{ name: "acme" }, { name: "acme" }] }),
      "spec.namespaces[1]",
      /duplicate entry/,
    );
    assertProblem(
      withSpec({
        services: {
          postgresql: [{ name: "db", namespace: "acme-db", backup: { destinationPath: "ftp://x" } }],
        },
      }),
      "spec.services.postgresql[0].backup.destinationPath",
      /s3:\/\/, gs:\/\/ or https:\/\//,
    );
    assertProblem(
      withSpec({ services: { redis: [{ name: "c", namespace: "acme" }] } }),
      "spec.services.redis[0].passwordSecret",
      /is required/,
    );
  });

  it("requires namespaces named after the tenant", () => {
    assertProblem(
      withSpec({ namespaces: [{ name: "billing" }] }),
      "spec.namespaces[0].name",
      /"acme" or "acme-<suffix>"/,
    );
  });

  it("requires a justification to opt a namespace out of backup", () => {
    assertProblem(
      withSpec({ namespaces: [{ name: "acme", backup: { enabled: false } }] }),
      "spec.namespaces[0].backup.justification",
      /without a justification/,
    );
    assert.deepEqual(
      problems(
        withSpec({
          namespaces: [{ name: "acme", backup: { enabled: false, justification: "scratch data" } }],
        }),
      ),
      [],
    );
  });

  it("rejects labels vakt owns", () => {
    assertProblem(
      withSpec({ namespaces: [{ name: "acme", labels: { "vakt.dev/backup": "disabled" } }] }),
      "spec.namespaces[0].labels.vakt.dev/backup",
      /set by vakt/,
    );
  });

  it("checks that references name the tenant's namespaces", () => {
    assertProblem(
      withSpec({
        tls: {
          issuerRef: { name: "ca" },
          certificates: [{ name: "web", namespace: "acme-web", hosts: ["a.example.com"] }],
        },
      }),
      "spec.tls.certificates[0].namespace",
      /"acme-web" is not one of the tenant's namespaces/,
    );
    assertProblem(
      withSpec({ gitops: { repoURL: "https://git.example/x.git", namespace: "other" } }),
      "spec.gitops.namespace",
      /not one of the tenant's namespaces/,
    );
    assertProblem(
      withSpec({
        network: { flows: [{ from: { tenant: "a", namespace: "a" }, to: { tenant: "b", namespace: "b" } }] },
      }),
      "spec.network.flows[0]",
      /start or end in one of this tenant's namespaces/,
    );
    assertProblem(
      withSpec({ network: { flows: [{ from: { namespace: "acme" }, to: { namespace: "acme-web" } }] } }),
      "spec.network.flows[0].to.namespace",
      /not one of the tenant's namespaces/,
    );
  });

  it("checks quantities, CIDRs and registries", () => {
    assertProblem(
      withSpec({ quota: { requests: { cpu: "32" } } }),
      "spec.quota.requests.cpu",
      /32 is more than the quota's limits\.cpu \(8\)/,
    );
    assertProblem(
      withSpec({ limits: { max: { memory: "64Gi" } } }),
      "spec.limits.max.memory",
      /more than the namespace quota/,
    );
    assertProblem(
      withSpec({ network: { egress: [{ name: "all", cidr: "0.0.0.0/0" }] } }),
      "spec.network.egress[0].cidr",
      /whole internet/,
    );
    assertProblem(
      withSpec({ network: { egress: [{ name: "x", cidr: "300.1.1.1/32" }] } }),
      "spec.network.egress[0].cidr",
      /not a valid CIDR/,
    );
    assertProblem(
      withSpec({
        registries: ["registry.acme.example"],
        services: { rabbitmq: [{ name: "mq", namespace: "acme" }] },
      }),
      "spec.services.rabbitmq[0]",
      /image "docker\.io\/rabbitmq:.*" \(the default\) is not from an allowed registry \(registry\.acme\.example\)/,
    );
  });

  it("warns about choices that will likely not work", () => {
    assertProblem(
      withSpec({
        services: {
          postgresql: [{ name: "db", namespace: "acme-db", backup: { destinationPath: "s3://b/db" } }],
        },
      }),
      "spec.network.egress",
      /CloudNativePG instances need egress/,
      "warning",
    );
    assertProblem(
      withSpec({ services: { rabbitmq: [{ name: "mq", namespace: "acme", replicas: 2 }] } }),
      "spec.services.rabbitmq[0].replicas",
      /odd number/,
      "warning",
    );
  });

  it("parses quantities", () => {
    assert.equal(parseQuantity("500m"), 0.5);
    assert.equal(parseQuantity("2Gi"), 2 * 2 ** 30);
    assert.equal(parseQuantity("1.5"), 1.5);
  });
});

describe("vakt render (renderText)", () => {
  it("renders every Tenant document of a stream and reports errors with file, document and path", () => {
    const text = `apiVersion: vakt.dev/v1alpha1
kind: Tenant
metadata: {name: acme}
spec:
  owners: [{kind: Group, name: acme-team}]
  namespaces: [{name: acme}]
---
apiVersion: vakt.dev/v1alpha1
kind: Tenant
metadata: {name: beta}
spec:
  owners: [{kind: Group, name: beta-team}]
  namespaces: [{name: other}]
`;
    assert.throws(
      () => renderText(text, "t.yaml"),
      /t\.yaml: document 2 \(Tenant beta\): error: spec\.namespaces\[0\]\.name: namespace "other" must be named after the tenant/,
    );
    const first = text.split("---\n")[0] ?? "";
    const { objects } = renderText(first, "t.yaml");
    assert.ok(objects.some((o) => o.kind === "Namespace"));
  });
});
