import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { dump } from "js-yaml";
import type { FieldPath } from "../engine/types.ts";
import { parseManifestText, type TextFormat } from "./manifests.ts";

const RUNS = 300;
const TIMEOUT = 120_000;

/** Runs the loader over text and checks the shape of everything it yields; returns the object count. */
function check(text: string, format: TextFormat, probe: readonly FieldPath[] = []): number {
  const lineCount = text.split("\n").length;
  const started = performance.now();
  let objects = 0;
  for (const event of parseManifestText("fuzz", text, format)) {
    if (event.type === "object") {
      objects++;
      assert.equal(typeof event.object.apiVersion, "string");
      assert.equal(typeof event.object.kind, "string");
      for (const path of [[], ["metadata", "name"], ["spec", 0, "x", "y"], ...probe]) {
        const position = event.locate(path);
        assert.ok(
          Number.isInteger(position.line) && position.line >= 1 && position.line <= lineCount,
          `line ${position.line}`,
        );
        assert.ok(Number.isInteger(position.column) && position.column >= 1, `column ${position.column}`);
      }
    } else {
      const { problem } = event;
      assert.ok(["error", "note"].includes(problem.level), problem.level);
      assert.equal(typeof problem.message, "string");
      assert.ok(problem.message.length > 0);
      if (problem.line !== undefined)
        assert.ok(problem.line >= 1 && problem.line <= lineCount, `problem line ${problem.line}`);
      if (problem.column !== undefined) assert.ok(problem.column >= 1);
    }
  }
  assert.ok(performance.now() - started < 20_000, "one input took over 20 s");
  return objects;
}

const FRAGMENTS = [
  ": ",
  "- ",
  "---",
  "--- ",
  "...",
  "\n",
  "\n",
  "\n  ",
  "  ",
  "\t",
  "&a ",
  "*a",
  "*b",
  "&b ",
  "<<: *a\n",
  "{",
  "}",
  "[",
  "]",
  ",",
  "? ",
  "#",
  "# Source: x\n",
  "|\n",
  ">-\n",
  "'",
  '"',
  "\\",
  "!!str ",
  "!!map ",
  "!foo ",
  "%YAML 1.1\n",
  "apiVersion: v1\n",
  "kind: Pod\n",
  "kind: List\nitems:\n",
  "metadata:\n  name: x\n",
  "name",
  "yes",
  "0644",
  "~",
  "é",
  "😀",
  "\u0000",
  "\r\n",
  "\uFEFF",
  "x".repeat(5000),
  "[".repeat(2000),
  "{a: ".repeat(300),
];

describe("fuzz: the loader never throws or hangs", () => {
  it("on random strings", { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 3000 }),
        fc.constantFrom<TextFormat>("yaml", "json", "auto"),
        (text, format) => {
          check(text, format);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("on YAML-ish text built from fragments", { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 200 }),
        fc.constantFrom<TextFormat>("yaml", "auto"),
        (parts, format) => {
          check(parts.join(""), format);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("on Kubernetes-shaped documents with random fragments spliced in", { timeout: TIMEOUT }, () => {
    const base =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b}\ndata:\n  k: |\n    line\n  list:\n  - a\n  - b: c\n";
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: base.length }), fc.constantFrom(...FRAGMENTS)), { maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (edits, copies) => {
          let text = Array(copies).fill(base).join("---\n");
          for (const [at, fragment] of edits) text = text.slice(0, at) + fragment + text.slice(at);
          check(text, "yaml", [
            ["data", "list", 1, "b"],
            ["data", "k"],
          ]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("on random JSON, whole and cut short", { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.boolean(), fc.nat(), (value, wrap, cut) => {
        const object = wrap ? { apiVersion: "v1", kind: "X", spec: value } : value;
        const text = JSON.stringify(object, null, 1);
        check(text, "json", [["spec"]]);
        check(text.slice(0, cut % (text.length + 1)), "json");
        check(text, "auto");
      }),
      { numRuns: RUNS },
    );
  });
});

const KEY = fc.string({ minLength: 1, maxLength: 8 }).filter((key) => key !== "__proto__" && key !== "<<");
const LEAF = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null));

function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leafPaths(item, [...prefix, i]));
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [prefix];
    return entries.flatMap(([key, item]) => leafPaths(item, [...prefix, key]));
  }
  return [prefix];
}

describe("property: values and positions agree with the text", () => {
  const tree = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      LEAF,
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(KEY, tie("node"), { maxKeys: 4, noNullPrototype: true }),
    ),
  })).node;
  const objectArbitrary = fc
    .dictionary(KEY, tree, { maxKeys: 5, noNullPrototype: true })
    .map((spec) => ({ apiVersion: "v1", kind: "Thing", spec }));

  it(
    "YAML written by a dumper loads back equal, and every leaf locates to a line holding its key",
    { timeout: TIMEOUT },
    () => {
      fc.assert(
        fc.property(objectArbitrary, (object) => {
          const text = `# leading comment\n---\n${dump(object, { lineWidth: -1, forceQuotes: true, quoteStyle: "double" })}`;
          const events = [...parseManifestText("prop.yaml", text)];
          assert.equal(events.length, 1);
          const [event] = events;
          assert.ok(event?.type === "object", JSON.stringify(event));
          assert.deepEqual(event.object, object);
          const lines = text.split("\n");
          for (const path of leafPaths(object)) {
            const { line } = event.locate(path);
            const last = path[path.length - 1];
            if (typeof last === "string") {
              // The key as the dumper writes it: the text before ": " in a one-key mapping.
              const entry = dump(
                { [last]: null },
                { forceQuotes: true, quoteStyle: "double", lineWidth: -1 },
              );
              const written = entry.slice(0, entry.lastIndexOf(": null"));
              const holder = lines[line - 1] ?? "";
              assert.ok(holder.includes(`${written}:`), `${JSON.stringify(path)} -> line ${line}: ${holder}`);
            }
          }
        }),
        { numRuns: RUNS },
      );
    },
  );

  it("pretty JSON: every leaf locates to the line holding its key", { timeout: TIMEOUT }, () => {
    fc.assert(
      fc.property(objectArbitrary, (object) => {
        const text = JSON.stringify(object, null, 2);
        const events = [...parseManifestText("prop.json", text, "json")];
        const [event] = events;
        assert.ok(event?.type === "object", JSON.stringify(event));
        assert.deepEqual(event.object, object);
        const lines = text.split("\n");
        for (const path of leafPaths(object)) {
          const { line } = event.locate(path);
          const last = path[path.length - 1];
          if (typeof last === "string") {
            assert.ok(
              lines[line - 1]?.includes(`${JSON.stringify(last)}:`),
              `${JSON.stringify(path)} -> line ${line}`,
            );
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
