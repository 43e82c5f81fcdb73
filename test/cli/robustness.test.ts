/**
 * Robustness of `vakt check` against hostile or broken input: random garbage, malformed YAML
 * and JSON, mangled manifests and random object shapes go through runCheck in-process (the
 * whole pipeline: loading, parsing, every rule, exceptions, positions) and must never throw.
 * Each run must account for its input: findings, problems, or an input with no content.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import fc from "fast-check";
import { isScalar, parseAllDocuments } from "yaml";

import { runCheck } from "../../src/check/run.ts";
import type { CheckOptions } from "../../src/check/run.ts";
import { ALL_RULES } from "../../src/engine/rules/index.ts";
import type { CheckReport } from "../../src/outputs/report.ts";
import { removeDir, runVakt, tempDir } from "./helpers.ts";

const OPTIONS: CheckOptions = {
  rules: ALL_RULES,
  allRules: ALL_RULES,
  actions: new Map(),
  settings: {
    pssVersion: "latest",
    registries: ["registry.example.com"],
    allowedRegions: ["eu-north-1"],
    now: new Date("2026-06-15T00:00:00Z"),
  },
  listObjects: true,
};
const RULE_IDS = new Set(ALL_RULES.map((rule) => rule.id));

/** A parsed value that holds no objects: null, or a `*List` whose items are empty or null. */
function holdsNothing(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  const items = record["items"];
  return (
    typeof record["kind"] === "string" &&
    record["kind"].endsWith("List") &&
    (items === null || (Array.isArray(items) && items.length === 0))
  );
}

