import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { finding, sampleReport } from "./fixture.test.ts";
import { renderJson, toJsonOutput } from "./json.ts";

/** The contract: keys every finding has, with their JSON types. */
const FINDING_KEYS = {
  rule: "string",
  action: "string",
  severity: "string",
  file: "string",
  line: "number",
  column: "number",
  field: "string",
  kind: "string",
  namespace: "string",
  name: "string",
  message: "string",
  fix: "string",
  suppressed: "boolean",
} as const;

function parse(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value));
  return value as Record<string, unknown>;
}

function records(value: unknown): Record<string, unknown>[] {
  assert.ok(Array.isArray(value));
  for (const item of value) assert.ok(typeof item === "object" && item !== null && !Array.isArray(item));
  return value as Record<string, unknown>[];
}

describe("json output", () => {
  it("keeps the version 1 contract for every finding, suppressed ones included", () => {
    const output = parse(renderJson(sampleReport()));
    assert.deepEqual(Object.keys(output), ["version", "summary", "findings", "problems"]);
    assert.equal(output["version"], 1);
    const findings = records(output["findings"]);
    assert.equal(findings.length, 5);
    for (const item of findings) {
      for (const [key, type] of Object.entries(FINDING_KEYS)) {
        assert.equal(typeof item[key], type, `finding.${key} is a ${type} in ${JSON.stringify(item)}`);
      }
      const controls = item["controls"];
      assert.ok(Array.isArray(controls) && controls.every((control) => typeof control === "string"));
      assert.ok(["deny", "warn", "audit"].includes(item["action"] as string));
      assert.equal(
        "exception" in item,
        item["suppressed"] === true,
        "exception present exactly when suppressed",
      );
    }
    const suppressed = findings.filter((item) => item["suppressed"] === true);
    assert.deepEqual(
      suppressed.map((item) => [item["file"], item["exception"]]),
      [["manifests/db.yaml", "legacy-db"]],
    );
    // Sorted by file (reading order), then line.
    assert.deepEqual(
      findings.map((item) => `${String(item["file"])}:${String(item["line"])}`),
      [
        "manifests/web.yaml:12",
        "manifests/web.yaml:20",
        "manifests/web.yaml:22",
        "manifests/db.yaml:15",
        "manifests/extra.yaml:1",
      ],
    );
  });

  it("counts findings by action, suppressed ones apart, and input problems by level", () => {
    const output = parse(renderJson(sampleReport()));
    assert.deepEqual(output["summary"], {
      objects: 5,
      files: 4,
      rules: 4,
      findings: 4,
      deny: 1,
      warn: 1,
      audit: 2,
      suppressed: 1,
      errors: 1,
      notes: 1,
    });
    assert.deepEqual(output["problems"], [
      {
        file: "manifests/broken.yaml",
        line: 3,
        column: 5,
        level: "error",
        message: "could not parse YAML: bad indentation",
      },
      {
        file: "manifests/extra.yaml",
        line: 9,
        level: "note",
        message: "skipped a document that is not a Kubernetes object",
      },
    ]);
  });

  it("round-trips: the text parses back to exactly the output object, pretty-printed", () => {
    const report = sampleReport();
    const text = renderJson(report);
    assert.ok(text.startsWith('{\n  "version": 1,\n') && text.endsWith("}\n"));
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(toJsonOutput(report))));
    const first = records(parse(text)["findings"])[0];
    assert.deepEqual(first, { ...finding(), controls: ["iso27001:A.8.9", "gdpr:32"] });
  });

  it("writes only the contract's keys, whatever else a finding object carries", () => {
    const extra = { ...finding(), internal: "not for output", path: ["spec"] };
    const output = parse(renderJson({ rules: [], files: [], objects: 1, findings: [extra], problems: [] }));
    const [item] = records(output["findings"]);
    assert.ok(item !== undefined);
    assert.deepEqual(Object.keys(item), [
      ...Object.keys(FINDING_KEYS).slice(0, 12),
      "controls",
      "suppressed",
    ]);
  });
});
