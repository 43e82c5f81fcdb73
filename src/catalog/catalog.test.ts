import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ALL_RULES } from "../engine/rules/index.ts";
import {
  CONTROLS,
  FRAMEWORKS,
  controlById,
  controlsOf,
  coverage,
  frameworkById,
  unknownControlIds,
} from "./index.ts";
import { renderControls } from "./render.ts";

function countBy<T>(
  items: readonly T[],
  key: (item: T) => string | undefined,
): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

void describe("catalog contents", () => {
  void it("lists the five frameworks once each", () => {
    assert.deepEqual(
      FRAMEWORKS.map((f) => f.id),
      ["iso27001", "gdpr", "nis2", "pdl", "hipaa"],
    );
  });

  void it("has all 93 ISO/IEC 27001:2022 Annex A controls, 37/8/14/34 per theme", () => {
    const iso = controlsOf("iso27001");
    assert.equal(iso.length, 93);
    assert.deepEqual(Object.fromEntries(countBy(iso, (c) => c.group)), {
      organizational: 37,
      people: 8,
      physical: 14,
      technological: 34,
    });
    // Numbering is contiguous inside each theme: A.5.1..A.5.37, A.6.1..A.6.8, A.7.1..A.7.14, A.8.1..A.8.34.
    const expected = [
      ...Array.from({ length: 37 }, (_, i) => `A.5.${i + 1}`),
      ...Array.from({ length: 8 }, (_, i) => `A.6.${i + 1}`),
      ...Array.from({ length: 14 }, (_, i) => `A.7.${i + 1}`),
      ...Array.from({ length: 34 }, (_, i) => `A.8.${i + 1}`),
    ];
    assert.deepEqual(
      iso.map((c) => c.ref),
      expected,
    );
  });

  void it("has exactly the ten NIS2 Article 21(2) points a..j", () => {
    assert.deepEqual(
      controlsOf("nis2").map((c) => c.id),
      "abcdefghij".split("").map((letter) => `nis2:21.2.${letter}`),
    );
  });

  void it("has the GDPR articles in scope at article level", () => {
    for (const article of [5, 25, 30, 32, 33, 44, 45, 46, 47, 48, 49]) {
      assert.ok(controlById(`gdpr:${article}`), `gdpr:${article} missing`);
    }
  });

  void it("has every HIPAA 164.312 standard and implementation specification", () => {
    assert.deepEqual(
      controlsOf("hipaa").map((c) => c.ref),
      [
        "164.312(a)(1)",
        "164.312(a)(2)(i)",
        "164.312(a)(2)(ii)",
        "164.312(a)(2)(iii)",
        "164.312(a)(2)(iv)",
        "164.312(b)",
        "164.312(c)(1)",
        "164.312(c)(2)",
        "164.312(d)",
        "164.312(e)(1)",
        "164.312(e)(2)(i)",
        "164.312(e)(2)(ii)",
      ],
    );
  });

  void it("has unique ids, each prefixed by its own framework and ending in its ref", () => {
    const ids = CONTROLS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, "duplicate control ids");
    const known = new Set(FRAMEWORKS.map((f) => f.id));
    for (const control of CONTROLS) {
      assert.ok(known.has(control.framework), `${control.id}: unknown framework ${control.framework}`);
      assert.equal(control.id, `${control.framework}:${control.ref}`);
    }
  });

  void it("gives every control a title and a one-sentence summary, and parents that exist", () => {
    for (const control of CONTROLS) {
      assert.ok(control.title.trim().length > 0, `${control.id}: empty title`);
      assert.match(control.summary, /^[A-Za-z].*\.$/, `${control.id}: summary should be one sentence`);
      assert.ok(control.summary.length <= 260, `${control.id}: summary too long for one sentence`);
      if (control.parent !== undefined) {
        const parent = controlById(control.parent);
        assert.ok(parent, `${control.id}: parent ${control.parent} missing`);
        assert.equal(parent.framework, control.framework);
      }
    }
  });

  void it("defines every control id that rules written so far reference", () => {
    const referenced = [
      "iso27001:A.8.9",
      "iso27001:A.8.2",
      "iso27001:A.8.22",
      "iso27001:A.8.27",
      "iso27001:A.5.15",
      "iso27001:A.8.13",
      "iso27001:A.8.20",
      "iso27001:A.8.24",
      "iso27001:A.8.8",
      "iso27001:A.8.6",
      "iso27001:A.8.14",
      "iso27001:A.8.32",
      "iso27001:A.5.23",
      "iso27001:A.5.34",
      "iso27001:A.8.5",
      "iso27001:A.8.16",
      "iso27001:A.8.15",
      "iso27001:A.5.30",
      "iso27001:A.8.19",
      "iso27001:A.8.25",
      "iso27001:A.8.28",
      "iso27001:A.8.31",
      "iso27001:A.5.33",
      "iso27001:A.5.17",
      "iso27001:A.8.3",
      "iso27001:A.8.12",
      "iso27001:A.8.21",
      "gdpr:5",
      "gdpr:25",
      "gdpr:32",
      "gdpr:44",
      "gdpr:30",
      "gdpr:33",
      "nis2:21.2.a",
      "nis2:21.2.b",
      "nis2:21.2.c",
      "nis2:21.2.d",
      "nis2:21.2.e",
      "nis2:21.2.h",
      "nis2:21.2.i",
      "nis2:21.2.j",
      "hipaa:164.312(a)(1)",
      "hipaa:164.312(b)",
      "hipaa:164.312(c)(1)",
      "hipaa:164.312(e)(1)",
      "hipaa:164.312(a)(2)(ii)",
      "pdl:3.1",
      "pdl:3.2",
      "pdl:3.9",
      "pdl:3.12",
      "pdl:3.15",
    ];
    assert.deepEqual(unknownControlIds([{ id: "referenced", controls: referenced }]), []);
  });

  void it("knows every control named by the registered rules", () => {
    assert.deepEqual(unknownControlIds(ALL_RULES), []);
  });
});