/** True when `text` holds no YAML content at all (only comments, blank lines, markers, nulls, empty lists). */
function yamlHasNoContent(text: string): boolean {
  // The oracle follows the YAML spec where the `yaml` package does not:
  // - a lone carriage return is a line break (YAML 1.1 and 1.2, js-yaml, go-yaml: what the API
  //   server uses); `yaml` reads "\r" as a plain scalar;
  // - byte order marks before a document are document prefixes (`l-document-prefix*`), not
  //   content: at the start of the stream, and after a marker line that ends a document with no
  //   content ("---" or "..." alone, as in "---\n\uFEFF"); `yaml` takes them as a scalar.
  const normalized = text
    .replace(/^\uFEFF+/, "")
    .replace(/\r(?!\n)/g, "\n")
    .replace(/^((?:---|\.\.\.)[ \t]*(?:#[^\n]*)?\n)\uFEFF+/gm, "$1");
  return parseAllDocuments(normalized).every((document) => {
    const contents = document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) return true;
    try {
      return holdsNothing(document.toJS({ maxAliasCount: 100 }));
    } catch {
      return false;
    }
  });
}

function jsonIsNull(text: string): boolean {
  try {
    return holdsNothing(JSON.parse(text.replace(/^\uFEFF/, "")));
  } catch {
    return false;
  }
}

/** The invariants every report must satisfy for a single input named `file`. */
function assertSane(report: CheckReport, file: string, text: string, format: "yaml" | "json"): void {
  for (const finding of report.findings) {
    assert.equal(finding.file, file);
    assert.ok(RULE_IDS.has(finding.rule), finding.rule);
    assert.ok(["deny", "warn", "audit"].includes(finding.action));
    assert.ok(Number.isInteger(finding.line) && finding.line >= 1, `line ${finding.line}`);
    assert.ok(Number.isInteger(finding.column) && finding.column >= 1, `column ${finding.column}`);
    assert.doesNotMatch(finding.message, /failed to evaluate/, `a rule threw: ${finding.message}`);
  }
  for (const problem of report.problems) {
    assert.equal(problem.file, file);
    assert.ok(["error", "note"].includes(problem.level), problem.level);
    assert.ok(problem.message.length > 0);
    if (problem.line !== undefined) assert.ok(Number.isInteger(problem.line) && problem.line >= 1);
  }
  for (const { objects } of report.objectsByFile ?? []) {
    for (const object of objects) assert.ok(Number.isInteger(object.line) && object.line >= 1);
  }
  const accounted = report.findings.length > 0 || report.problems.length > 0 || report.objects > 0;
  if (!accounted) {
    const empty = format === "json" ? jsonIsNull(text) : yamlHasNoContent(text);
    assert.ok(empty, `nothing reported for ${JSON.stringify(text.slice(0, 300))}`);
  }
}

const YAML_PIECES = [
  "apiVersion: v1\n",
  "apiVersion: apps/v1\n",
  "kind: Pod\n",
  "kind: Deployment\n",
  "kind: List\n",
  "kind: PolicyException\n",
  "items:\n",
  "metadata:\n",
  "  name: x\n",
  "  namespace: shop\n",
  "  labels: {app: web}\n",
  "spec:\n",
  "  containers:\n",
  "    - name: c\n",
  "      image: nginx\n",
  "      securityContext: {privileged: true}\n",
  "  template:\n",
  "    spec:\n",
  "  rules: [image-tag]\n",
  "  expires: 2020-02-30\n",
  "- ",
  ": ",
  "? ",
  "{",
  "}",
  "[",
  "]",
  ",",
  "&a ",
  "*a ",
  "*b\n",
  "<<: *a\n",
  "---\n",
  "...\n",
  "  ",
  "    ",
  "\n",
  "\t",
  "'",
  '"',
  "# comment\n",
  "!!str ",
  "!!binary ",
  "!custom ",
  "|\n",
  ">-\n",
  "%YAML 1.1\n",
  "%TAG ! tag:x,2000:\n",
  "null",
  "~",
  "0x1F",
  "0644",
  "yes",
  ".inf",
  "\u0000",
  "\uFEFF",
  "\u2028",
  "\r\n",
  "é",
  "😀",
];

const JSON_PIECES = [
  '{"apiVersion":"v1","kind":"Pod",',
  '"metadata":{"name":"x"}',
  '"spec":{"containers":[{"image":"n"}]}',
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  '"',
  "\\",
  "null",
  "1e999",
  "-",
  "\n",
  "\uFEFF",
  "\u0000",
  '"a":',
  "true",
  "0",
];

const WORKLOAD_KINDS = [
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "ReplicaSet",
  "Service",
  "Ingress",
  "Namespace",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "PolicyException",
  "PersistentVolumeClaim",
  "StorageClass",
  "PersistentVolume",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "List",
  "PodTemplate",
  "ReplicationController",
];

/** Random values in the shape of a Kubernetes object, with the fields rules read filled with anything. */
const kubeObject = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      "",
      "x",
      "latest",
      "0",
      "RuntimeDefault",
      "ALL",
      "NET_RAW",
      "Unconfined",
    ),
    fc.string(),
    fc.integer(),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        "name",
        "image",
        "securityContext",
        "privileged",
        "capabilities",
        "add",
        "drop",
        "containers",
        "initContainers",
        "ephemeralContainers",
        "volumes",
        "hostPath",
        "spec",
        "template",
        "metadata",
        "labels",
        "annotations",
        "selector",
        "matchLabels",
        "matchExpressions",
        "ports",
        "hostPort",
        "resources",
        "requests",
        "limits",
        "rules",
        "match",
        "tls",
        "hosts",
        "type",
        "seccompProfile",
        "jobTemplate",
        "items",
        "sysctls",
        "runAsUser",
        "runAsNonRoot",
        "x",
      ),
      tie("value"),
      { maxKeys: 5 },
    ),
  ),
})).value;

const manifestObject = fc.record({
  apiVersion: fc.constantFrom(
    "v1",
    "apps/v1",
    "batch/v1",
    "networking.k8s.io/v1",
    "policy/v1",
    "vakt.dev/v1alpha1",
  ),
  kind: fc.constantFrom(...WORKLOAD_KINDS),
  metadata: kubeObject,
  spec: kubeObject,
  items: kubeObject,
});

