import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { stringify } from "yaml";
import { applyDefaults, toOpenApi, validateAgainst, walk } from "./builder.ts";
import type { JsonSchema } from "./builder.ts";
import { tenantCrd, tenantSpecSchema } from "./schema.ts";
import type { TenantSpec, TenantSpecInput } from "./types.ts";

function* schemaNodes(schema: JsonSchema, path = "spec"): Generator<[string, JsonSchema]> {
  yield [path, schema];
  const properties = schema["properties"] as Record<string, JsonSchema> | undefined;
  for (const [key, child] of Object.entries(properties ?? {})) yield* schemaNodes(child, `${path}.${key}`);
  if (schema["items"] !== undefined) yield* schemaNodes(schema["items"] as JsonSchema, `${path}[]`);
  if (typeof schema["additionalProperties"] === "object")
    yield* schemaNodes(schema["additionalProperties"] as JsonSchema, `${path}.*`);
}

const crd = tenantCrd() as {
  spec: {
    versions: {
      schema: { openAPIV3Schema: JsonSchema };
      subresources: unknown;
      additionalPrinterColumns: unknown[];
    }[];
  };
};
const version = crd.spec.versions.at(0);
const root = version?.schema.openAPIV3Schema;

describe("Tenant CRD", () => {
  it("is one served, stored, cluster-scoped version with a status subresource and printer columns", () => {
    assert.equal(crd.spec.versions.length, 1);
    assert.deepEqual(version?.subresources, { status: {} });
    assert.ok(version.additionalPrinterColumns.length >= 3);
    assert.equal((tenantCrd()["spec"] as { scope: string }).scope, "Cluster");
  });

  it("is structural: every node has a type and a description; properties never meet additionalProperties", () => {
    assert.ok(root);
    for (const [path, node] of schemaNodes(root, "")) {
      if (path === ".metadata") continue;
      assert.equal(typeof node["type"], "string", `${path} has no type`);
      assert.ok(!(node["properties"] !== undefined && node["additionalProperties"] !== undefined), path);
      if (path.startsWith(".spec") || path.startsWith(".status"))
        assert.ok(
          typeof node["description"] === "string" && node["description"] !== "",
          `${path} has no description`,
        );
      for (const key of Object.keys(node))
        assert.ok(
          !["anyOf", "oneOf", "allOf", "not", "$ref", "additionalItems"].includes(key) || path === "",
          `${path} uses ${key}`,
        );
    }
  });

  it("has enums and patterns where values are constrained", () => {
    const nodes = new Map(schemaNodes(toOpenApi(tenantSpecSchema)));
    assert.deepEqual(nodes.get("spec.owners[].role")?.["enum"], ["admin", "edit", "view"]);
    assert.deepEqual(nodes.get("spec.owners[].kind")?.["enum"], ["Group", "User"]);
    assert.equal(typeof nodes.get("spec.namespaces[].name")?.["pattern"], "string");
    assert.equal(typeof nodes.get("spec.backup.schedule")?.["pattern"], "string");
    assert.equal(typeof nodes.get("spec.quota.requests.cpu")?.["pattern"], "string");
    assert.equal(typeof nodes.get("spec.network.egress[].cidr")?.["pattern"], "string");
    assert.deepEqual(nodes.get("spec.owners")?.["x-kubernetes-list-map-keys"], ["kind", "name"]);
    assert.deepEqual(nodes.get("spec")?.["required"], ["owners", "namespaces"]);
  });

  it("every default is valid against its own schema (checked by ajv and by the builder)", () => {
    const ajv = new Ajv({ strict: false });
    let count = 0;
    for (const [path, node] of walk(tenantSpecSchema)) {
      if (node.data.default === undefined) continue;
      count++;
      const value = applyDefaults(node, node.data.default);
      assert.deepEqual(validateAgainst(node, value), [], path.join("."));
      const schema = JSON.parse(JSON.stringify(toOpenApi(node)), (key: string, v: unknown) =>
        key.startsWith("x-kubernetes-") ? undefined : v,
      ) as object;
      assert.ok(ajv.validate(schema, value), `${path.join(".")}: ${ajv.errorsText()}`);
    }
    assert.ok(count > 20, `only ${count} defaults`);
  });

  it("the builder's validator agrees with ajv on the generated schema (backup on by default)", () => {
    const spec: TenantSpecInput = { owners: [{ kind: "Group", name: "team" }], namespaces: [{ name: "t" }] };
    const defaulted = applyDefaults(tenantSpecSchema, spec) as TenantSpec;
    assert.equal(defaulted.namespaces[0]?.backup.enabled, true);
    assert.equal(defaulted.backup.schedule, "0 2 * * *");
    assert.equal(defaulted.owners[0]?.role, "view");
    assert.equal(defaulted.network.ingressControllerNamespace, "ingress-nginx");
    const ajv = new Ajv({ strict: false });
    const schema = JSON.parse(JSON.stringify(toOpenApi(tenantSpecSchema)), (key: string, v: unknown) =>
      key.startsWith("x-kubernetes-") ? undefined : v,
    ) as object;
    assert.ok(ajv.validate(schema, defaulted), ajv.errorsText());
    const bad = { ...spec, owners: [{ kind: "Robot", name: "x" }] };
    assert.equal(ajv.validate(schema, bad), false);
    assert.notDeepEqual(validateAgainst(tenantSpecSchema, bad), []);
  });

  it("prints as YAML", () => {
    assert.match(stringify(tenantCrd()), /name: tenants\.vakt\.dev/);
  });
});

// Compile-time checks (tsc): the derived types say what the schema says.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const _roleIsEnum: Equal<TenantSpec["owners"][number]["role"], "admin" | "edit" | "view"> = true;
const _backupDefaulted: Equal<TenantSpec["namespaces"][number]["backup"]["enabled"], boolean> = true;
const _inputRoleOptional: Equal<
  Pick<TenantSpecInput["owners"][number], "role">,
  { readonly role?: "admin" | "edit" | "view" }
> = true;
const _gitopsOptional: Equal<
  Pick<TenantSpec, "gitops">["gitops"] extends infer G ? (undefined extends G ? true : false) : never,
  true
> = true;
it("derives the TypeScript types from the schema (checked by tsc)", () => {
  assert.deepEqual(
    [_roleIsEnum, _backupDefaulted, _inputRoleOptional, _gitopsOptional],
    [true, true, true, true],
  );
});
