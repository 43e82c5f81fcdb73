// The fast YAML path must agree with js-yaml (KUBERNETES_SCHEMA) on every document it accepts,
// and accept nearly all of what manifests are made of (or it buys nothing).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { loadAll } from "js-yaml";
import { writeCorpus } from "../../bench/corpus.ts";
import { podSecurityFixturesDir } from "../devcluster/go-modules.ts";
import { DECLINED, fastLoad, fastLoadIndexed } from "./fast-yaml.ts";
import { resolveBlockPath } from "./positions-index.ts";
import { parsedYamlLocator } from "./positions.ts";
import { KUBERNETES_SCHEMA } from "./schema.ts";
import { splitYamlDocuments } from "./split.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");

/** js-yaml's reading of one document: its value, or "error". */
function reference(text: string): unknown {
  try {
    const values = loadAll(text, { schema: KUBERNETES_SCHEMA, maxDepth: 100 });
    return values.length === 1 ? values[0] : { multiple: values };
  } catch {
    return "error";
  }
}

/** Asserts the fast path declines `text` or reads exactly what js-yaml reads; true when it accepted. */
function agrees(text: string): boolean {
  const fast = fastLoad(text, 100);
  if (fast === DECLINED) return false;
  const expected = reference(text);
  assert.notEqual(expected, "error", `the fast path accepted what js-yaml refuses: ${JSON.stringify(text)}`);
  assert.deepStrictEqual(fast, expected, `the fast path disagrees with js-yaml on ${JSON.stringify(text)}`);
  return true;
}

function* yamlFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory).sort()) {
    const file = path.join(directory, entry);
    if (statSync(file).isDirectory()) yield* yamlFiles(file);
    else if (/\.ya?ml$/.test(entry)) yield file;
  }
}

function documentsOf(files: Iterable<string>): string[] {
  const documents: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const span of splitYamlDocuments(text)) documents.push(text.slice(span.start, span.end));
  }
  return documents;
}

const corpusDir = mkdtempSync(path.join(tmpdir(), "vakt-fast-yaml-"));
const corpus = documentsOf(writeCorpus(corpusDir, { objects: 2_000, files: 4, seed: 7 }).files);
rmSync(corpusDir, { recursive: true, force: true });
const fixtures = documentsOf(yamlFiles(await podSecurityFixturesDir()));
const examples = documentsOf(yamlFiles(path.join(repoRoot, "examples")));
/** The corpus and the fixtures as an editor on Windows saves them. */
const crlf = [...corpus, ...fixtures].map((text) => text.replaceAll("\n", "\r\n"));

const ACCEPTED = [
  "a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: true\ng: False\n",
  "a: 0644\nb: 0x1F\nc: 1_000\nd: -12\ne: +3\nf: 0b101\ng: 1:20\nh: 2001-12-14\n",
  "a: 1.5\nb: .inf\nc: -.Inf\nd: .nan\ne: 6.02e+23\nf: 1e3\ng: 1.\nh: .5\n",
  "a: ~\nb: null\nc: Null\nd:\ne: ''\nf: \"\"\ng: 'it''s'\nh: \"tab\\there \\\"q\\\" \\u00e9\"\n",
  "1: a\n0x10: b\nyes: c\n~: d\n.inf: e\n'on': f\n\"2\": g\nNO: h\n",
  "a: x #comment\nb: x#y\nc: 'x' # c\nd: http://example.com:8080/a#b\ne: a:b\n",
  "a: [1, b, \"c d\", 'e', [], {}]\nb: {x: 1, y: [2, 3], 'z': {w: no}}\nc: [--port, \"8080\", -1]\n",
  "a:\n- 1\n- b: 2\n  c: 3\n- - x\n  - y\n-\n  - z\n- \nd: e\n",
  '- name: a\n  env:\n  - name: X\n    value: "1"\n- name: b\n',
  "a: |\n  line 1\n\n    indented\n  line 3\nb: |-\n  strip\n\nc: |+\n  keep\n\n\nd: x\n",
  "a: >\n  folded\n  text\n\n  para\ne: >-\n  x\n  y\nf: >+\n  k\n\n",
  "# head\n---\n# c\nkind: Pod # trailing\nmetadata:\n  # inside\n  name: x\n\n\n",
  "a: 'single # not a comment'\nb: \"double: not a key\"\n'q k': 1\n\"dq: k\": 2\n",
  "- a\n- b\n",
  "a  : spaces before the colon\nb : 1\nyes : 2\nname: x\n",
  "a: 1\r\nb: 2\r\n",
  "# c\r\n---\r\na: |\r\n  x\r\n\r\n  y  \r\n  \r\nb: >\r\n  f\r\n  g\r\n\r\n  h\r\nc: |+\r\n  k\r\n\r\nd: 'q' # c\r\n",
  "a:\r\n- x\r\n- {y: 1, z: [2]}\r\n-   \"w\"\r\ne: ''\r\n",
];

