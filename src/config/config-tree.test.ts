// The quick reader (js-yaml events) must give the tree the `yaml` package gives for every text
// it accepts, and accept what configuration files are made of (or it buys nothing).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { readPrecisely, readQuickly } from "./config-tree.ts";
import type { ConfigNode } from "./config-tree.ts";

/** A tree without source positions. */
function shape(node: ConfigNode | null): unknown {
  if (node === null) return null;
  switch (node.kind) {
    case "map":
      return { map: node.pairs.map((pair) => [shape(pair.key), shape(pair.value)]) };
    case "seq":
      return { seq: node.items.map(shape) };
    case "scalar":
      return { scalar: node.value };
    default:
      return { other: true };
  }
}

/** Asserts the quick reader declines `text` or reads what the `yaml` package reads; true when it accepted. */
function agrees(text: string): boolean {
  const quick = readQuickly(text);
  if (quick === undefined) return false;
  const precise = readPrecisely(text, "t.yaml");
  assert.deepEqual(precise.errors, [], `accepted what the yaml package refuses: ${JSON.stringify(text)}`);
  assert.deepStrictEqual(shape(quick), shape(precise.root), `disagrees on ${JSON.stringify(text)}`);
  return true;
}

const HEADER = "apiVersion: vakt.dev/v1alpha1\nkind: VaktConfiguration\n";

const ACCEPTED = [
  HEADER + "spec:\n  registries: [registry.example.com]\n",
  HEADER +
    "metadata:\n  name: default # the only one\nspec:\n  failOn: warn\n  pssVersion: v1.25\n" +
    "  rules:\n    image-tag: off\n    replicas: audit\n" +
    "  registries:\n    - registry.example.com/team\n    - 123456789012.dkr.ecr.eu-north-1.amazonaws.com\n" +
    "  allowedRegions: ['eu-north-1', \"eu-west-1\"]\n  frameworks: [nis2, gdpr]\n" +
    "  mutations: {jobTtlSeconds: 3600, dropAllCapabilities: false, seccompRuntimeDefault: True}\n",
  "---\n" + HEADER + "spec: {}\n",
  "a: ~\nb: null\nc: NULL\nd: true\ne: FALSE\nf: 0\ng: -12\nh: +3\ni: 007\nj: 12abc\nk: 1.2.3\n",
  "# Västra Götaland 🙂\na: 'it''s'\nb: \"é\"\nc: x#y\nd: http://example.com:8080/a#b\n",
  "1: a\n'1': b\n",
  "a:\n- a\n- [b, {c: d}]\n- - e\n  - f: g\n    h: i\n",
  "<<: x\n",
];

const DECLINED = [
  "",
  "# only a comment\n",
  "---\n",
  "a: 1\n---\nb: 2\n",
  "--- a: b\n",
  "a: b\n...\n",
  "%YAML 1.1\n---\na: off\n",
  "a: &x 1\nb: *x\n",
  "a: !!str 1\n",
  "a:\n",
  "a: {b}\n",
  "? a\n",
  "a: |\n  x\n",
  "a: >\n  x\n",
  "a: 'x\n  y'\n",
  "a: x\n  y\n",
  'a: "\\u0041"\n',
  "a:\tb\n",
  "a: b\r\n",
  "\ufeffa: b\n",
  "a: 0x1F\n",
  "a: 0o17\n",
  "a: 1e3\n",
  "a: 1.5\n",
  "a: .inf\n",
  "a: .nan\n",
  "a: 1\na: 2\n",
  "[a]: b\n",
  "a: b: c\n",
  `${"k".repeat(1100)}: v\n`,
];

