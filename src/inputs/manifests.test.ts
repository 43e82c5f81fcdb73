import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { InputProblem } from "./types.ts";
import {
  loadManifests,
  parseManifestText,
  type LoadedObject,
  type LoadManifestsOptions,
} from "./manifests.ts";

interface Loaded {
  readonly objects: LoadedObject[];
  readonly problems: InputProblem[];
  readonly files: string[];
}

async function load(inputs: readonly string[], options: LoadManifestsOptions = {}): Promise<Loaded> {
  const loaded: Loaded = { objects: [], problems: [], files: [] };
  for await (const event of loadManifests(inputs, options)) {
    if (event.type === "object") loaded.objects.push(event);
    else if (event.type === "problem") loaded.problems.push(event.problem);
    else loaded.files.push(event.file);
  }
  return loaded;
}

function loadText(text: string, format: "yaml" | "json" | "auto" = "yaml"): Loaded {
  const loaded: Loaded = { objects: [], problems: [], files: [] };
  for (const event of parseManifestText("input.yaml", text, format)) {
    if (event.type === "object") loaded.objects.push(event);
    else loaded.problems.push(event.problem);
  }
  return loaded;
}

/** items[index], failing the test when it is missing. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  assert.ok(item !== undefined, `no item ${index} in ${JSON.stringify(items)}`);
  return item;
}

function names(loaded: Loaded): string[] {
  return loaded.objects.map((loadedObject) => {
    const metadata = loadedObject.object.metadata as { name?: unknown } | undefined;
    return `${String(loadedObject.object.kind)}/${String(metadata?.name)}`;
  });
}

/** The 1-based line number of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string, occurrence = 1): number {
  const lines = text.split("\n");
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.includes(needle) === true && ++seen === occurrence) return i + 1;
  }
  throw new Error(`${needle} not in text`);
}

const TWO_DEPLOYMENTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: app
          image: nginx:1.27
---
# second one
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: busybox
      containers:
      - name: sidecar
        image: envoy:1.30
      - name: main
        image: "ghcr.io/acme/api:2.0"
`;

const IMAGE = ["spec", "template", "spec", "containers", 0, "image"] as const;

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vakt-inputs-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(relative: string, content: string): Promise<string> {
  const path = join(dir, relative);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, content);
  return path;
}

describe("multi-document YAML", () => {
  it("loads every document and locates a container image on its exact line", async () => {
    const path = await file("multi/two.yaml", TWO_DEPLOYMENTS);
    const loaded = await load([path]);
    assert.deepEqual(names(loaded), ["Deployment/web", "Deployment/api"]);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(loaded.files, [path]);
    const [web, api] = loaded.objects;
    assert.ok(web !== undefined && api !== undefined);
    assert.equal(web.documentIndex, 0);
    assert.equal(api.documentIndex, 1);
    assert.deepEqual(web.locate(IMAGE), { line: lineOf(TWO_DEPLOYMENTS, "image: nginx"), column: 11 });
    assert.deepEqual(api.locate(["spec", "template", "spec", "containers", 1, "image"]), {
      line: lineOf(TWO_DEPLOYMENTS, 'image: "ghcr.io'),
      column: 9,
    });
    // A sequence item resolves to the item itself.
    assert.deepEqual(api.locate(["spec", "template", "spec", "containers", 1]), {
      line: lineOf(TWO_DEPLOYMENTS, "name: main"),
      column: 9,
    });
  });

  it("resolves a missing field to its deepest existing parent", () => {
    const loaded = loadText(TWO_DEPLOYMENTS);
    const api = loaded.objects[1];
    assert.ok(api !== undefined);
    assert.deepEqual(
      api.locate(["spec", "template", "spec", "containers", 0, "securityContext", "privileged"]),
      {
        line: lineOf(TWO_DEPLOYMENTS, "name: sidecar"),
        column: 9,
      },
    );
    assert.deepEqual(api.locate(["spec", "template", "spec", "containers", 9]), {
      line: lineOf(TWO_DEPLOYMENTS, "containers:", 2),
      column: 7,
    });
    assert.deepEqual(api.locate([]), { line: lineOf(TWO_DEPLOYMENTS, "apiVersion", 2), column: 1 });
  });

  it("locates through flow collections, quoted keys, merge keys and aliases", () => {
    const text = [
      "apiVersion: v1", // 1
      "kind: ConfigMap", // 2
      "metadata: {name: cm, labels: {'app.kubernetes.io/name': x}}", // 3
      "defaults: &defaults", // 4
      "  mode: 0644", // 5
      "data:", // 6
      "  <<: *defaults", // 7
      "  other: [1, *defaults]", // 8
    ].join("\n");
    const [object] = loadText(text).objects;
    assert.ok(object !== undefined);
    assert.deepEqual(object.object["data"], { mode: 420, other: [1, { mode: 420 }] });
    assert.deepEqual(object.locate(["metadata", "labels", "app.kubernetes.io/name"]), {
      line: 3,
      column: 31,
    });
    assert.deepEqual(object.locate(["data", "mode"]), { line: 5, column: 3 });
    assert.deepEqual(object.locate(["data", "other", 1, "mode"]), { line: 5, column: 3 });
  });
});

describe("List expansion", () => {
  const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: first
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: second
  spec:
    template:
      spec:
        containers:
        - name: c
          image: redis
`;

  it("yields the items with pathPrefix and positions inside the items", () => {
    const loaded = loadText(list);
    assert.deepEqual(names(loaded), ["ConfigMap/first", "Deployment/second"]);
    const [first, second] = loaded.objects;
    assert.ok(first !== undefined && second !== undefined);
    assert.deepEqual(first.pathPrefix, ["items", 0]);
    assert.deepEqual(second.pathPrefix, ["items", 1]);
    assert.deepEqual(first.locate(["metadata", "name"]), { line: 7, column: 5 });
    assert.deepEqual(second.locate(IMAGE), { line: lineOf(list, "image: redis"), column: 11 });
    assert.deepEqual(second.locate([]), { line: 8, column: 3 });
  });

  it("expands typed lists, filling in apiVersion and kind the API leaves off items", () => {
    const loaded = loadText(
      "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n",
    );
    assert.deepEqual(names(loaded), ["Deployment/a", "Deployment/b"]);
    assert.equal(at(loaded.objects, 0).object.apiVersion, "apps/v1");
  });

  it("notes items that are not Kubernetes objects, with the item's position", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: List\nitems:\n- 42\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n",
    );
    assert.deepEqual(names(loaded), ["Secret/s"]);
    assert.deepEqual(loaded.problems, [
      {
        file: "input.yaml",
        level: "note",
        message: "document 1 item 1 has no apiVersion/kind; not a Kubernetes object, skipped",
        line: 4,
        column: 3,
      },
    ]);
  });
});

describe("read as kubectl reads it", () => {
  it("lets a merge key override the keys before it and be overridden by those after it", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx: &priv {privileged: true, runAsUser: 0}\n" +
        "spec:\n  securityContext:\n    privileged: false\n    <<: *priv\n    runAsUser: 1000\n",
    );
    const object = at(loaded.objects, 0);
    assert.deepEqual(object.object["spec"], { securityContext: { privileged: true, runAsUser: 1000 } });
    assert.deepEqual(object.locate(["spec", "securityContext", "privileged"]), { line: 4, column: 11 });
    assert.deepEqual(object.locate(["spec", "securityContext", "runAsUser"]), { line: 9, column: 5 });
  });

  it("gives a later merge key precedence, and the first mapping of a merged sequence", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n" +
        "data:\n  <<: {a: one}\n  <<: {a: two, b: two}\n  c: own\n  <<: [{c: first}, {c: second, d: second}]\n",
    );
    assert.deepEqual(at(loaded.objects, 0).object["data"], { a: "two", b: "two", c: "first", d: "second" });
  });

  it("refuses a merge of something other than mappings, saying why", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nl: &l [{a: 1}]\ndata: {<<: *l}\n",
    );
    assert.deepEqual(names(loaded), []);
    assert.match(
      at(loaded.problems, 0).message,
      /merge key \(<<\) takes a mapping or a sequence of mappings/,
    );
  });

  it("reads a document that starts with a byte order mark, after --- or after a comment", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\uFEFFapiVersion: v1\nkind: ConfigMap\n" +
        "metadata: {name: b}\n---\n# joined\n\uFEFFapiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(names(loaded), ["ConfigMap/a", "ConfigMap/b", "ConfigMap/c"]);
    assert.deepEqual(at(loaded.objects, 1).locate(["kind"]), { line: 6, column: 1 });
  });

  it("checks the items of any object with items (kubectl creates them), and says so", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: outer}\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: inner}\n",
    );
    assert.deepEqual(names(loaded), ["Pod/inner", "Pod/outer"]);
    assert.match(
      at(loaded.problems, 0).message,
      /kubectl creates the objects in its items instead of the Pod/,
    );
  });

  it("reports a list inside a list at any depth (kubectl refuses it) and still checks its items", () => {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\n";
    for (let i = 0; i < 6; i++)
      text = `apiVersion: v1\nkind: List\nitems:\n- ${text.replaceAll("\n", "\n  ").trimEnd()}\n`;
    const loaded = loadText(text);
    assert.deepEqual(names(loaded), ["ConfigMap/deep"]);
    assert.equal(
      loaded.problems.filter((p) => p.level === "error" && /list inside a list/.test(p.message)).length,
      5,
    );
  });
});

describe("helm template and kustomize output", () => {
  it("skips empty documents silently and keeps positions after # Source comments", async () => {
    const helm = `---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
---
# Source: shop/templates/empty.yaml
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-1.0.0
spec:
  template:
    spec:
      containers:
        - name: shop
          image: "shop:1.0.0"
          imagePullPolicy: IfNotPresent
`;
    const path = await file("helm/out.yaml", helm);
    const loaded = await load([path]);
    assert.deepEqual(loaded.problems, []);
    assert.deepEqual(names(loaded), ["ServiceAccount/shop", "Deployment/shop"]);
    assert.deepEqual(
      loaded.objects.map((object) => object.documentIndex),
      [0, 2],
    );
    assert.deepEqual(at(loaded.objects, 1).locate(IMAGE), { line: lineOf(helm, 'image: "shop'), column: 11 });
  });

  it("reads kustomize build output (no leading ---, documents separated by ---)", () => {
    const kustomize =
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n---\napiVersion: v1\ndata:\n  key: value\nkind: ConfigMap\nmetadata:\n  name: cfg-7h2k\n  namespace: prod\n";
    const loaded = loadText(kustomize);
    assert.deepEqual(names(loaded), ["Namespace/prod", "ConfigMap/cfg-7h2k"]);
    assert.deepEqual(at(loaded.objects, 1).locate(["metadata", "namespace"]), { line: 12, column: 3 });
  });
});

describe("JSON", () => {
  it("loads a JSON object with positions", async () => {
    const json = JSON.stringify(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "a", image: "nginx" }] },
      },
      null,
      2,
    );
    const path = await file("json/pod.json", json);
    const loaded = await load([path]);
    assert.deepEqual(names(loaded), ["Pod/p"]);
    assert.deepEqual(at(loaded.objects, 0).locate(["spec", "containers", 0, "image"]), {
      line: lineOf(json, '"image"'),
      column: 9,
    });
    assert.deepEqual(at(loaded.objects, 0).locate(["spec", "containers", 0, "securityContext"]), {
      line: lineOf(json, '"name": "a"') - 1,
      column: 7,
    });
  });

  it("expands a JSON List with positions inside the items", () => {
    const json = JSON.stringify(
      {
        apiVersion: "v1",
        kind: "List",
        items: [
          { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } },
          { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" }, data: { k: "v" } },
        ],
      },
      null,
      1,
    );
    const loaded = loadText(json, "json");
    assert.deepEqual(names(loaded), ["ConfigMap/a", "ConfigMap/b"]);
    assert.deepEqual(at(loaded.objects, 1).locate(["data", "k"]), { line: lineOf(json, '"k"'), column: 5 });
    assert.deepEqual(at(loaded.objects, 1).locate(["metadata", "name"]), {
      line: lineOf(json, '"name": "b"'),
      column: 5,
    });
  });

  it("reports a JSON syntax error with line and column", () => {
    const loaded = loadText('{\n  "apiVersion": "v1",\n  "kind": x\n}', "json");
    assert.deepEqual(loaded.objects, []);
    assert.equal(loaded.problems.length, 1);
    assert.equal(at(loaded.problems, 0).level, "error");
    assert.deepEqual([at(loaded.problems, 0).line, at(loaded.problems, 0).column], [3, 11]);
    assert.match(at(loaded.problems, 0).message, /JSON error: Unexpected token 'x'$/);
  });

  it("reports duplicate keys in JSON, which JSON.parse would silently drop", () => {
    const loaded = loadText('{"apiVersion": "v1", "kind": "Pod",\n "kind": "Secret"}', "json");
    assert.deepEqual(loaded.objects, []);
    assert.deepEqual(loaded.problems, [
      { file: "input.yaml", level: "error", message: 'JSON error: duplicate key "kind"', line: 2, column: 2 },
    ]);
  });
});

describe("parse errors", () => {
  it("reports line:column and still loads the other documents of the file, and other files", async () => {
    const broken =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n    labels: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok2\n";
    const first = await file("errors/broken.yaml", broken);
    const second = await file(
      "errors/fine.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok3\n",
    );
    const loaded = await load([first, second]);
    assert.deepEqual(names(loaded), ["ConfigMap/ok1", "ConfigMap/ok2", "ConfigMap/ok3"]);
    assert.equal(loaded.problems.length, 1);
    const problem = at(loaded.problems, 0);
    assert.equal(problem.file, first);
    assert.equal(problem.level, "error");
    assert.match(problem.message, /^YAML error in document 2: /);
    assert.equal(problem.line, 9);
    assert.equal(typeof problem.column, "number");
  });

  it("reports duplicate keys with the position of the second key", () => {
    const loaded = loadText("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n");
    assert.deepEqual(loaded.objects, []);
    assert.equal(at(loaded.problems, 0).level, "error");
    assert.deepEqual([at(loaded.problems, 0).line, at(loaded.problems, 0).column], [5, 3]);
    assert.match(at(loaded.problems, 0).message, /unique/);
  });

  it("refuses 100,000 nested brackets with an error instead of overflowing the stack", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    for (const format of ["yaml", "json", "auto"] as const) {
      const loaded = loadText(`apiVersion: v1\nkind: X\nspec: ${deep}\n`, format);
      assert.equal(loaded.objects.length, 0, format);
      assert.equal(at(loaded.problems, 0).level, "error", format);
    }
    const loaded = loadText(`{"apiVersion": "v1", "kind": "X", "spec": ${deep}}`, "json");
    assert.match(at(loaded.problems, 0).message, /nesting deeper than 1000 levels/);
  });
});

describe("non-Kubernetes documents", () => {
  it("notes documents without apiVersion/kind and ignores empty ones", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nreplicaCount: 3\nimage: {tag: x}\n---\n---\njust a scalar\n---\n~\n",
    );
    assert.deepEqual(names(loaded), ["ConfigMap/a"]);
    assert.deepEqual(loaded.problems, [
      {
        file: "input.yaml",
        level: "note",
        message: "document 2 has no apiVersion/kind; not a Kubernetes object, skipped",
        line: 5,
        column: 1,
      },
      {
        file: "input.yaml",
        level: "note",
        message: "document 4 has no apiVersion/kind; not a Kubernetes object, skipped",
        line: 9,
        column: 1,
      },
    ]);
  });
});

describe("YAML 1.1 scalars, as Kubernetes reads them", () => {
  it("reads yes/on as booleans and 0644 as octal, keeps timestamps and 1:20 as strings", () => {
    const loaded = loadText(
      "apiVersion: v1\nkind: X\nspec:\n  a: yes\n  b: off\n  mode: 0644\n  date: 2024-01-02\n  time: 12:30\n  quoted: 'on'\n",
    );
    assert.deepEqual(at(loaded.objects, 0).object["spec"], {
      a: true,
      b: false,
      mode: 420,
      date: "2024-01-02",
      time: "12:30",
      quoted: "on",
    });
  });

  it('locates a key that typing turned into another string (on: becomes "true")', () => {
    const loaded = loadText("apiVersion: v1\nkind: X\nspec:\n  on: 1\n  0x1F: 2\n");
    const object = at(loaded.objects, 0);
    assert.deepEqual(Object.keys(object.object["spec"] as object), ["31", "true"]);
    assert.deepEqual(object.locate(["spec", "true"]), { line: 4, column: 3 });
    assert.deepEqual(object.locate(["spec", "31"]), { line: 5, column: 3 });
  });
});

describe("safety limits", () => {
  it("refuses an alias bomb", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [previous, name] of ["a", "b", "c", "d", "e", "f", "g", "h"].map(
      (letter, i) => [letter, "bcdefghi"[i]] as const,
    )) {
      levels.push(`${name ?? ""}: &${name ?? ""} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const loaded = loadText(
      `apiVersion: v1\nkind: ConfigMap\ndata:\n${levels.map((line) => `  ${line}`).join("\n")}\n`,
    );
    assert.deepEqual(loaded.objects, []);
    assert.equal(loaded.problems.length, 1);
    assert.equal(at(loaded.problems, 0).level, "error");
    assert.match(
      at(loaded.problems, 0).message,
      /^document 1 uses 72 aliases that expand it by 490329036 nodes \(limit 100000 nodes from aliases\); refused as a possible alias bomb$/,
    );
    assert.deepEqual([at(loaded.problems, 0).line, at(loaded.problems, 0).column], [5, 10]);
  });

  it("refuses a document with too many aliases, and a recursive alias", () => {
    const many = loadText(`apiVersion: v1\nkind: X\nv: &v 1\nlist: [${Array(1001).fill("*v").join(", ")}]\n`);
    assert.equal(many.objects.length, 0);
    assert.equal(at(many.problems, 0).message, "document 1 uses 1001 aliases (limit 1000)");
    const recursive = loadText("apiVersion: v1\nkind: X\nspec: &x [*x]\n");
    assert.equal(recursive.objects.length, 0);
    assert.match(at(recursive.problems, 0).message, /alias inside its own anchor/);
  });

  it("accepts ordinary anchors and aliases", () => {
    const loaded = loadText("apiVersion: v1\nkind: X\nbase: &b {cpu: 1}\nlimits: *b\nrequests: *b\n");
    assert.equal(loaded.problems.length, 0);
    assert.deepEqual(at(loaded.objects, 0).object["requests"], { cpu: 1 });
  });

  it("refuses a document over the size limit, and still loads the next", async () => {
    const big = `apiVersion: v1\nkind: ConfigMap\ndata:\n  blob: ${"x".repeat(2048)}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n`;
    const path = await file("limits/big.yaml", big);
    const loaded = await load([path], { maxDocumentBytes: 1024 });
    assert.deepEqual(names(loaded), ["ConfigMap/small"]);
    assert.equal(loaded.problems.length, 1);
    assert.match(
      at(loaded.problems, 0).message,
      /^document 1 is 0\.\d MiB, over the per-document limit of 0\.\d MiB/,
    );
  });

  it("refuses a file over the file limit without reading it", async () => {
    const path = await file("limits/file.yaml", "apiVersion: v1\nkind: X\n".repeat(100));
    const loaded = await load([path], { maxFileBytes: 100 });
    assert.deepEqual(loaded.objects, []);
    assert.match(at(loaded.problems, 0).message, /input limit/);
  });
});

describe("paths", () => {
  it("walks directories recursively in sorted order, skipping hidden dirs, node_modules and other files", async () => {
    const root = join(dir, "tree");
    const manifest = (name: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;
    await file("tree/b.yaml", manifest("b"));
    await file("tree/a/z.yml", manifest("a-z"));
    await file(
      "tree/a/m/deep.json",
      JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a-m-deep" } }),
    );
    await file("tree/C.yaml", manifest("C"));
    await file("tree/.git/config.yaml", manifest("hidden"));
    await file("tree/node_modules/pkg/x.yaml", manifest("node-modules"));
    await file("tree/README.md", "# not a manifest");
    await file("tree/c/values.txt", "x: 1");
    await symlink(root, join(root, "a", "loop"));
    const loaded = await load([root]);
    assert.deepEqual(names(loaded), ["ConfigMap/C", "ConfigMap/a-m-deep", "ConfigMap/a-z", "ConfigMap/b"]);
    assert.deepEqual(loaded.files, [
      join(root, "C.yaml"),
      join(root, "a", "m", "deep.json"),
      join(root, "a", "z.yml"),
      join(root, "b.yaml"),
    ]);
    assert.deepEqual(loaded.problems, []);
  });

  it("reports nonexistent and unreadable paths as problems and goes on", async () => {
    const good = await file("paths/good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n");
    const missing = join(dir, "paths", "missing.yaml");
    const notADirectory = join(good, "child.yaml");
    const loaded = await load([missing, notADirectory, good]);
    assert.deepEqual(names(loaded), ["ConfigMap/good"]);
    assert.deepEqual(loaded.problems, [
      {
        file: missing,
        level: "error",
        message: `cannot read ${missing}: no such file or directory (ENOENT)`,
      },
      {
        file: notADirectory,
        level: "error",
        message: `cannot read ${notADirectory}: a part of the path is not a directory (ENOTDIR)`,
      },
    ]);
  });

  it("notes a directory with no manifests", async () => {
    await file("empty-dir/notes.txt", "nothing");
    const loaded = await load([join(dir, "empty-dir")]);
    assert.deepEqual(
      loaded.problems.map((problem) => problem.level),
      ["note"],
    );
  });
});

describe("stdin", () => {
  const yamlText = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n";

  it("reads '-' from a string or a Readable, reporting the file as '-'", async () => {
    const fromString = await load(["-"], { stdin: yamlText });
    assert.deepEqual(names(fromString), ["ConfigMap/from-stdin"]);
    assert.equal(at(fromString.objects, 0).file, "-");
    assert.deepEqual(fromString.files, ["-"]);
    const fromStream = await load(["-"], {
      stdin: Readable.from([Buffer.from(yamlText.slice(0, 20)), Buffer.from(yamlText.slice(20))]),
    });
    assert.deepEqual(names(fromStream), ["ConfigMap/from-stdin"]);
    assert.deepEqual(at(fromStream.objects, 0).locate(["metadata", "name"]), { line: 4, column: 3 });
  });

  it("detects JSON on stdin and keeps JSON positions", async () => {
    const loaded = await load(["-"], {
      stdin: '{"apiVersion": "v1",\n "kind": "ConfigMap",\n "metadata": {"name": "j"}}',
    });
    assert.deepEqual(names(loaded), ["ConfigMap/j"]);
    assert.deepEqual(at(loaded.objects, 0).locate(["metadata", "name"]), { line: 3, column: 15 });
  });

  it("reports '-' without stdin as a problem", async () => {
    const loaded = await load(["-"]);
    assert.equal(at(loaded.problems, 0).level, "error");
    assert.equal(at(loaded.problems, 0).file, "-");
  });
});
