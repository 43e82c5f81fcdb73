import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, it } from "node:test";

import { Ajv } from "ajv";
import type { ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

import { finding, RULES, sampleReport } from "./fixture.test.ts";
import type { CheckReport } from "./report.ts";
import { artifactUri, FINGERPRINT_KEY, renderSarif, SARIF_SCHEMA, toSarif } from "./sarif.ts";
import type { SarifLog, SarifRule } from "./sarif.ts";

/**
 * The official OASIS SARIF 2.1.0 schema (draft-07), as shipped by the pinned `schemastore`
 * devDependency; it is not copied into this repository.
 */
function loadSchema(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const root = join(require.resolve("schemastore/package.json"), "..");
  const schema = JSON.parse(readFileSync(join(root, "schemas/json/sarif-2.1.0.json"), "utf8")) as Record<
    string,
    unknown
  >;
  assert.equal(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  assert.equal(
    schema["$id"],
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
  );
  return schema;
}

// Ajv's default class implements draft-07, the schema's dialect. unicodeRegExp is off because
// the official schema has a pattern (for "language") that is only valid without the u flag.
const ajv = new Ajv({ allErrors: true, unicodeRegExp: false });
addFormatsModule.default(ajv);
const validateSarif = ajv.compile(loadSchema());

function schemaErrors(log: unknown): readonly ErrorObject[] {
  return validateSarif(log) ? [] : (validateSarif.errors ?? []);
}

function parsed(report: CheckReport, toolVersion = "1.2.3"): SarifLog {
  return JSON.parse(
    renderSarif(report, { toolVersion, informationUri: "https://example.org/vakt" }),
  ) as SarifLog;
}

function defined<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

function firstRun(log: SarifLog): SarifLog["runs"][number] {
  const run = log.runs[0];
  assert.ok(run !== undefined);
  return run;
}

describe("sarif output", () => {
  it("validates against the official SARIF 2.1.0 schema", () => {
    assert.deepEqual(schemaErrors(parsed(sampleReport())), []);
    // Without informationUri/version options (package.json defaults) too.
    assert.deepEqual(schemaErrors(JSON.parse(renderSarif(sampleReport()))), []);
    // An empty report as well.
    assert.deepEqual(
      schemaErrors(parsed({ rules: [], files: [], objects: 0, findings: [], problems: [] })),
      [],
    );
  });

  it("the schema check can fail: broken logs are rejected", () => {
    const log = parsed(sampleReport()) as unknown as {
      runs: { results: Record<string, unknown>[]; tool: { driver: Record<string, unknown> } }[];
    };
    const run = log.runs[0];
    assert.ok(run !== undefined);
    const result = run.results[0];
    assert.ok(result !== undefined);
    result["level"] = "fatal";
    assert.ok(schemaErrors(log).some((error) => error.instancePath.endsWith("/level")));
    result["level"] = "error";
    run.tool.driver["informationUri"] = "not a uri";
    assert.ok(schemaErrors(log).some((error) => error.instancePath.endsWith("/informationUri")));
  });

  it("describes the tool and every evaluated rule", () => {
    const log = parsed(sampleReport());
    assert.equal(log.$schema, SARIF_SCHEMA);
    assert.equal(log.version, "2.1.0");
    assert.equal(log.runs.length, 1);
    const { driver } = firstRun(log).tool;
    assert.equal(driver.name, "vakt");
    assert.equal(driver.version, "1.2.3");
    assert.equal(driver.informationUri, "https://example.org/vakt");
    assert.deepEqual(
      driver.rules.map((rule) => rule.id),
      RULES.map((rule) => rule.id),
    );
    type FullRule = Required<Omit<SarifRule, "helpUri">> & Pick<SarifRule, "helpUri">;
    const [privileged, imageTag, limits, labels] = [0, 1, 2, 3].map(
      (index) => defined(driver.rules[index]) as FullRule,
    );
    assert.deepEqual(privileged, {
      id: "pss-privileged",
      name: "PssPrivileged",
      shortDescription: { text: "Containers must not run privileged" },
      fullDescription: { text: "Rationale of pss-privileged." },
      help: {
        text: "Set securityContext.privileged to false.",
        markdown: [
          "**Fix:** Set securityContext.privileged to false.",
          "**Controls:** `iso27001:A.8.9`, `gdpr:32`",
          "**Evidence boundary:** A pass of pss-privileged does not prove everything.",
          "**Reference:** <https://kubernetes.io/docs/concepts/security/pod-security-standards/>",
        ].join("\n\n"),
      },
      helpUri: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
      defaultConfiguration: { level: "error" },
      properties: {
        tags: ["iso27001:A.8.9", "gdpr:32", "pss-baseline", "pss-restricted"],
        "security-severity": "9.5",
      },
    });
    assert.equal(imageTag?.defaultConfiguration.level, "warning");
    assert.equal(imageTag.properties["security-severity"], "8.0");
    // A reference that is not a URL stays in the help text, not in helpUri.
    assert.equal(limits?.helpUri, undefined);
    assert.ok(limits?.help.markdown?.includes("**Reference:** CIS Kubernetes Benchmark 5.7"));
    assert.equal(limits?.defaultConfiguration.level, "note");
    assert.equal(limits.properties["security-severity"], "3.0");
    assert.equal(labels?.properties["security-severity"], "1.0");
    assert.equal(labels.help.markdown?.includes("Controls"), false);
  });

  it("maps findings to located results with levels, rule indices and suppressions", () => {
    const run = firstRun(parsed(sampleReport()));
    assert.equal(run.results.length, 5);
    for (const result of run.results) {
      assert.equal(run.tool.driver.rules[result.ruleIndex]?.id, result.ruleId);
    }
    const [deny, warn, audit, suppressed] = [0, 1, 2, 3].map((index) => defined(run.results[index]));
    assert.equal(deny?.level, "error");
    assert.equal(warn?.level, "warning");
    assert.equal(audit?.level, "note");
    assert.deepEqual(deny.message, { text: 'container "app" runs privileged (Deployment/shop/web)' });
    assert.deepEqual(deny.locations[0]?.physicalLocation, {
      artifactLocation: { uri: "manifests/web.yaml" },
      region: { startLine: 12, startColumn: 9 },
    });
    assert.equal(deny.suppressions, undefined);
    // The justification is the exception's own; its name goes to the properties.
    assert.deepEqual(suppressed?.suppressions, [
      {
        kind: "external",
        status: "accepted",
        justification: "the vendor image needs it until the 2026-09 upgrade",
      },
    ]);
    assert.equal(suppressed.properties.exception, "legacy-db");
    assert.equal(suppressed.locations[0]?.physicalLocation.artifactLocation.uri, "manifests/db.yaml");
  });

  it("gives a finding a valid rule index even when its rule is not among the evaluated rules", () => {
    const log = parsed({ ...sampleReport(), findings: [finding({ rule: "retired-rule" })] });
    const run = firstRun(log);
    const result = run.results[0];
    assert.ok(result !== undefined);
    assert.equal(run.tool.driver.rules[result.ruleIndex]?.id, "retired-rule");
    assert.deepEqual(schemaErrors(log), []);
  });

  it("fingerprints by rule, file, object and field, not by position", () => {
    const print = (overrides: Parameters<typeof finding>[0]): string | undefined =>
      firstRun(parsed({ ...sampleReport(), findings: [finding(overrides)] })).results[0]?.partialFingerprints[
        FINGERPRINT_KEY
      ];
    const base = print({});
    assert.match(base ?? "", /^[0-9a-f]{64}$/);
    assert.equal(print({ line: 40, column: 3, message: "reworded" }), base);
    for (const change of [
      { rule: "image-tag" },
      { file: "other.yaml" },
      { kind: "StatefulSet" },
      { namespace: "prod" },
      { name: "api" },
      { field: "spec.template.spec.containers[1].securityContext.privileged" },
    ]) {
      assert.notEqual(print(change), base, JSON.stringify(change));
    }
  });

  it("turns input problems into tool execution notifications", () => {
    const run = firstRun(parsed(sampleReport()));
    assert.equal(run.invocations.length, 1);
    const invocation = defined(run.invocations[0]);
    // An input failed to parse: the run did not check everything it was given.
    assert.equal(invocation.executionSuccessful, false);
    const notesOnly = {
      ...sampleReport(),
      problems: sampleReport().problems.filter((p) => p.level === "note"),
    };
    assert.equal(defined(firstRun(parsed(notesOnly)).invocations[0]).executionSuccessful, true);
    assert.deepEqual(invocation.toolExecutionNotifications, [
      {
        level: "error",
        message: { text: "could not parse YAML: bad indentation" },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: "manifests/broken.yaml" },
              region: { startLine: 3, startColumn: 5 },
            },
          },
        ],
      },
      {
        level: "note",
        message: { text: "skipped a document that is not a Kubernetes object" },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: "manifests/extra.yaml" }, region: { startLine: 9 } },
          },
        ],
      },
    ]);
  });

  it("writes artifact URIs relative with forward slashes, stdin as 'stdin'", () => {
    assert.equal(artifactUri("-"), "stdin");
    assert.equal(artifactUri("./deploy/app.yaml"), "deploy/app.yaml");
    assert.equal(artifactUri("deploy/my app#1.yaml"), "deploy/my%20app%231.yaml");
    assert.equal(artifactUri("c:odd.yaml"), "c%3Aodd.yaml");
    assert.equal(artifactUri("/work/repo/k8s/app.yaml", "/work/repo"), "k8s/app.yaml");
    assert.equal(artifactUri("/elsewhere/app.yaml", "/work/repo"), "file:///elsewhere/app.yaml");
    const log = parsed({ ...sampleReport(), findings: [finding({ file: "-" })], files: ["-"] });
    assert.equal(firstRun(log).results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, "stdin");
    assert.deepEqual(schemaErrors(log), []);
  });

  it("defaults the driver version to vakt's package.json version", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    assert.equal(toSarif(sampleReport()).runs[0]?.tool.driver.version, pkg.version);
  });
});
