import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { CST, Lexer, isAlias, isNode, parseAllDocuments, visit } from "yaml";
import { ALL_RULES } from "../engine/rules/index.ts";
import { installManifests } from "../install/manifests.ts";
import { openReportsCrds } from "../audit/crds.ts";
import { tenantCrd } from "../tenant/schema.ts";
import { backupLocationCrd } from "../backup/location.ts";

const REPO = join(import.meta.dirname, "..", "..");
const MAIN = join(REPO, "src", "cli", "main.ts");
const EXAMPLES = join(REPO, "examples", "tenants");

/** stdout of the real CLI (`node src/cli/main.ts ...args`), which must exit 0. */
async function vakt(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
    cwd: REPO,
    // The environment is inherited: `vakt install` reads OpenReports' CRDs through `go` on PATH.
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Fails on any anchor or alias, at both levels a reader meets them: the tokens of the text
 * (`&a1`, `*a1`) and the nodes of the parsed documents.
 */
function assertNoAliases(text: string): void {
  const tokens = [...new Lexer().lex(text)].filter((token) => {
    const type = CST.tokenType(token);
    return type === "anchor" || type === "alias";
  });
  assert.deepEqual(tokens, [], "anchor or alias tokens in the output");
  const found: string[] = [];
  for (const document of parseAllDocuments(text)) {
    assert.deepEqual(document.errors, []);
    visit(document, (_key, node) => {
      if (isAlias(node)) found.push(`alias *${node.source}`);
      else if (isNode(node) && node.anchor !== undefined) found.push(`anchor &${node.anchor}`);
    });
  }
  assert.deepEqual(found, [], "anchor or alias nodes in the output");
}

function parseStream(text: string): unknown[] {
  return parseAllDocuments(text).map((document) => document.toJS() as unknown);
}

/** What the objects are once serialized (JSON drops undefined fields, as YAML output does). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe("YAML that vakt prints has no anchors or aliases", () => {
  for (const tls of ["cert-manager", "self"] as const) {
    it(`vakt install --tls=${tls}: no aliases, and the same objects`, async () => {
      const options = {
        namespace: "vakt-install-test",
        image: "registry.example/vakt:1.2.3",
        replicas: 3,
        failurePolicy: "Ignore",
        timeoutSeconds: 7,
        tls,
      } as const;
      const text = await vakt(
        "install",
        `--namespace=${options.namespace}`,
        `--image=${options.image}`,
        `--replicas=${options.replicas}`,
        `--failure-policy=${options.failurePolicy}`,
        `--timeout=${options.timeoutSeconds}`,
        `--tls=${tls}`,
      );
      assertNoAliases(text);
      const expected = installManifests({
        ...options,
        rules: ALL_RULES,
        crds: [tenantCrd(), backupLocationCrd(), ...(await openReportsCrds())],
      });
      // The RBAC rules share their verb lists: what made the aliases (`verbs: *a1`) before.
      assert.ok(expected.some((object) => object.kind === "ClusterRole"));
      assert.deepEqual(parseStream(text), plain(expected));
    });
  }

  const examples = readdirSync(EXAMPLES).filter((file) => file.endsWith(".yaml"));
  it("has Tenant examples to render", () => {
    assert.ok(examples.length >= 2);
  });
  for (const example of examples) {
    it(`vakt render ${example}: no aliases, and the same objects as -o json`, async () => {
      const file = join(EXAMPLES, example);
      const [text, json] = await Promise.all([vakt("render", file), vakt("render", "-o", "json", file)]);
      assertNoAliases(text);
      const list = JSON.parse(json) as { items: unknown[] };
      assert.ok(list.items.length > 0);
      assert.deepEqual(parseStream(text), list.items);
    });
  }

  it("vakt crds: no aliases, and the Tenant CRD", async () => {
    const text = await vakt("crds");
    assertNoAliases(text);
    assert.deepEqual(parseStream(text), [plain(tenantCrd())]);
  });
});
