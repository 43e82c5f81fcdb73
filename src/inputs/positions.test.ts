import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Document, isCollection, visit } from "yaml";
import type { FieldPath } from "../engine/types.ts";
import type { SourcePosition } from "./types.ts";
import { DECLINED, fastLoadIndexed } from "./fast-yaml.ts";
import { parseYamlDocument } from "./parse.ts";
import { keyTextMatches, resolveBlockPath, type BlockIndex } from "./positions-index.ts";
import { parsedYamlLocator, yamlLocator } from "./positions.ts";

const LIMITS = { maxDepth: 200, maxAliases: 100, maxAliasExpansion: 100_000 };

/** The recorded index's answer as a 1-based position, or undefined when it has none (document or path). */
function recordedPosition(text: string, startLine: number, path: FieldPath): SourcePosition | undefined {
  const index = recordedIndex(text);
  if (index === undefined) return undefined;
  const position = resolveBlockPath(index, path);
  return position === undefined
    ? undefined
    : { line: startLine + position.line + 1, column: position.col + 1 };
}

/** Every path to a node of `value`, plus missing ones below each collection. */
function pathsOf(value: unknown, path: (string | number)[] = [], out: FieldPath[] = []): FieldPath[] {
  out.push(path);
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => pathsOf(item, [...path, i], out));
    out.push([...path, value.length], [...path, "name"], [...path, "0"]);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) pathsOf(item, [...path, key], out);
    out.push([...path, "zz-missing"], [...path, "zz", 0, "deeper"], [...path, 0]);
  } else {
    out.push([...path, "below", "a", "scalar"]);
  }
  return out;
}

interface Stats {
  documents: number;
  /** Documents the fast parser recorded an index for while reading them, and paths it answered. */
  recorded: number;
  recordedPaths: number;
}

/** The index the fast parser records while reading `text`, if it does. */
function recordedIndex(text: string): BlockIndex | undefined {
  const read = fastLoadIndexed(text, LIMITS.maxDepth);
  return read === DECLINED ? undefined : read.index;
}