describe("config-tree: the quick reader", () => {
  it("accepts plain configuration files and reads them as the yaml package does", () => {
    for (const text of ACCEPTED) assert.ok(agrees(text), `declined ${JSON.stringify(text)}`);
  });

  it("declines what it does not model", () => {
    for (const text of DECLINED)
      assert.equal(readQuickly(text), undefined, `accepted ${JSON.stringify(text)}`);
  });

  it("agrees with the yaml package on generated documents in every style", () => {
    const word = fc.constantFrom(
      "a",
      "spec",
      "registry.example.com/team",
      "eu-north-1",
      "v1.25",
      "image-tag",
      "off",
      "on",
      "yes",
      "No",
      "true",
      "False",
      "TRUE",
      "null",
      "Null",
      "~",
      "0",
      "-1",
      "+2",
      "017",
      "0x1F",
      "0o7",
      "1e3",
      "1.5",
      ".5",
      "1.",
      ".inf",
      "-.Inf",
      ".NaN",
      "123.dkr.ecr",
      "1:20",
      "2001-12-14",
      "a b",
      "x#y",
      "it's",
      "<<",
      "é",
      "-",
      "",
      " ",
    );
    type Value = string | Value[] | [string, Value][];
    const { value } = fc.letrec<{ value: Value }>((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        word,
        fc.array(tie("value"), { maxLength: 4 }),
        fc.array(fc.tuple(word, tie("value")), { maxLength: 4 }).map((pairs) => ({ pairs })),
      ) as fc.Arbitrary<Value>,
    }));
    // Configurations are mappings (the reader declines anything else).
    const root = fc.array(fc.tuple(word, value), { minLength: 1, maxLength: 5 }).map((pairs) => ({ pairs }));
    const scalar = (text: string, style: number): string => {
      if (style === 1) return `'${text.replaceAll("'", "''")}'`;
      if (style === 2) return JSON.stringify(text);
      return text;
    };
    // Block or flow, plain or quoted, chosen per node from the style stream.
    const write = (v: unknown, indent: number, styles: () => number): string => {
      if (typeof v === "string") return scalar(v, styles() % 3);
      const pad = " ".repeat(indent);
      const flow = styles() % 2 === 0;
      if (Array.isArray(v)) {
        if (flow || v.length === 0) return `[${v.map((item) => write(item, indent, styles)).join(", ")}]`;
        return v.map((item) => `\n${pad}- ${write(item, indent + 2, styles)}`).join("");
      }
      const pairs = (v as { pairs: [string, unknown][] }).pairs;
      if (flow || pairs.length === 0)
        return `{${pairs.map(([k, item]) => `${scalar(k, styles() % 3)}: ${write(item, indent, styles)}`).join(", ")}}`;
      return pairs
        .map(([k, item]) => `\n${pad}${scalar(k, styles() % 3)}: ${write(item, indent + 2, styles)}`)
        .join("");
    };
    let accepted = 0;
    fc.assert(
      fc.property(root, fc.array(fc.nat(), { minLength: 1, maxLength: 64 }), (v, stream) => {
        let at = 0;
        const styles = (): number => stream[at++ % stream.length] ?? 0;
        const text = `${write(v, 0, styles).replace(/^\n/, "")}\n`;
        if (agrees(text)) accepted++;
      }),
      { numRuns: 2000 },
    );
    assert.ok(accepted > 200, `only ${accepted} of 2000 generated documents were accepted`);
  });

  it("never accepts what the yaml package reads differently, on token soup", () => {
    const token = fc.constantFrom(
      "a",
      "b",
      "1",
      "on",
      "~",
      "''",
      '"x"',
      "'y'",
      ":",
      ": ",
      "- ",
      "-",
      "[",
      "]",
      "{",
      "}",
      ",",
      " ",
      "  ",
      "\n",
      "\n  ",
      "\n    ",
      "#",
      " #c",
      "?",
      "? ",
      "&a ",
      "*a",
      "!!str ",
      "!t ",
      "|",
      ">",
      "---",
      "...",
      "%YAML 1.2\n",
      "\t",
      "\r",
      "\\",
      "@",
      "`",
      "%",
      "=",
      "<<",
      "é",
      "a: b",
      "\nc: d",
      "\n  e: f",
      "\n- g",
      "\n  - h",
      "- - ",
      "a:b",
      "'a b'",
      '"a\\"b"',
      ": -",
      "#x",
      "0x1",
      "1e3",
      "true",
      "null",
      "...",
      "---",
      " ---",
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
        if (agrees(tokens.join(""))) accepted++;
      }),
      { numRuns: 20_000 },
    );
    assert.ok(accepted > 200, `only ${accepted} of 20000 token sequences were accepted`);
  });
});
