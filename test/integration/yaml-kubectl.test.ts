// Differential test of vakt's manifest reader against the kubectl the project builds: generated
// documents with YAML merge keys in every position (before and after explicit keys, repeated,
// sequences of merges, merges inside anchors and nested mappings), byte order marks at the start
// of documents, and objects with `items`. vakt must read exactly the objects and values kubectl
// would create. One kubectl process per batch: process start-up is most of its cost.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseManifestText } from "../../src/inputs/manifests.ts";
import { kubectl } from "../../src/testing/cluster.ts";

const KEYS = ["k0", "k1", "k2", "k3"];
const ANCHORS = ["a0", "a1", "a2"];

type Source = { alias: string } | { inline: Record<string, string> };
type Entry = { key: string } | { merge: Source[]; asSequence: boolean };

/** Values are unique strings, so a wrong winner always shows. */
let counter = 0;
const value = (): string => `v${String(counter++)}`;

const sourceArb: fc.Arbitrary<Source> = fc.oneof(
  fc.constantFrom(...ANCHORS).map((alias) => ({ alias })),
  fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }).map((keys) => ({
    inline: Object.fromEntries(keys.map((key) => [key, value()])),
  })),
);

const entryArb: fc.Arbitrary<Entry> = fc.oneof(
  fc.constantFrom(...KEYS).map((key) => ({ key })),
  fc
    .tuple(fc.array(sourceArb, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([merge, asSequence]) => ({ merge: asSequence ? merge : merge.slice(0, 1), asSequence })),
);

/** Explicit keys once per mapping: duplicates are an error to vakt and "last wins" to kubectl. */
function uniqueKeys(entries: readonly Entry[]): Entry[] {
  const seen = new Set<string>();
  return entries.filter((entry) => !("key" in entry) || (!seen.has(entry.key) && seen.add(entry.key)));
}

const mappingArb = fc.array(entryArb, { minLength: 1, maxLength: 6 }).map(uniqueKeys);

function flow(map: Record<string, string>): string {
  return `{${Object.entries(map)
    .map(([key, v]) => `${key}: "${v}"`)
    .join(", ")}}`;
}

function source(s: Source): string {
  return "alias" in s ? `*${s.alias}` : flow(s.inline);
}

function mapping(entries: readonly Entry[], indent: string): string {
  return entries
    .map((entry) => {
      if ("key" in entry) return `${indent}${entry.key}: "${value()}"\n`;
      const sources = entry.merge.map(source);
      return `${indent}<<: ${entry.asSequence ? `[${sources.join(", ")}]` : (sources[0] ?? "{}")}\n`;
    })
    .join("");
}

interface Generated {
  readonly anchors: readonly (readonly Entry[])[];
  readonly data: readonly Entry[];
  readonly nested: readonly Entry[];
  /** Where a byte order mark goes: none, first on the line after `---`, or after a comment line. */
  readonly bom: "none" | "start" | "afterComment";
}

const documentArb: fc.Arbitrary<Generated> = fc.record({
  // a0 plain; a1 and a2 may merge the anchors before them (merges inside anchors).
  anchors: fc
    .tuple(
      fc
        .uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 4 })
        .map((keys) => keys.map((key) => ({ key }))),
      fc.array(
        fc.oneof(
          fc.constantFrom(...KEYS).map((key): Entry => ({ key })),
          fc.constant<Entry>({ merge: [{ alias: "a0" }], asSequence: false }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      fc.array(
        fc.oneof(
          fc.constantFrom(...KEYS).map((key): Entry => ({ key })),
          fc.constant<Entry>({ merge: [{ alias: "a1" }, { alias: "a0" }], asSequence: true }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map((anchors) => anchors.map(uniqueKeys)),
  data: mappingArb,
  nested: mappingArb,
  bom: fc.constantFrom("none", "start", "afterComment"),
});

function render(document: Generated, index: number): string {
  const anchors = document.anchors
    .map((entries, i) => `  ${ANCHORS[i] ?? "?"}: &${ANCHORS[i] ?? "?"}\n${mapping(entries, "    ")}`)
    .join("");
  return (
    `---\n${document.bom === "start" ? "\uFEFF" : ""}# generated\n${document.bom === "afterComment" ? "\uFEFF" : ""}` +
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doc-${String(index)}\n` +
    `anchors:\n${anchors}` +
    `data:\n${mapping(document.data, "  ")}  nested:\n${mapping(document.nested, "    ")}`
  );
}

/** The objects of kubectl's `-o json` output: one object, or several one after the other. */
function kubectlObjects(stdout: string): Record<string, unknown>[] {
  const parsed: unknown = JSON.parse(`[${stdout.trim().replace(/^\}\n\{/gm, "},\n{")}]`);
  assert.ok(Array.isArray(parsed));
  return parsed.flatMap((object: Record<string, unknown>) =>
    object["kind"] === "List" ? (object["items"] as Record<string, unknown>[]) : [object],
  );
}

async function kubectlCreates(text: string): Promise<Record<string, unknown>[]> {
  const directory = mkdtempSync(join(tmpdir(), "vakt-yaml-kubectl-"));
  try {
    const file = join(directory, "batch.yaml");
    writeFileSync(file, text);
    const { stdout } = await kubectl([
      "create",
      "--dry-run=client",
      "--validate=false",
      "-o",
      "json",
      "-f",
      file,
    ]);
    return kubectlObjects(stdout);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function vaktReads(text: string): { objects: Record<string, unknown>[]; problems: string[] } {
  const objects: Record<string, unknown>[] = [];
  const problems: string[] = [];
  for (const event of parseManifestText("batch.yaml", text)) {
    if (event.type === "object") objects.push(event.object);
    else problems.push(`${event.problem.level} ${String(event.problem.line)}: ${event.problem.message}`);
  }
  return { objects, problems };
}

function nameOf(object: Record<string, unknown>): string {
  const metadata = object["metadata"] as Record<string, unknown> | undefined;
  return `${String(object["kind"])}/${String(metadata?.["name"])}`;
}

describe("vakt reads manifests as kubectl does", () => {
  it("resolves merge keys and byte order marks like kubectl on generated documents", async () => {
    const documents = fc.sample(documentArb, { numRuns: 300, seed: 20261205 });
    // The review's case: an explicit `privileged: false` before a merge that sets it to true.
    const pod =
      "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: sneaky\nx-defaults: &privileged {privileged: true}\n" +
      "spec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext:\n      privileged: false\n      <<: *privileged\n";
    // kubectl refuses a BOM before a comment in the first document after a leading `---` (vakt
    // reads it); the batch starts with a plain document so that every generated one is judged.
    const first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n";
    const text = first + documents.map(render).join("") + pod;
    const expected = await kubectlCreates(text);
    const { objects, problems } = vaktReads(text);
    assert.deepEqual(problems, []);
    assert.deepEqual(objects.map(nameOf), expected.map(nameOf));
    for (const [i, object] of objects.entries()) {
      const want = expected[i] ?? {};
      for (const field of ["data", "anchors", "spec"]) {
        assert.deepEqual(
          JSON.parse(JSON.stringify(object[field] ?? null)),
          want[field] ?? null,
          `${nameOf(object)} .${field} in\n${text.split("---\n")[i] ?? ""}`,
        );
      }
    }
  });

  it("checks the items kubectl creates from an object with items, whatever its kind", async () => {
    const text =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: outer}\nspec:\n  containers: [{name: c, image: busybox}]\n" +
      "items:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: inner}\n  spec:\n" +
      "    containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n";
    const created = (await kubectlCreates(text)).map(nameOf);
    const { objects } = vaktReads(text);
    const read = objects.map(nameOf);
    assert.deepEqual(created, ["Pod/inner"]);
    for (const name of created)
      assert.ok(read.includes(name), `vakt does not check ${name}: ${read.join(", ")}`);
  });
});