/** Asserts the recorded index and yamlLocator agree with the `yaml` re-parse for every path; returns whether the text parsed. */
function assertEquivalent(
  text: string,
  startLine: number,
  extra: readonly FieldPath[],
  stats: Stats,
): boolean {
  const parsed = parseYamlDocument(text, LIMITS);
  if (!parsed.ok) return false;
  stats.documents++;
  const recorded = recordedIndex(text);
  if (recorded !== undefined) stats.recorded++;
  const slow = parsedYamlLocator(text, startLine);
  const locate = yamlLocator(text, startLine);
  const locateRecorded = yamlLocator(text, startLine, recorded);
  const paths = [...extra];
  for (const value of parsed.values) pathsOf(value, [], paths);
  for (const path of paths) {
    const expected = slow(path);
    if (recorded !== undefined) {
      const position = resolveBlockPath(recorded, path);
      if (position !== undefined) {
        stats.recordedPaths++;
        assert.deepEqual(
          { line: startLine + position.line + 1, column: position.col + 1 },
          expected,
          `recorded index, path ${JSON.stringify(path)} in:\n${text}`,
        );
      }
    }
    assert.deepEqual(locate(path), expected, `yamlLocator, path ${JSON.stringify(path)} in:\n${text}`);
    assert.deepEqual(
      locateRecorded(path),
      expected,
      `yamlLocator with the recorded index, path ${JSON.stringify(path)} in:\n${text}`,
    );
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Hand-written cases

interface Case {
  readonly name: string;
  readonly text: string;
  readonly path: FieldPath;
  /** 1-based [line, column] with startLine 0. */
  readonly at: readonly [number, number];
  /** Whether the recorded index answers (false: the document or this path falls back to `yaml`). */
  readonly fast: boolean;
}

const DEPLOYMENT = `---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: "registry.example.com/web:1.0"
          securityContext:
            privileged: true
        - name: sidecar
          args: ["--port", "8080"]
`;

const KUBECTL = `apiVersion: v1
kind: Pod
spec:
  containers:
  - name: app
    ports:
    - containerPort: 80
      protocol: TCP
    env:
    - name: A
  volumes:
  - name: data
`;

const BLOCK_SCALARS = `kind: ConfigMap
data:
  script: |
    key: value
    - x
    spec:
      privileged: true

  folded: >-
    a: b
    - c
  explicit: |2+
      indented: more
    back: here
  keep: |+
    x

  after: 1
`;

const SCALARS = `kind: X
plain: this is a long
  plain scalar that goes on
  over three lines
quoted: "a double
  quoted: scalar
  - spanning lines"
single: 'it''s
  b: c'
next: value # a comment
"double key": 1
'single ''key''': 2
  # an indented comment
# a comment at column 0

spaced key   : 3
url: http://example.com:8080/x
empty:
last: true
`;

// The same forms without what the fast parser declines (an indentation indicator, multi-line
// plain and quoted scalars): it records their positions while reading them.
const BLOCK_SCALARS_RECORDED = `kind: ConfigMap
data:
  script: |
    key: value
    - x
    spec:
      privileged: true

  folded: >-
    a: b
    - c
  keep: |+
    x

  after: 1
`;

const SCALARS_RECORDED = `kind: X
plain: a plain scalar
quoted: "a double quoted: scalar - not a key"
single: 'it''s b: c'
next: value # a comment
"double key": 1
'single ''key''': 2
  # an indented comment
# a comment at column 0

spaced key   : 3
url: http://example.com:8080/x
empty:
last: true
`;

const CASES: readonly Case[] = [
  { name: "root after --- and comments", text: DEPLOYMENT, path: [], at: [3, 1], fast: true },
  { name: "top-level key", text: DEPLOYMENT, path: ["kind"], at: [4, 1], fast: true },
  {
    name: "nested key in an indented sequence",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"],
    at: [14, 13],
    fast: true,
  },
  {
    name: "sequence item: the first key of a compact mapping",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 1],
    at: [15, 11],
    fast: true,
  },
  {
    name: "second key of a compact mapping",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 1, "args"],
    at: [16, 11],
    fast: true,
  },
  {
    name: "item of a flat flow sequence",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 1, "args", 1],
    at: [16, 28],
    fast: true,
  },
  {
    name: "missing leaf: the deepest existing key",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 0, "resources", "limits", "cpu"],
    at: [11, 11],
    fast: true,
  },
  {
    name: "missing index: the sequence's key",
    text: DEPLOYMENT,
    path: ["spec", "template", "spec", "containers", 5, "image"],
    at: [10, 7],
    fast: true,
  },
  {
    name: "path below a scalar: the scalar's key",
    text: DEPLOYMENT,
    path: ["metadata", "name", "x"],
    at: [6, 3],
    fast: true,
  },
  {
    name: "missing first key: the root",
    text: DEPLOYMENT,
    path: ["status", "x"],
    at: [3, 1],
    fast: true,
  },
  {
    name: "kubectl: sequence at its key's indent",
    text: KUBECTL,
    path: ["spec", "containers", 0, "ports", 0, "protocol"],
    at: [8, 7],
    fast: true,
  },
  {
    name: "kubectl: key after a same-indent sequence",
    text: KUBECTL,
    path: ["spec", "containers", 0, "env", 0, "name"],
    at: [10, 7],
    fast: true,
  },
  {
    name: "kubectl: outer sequence continues",
    text: KUBECTL,
    path: ["spec", "volumes", 0],
    at: [12, 5],
    fast: true,
  },
  {
    name: "key after a literal block scalar holding key:, - and a blank line",
    text: BLOCK_SCALARS,
    path: ["data", "folded"],
    at: [9, 3],
    fast: false,
  },
  {
    name: "key after a folded block scalar",
    text: BLOCK_SCALARS,
    path: ["data", "explicit"],
    at: [12, 3],
    fast: false,
  },
  {
    name: "key after block scalars with an indentation indicator and keep chomping",
    text: BLOCK_SCALARS,
    path: ["data", "after"],
    at: [18, 3],
    fast: false,
  },
  {
    name: "block scalar content is not a key",
    text: BLOCK_SCALARS,
    path: ["data", "spec", "privileged"],
    at: [2, 1],
    fast: false,
  },
  { name: "key after a multi-line plain scalar", text: SCALARS, path: ["quoted"], at: [5, 1], fast: false },
  {
    name: "key after a multi-line double-quoted scalar",
    text: SCALARS,
    path: ["single"],
    at: [8, 1],
    fast: false,
  },
  { name: "quoted scalar content is not a key", text: SCALARS, path: ["b"], at: [1, 1], fast: false },
  {
    name: "key after a multi-line single-quoted scalar",
    text: SCALARS,
    path: ["next"],
    at: [10, 1],
    fast: false,
  },
  { name: "double-quoted key", text: SCALARS, path: ["double key"], at: [11, 1], fast: false },
  {
    name: "single-quoted key with an escaped quote",
    text: SCALARS,
    path: ["single 'key'"],
    at: [12, 1],
    fast: false,
  },
  {
    name: "key after comments and a blank line",
    text: SCALARS,
    path: ["spaced key"],
    at: [16, 1],
    fast: false,
  },
  {
    name: "colon without a space is part of a value",
    text: SCALARS,
    path: ["url", "x"],
    at: [17, 1],
    fast: false,
  },
  { name: "key with a null value, then a sibling", text: SCALARS, path: ["last"], at: [19, 1], fast: false },
  { name: "below a null value: its key", text: SCALARS, path: ["empty", "a"], at: [18, 1], fast: false },
  {
    name: "recorded: key after a literal block scalar holding key:, - and a blank line",
    text: BLOCK_SCALARS_RECORDED,
    path: ["data", "folded"],
    at: [9, 3],
    fast: true,
  },
  {
    name: "recorded: key after a folded block scalar and keep chomping",
    text: BLOCK_SCALARS_RECORDED,
    path: ["data", "after"],
    at: [15, 3],
    fast: true,
  },
  {
    name: "recorded: block scalar content is not a key",
    text: BLOCK_SCALARS_RECORDED,
    path: ["data", "spec", "privileged"],
    at: [2, 1],
    fast: true,
  },
  {
    name: "recorded: quoted scalar content is not a key",
    text: SCALARS_RECORDED,
    path: ["b"],
    at: [1, 1],
    fast: true,
  },
  {
    name: "recorded: key after quoted scalars",
    text: SCALARS_RECORDED,
    path: ["next"],
    at: [5, 1],
    fast: true,
  },
  {
    name: "recorded: double-quoted key",
    text: SCALARS_RECORDED,
    path: ["double key"],
    at: [6, 1],
    fast: true,
  },
  {
    name: "recorded: single-quoted key with an escaped quote",
    text: SCALARS_RECORDED,
    path: ["single 'key'"],
    at: [7, 1],
    fast: true,
  },
  {
    name: "recorded: key after comments and a blank line",
    text: SCALARS_RECORDED,
    path: ["spaced key"],
    at: [11, 1],
    fast: true,
  },
  {
    name: "recorded: colon without a space is part of a value",
    text: SCALARS_RECORDED,
    path: ["url", "x"],
    at: [12, 1],
    fast: true,
  },
  {
    name: "recorded: key with a null value, then a sibling",
    text: SCALARS_RECORDED,
    path: ["last"],
    at: [14, 1],
    fast: true,
  },
  {
    name: "recorded: below a null value: its key",
    text: SCALARS_RECORDED,
    path: ["empty", "a"],
    at: [13, 1],
    fast: true,
  },
  {
    name: "scalar item: its column after extra spaces",
    text: "a:\n  -   x\n  - y\n",
    path: ["a", 0],
    at: [2, 7],
    fast: true,
  },
  {
    name: "block scalar item: its header",
    text: "a:\n- |\n  b: c\n- d\n",
    path: ["a", 1],
    at: [4, 3],
    fast: true,
  },
  {
    name: "nested compact sequence",
    text: "a:\n- - x\n  - y\n- - z\n",
    path: ["a", 0, 1],
    at: [3, 5],
    fast: true,
  },
  {
    name: "nested compact sequence: the inner sequence's start",
    text: "a:\n- - x\n  - y\n",
    path: ["a", 0],
    at: [2, 3],
    fast: true,
  },
  {
    name: "flat flow mapping key",
    text: "selector:\n  matchLabels: {app: web, tier: front}\n",
    path: ["selector", "matchLabels", "tier"],
    at: [2, 27],
    fast: true,
  },
  {
    name: "empty flow mapping: its key",
    text: "volumes:\n- name: tmp\n  emptyDir: {}\n",
    path: ["volumes", 0, "emptyDir", "medium"],
    at: [3, 3],
    fast: true,
  },
  {
    name: "nested flow collection: the key is fast",
    text: "a: {b: [1, 2]}\n",
    path: ["a"],
    at: [1, 1],
    fast: true,
  },
  {
    name: "nested flow collection: inside falls back",
    text: "a: {b: [1, 2]}\n",
    path: ["a", "b", 1],
    at: [1, 12],
    fast: false,
  },
  { name: "typed plain key: on is true", text: "a:\n  on: x\n", path: ["a", "true"], at: [2, 3], fast: true },
  { name: "typed plain key: 0x1F is 31", text: "a:\n  0x1F: x\n", path: ["a", "31"], at: [2, 3], fast: true },
  {
    name: "typed plain key: 00 is map key 0",
    text: "a:\n  x: 1\n  00: y\n",
    path: ["a", 0],
    at: [3, 3],
    fast: true,
  },
  { name: "quoted key is not typed", text: 'a:\n  "on": x\n', path: ["a", "true"], at: [1, 1], fast: true },
  { name: "first of duplicate keys", text: "a: 1\nb: 2\na: 3\n", path: ["a"], at: [1, 1], fast: false },
  {
    name: "CRLF line ends",
    text: "a:\r\n  b: |\r\n    x: y\r\n  c: 1\r\n",
    path: ["a", "c"],
    at: [4, 3],
    fast: true,
  },
  { name: "document end marker", text: "a:\n  b: 1\n...\n", path: ["a", "b"], at: [2, 3], fast: false },
  { name: "content indented as a whole", text: "  a:\n    b: 1\n", path: ["a", "b"], at: [2, 5], fast: true },
  {
    name: "merge key: own key is fast",
    text: "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
    path: ["m", "y"],
    at: [4, 3],
    fast: false, // anchors and aliases: the whole document falls back
  },
  {
    name: "merge key: merged key falls back",
    text: "base: &b\n  x: 1\nm:\n  <<: *b\n  y: 2\n",
    path: ["m", "x"],
    at: [2, 3],
    fast: false,
  },
  {
    name: "merge key without an alias: a merged key falls back",
    text: "m:\n  <<: {x: 1}\n  y: 2\n",
    path: ["m", "x"],
    at: [2, 8],
    fast: false,
  },
  {
    name: "merge key without an alias: an own key falls back too (a << may override it)",
    text: "m:\n  <<:\n    x: 1\n  y: 2\n",
    path: ["m", "y"],
    at: [4, 3],
    fast: false,
  },
  {
    name: "merge key after an own key: the merged value wins, as in Kubernetes",
    text: "m:\n  x: 0\n  <<: {x: 1}\n",
    path: ["m", "x"],
    at: [3, 8],
    fast: false,
  },
  {
    name: "two merge keys: the later one wins",
    text: "m:\n  <<: {x: 1}\n  <<: {x: 2}\n  y: 0\n",
    path: ["m", "x"],
    at: [3, 8],
    fast: false,
  },
  {
    name: "merge of a sequence: the first mapping wins",
    text: "m:\n  x: 0\n  <<: [{x: 1}, {x: 2}]\n",
    path: ["m", "x"],
    at: [3, 9],
    fast: false,
  },
  {
    name: "flat flow sequence with an escaped single quote",
    text: "a: ['x'', y', z]\n",
    path: ["a", 1],
    at: [1, 15],
    fast: true,
  },
  { name: "anchor falls back", text: "a: &x\n  b: 1\n", path: ["a", "b"], at: [2, 3], fast: false },
  { name: "tag falls back", text: "a: !!map\n  b: 1\n", path: ["a", "b"], at: [2, 3], fast: false },
  { name: "directive falls back", text: "%YAML 1.1\n---\na: 1\n", path: ["a"], at: [3, 1], fast: false },
  {
    name: "tab in indentation falls back",
    text: "a:\n  b:\n  \t- 1\n",
    path: ["a", "b"],
    at: [2, 3],
    fast: false,
  },
  {
    name: "key after a multi-line flow collection with a comment and a quoted ]",
    text: 'a: [1, # c\n  "]", {x: y}\n  ]\nb: 1\n',
    path: ["b"],
    at: [4, 1],
    fast: false,
  },
  {
    name: "inside a multi-line flow collection falls back",
    text: "a: [1,\n  2]\nb: 1\n",
    path: ["a", 1],
    at: [2, 3],
    fast: false,
  },
  {
    name: "flow continuation not indented past its collection falls back",
    text: "a:\n  - [1,\n  2]\nb: 1\n",
    path: ["b"],
    at: [1, 1], // `yaml` reads this text differently from what its lines suggest

    fast: false,
  },
  { name: "explicit key falls back", text: "? a\n: 1\nb: 2\n", path: ["b"], at: [3, 1], fast: false },
  { name: "root sequence falls back", text: "- a: 1\n", path: [0, "a"], at: [1, 3], fast: false },
  {
    name: "double-quoted key with escapes",
    text: 'x: 0\n"a\\tb\\u00e9\\"": 1\nc: 2\n',
    path: ['a\tbé"'],
    at: [2, 1],
    fast: true,
  },
  {
    name: "double-quoted key with an unknown escape falls back",
    text: '"a\\qb": 1\nc: 2\n',
    path: ["c"],
    at: [2, 1],
    fast: false,
  },
  {
    name: "item on the line after its dash falls back",
    text: "a:\n-\n  b: 1\n",
    path: ["a", 0, "b"],
    at: [3, 3],
    fast: false,
  },
];

