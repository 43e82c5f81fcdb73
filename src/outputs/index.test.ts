import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { sampleReport } from "./fixture.test.ts";
import {
  isOutputFormat,
  OUTPUT_FORMATS,
  render,
  renderJson,
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

  it("ends every format with exactly one newline", () => {
    for (const format of OUTPUT_FORMATS) {
      const out = render(sampleReport(), format);
      assert.ok(out.endsWith("\n") && !out.endsWith("\n\n"), format);
    }
  });
});
