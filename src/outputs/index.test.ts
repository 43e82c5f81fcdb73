import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { CHUNK_CHARACTERS } from "./common.ts";
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

  it("writes the same text in parts as render() does, every format in chunks of about a megabyte", () => {
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
    const large = { ...many, findings: [...many.findings, ...many.findings, ...many.findings] };
    for (const format of OUTPUT_FORMATS) {
      const chunks = [...renderParts(large, format)];
      const size = render(large, format).length;
      assert.ok(
        chunks.length > 1,
        `${format}: ${String(chunks.length)} chunk for ${String(size)} characters`,
      );
      // A chunk holds at most one finding past the size at which it is handed over.
      for (const chunk of chunks)
        assert.ok(chunk.length < CHUNK_CHARACTERS + 10_000, `${format}: ${chunk.length}`);
    }
  });

  it("makes each part when it is pulled, not the whole output first", () => {
    const sample = sampleReport();
    const template = sample.findings[0];
    assert.ok(template !== undefined);
    let read = 0;
    // Findings that count how often the renderers read their message (every format does).
    const findings = Array.from({ length: 12_000 }, (_, i) => {
      const finding = { ...template, name: `web-${String(i)}`, line: i + 1 };
      return Object.defineProperty(finding, "message", {
        get: () => {
          read++;
          return template.message;
        },
      });
    });
    const report = { ...sample, findings };
    for (const format of OUTPUT_FORMATS) {
      read = 0;
      const parts = renderParts(report, format)[Symbol.iterator]();
      assert.equal(parts.next().done, false);
      const afterFirst = read;
      while (parts.next().done !== true);
      assert.ok(
        afterFirst < read / 2,
        `${format}: ${afterFirst} of ${read} message reads before the first part`,
      );
    }
  });

  it("ends every format with exactly one newline", () => {
    for (const format of OUTPUT_FORMATS) {
      const out = render(sampleReport(), format);
      assert.ok(out.endsWith("\n") && !out.endsWith("\n\n"), format);
    }
  });
});