describe("YAML positions: hand-written cases", () => {
  for (const { name, text, path, at, fast } of CASES) {
    it(name, () => {
      const expected = { line: at[0], column: at[1] };
      assert.deepEqual(parsedYamlLocator(text, 0)(path), expected, "the yaml re-parse (reference)");
      assert.deepEqual(yamlLocator(text, 0)(path), expected, "yamlLocator");
      const position = recordedPosition(text, 0, path);
      if (fast) assert.deepEqual(position, expected, "recorded index");
      else assert.equal(position, undefined, "the recorded index should not answer");
    });
  }

  it("offsets every position by the document's start line", () => {
    assert.deepEqual(yamlLocator(KUBECTL, 41)(["spec", "volumes", 0, "name"]), { line: 53, column: 5 });
  });

  it("answers every path of the hand-written documents like the re-parse", () => {
    const stats: Stats = { documents: 0, recorded: 0, recordedPaths: 0 };
    for (const text of new Set(CASES.map((entry) => entry.text))) assertEquivalent(text, 3, [], stats);
    assert.ok(stats.recordedPaths > 100, `the recorded index answered only ${stats.recordedPaths} paths`);
  });
});

describe("keyTextMatches", () => {
  it("compares plain keys by text or typed form, quoted keys by text", () => {
    assert.equal(keyTextMatches("name", true, "name"), true);
    assert.equal(keyTextMatches("on", true, "true"), true);
    assert.equal(keyTextMatches("on", false, "true"), false);
    assert.equal(keyTextMatches("0x1F", true, "31"), true);
    assert.equal(keyTextMatches("1_000", true, "1000"), true);
    assert.equal(keyTextMatches("~", true, "null"), true);
    assert.equal(keyTextMatches("0644", true, "420"), true);
    assert.equal(keyTextMatches("name", true, "nam"), false);
    assert.equal(keyTextMatches("web", true, "true"), false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random Kubernetes-like manifests, serialised in several styles

const KEY = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "name",
      "image",
      "containers",
      "securityContext",
      "app.kubernetes.io/name",
      "a b",
      "x-y",
      "-dash",
      "on",
      "yes",
      "true",
      "null",
      "~",
      "0",
      "00",
      "123",
      "0x1F",
      "1_000",
      "1.5",
      "key: value",
      "- x",
      "#hash",
      "a #b",
      "it's",
      'say "hi"',
      "",
      " lead",
      "trail ",
      "tab\tkey",
      "new\nline",
      "é",
      "[x]",
      "{y}",
      "*star",
      "&amp",
      "!bang",
      "|pipe",
      "%pct",
    ),
  },
);

const SCALAR = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.:/-]{0,20}$/) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      "registry.example.com/app:1.0",
      "true",
      "on",
      "0644",
      "",
      " lead",
      "a: b",
      "- x",
      "# not a comment",
      "key: value\n- x\n  nested: y\nspec:\n  privileged: true\n",
      "line1\nline2",
      "  indented first\nsecond",
      "trailing newlines\n\n\n",
      "\nleading newline",
      "tab\there",
      'quote"s',
      "it's",
      "a long value that will be folded by the serialiser because it is longer than the line width",
      "ends with colon:",
      "x'y: z",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 100_000 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const { tree: TREE } = fc.letrec((tie) => ({
  tree: fc.dictionary(KEY, tie("node"), { minKeys: 1, maxKeys: 6, noNullPrototype: true }),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, SCALAR, tie("map"), tie("seq")),
  map: fc.dictionary(KEY, tie("node"), { maxKeys: 5, noNullPrototype: true }),
  seq: fc.array(tie("node"), { maxLength: 4 }),
}));

