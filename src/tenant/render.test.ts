import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { TENANT_CHILD_KINDS, childKindRank } from "../api/registry.ts";
import { formatObjects } from "../cli/render-tenants.ts";
import { setting } from "../config/settings.ts";
import { RuleSet, evaluateObject } from "../engine/evaluate.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { KubeObject } from "../engine/types.ts";
import { MANAGED_BY, MANAGED_BY_LABEL, TENANT_LABEL, renderTenant } from "./render.ts";
import type { Tenant } from "./types.ts";
import { parseTenant } from "./validate.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = join(ROOT, "examples", "tenants");
const GOLDEN = join(ROOT, "test", "golden", "tenant");
const examples = readdirSync(EXAMPLES)
  .filter((file) => file.endsWith(".yaml"))
  .sort();

function loadExample(file: string): Tenant {
  const parsed = parseTenant(parse(readFileSync(join(EXAMPLES, file), "utf8")));
  assert.deepEqual(parsed.problems, []);
  assert.ok(parsed.tenant);
  return parsed.tenant;
}

function render(tenant: Tenant): KubeObject[] {
  const result = renderTenant(tenant);
  assert.deepEqual(result.problems, []);
  return result.objects;
}

describe("renderTenant", () => {
  it("has at least two examples", () => {
    assert.ok(examples.length >= 2);
  });

  for (const file of examples) {
    describe(file, () => {
      const tenant = loadExample(file);
      const objects = render(tenant);

      it("matches its golden file (UPDATE_GOLDEN=1 rewrites it)", () => {
        const golden = join(GOLDEN, basename(file));
        const actual = formatObjects(objects, "yaml");
        if (setting("updateGolden") === "1") writeFileSync(golden, actual);
        assert.equal(actual, readFileSync(golden, "utf8"));
      });

      it("renders only the child kinds the controller watches, in their registered order", () => {
        const ranks = objects.map((o) => childKindRank(String(o.apiVersion), String(o.kind)));
        for (const [i, rank] of ranks.entries())
          assert.ok(
            rank < TENANT_CHILD_KINDS.length,
            `${String(objects[i]?.apiVersion)} ${String(objects[i]?.kind)} is not a registered child kind`,
          );
        assert.deepEqual(
          ranks,
          [...ranks].sort((a, b) => a - b),
        );
      });

      it("is deterministic and does not change its input", () => {
        const before = JSON.stringify(tenant);
        assert.deepEqual(render(tenant), objects);
        assert.equal(JSON.stringify(tenant), before);
      });

      it("labels every object with the tenant, and names them uniquely", () => {
        const keys = new Set<string>();
        for (const object of objects) {
          const metadata = object.metadata as {
            name: string;
            namespace?: string;
            labels: Record<string, string>;
          };
          assert.equal(metadata.labels[MANAGED_BY_LABEL], MANAGED_BY);
          assert.equal(metadata.labels[TENANT_LABEL], tenant.metadata.name);
          const key = `${String(object.apiVersion)}/${String(object.kind)}/${metadata.namespace ?? ""}/${metadata.name}`;
          assert.ok(!keys.has(key), `duplicate ${key}`);
          keys.add(key);
        }
      });

      it("passes vakt's own safeguards: no unsuppressed deny or warn finding", () => {
        const ruleSet = new RuleSet(ALL_RULES);
        const inventory = listInventory(objects, true);
        const settings = {
          pssVersion: "latest",
          registries: tenant.spec.registries ?? [],
          allowedRegions: tenant.spec.regions ?? [],
          now: new Date("2026-01-01T00:00:00Z"),
        };
        const findings = objects.flatMap((object) =>
          evaluateObject(object, ruleSet, { settings, inventory }).map(
            (finding) =>
              `${String(object.kind)} ${JSON.stringify(object.metadata)}: ${finding.rule}: ${finding.message}`,
          ),
        );
        assert.deepEqual(findings, []);
      });

      it("gives every namespace default-deny, DNS and ingress-controller policies, a quota and a LimitRange", () => {
        for (const namespace of tenant.spec.namespaces) {
          const names = objects
            .filter((o) => (o.metadata as { namespace?: string }).namespace === namespace.name)
            .map((o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`);
          for (const expected of [
            "NetworkPolicy/default-deny",
            "NetworkPolicy/allow-dns",
            "NetworkPolicy/allow-ingress-controller",
            "ResourceQuota/tenant-quota",
            "LimitRange/tenant-limits",
          ])
            assert.ok(names.includes(expected), `${namespace.name} lacks ${expected}`);
        }
      });
    });
  }

  it("backs up every namespace except justified opt-outs, which carry the label and annotation", () => {
    const tenant = loadExample("clinical-dashboard.yaml");
    const objects = render(tenant);
    const schedule = objects.find((o) => o.kind === "Schedule") as
      { spec: { template: { includedNamespaces: string[] } } } | undefined;
    assert.deepEqual(schedule?.spec.template.includedNamespaces, ["carelink-app", "carelink-db"]);
    const preview = objects.find(
      (o) => o.kind === "Namespace" && (o.metadata as { name: string }).name === "carelink-preview",
    ) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } | undefined;
    assert.equal(preview?.metadata.labels["vakt.dev/backup"], "disabled");
    assert.match(preview.metadata.annotations["vakt.dev/backup-justification"] ?? "", /synthetic/);
  });

  it("renders nothing for a Tenant with semantic errors", () => {
    const tenant = loadExample("research-saas.yaml");
    const broken: Tenant = {
      ...tenant,
      spec: {
        ...tenant.spec,
        namespaces: [...tenant.spec.namespaces, { name: "other", backup: { enabled: true } }],
      },
    };
    const result = renderTenant(broken);
    assert.deepEqual(result.objects, []);
    assert.ok(result.problems.some((p) => p.severity === "error"));
  });
});