const DECLINED_CASES = [
  "a: &x 1\nb: *x\n",
  "a: !!str 1\n",
  "%YAML 1.1\n---\na: 1\n",
  "base: &b {x: 1}\nc:\n  <<: *b\n",
  "? complex\n: key\n",
  "a: multi\n  line plain\n",
  'a: "multi\n  line"\n',
  "a: [1,\n  2]\n",
  "a:\tb\n",
  "a: 1\rb: 2\n",
  "a: 1\r",
  "a: |\r\n  x\r\r\n",
  "a: 1\na: 2\n",
  "a: |2\n    x\n",
  "a: b: c\n",
  "",
  "---\n",
  "text\n",
];

/** Every path to a node of `value`. */
function* pathsIn(value: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  yield path;
  if (typeof value !== "object" || value === null) return;
  for (const [key, item] of Object.entries(value))
    yield* pathsIn(item, [...path, Array.isArray(value) ? Number(key) : key]);
}

/**
 * Asserts the index recorded while reading `text` resolves every path of its value where the
 * `yaml` re-parse does (or declines the path); true when an index was recorded.
 */
function recordsPositions(text: string): boolean {
  const read = fastLoadIndexed(text, 100);
  if (read === DECLINED || read.index === undefined) return false;
  const reference = parsedYamlLocator(text, 0);
  for (const path of pathsIn(read.value)) {
    const position = resolveBlockPath(read.index, path);
    if (position === undefined) continue;
    assert.deepStrictEqual(
      { line: position.line + 1, column: position.col + 1 },
      reference(path),
      `recorded index, path ${JSON.stringify(path)} in ${JSON.stringify(text)}`,
    );
  }
  return true;
}

describe("fast YAML path", () => {
  it("records positions the yaml re-parse agrees with, on the corpus, the fixtures, the examples and the cases", () => {
    const recorded = corpus.filter((text) => recordsPositions(text)).length;
    assert.equal(recorded, corpus.length, "an index is recorded for every corpus document");
    let others = 0;
    for (const text of [...fixtures, ...examples, ...ACCEPTED, ...DECLINED_CASES])
      if (recordsPositions(text)) others++;
    assert.ok(others > fixtures.length / 2, `an index was recorded for only ${others} other documents`);
  });

  it("reads the corpus and the fixtures with CRLF line ends as js-yaml does, and records their positions", () => {
    const accepted = crlf.filter((text) => agrees(text)).length;
    assert.ok(accepted / crlf.length > 0.95, `accepted ${accepted} of ${crlf.length}`);
    const recorded = crlf.filter((text, i) => i % 4 === 0 && recordsPositions(text)).length;
    assert.ok(recorded > crlf.length / 8, `an index was recorded for only ${recorded} documents`);
  });

  it("reads every document of the benchmark corpus exactly as js-yaml does", () => {
    const accepted = corpus.filter((text) => agrees(text)).length;
    assert.equal(accepted, corpus.length, "every corpus document is within the fast path's subset");
  });

  it("agrees with js-yaml on the Pod Security conformance fixtures and the examples", () => {
    const all = [...fixtures, ...examples];
    assert.ok(all.length > 1_000);
    const accepted = all.filter((text) => agrees(text)).length;
    assert.ok(accepted / all.length > 0.95, `accepted ${accepted} of ${all.length}`);
  });

  it("types scalars as Kubernetes does (YAML 1.1 via go-yaml v2) and makes keys strings as js-yaml does", () => {
    const cases = ACCEPTED;
    for (const text of cases) assert.ok(agrees(text), `accepted: ${JSON.stringify(text)}`);
  });

  it("declines what is outside its subset, leaving it to js-yaml", () => {
    const cases = DECLINED_CASES;
    for (const text of cases) assert.equal(fastLoad(text, 100), DECLINED, JSON.stringify(text));
  });

  it("agrees with js-yaml on mutated manifests (property)", () => {
    const pool = [
      ...corpus.slice(0, 100),
      ...fixtures.slice(0, 100),
      ...crlf.slice(0, 50),
      ...ACCEPTED,
      ...ACCEPTED,
      ...DECLINED_CASES,
    ];
    const alphabet = [
      " ",
      "  ",
      "-",
      "- ",
      ":",
      ": ",
      "#",
      " #",
      "'",
      '"',
      "|",
      ">",
      "[",
      "]",
      "{",
      "}",
      ",",
      "\n",
      "\n  ",
      "\r\n",
      "\r",
      "&a",
      "*a",
      "!",
      "?",
      "\\",
      "y",
      "0",
      "1.5",
      "~",
    ];
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.nat(pool.length - 1),
        fc.array(
          fc.record({
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            cut: fc.nat(6),
            insert: fc.constantFrom(...alphabet),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (index, edits) => {
          let text = pool[index] ?? "";
          for (const edit of edits) {
            const at = Math.floor(edit.at * text.length);
            text = text.slice(0, at) + edit.insert + text.slice(at + edit.cut);
          }
          if (agrees(text)) accepted++;
        },
      ),
      {
        numRuns: 4_000,
        seed: 20261122,
      },
    );
    // Many mutants are still plain manifests: the property has to exercise the accepting side.
    assert.ok(accepted > 400, `only ${accepted} mutants were accepted`);
  });

  it("never throws, whatever the input (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 200 }), (text) => {
        agrees(text);
      }),
      {
        numRuns: 2_000,
        seed: 11,
      },
    );
  });
});