const STYLE = fc.record({
  indent: fc.constantFrom(2, 2, 4),
  indentSeq: fc.boolean(),
  lineWidth: fc.constantFrom(0, 30, 80),
  defaultKeyType: fc.constantFrom<"PLAIN" | "QUOTE_DOUBLE" | "QUOTE_SINGLE" | null>(
    null,
    null,
    "QUOTE_DOUBLE",
    "QUOTE_SINGLE",
  ),
  defaultStringType: fc.constantFrom<
    "PLAIN" | "QUOTE_DOUBLE" | "QUOTE_SINGLE" | "BLOCK_LITERAL" | "BLOCK_FOLDED"
  >("PLAIN", "PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE", "BLOCK_LITERAL", "BLOCK_FOLDED"),
  /** Bits choosing collections to print in flow style. */
  flow: fc.constantFrom(0, 0, 0, 0b10010, 0b1010101),
  header: fc.constantFrom("", "---\n", "# Source: chart/templates/x.yaml\n", "--- # doc\n# Source: x\n\n"),
  crlf: fc.constantFrom(false, false, false, true),
});

/** Comment and blank lines to insert: [line index, kind]; kind 0 blank, 1 comment, 2 trailing comment. */
const EDITS = fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 2 })), { maxLength: 8 });

function render(
  value: Record<string, unknown>,
  style: {
    indent: number;
    indentSeq: boolean;
    lineWidth: number;
    defaultKeyType: "PLAIN" | "QUOTE_DOUBLE" | "QUOTE_SINGLE" | null;
    defaultStringType: "PLAIN" | "QUOTE_DOUBLE" | "QUOTE_SINGLE" | "BLOCK_LITERAL" | "BLOCK_FOLDED";
    flow: number;
    header: string;
    crlf: boolean;
  },
  edits: readonly (readonly [number, number])[],
): string {
  const document = new Document(value);
  let counter = 0;
  visit(document, (_key, node, path) => {
    // Not the root or its direct values: those would be long, multi-line flow collections.
    if (isCollection(node) && path.length > 3 && (style.flow >> (counter++ % 8)) & 1) node.flow = true;
  });
  const text = document.toString({
    indent: style.indent,
    indentSeq: style.indentSeq,
    lineWidth: style.lineWidth,
    minContentWidth: 0,
    defaultKeyType: style.defaultKeyType,
    defaultStringType: style.defaultStringType,
  });
  const lines = text.split("\n");
  for (const [at, kind] of edits) {
    const index = at % lines.length;
    const line = lines[index] ?? "";
    const indent = /^ */.exec(line)?.[0] ?? "";
    if (kind === 0) lines.splice(index, 0, "");
    else if (kind === 1) lines.splice(index, 0, `${indent}# inserted comment: with - x`);
    else if (line.trim() !== "") lines[index] = `${line} # trailing`;
  }
  const joined = style.header + lines.join("\n");
  return style.crlf ? joined.replaceAll("\n", "\r\n") : joined;
}

