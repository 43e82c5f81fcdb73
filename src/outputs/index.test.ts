import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { sampleReport } from "./fixture.test.ts";
import {
  isOutputFormat,
  OUTPUT_FORMATS,
  render,
  renderJson,
  renderParts,
  renderJunit,
  renderSarif,
  renderText,
} from "./index.ts";

describe("render", () => {
  it("lists the formats, text first (the default)", () => {
    assert.deepEqual(OUTPUT_FORMATS, ["text", "json", "sarif", "junit"]);
    for (const format of OUTPUT_FORMATS) assert.ok(isOutputFormat(format));
    assert.ok(!isOutputFormat("xml"));
    assert.ok(!isOutputFormat("TEXT"));
  });

  it("dispatches each format to its renderer with its options", () => {
    const report = sampleReport();
    assert.equal(render(report, "text"), renderText(report));
    assert.equal(render(report, "text", { color: true }), renderText(report, { color: true }));
    assert.notEqual(render(report, "text", { color: true }), render(report, "text"));
    assert.equal(render(report, "json"), renderJson(report));
    assert.equal(
      render(report, "sarif", { toolVersion: "7.7.7" }),
      renderSarif(report, { toolVersion: "7.7.7" }),
    );
    assert.ok(render(report, "sarif", { toolVersion: "7.7.7" }).includes('"version": "7.7.7"'));
    assert.equal(render(report, "junit"), renderJunit(report));
  });

  it("writes the same text in parts as render() does, JSON in chunks of about a megabyte", () => {
    const sample = sampleReport();
    const many = {
      ...sample,
      findings: Array.from({ length: 4000 }, (_, i) => {
        const finding = sample.findings[i % sample.findings.length];
        assert.ok(finding !== undefined);
        return {
          ...finding,
          line: i + 1,
          message: `${finding.message} "quoted" \\ \u0001 \u2028 é ${String(i)}`,
          ...(i % 3 === 0 ? { controls: [] } : {}),
          ...(i % 5 === 0 ? { suppressed: true, exception: `exception-${String(i)}` } : {}),
        };
      }),
    };
    const none = { ...sample, findings: [] };
    for (const report of [sample, many, none])
      for (const format of OUTPUT_FORMATS)
        assert.equal([...renderParts(report, format)].join(""), render(report, format), format);
    const chunks = [...renderParts(many, "json")];
    assert.ok(
      chunks.length > 1,
      `${String(chunks.length)} chunk for ${String(render(many, "json").length)} characters`,
    );
  });

  it("ends every format with exactly one newline", () => {
    for (const format of OUTPUT_FORMATS) {
      const out = render(sampleReport(), format);
      assert.ok(out.endsWith("\n") && !out.endsWith("\n\n"), format);
    }
  });
});
