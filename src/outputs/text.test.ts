import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { finding, RULES, sampleReport } from "./fixture.test.ts";
import type { CheckReport } from "./report.ts";
import { renderText, safe } from "./text.ts";

const ESC = "\u001b";

describe("text output", () => {
  it("renders the sample report exactly (golden, no colour)", () => {
    const expected = [
      "manifests/web.yaml (3 findings)",
      "manifests/web.yaml:12:9  DENY  pss-privileged  Deployment/shop/web",
      '    container "app" runs privileged',
      "    field: spec.template.spec.containers[0].securityContext.privileged",
      "    fix: Set securityContext.privileged to false.",
      "    controls: iso27001:A.8.9, gdpr:32",
      "manifests/web.yaml:20:18  WARN  image-tag  Deployment/shop/web",
      '    container "app" uses image "nginx:latest" without a digest',
      "    field: spec.template.spec.containers[0].image",
      "    fix: Pin the image by digest.",
      "    controls: iso27001:A.8.9",
      "manifests/web.yaml:22:11  AUDIT  resource-limits  Deployment/shop/web",
      '    container "app" has no memory limit',
      "    field: spec.template.spec.containers[0].resources",
      "    fix: Set resources.limits.memory.",
      "    controls: nis2:21.2.c",
      "",
      "manifests/db.yaml (1 suppressed)",
      "manifests/db.yaml:15:13  DENY  pss-privileged  StatefulSet/shop/db  (suppressed by legacy-db)",
      '    container "postgres" runs privileged',
      "    field: spec.template.spec.containers[0].securityContext.privileged",
      "    fix: Set securityContext.privileged to false.",
      "    controls: iso27001:A.8.9, gdpr:32",
      "",
      "manifests/extra.yaml (1 finding)",
      "manifests/extra.yaml:1:1  AUDIT  namespace-labels  Namespace/shop",
      "    namespace has no data-classification label",
      "    field: metadata.labels",
      "",
      "Input problems",
      "manifests/broken.yaml:3:5  ERROR  could not parse YAML: bad indentation",
      "manifests/extra.yaml:9  NOTE  skipped a document that is not a Kubernetes object",
      "",
      "Checked 5 objects in 4 files against 4 rules: 1 deny, 1 warn, 2 audit, 1 suppressed; 1 input error, 1 note.",
      "",
    ].join("\n");
    assert.equal(renderText(sampleReport()), expected);
    assert.equal(renderText(sampleReport(), { color: false }), expected);
  });

  it("writes no escape sequence without colour, and ANSI colour when asked", () => {
    const plain = renderText(sampleReport(), { color: false });
    assert.ok(!plain.includes(ESC), "no ANSI codes without colour");
    const coloured = renderText(sampleReport(), { color: true });
    assert.ok(coloured.includes(`${ESC}[31m`), "deny in red");
    assert.ok(coloured.includes(`${ESC}[33m`), "warn in yellow");
    // Removing the escape sequences gives back the plain text: colour changes nothing else.
    // eslint-disable-next-line no-control-regex -- stripping ANSI codes
    assert.equal(coloured.replace(/\u001b\[\d+m/g, ""), plain);
  });

  it("dims suppressed findings and names the exception", () => {
    const coloured = renderText(sampleReport(), { color: true }).split("\n");
    const suppressed = coloured.filter((line) => line.includes("postgres") || line.includes("legacy-db"));
    assert.equal(suppressed.length, 2);
    for (const line of suppressed) assert.ok(line.startsWith(`${ESC}[2m`), `dimmed: ${JSON.stringify(line)}`);
    const unsuppressed = coloured.find((line) => line.includes('container "app" runs privileged'));
    assert.ok(unsuppressed !== undefined && !unsuppressed.includes(`${ESC}[2m`));
    const noName = renderText(report([finding({ suppressed: true })]));
    assert.match(noName, /Deployment\/shop\/web {2}\(suppressed\)\n/);
  });

  it("escapes control characters and bidi overrides coming from the input", () => {
    const text = renderText(
      report([
        finding({ name: `evil${ESC}[2J`, message: "bell\u0007\u0008 and \u202eoverride\r\nsecond line" }),
      ]),
      { color: false },
    );
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    assert.ok(text.includes("Deployment/shop/evil\\x1b[2J"));
    assert.ok(text.includes("    bell\\x07\\x08 and \\u202eoverride\\r\\nsecond line\n"), text);
    assert.equal(safe("tab\tand\u2028separator"), "tab\\tand\\u2028separator");
  });

  it("keeps every input-derived field on its line: a namespace cannot forge report lines", () => {
    const forged = "manifests/web.yaml:1:1  DENY  forged  Pod/x";
    const text = renderText(
      report([
        finding({
          file: `manifests/web.yaml\n${forged}`,
          namespace: `shop\n${forged}\r`,
          name: `web\u2028${forged}\u2029`,
          message: `message\n${forged}\u0085`,
          suppressed: true,
          exception: `exc\n${forged}`,
        }),
      ]),
    );
    const lines = text.split("\n");
    assert.ok(!lines.some((line) => line.startsWith(forged)), text);
    // eslint-disable-next-line no-control-regex -- looking for raw control characters
    assert.doesNotMatch(text.replaceAll("\n", ""), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.ok(text.includes(`Deployment/shop\\n${forged}\\r/web\\u2028${forged}\\u2029`), text);
    assert.ok(text.includes(`    message\\n${forged}\\x85\n`), text);
    assert.ok(text.includes(`(suppressed by exc\\n${forged})`), text);
  });

  it("summarises a clean run", () => {
    const text = renderText({ ...report([]), objects: 1, files: ["a.yaml"] });
    assert.equal(
      text,
      "Checked 1 object in 1 file against 4 rules: 0 deny, 0 warn, 0 audit, 0 suppressed.\n",
    );
  });

  it("writes a problem without a line as the bare file", () => {
    const text = renderText({
      ...report([]),
      problems: [{ file: "missing.yaml", level: "error", message: "no such file" }],
    });
    assert.ok(text.includes("\nmissing.yaml  ERROR  no such file\n"), text);
  });
});

function report(findings: CheckReport["findings"]): CheckReport {
  return { rules: RULES, files: ["manifests/web.yaml"], objects: 1, findings, problems: [] };
}