describe("YAML positions agree with the yaml re-parse", () => {
  it("on random manifests in several serialisation styles", { timeout: 120_000 }, () => {
    const stats: Stats = { documents: 0, recorded: 0, recordedPaths: 0 };
    fc.assert(
      fc.property(TREE, STYLE, EDITS, fc.nat(50), (value, style, edits, startLine) => {
        const text = render({ apiVersion: "v1", kind: "ConfigMap", ...value }, style, edits);
        assertEquivalent(text, startLine, [], stats);
      }),
      { numRuns: 400 },
    );
    // The property only means something if many documents have a recorded index (the fast
    // parser declines multi-line scalars, carriage returns and tabs, which these styles produce often).
    assert.ok(stats.documents > 300, `only ${stats.documents} documents parsed`);
    assert.ok(stats.recorded > 60, `an index was recorded for only ${stats.recorded} documents`);
    assert.ok(stats.recordedPaths > 2000, `the recorded index answered only ${stats.recordedPaths} paths`);
  });

  it("on YAML-ish text built from block-structure fragments", { timeout: 120_000 }, () => {
    const fragments = [
      "a:",
      "b:",
      "- ",
      "-",
      ": ",
      "\n",
      "\n",
      "\n",
      "\n  ",
      "\n  ",
      "\n    ",
      "  ",
      " ",
      "x",
      "'q'",
      '"q"',
      "'",
      '"',
      "|",
      "|-",
      "|2",
      ">",
      "# c",
      " # c",
      "{}",
      "[]",
      "{k: v}",
      "[1, 2]",
      "on:",
      "0:",
      "...",
      "---",
      "\r\n",
      "\t",
      "&a ",
      "*a",
      "<<: ",
      "? ",
    ];
    const stats: Stats = { documents: 0, recorded: 0, recordedPaths: 0 };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 60 }), (parts) => {
        const text = parts.join("");
        if (/^(?:---|\.\.\.)(?:[ \t\r]|$)/m.test(text.slice(1))) return; // would be split into documents
        assertEquivalent(text, 0, [["a"], ["b"], ["a", 0], ["a", "b"], ["b", 0, "a"]], stats);
      }),
      { numRuns: 3000 },
    );
    assert.ok(stats.recorded > 50, `an index was recorded for only ${stats.recorded} documents`);
  });
});
