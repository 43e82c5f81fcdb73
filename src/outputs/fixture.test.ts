/**
 * A small CheckReport shared by the renderer tests. Named .test.ts so that the build leaves it
 * out; its own consistency test runs only when it is the test file being run, not when another
 * test file imports it.
 */
import assert from "node:assert/strict";
import { it } from "node:test";

import type { Rule } from "../engine/types.ts";
import type { CheckReport, ReportFinding } from "./report.ts";

export function rule(overrides: Partial<Rule> & Pick<Rule, "id">): Rule {
  return {
    title: `Title of ${overrides.id}`,
    severity: "medium",
    defaultAction: "warn",
    kinds: ["Pod"],
    sets: ["platform"],
    rationale: `Rationale of ${overrides.id}.`,
    fix: `Fix for ${overrides.id}.`,
    controls: ["iso27001:A.8.9"],
    evidenceBoundary: `A pass of ${overrides.id} does not prove everything.`,
    check: () => [],
    ...overrides,
  };
}

export const RULES: readonly Rule[] = [
  rule({
    id: "pss-privileged",
    title: "Containers must not run privileged",
    severity: "critical",
    defaultAction: "deny",
    sets: ["pss-baseline", "pss-restricted"],
    controls: ["iso27001:A.8.9", "gdpr:32"],
    fix: "Set securityContext.privileged to false.",
    reference: "https://kubernetes.io/docs/concepts/security/pod-security-standards/",
  }),
  rule({ id: "image-tag", title: "Images must be pinned", severity: "high", defaultAction: "warn" }),
  rule({
    id: "resource-limits",
    severity: "low",
    defaultAction: "audit",
    controls: ["nis2:21.2.c"],
    reference: "CIS Kubernetes Benchmark 5.7",
  }),
  rule({ id: "namespace-labels", severity: "info", defaultAction: "audit", controls: [] }),
];

export function finding(overrides: Partial<ReportFinding> = {}): ReportFinding {
  return {
    rule: "pss-privileged",
    action: "deny",
    severity: "critical",
    file: "manifests/web.yaml",
    line: 12,
    column: 9,
    field: "spec.template.spec.containers[0].securityContext.privileged",
    kind: "Deployment",
    namespace: "shop",
    name: "web",
    message: 'container "app" runs privileged',
    fix: "Set securityContext.privileged to false.",
    controls: ["iso27001:A.8.9", "gdpr:32"],
    suppressed: false,
    ...overrides,
  };
}

/**
 * Two findings on one Deployment (deny, warn), an audit finding on it, a suppressed deny in
 * another file, a cluster-scoped object's finding, an object without findings, an input error
 * and a note.
 */
export function sampleReport(): CheckReport {
  return {
    rules: RULES,
    files: ["manifests/web.yaml", "manifests/db.yaml", "manifests/broken.yaml", "manifests/extra.yaml"],
    objects: 5,
    findings: [
      // Deliberately out of order: renderers sort by file, line and column.
      finding({
        rule: "image-tag",
        action: "warn",
        severity: "high",
        line: 20,
        column: 18,
        field: "spec.template.spec.containers[0].image",
        message: 'container "app" uses image "nginx:latest" without a digest',
        fix: "Pin the image by digest.",
        controls: ["iso27001:A.8.9"],
      }),
      finding(),
      finding({
        rule: "resource-limits",
        action: "audit",
        severity: "low",
        line: 22,
        column: 11,
        field: "spec.template.spec.containers[0].resources",
        message: 'container "app" has no memory limit',
        fix: "Set resources.limits.memory.",
        controls: ["nis2:21.2.c"],
      }),
      finding({
        file: "manifests/db.yaml",
        line: 15,
        column: 13,
        kind: "StatefulSet",
        name: "db",
        field: "spec.template.spec.containers[0].securityContext.privileged",
        message: 'container "postgres" runs privileged',
        suppressed: true,
        exception: "legacy-db",
        justification: "the vendor image needs it until the 2026-09 upgrade",
      }),
      finding({
        rule: "namespace-labels",
        action: "audit",
        severity: "info",
        file: "manifests/extra.yaml",
        line: 1,
        column: 1,
        field: "metadata.labels",
        kind: "Namespace",
        namespace: "",
        name: "shop",
        message: "namespace has no data-classification label",
        fix: "",
        controls: [],
      }),
    ],
    problems: [
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
    ],
    objectsByFile: [
      {
        file: "manifests/web.yaml",
        objects: [
          { kind: "Deployment", namespace: "shop", name: "web", line: 1 },
          { kind: "Service", namespace: "shop", name: "web", line: 30 },
        ],
      },
      {
        file: "manifests/db.yaml",
        objects: [{ kind: "StatefulSet", namespace: "shop", name: "db", line: 1 }],
      },
      { file: "manifests/broken.yaml", objects: [] },
      {
        file: "manifests/extra.yaml",
        objects: [
          { kind: "Namespace", namespace: "", name: "shop", line: 1 },
          { kind: "ConfigMap", namespace: "shop", name: "settings", line: 5 },
        ],
      },
    ],
  };
}

if (import.meta.main) {
  it("the sample report is consistent: known rules, listed objects, object count", () => {
    const report = sampleReport();
    const ruleIds = new Set(RULES.map((r) => r.id));
    const objects = new Set(
      (report.objectsByFile ?? []).flatMap(({ file, objects }) =>
        objects.map((o) => `${file} ${o.kind}/${o.namespace}/${o.name}`),
      ),
    );
    for (const f of report.findings) {
      assert.ok(ruleIds.has(f.rule), f.rule);
      assert.ok(objects.has(`${f.file} ${f.kind}/${f.namespace}/${f.name}`), `${f.file} ${f.name}`);
      assert.equal(f.suppressed, f.exception !== undefined);
    }
    const counted = (report.objectsByFile ?? []).reduce((n, entry) => n + entry.objects.length, 0);
    assert.equal(counted, report.objects);
    assert.deepEqual(
      (report.objectsByFile ?? []).map((entry) => entry.file),
      report.files,
    );
  });
}