void describe("lookups", () => {
  void it("finds a control by id and returns nothing for an unknown one", () => {
    assert.equal(controlById("iso27001:A.8.9")?.ref, "A.8.9");
    assert.equal(controlById("pdl:3.15")?.framework, "pdl");
    assert.equal(controlById("iso27001:A.8.35"), undefined);
    assert.equal(controlById("A.8.9"), undefined);
  });

  void it("lists an unknown framework as empty and finds known frameworks", () => {
    assert.deepEqual(controlsOf("sox"), []);
    assert.equal(frameworkById("gdpr")?.id, "gdpr");
    assert.equal(frameworkById("sox"), undefined);
  });
});

void describe("coverage", () => {
  const rules = [
    { id: "rule-a", controls: ["nis2:21.2.a", "nis2:21.2.d", "iso27001:A.8.9"] },
    { id: "rule-b", controls: ["nis2:21.2.d", "nis2:21.2.d", "bogus:1"] },
    { id: "rule-c", controls: [] },
  ];

  void it("maps each control of a framework to the rules naming it, once each, in input order", () => {
    const result = coverage(rules, "nis2");
    assert.equal(result.frameworks.length, 1);
    const nis2 = result.frameworks[0];
    assert.ok(nis2);
    assert.equal(nis2.framework.id, "nis2");
    assert.equal(nis2.total, 10);
    assert.equal(nis2.covered, 2);
    const byId = new Map(nis2.controls.map((entry) => [entry.control.id, entry.rules]));
    assert.deepEqual(byId.get("nis2:21.2.a"), ["rule-a"]);
    assert.deepEqual(byId.get("nis2:21.2.d"), ["rule-a", "rule-b"]);
    assert.deepEqual(byId.get("nis2:21.2.b"), []);
    assert.deepEqual(
      result.uncovered.map((c) => c.ref),
      ["21.2.b", "21.2.c", "21.2.e", "21.2.f", "21.2.g", "21.2.h", "21.2.i", "21.2.j"],
    );
  });

  void it("covers all frameworks when none is given", () => {
    const result = coverage(rules);
    assert.deepEqual(
      result.frameworks.map((f) => [f.framework.id, f.covered, f.total]),
      [
        ["iso27001", 1, 93],
        ["gdpr", 0, controlsOf("gdpr").length],
        ["nis2", 2, 10],
        ["pdl", 0, controlsOf("pdl").length],
        ["hipaa", 0, 12],
      ],
    );
    assert.equal(result.uncovered.length, CONTROLS.length - 3);
  });

  void it("counts other evidence sources as coverage but keeps them apart from rules", () => {
    const result = coverage([], "gdpr", [{ id: "fact:etcd-encryption", controls: ["gdpr:32.1.a"] }]);
    const fw = result.frameworks[0];
    assert.ok(fw);
    assert.equal(fw.covered, 1);
    const entry = fw.controls.find((e) => e.control.id === "gdpr:32.1.a");
    assert.ok(entry);
    assert.deepEqual(entry.rules, []);
    assert.deepEqual(entry.evidence, ["fact:etcd-encryption"]);
    assert.ok(!result.uncovered.some((c) => c.id === "gdpr:32.1.a"));
  });

  void it("rejects an unknown framework", () => {
    assert.throws(() => coverage(rules, "sox"), /unknown framework "sox"/);
  });
});

void describe("unknownControlIds", () => {
  void it("reports each rule/control pair naming an id outside the catalog", () => {
    assert.deepEqual(
      unknownControlIds([
        { id: "ok", controls: ["gdpr:32", "hipaa:164.312(b)"] },
        { id: "bad", controls: ["gdpr:32", "iso27001:A.12.4.1", "nis2:21.2.k"] },
      ]),
      [
        { rule: "bad", control: "iso27001:A.12.4.1" },
        { rule: "bad", control: "nis2:21.2.k" },
      ],
    );
  });
});

void describe("renderControls", () => {
  const result = coverage(
    [
      { id: "rule-a", controls: ["nis2:21.2.a", "nis2:21.2.d"] },
      { id: "rule-b", controls: ["nis2:21.2.d"] },
    ],
    "nis2",
  );

  void it("shows ids, titles, evidencing rules, uncovered marks and a summary line", () => {
    const text = renderControls(result, { color: false });
    const lines = text.split("\n");
    const a = lines.findIndex((line) => line.includes("nis2:21.2.a"));
    assert.ok(a >= 0);
    assert.match(lines[a] ?? "", /Risk analysis and security policies/);
    assert.doesNotMatch(lines[a] ?? "", /not covered/);
    assert.match(lines[a + 1] ?? "", /rules: rule-a$/);
    const d = lines.findIndex((line) => line.includes("nis2:21.2.d"));
    assert.match(lines[d + 1] ?? "", /rules: rule-a, rule-b$/);
    const b = lines.find((line) => line.includes("nis2:21.2.b"));
    assert.match(b ?? "", /Incident handling.*— not covered by any rule/);
    assert.equal(lines.filter((line) => line.includes("not covered by any rule")).length, 8);
    assert.ok(lines.includes("nis2: covered 2 of 10 (8 not covered)"));
    assert.ok(!text.includes("\u001b["), "no ANSI escapes without color");
  });

  void it("uses ANSI colours only when asked", () => {
    assert.ok(renderControls(result, { color: true }).includes("\u001b[32m✓\u001b[0m"));
  });
});
