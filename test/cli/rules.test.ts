/** End-to-end tests of `vakt rules`, `vakt rules explain` and `vakt controls`. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { controlById, controlsOf } from "../../src/catalog/index.ts";
import { BASELINE_RULES } from "../../src/engine/pss/baseline.ts";
import { RESTRICTED_RULES } from "../../src/engine/pss/restricted.ts";
import { ALL_RULES, ruleById } from "../../src/engine/rules/index.ts";
import { runVakt } from "./helpers.ts";

const ids = (rules: readonly { readonly id: string }[]): string[] => rules.map((rule) => rule.id);

describe("vakt rules", { concurrency: true }, () => {
  it("lists every rule id of ALL_RULES, in text and JSON", async () => {
    const [text, json, baseline, restricted] = await Promise.all([
      runVakt(["rules"]),
      runVakt(["rules", "-o", "json"]),
      runVakt(["rules", "--set", "pss-baseline", "-o", "json"]),
      runVakt(["rules", "--set", "pss-restricted", "-o", "json"]),
    ]);
    assert.equal(text.code, 0, text.stderr);
    const listed = text.stdout
      .split("\n")
      .filter((line) => /^[a-z]/.test(line))
      .map((line) => line.split(/\s+/)[0]);
    assert.deepEqual(listed, ids(ALL_RULES));
    assert.match(
      text.stdout,
      new RegExp(`\\n${ALL_RULES.length} rules\\. Explain one: vakt rules explain <id>\\n$`),
    );
    const tagLine = text.stdout.split("\n").find((line) => line.startsWith("image-tag "));
    assert.match(tagLine ?? "", /^image-tag\s+deny\s+medium\s+Images are pinned/);

    assert.equal(json.code, 0, json.stderr);
    const rules = JSON.parse(json.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      rules.map((rule) => rule["id"]),
      ids(ALL_RULES),
    );
    for (const rule of rules) {
      const known = ruleById(String(rule["id"]));
      assert.equal(rule["fix"], known?.fix);
      assert.deepEqual(rule["controls"], known?.controls);
      assert.equal(rule["check"], undefined, "functions are not part of the JSON");
    }

    // The PSS sets: baseline exactly the baseline checks, restricted baseline + restricted, no platform rules.
    assert.deepEqual(
      (JSON.parse(baseline.stdout) as { id: string }[]).map((rule) => rule.id),
      ids(BASELINE_RULES),
    );
    assert.deepEqual(
      (JSON.parse(restricted.stdout) as { id: string }[]).map((rule) => rule.id),
      [...ids(BASELINE_RULES), ...ids(RESTRICTED_RULES)],
    );
  });

  it("rejects an unknown set or output format with exit 2", async () => {
    const [set, output] = await Promise.all([
      runVakt(["rules", "--set", "bogus"]),
      runVakt(["rules", "-o", "yaml"]),
    ]);
    assert.equal(set.code, 2);
    assert.match(set.stderr, /no rules in set "bogus"/);
    assert.equal(output.code, 2);
    assert.match(output.stderr, /--output must be text or json, got "yaml"/);
  });

  it("explain shows the rule's rationale, fix and controls with their titles", async () => {
    const result = await runVakt(["rules", "explain", "image-tag"]);
    assert.equal(result.code, 0, result.stderr);
    const rule = ruleById("image-tag");
    assert.ok(rule !== undefined);
    assert.ok(result.stdout.startsWith(`image-tag: ${rule.title}\n`), result.stdout);
    assert.ok(result.stdout.includes(`Fix: ${rule.fix}`));
    assert.ok(result.stdout.includes(`Why: ${rule.rationale}`));
    assert.ok(result.stdout.includes(`A pass does not prove: ${rule.evidenceBoundary}`));
    const controlLines = result.stdout
      .slice(result.stdout.indexOf("Controls evidenced:\n"))
      .split("\n")
      .slice(1, -1);
    assert.equal(controlLines.length, rule.controls.length);
    rule.controls.forEach((id, index) => {
      const title = controlById(id)?.title;
      assert.ok(title !== undefined, `${id} is in the catalog`);
      assert.match(controlLines[index] ?? "", new RegExp(`^  ${id.replace(/[.()]/g, "\\$&")}\\s+${title}$`));
    });
  });

  it("explain of an unknown rule exits 2", async () => {
    const unknown = await runVakt(["rules", "explain", "nope"]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stdout, "");
    assert.match(unknown.stderr, /no rule "nope"; list them with `vakt rules`/);
  });
});

describe("vakt controls", { concurrency: true }, () => {
  it("--framework nis2 lists 21.2.a to 21.2.j and marks the ones no rule covers", async () => {
    const result = await runVakt(["controls", "--framework", "nis2"]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    const controls = controlsOf("nis2");
    assert.deepEqual(
      controls.map((control) => control.id),
      "abcdefghij".split("").map((letter) => `nis2:21.2.${letter}`),
    );
    let uncovered = 0;
    for (const control of controls) {
      const line = lines.find((text) => text.includes(` ${control.id} `));
      assert.ok(line !== undefined, `${control.id} is listed`);
      assert.ok(line.includes(control.title), `${control.id} has its title`);
      const rules = ALL_RULES.filter((rule) => rule.controls.includes(control.id));
      if (rules.length === 0) {
        uncovered++;
        assert.match(line, /not covered by any rule/, control.id);
      } else {
        assert.doesNotMatch(line, /not covered/, control.id);
        const detail = lines[lines.indexOf(line) + 1] ?? "";
        assert.equal(detail.trim(), `rules: ${rules.map((rule) => rule.id).join(", ")}`, control.id);
      }
    }
    assert.ok(!result.stdout.includes("iso27001:"), "only the framework asked for");
    assert.match(
      result.stdout,
      new RegExp(
        `nis2: covered ${controls.length - uncovered} of ${controls.length}${uncovered > 0 ? ` \\(${uncovered} not covered\\)` : ""}\\n$`,
      ),
    );
  });

  it("--framework bogus exits 2 naming the frameworks", async () => {
    const result = await runVakt(["controls", "--framework", "bogus"]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /--framework must be one of iso27001, gdpr, pdl, nis2, hipaa, got "bogus"/);
  });
});
