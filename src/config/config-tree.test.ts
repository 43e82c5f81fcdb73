// The configuration tree is what the `yaml` package reads, with the offset of every node: the
// validation in vakt-config.ts names file:line:column from it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readConfigDocument, valueOf } from "./config-tree.ts";
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
      return node.value;
    default:
      return { other: true };
  }
}

function read(text: string): ReturnType<typeof readConfigDocument> {
  const document = readConfigDocument(text, "conf/vakt.yaml");
  assert.deepEqual(document.errors, [], `errors reading ${JSON.stringify(text)}`);
  return document;
}

describe("config-tree", () => {
  it("types scalars by the YAML 1.2 core schema, in block and flow style, plain and quoted", () => {
    const { root } = read(
      "a: ~\nb: null\nc: NULL\nd: true\ne: FALSE\nf: 0\ng: -12\nh: +3\ni: 007\nj: 12abc\nk: 1.2.3\n" +
        "l: on\nm: 0x1F\nn: 1e3\no: 2001-12-14\np: 'it''s'\nq: \"é\\u0041\"\nr: x#y # comment\n" +
        "s: [a, {t: 1}]\nu:\n- - v\n  - w: x\n1: y\n",
    );
    assert.deepEqual(shape(root), {
      map: [
        ["a", null],
        ["b", null],
        ["c", null],
        ["d", true],
        ["e", false],
        ["f", 0],
        ["g", -12],
        ["h", 3],
        ["i", 7],
        ["j", "12abc"],
        ["k", "1.2.3"],
        ["l", "on"],
        ["m", 31],
        ["n", 1000],
        ["o", "2001-12-14"],
        ["p", "it's"],
        ["q", "éA"],
        ["r", "x#y"],
        ["s", { seq: ["a", { map: [["t", 1]] }] }],
        ["u", { seq: [{ seq: ["v", { map: [["w", "x"]] }] }] }],
        [1, "y"],
      ],
    });
  });

  it("reads YAML 1.1 scalars under a %YAML 1.1 directive", () => {
    assert.deepEqual(shape(read("%YAML 1.1\n---\na: off\nb: 0644\n").root), {
      map: [
        ["a", false],
        ["b", 420],
      ],
    });
  });

  it("locates every node as file:line:column", () => {
    const document = read("apiVersion: v1\nspec:\n  rules:\n    image-tag: off\n  registries: [a, b]\n");
    const spec = valueOf(document.root, "spec");
    const rules = valueOf(spec, "rules");
    const registries = valueOf(spec, "registries");
    assert.equal(document.where(document.root), "conf/vakt.yaml:1:1");
    assert.equal(document.where(valueOf(rules, "image-tag")), "conf/vakt.yaml:4:16");
    assert.equal(document.where(registries), "conf/vakt.yaml:5:15");
    assert.ok(registries?.kind === "seq");
    assert.equal(document.where(registries.items[1]), "conf/vakt.yaml:5:19");
    assert.equal(document.where(undefined), "conf/vakt.yaml");
  });

  it("reads an empty document and a comment-only one as null, an empty value as a null scalar, an alias as other", () => {
    assert.equal(read("").root, null);
    assert.equal(read("# nothing\n").root, null);
    const { root } = read("a:\nb: &x 1\nc: *x\n");
    assert.deepEqual(shape(root), {
      map: [
        ["a", null],
        ["b", 1],
        ["c", { other: true }],
      ],
    });
    // An empty value is a null scalar where the value would be, so a problem with it has a line.
    assert.deepEqual(valueOf(root, "a"), { kind: "scalar", value: null, at: 2 });
    assert.equal(valueOf(root, "missing"), undefined);
  });

  it("reports syntax errors and duplicate keys as file:line:column: the first line of the message", () => {
    const { errors } = readConfigDocument("a: b: c\nd: 1\nd: 2\n", "conf/vakt.yaml");
    assert.equal(errors.length, 2);
    assert.equal(errors[0], "conf/vakt.yaml:1:4: Nested mappings are not allowed in compact mappings");
    assert.match(errors[1] ?? "", /^conf\/vakt\.yaml:3:1: .*unique/);
  });
});