describe("runCheck on hostile input", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("vakt-robust-");
  });
  after(async () => {
    await removeDir(dir);
  });

  const checkFile = async (name: string, text: string, format: "yaml" | "json"): Promise<void> => {
    const file = join(dir, name);
    await writeFile(file, text);
    const report = await runCheck([file], OPTIONS);
    assert.deepEqual(report.files, [file]);
    assertSane(report, file, text, format);
  };

  it("never throws on random text written to a .yaml or .json file", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 300 }), fc.boolean(), async (text, json) => {
        await checkFile(json ? "random.json" : "random.yaml", text, json ? "json" : "yaml");
      }),
      // Line breaks alone, in every form YAML knows (a lone "\r" once tripped the oracle).
      {
        numRuns: 150,
        examples: [
          ["\r", false],
          ["\r\n", false],
          [" \r\r", false],
        ],
      },
    );
  });

  it("never throws on malformed YAML made of YAML syntax", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...YAML_PIECES), { maxLength: 40 }), async (pieces) => {
        await checkFile("pieces.yaml", pieces.join(""), "yaml");
      }),
      // A byte order mark after an empty document's marker is the next one's prefix (CI found it).
      { numRuns: 150, examples: [[["\uFEFF", "\uFEFF"]], [["---\n", "\uFEFF"]]] },
    );
  });

  it("never throws on malformed JSON, from a file or from stdin", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...JSON_PIECES), { maxLength: 30 }), async (pieces) => {
        const text = pieces.join("");
        await checkFile("pieces.json", text, "json");
        const report = await runCheck(["-"], { ...OPTIONS, load: { stdin: text } });
        assert.deepEqual(report.files, ["-"]);
        // stdin is read as JSON only when it parses as JSON, otherwise as YAML.
        assertSane(report, "-", text, jsonIsNull(text) ? "json" : "yaml");
      }),
      { numRuns: 150, examples: [[["\uFEFF", "\uFEFF"]]] },
    );
  });

  it("never throws on a valid manifest mangled by deletions and insertions", async () => {
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:latest
          securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}
      volumes: [{name: h, hostPath: {path: /}}]
`;
    const edit = fc.record({
      at: fc.nat({ max: manifest.length }),
      remove: fc.nat({ max: 8 }),
      insert: fc.oneof(fc.constantFrom(...YAML_PIECES), fc.string({ maxLength: 4 })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
        let text = manifest;
        for (const { at, remove, insert } of edits) {
          const position = Math.min(at, text.length);
          text = text.slice(0, position) + insert + text.slice(position + remove);
        }
        await checkFile("mangled.yaml", text, "yaml");
      }),
      { numRuns: 150 },
    );
  });

  it("never throws, and no rule fails to evaluate, on objects of any shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(manifestObject, { minLength: 1, maxLength: 3 }), async (objects) => {
        const text = objects.map((object) => JSON.stringify(object)).join("\n---\n");
        await checkFile("shapes.yaml", text, "yaml");
        const [first] = objects;
        if (first !== undefined) await checkFile("shape.json", JSON.stringify(first), "json");
      }),
      { numRuns: 150 },
    );
  });
});

describe("vakt check on an alias bomb", () => {
  it("exits 2 quickly with a message naming the alias expansion", async () => {
    const dir = await tempDir("vakt-bomb-");
    try {
      // Ten levels of nine aliases each: about 3.5 billion nodes once copied out.
      const levels = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
      for (let level = 1; level < 10; level++) {
        const name = String.fromCharCode(97 + level);
        const previous = String.fromCharCode(96 + level);
        levels.push(`x-${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(", ")}]`);
      }
      const file = join(dir, "bomb.yaml");
      await writeFile(
        file,
        `apiVersion: v1
kind: Pod
metadata: {name: bomb, namespace: shop}
spec:
  containers:
    - name: c
      image: registry.example.com/x:1
${levels.join("\n")}
`,
      );
      const result = await runVakt(["check", file, "-o", "json"], { timeoutMs: 30_000 });
      assert.equal(result.code, 2, result.stdout + result.stderr);
      const report = JSON.parse(result.stdout) as {
        problems: { file: string; level: string; message: string }[];
      };
      const [problem, ...others] = report.problems;
      assert.deepEqual(others, []);
      assert.equal(problem?.file, file);
      assert.equal(problem.level, "error");
      assert.match(problem.message, /alias/);
      assert.ok(result.ms < 15_000, `took ${Math.round(result.ms)} ms`);
    } finally {
      await removeDir(dir);
    }
  });
});
