/**
 * Compares the fast YAML path with js-yaml on every document of every .yaml/.yml file under the
 * given directories (for instance the Go module cache, full of real-world manifests and CRDs):
 *
 *   node scripts/yaml-differential.ts "$(go env GOMODCACHE)"
 *
 * Prints how many documents the fast path accepted (each checked to equal js-yaml's value) and
 * declined, and every disagreement; exits 1 if there was one. A tool, not a test: what it reads
 * depends on the machine. src/inputs/fast-yaml.test.ts is the test.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { loadAll } from "js-yaml";
import { DECLINED, fastLoad } from "../src/inputs/fast-yaml.ts";
import { KUBERNETES_SCHEMA } from "../src/inputs/schema.ts";
import { splitYamlDocuments } from "../src/inputs/split.ts";

function* yamlFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory)) {
    const path = join(directory, entry);
    const info = statSync(path, { throwIfNoEntry: false });
    if (info?.isDirectory() === true) yield* yamlFiles(path);
    else if (info?.isFile() === true && /\.ya?ml$/.test(entry)) yield path;
  }
}

let accepted = 0;
let declined = 0;
let disagreements = 0;
for (const root of process.argv.slice(2)) {
  for (const file of yamlFiles(root)) {
    const text = readFileSync(file, "utf8");
    for (const span of splitYamlDocuments(text)) {
      const document = text.slice(span.start, span.end);
      const fast = fastLoad(document, 100);
      if (fast === DECLINED) {
        declined++;
        continue;
      }
      let expected: unknown;
      try {
        expected = loadAll(document, { schema: KUBERNETES_SCHEMA, maxDepth: 100 });
      } catch (error) {
        expected = `js-yaml refuses it: ${String(error)}`;
      }
      if (isDeepStrictEqual([fast], expected)) {
        accepted++;
        continue;
      }
      disagreements++;
      process.stdout.write(`DISAGREE ${file} (document ${String(span.index + 1)})\n`);
    }
  }
}
process.stdout.write(
  `accepted and equal: ${String(accepted)}, declined: ${String(declined)}, disagreements: ${String(disagreements)}\n`,
);
process.exitCode = disagreements > 0 ? 1 : 0;
