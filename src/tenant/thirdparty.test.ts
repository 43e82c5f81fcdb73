import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import type { KubeObject } from "../engine/types.ts";
import { thirdPartyCrdFiles } from "../testing/third-party-crds.ts";
import { renderTenant } from "./render.ts";
import { parseTenant } from "./validate.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "tenants");
const CORE_GROUPS = new Set(["v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1"]);

/** An OpenAPI v3 (Kubernetes flavour) schema as JSON Schema for ajv: int-or-string, nullable, no x-kubernetes-*. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const input = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable") continue;
    // "properties" maps names to schemas: keep the names, convert the schemas.
    if (key === "properties" && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, child]) => [name, toJsonSchema(child)]),
      );
    } else out[key] = toJsonSchema(value);
  }
  if (input["x-kubernetes-int-or-string"] === true) {
    delete out["type"];
    out["anyOf"] = [{ type: "integer" }, { type: "string" }];
  }
  if (input["nullable"] === true && typeof out["type"] === "string") out["type"] = [out["type"], "null"];
  if (input["x-kubernetes-preserve-unknown-fields"] === true && out["type"] === undefined)
    out["type"] = "object";
  // Structural schemas prune unknown fields; a rendered field the CRD does not know is a bug here.
  if (
    out["type"] === "object" &&
    out["properties"] !== undefined &&
    out["additionalProperties"] === undefined
  )
    out["additionalProperties"] = input["x-kubernetes-preserve-unknown-fields"] === true;
  return out;
}

/** CRD patterns are Go RE2: turn (?i) into the JavaScript flag. */
function goRegExp(pattern: string, flags: string): RegExp {
  return pattern.includes("(?i)")
    ? new RegExp(pattern.replaceAll("(?i)", ""), `${flags}i`)
    : new RegExp(pattern, flags);
}
goRegExp.code = "new RegExp";

function renderedExamples(): KubeObject[] {
  return readdirSync(EXAMPLES)
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) => {
      const parsed = parseTenant(parse(readFileSync(join(EXAMPLES, file), "utf8")));
      assert.ok(parsed.tenant, file);
      return renderTenant(parsed.tenant).objects;
    });
}

describe("rendered third-party objects against the projects' real CRDs", () => {
  const validators = new Map<string, ValidateFunction>();
  const versions: string[] = [];

  before(async () => {
    const ajv = new Ajv({
      strict: false,
      allErrors: true,
      validateFormats: false,
      code: { regExp: goRegExp },
    });
    for (const project of await thirdPartyCrdFiles()) {
      versions.push(`${project.project}@${project.version}`);
      for (const file of project.files) {
        for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
          const crd = document.toJS() as {
            kind?: string;
            spec: {
              group: string;
              names: { kind: string };
              versions: { name: string; schema: { openAPIV3Schema: unknown } }[];
            };
          } | null;
          if (crd?.kind !== "CustomResourceDefinition") continue;
          for (const version of crd.spec.versions) {
            const schema = toJsonSchema(version.schema.openAPIV3Schema) as Record<string, unknown>;
            // metadata is validated by the API server itself, not by the CRD schema.
            const properties = schema["properties"] as Record<string, unknown>;
            properties["metadata"] = { type: "object" };
            validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(schema));
          }
        }
      }
    }
  });

  it("finds every pinned CRD in the Go module cache", () => {
    assert.ok(versions.length >= 7, versions.join(", "));
    assert.ok(validators.size >= 10, [...validators.keys()].join(", "));
  });

  it("every rendered non-core object validates against its CRD", () => {
    const checked = new Set<string>();
    const failures: string[] = [];
    for (const object of renderedExamples()) {
      const apiVersion = String(object.apiVersion);
      if (CORE_GROUPS.has(apiVersion)) continue;
      const key = `${apiVersion}/${String(object.kind)}`;
      const validate = validators.get(key);
      if (validate === undefined) {
        failures.push(`no CRD for ${key}`);
        continue;
      }
      checked.add(key);
      const metadata = JSON.stringify(object.metadata);
      if (!validate(object))
        failures.push(
          `${key} ${metadata}: ${JSON.stringify(validate.errors?.map((e) => `${e.instancePath} ${e.message ?? ""} ${JSON.stringify(e.params)}`))}`,
        );
    }
    assert.deepEqual(failures, []);
    assert.deepEqual([...checked].sort(), [
      "argoproj.io/v1alpha1/AppProject",
      "argoproj.io/v1alpha1/Application",
      "cert-manager.io/v1/Certificate",
      "databases.spotahome.com/v1/RedisFailover",
      "monitoring.coreos.com/v1/PodMonitor",
      "monitoring.coreos.com/v1/PrometheusRule",
      "monitoring.coreos.com/v1/ServiceMonitor",
      "postgresql.cnpg.io/v1/Cluster",
      "postgresql.cnpg.io/v1/ScheduledBackup",
      "rabbitmq.com/v1beta1/RabbitmqCluster",
      "velero.io/v1/Schedule",
    ]);
  });

  it("the validator catches a field the CRD does not know", () => {
    const validate = validators.get("cert-manager.io/v1/Certificate");
    assert.ok(validate);
    assert.equal(
      validate({
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: {},
        spec: { secretName: "x", issuerRef: { name: "a" }, hostz: [] },
      }),
      false,
    );
  });
});
