/**
 * What `vakt render` and `vakt crds` do, loaded by their action handlers only: the YAML library
 * and the Tenant modules are not needed by the other commands.
 */
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../engine/types.ts";
import { yamlStream } from "../outputs/yaml.ts";
import { renderTenant } from "../tenant/render.ts";
import type { TenantProblem } from "../tenant/types.ts";
import { formatFieldPath, parseTenant } from "../tenant/validate.ts";
import { UsageError } from "./errors.ts";
import { readInput } from "./input.ts";

export { tenantCrd } from "../tenant/schema.ts";

const FORMATS = ["yaml", "json"] as const;
type Format = (typeof FORMATS)[number];

export function checkFormat(value: string): Format {
  const format = FORMATS.find((f) => f === value);
  if (format === undefined)
    throw new UsageError(`unknown output format ${JSON.stringify(value)}: use yaml or json`);
  return format;
}

/** Objects as a YAML stream (documents separated by ---) or a JSON v1 List. */
export function formatObjects(objects: readonly unknown[], format: Format): string {
  if (format === "json")
    return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
  return yamlStream(objects);
}

export function readText(file: string): Promise<string> {
  return readInput(file, "tenants", { stdin: true });
}

function describeProblems(file: string, label: string, problems: readonly TenantProblem[]): string {
  return problems
    .map((p) => `${file}: ${label}: ${p.severity}: ${formatFieldPath(p.path)}: ${p.message}`)
    .join("\n");
}

/** Renders every Tenant document of a YAML/JSON text; throws UsageError listing every problem. */
export function renderText(text: string, file: string): { objects: KubeObject[]; warnings: string[] } {
  const objects: KubeObject[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new UsageError(`${file}: not a YAML stream`);
  documents.forEach((document, index) => {
    const label = `document ${index + 1}`;
    if (document.errors.length > 0) {
      errors.push(`${file}: ${label}: invalid YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      return;
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) return;
    const parsed = parseTenant(value);
    const metadata = typeof value === "object" && "metadata" in value ? value.metadata : undefined;
    const rawName =
      typeof metadata === "object" && metadata !== null && "name" in metadata ? metadata.name : undefined;
    const name = typeof rawName === "string" ? rawName : "(unnamed)";
    const where = `${label} (Tenant ${name})`;
    if (parsed.tenant === undefined) {
      errors.push(describeProblems(file, where, parsed.problems));
      return;
    }
    const rendered = renderTenant(parsed.tenant);
    const problems = rendered.problems.filter((p) => p.severity === "warning");
    if (problems.length > 0) warnings.push(describeProblems(file, where, problems));
    objects.push(...rendered.objects);
  });
  if (errors.length > 0) throw new UsageError(`invalid Tenant:\n${errors.join("\n")}`);
  return { objects, warnings };
}
