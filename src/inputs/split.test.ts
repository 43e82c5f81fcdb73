import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitYamlDocuments, type DocumentSpan } from "./split.ts";

function split(text: string): { text: string; startLine: number; contentLine: number }[] {
  return [...splitYamlDocuments(text)].map((span: DocumentSpan) => ({
    text: text.slice(span.start, span.end),
    startLine: span.startLine,
    contentLine: span.contentLine,
  }));
}

describe("splitYamlDocuments", () => {
  it("cuts at --- lines and keeps each document's line offset", () => {
    assert.deepEqual(split("a: 1\n---\nb: 2\n---\nc: 3"), [
      { text: "a: 1\n", startLine: 0, contentLine: 0 },
      { text: "---\nb: 2\n", startLine: 1, contentLine: 2 },
      { text: "---\nc: 3", startLine: 3, contentLine: 4 },
    ]);
  });

  it("keeps comments and a leading --- with the first document", () => {
    assert.deepEqual(split("# header\n---\n# Source: x.yaml\na: 1\n"), [
      { text: "# header\n---\n# Source: x.yaml\na: 1\n", startLine: 0, contentLine: 3 },
    ]);
  });

  it("reports helm's empty documents as empty (contentLine -1)", () => {
    const spans = split(
      "---\n# Source: chart/templates/a.yaml\n---\n# Source: chart/templates/b.yaml\nkind: X\n",
    );
    assert.deepEqual(
      spans.map((span) => span.contentLine),
      [-1, 4],
    );
  });

  it("does not cut at an indented --- inside a block scalar", () => {
    const text = "data:\n  script: |\n    echo a\n    ---\n    echo b\nkind: X\n---\nkind: Y\n";
    const spans = split(text);
    assert.equal(spans.length, 2);
    assert.match(spans[0]?.text ?? "", /echo b\nkind: X/);
  });

  it("treats content on the marker line as the document's first content", () => {
    const spans = split("a: 1\n--- |\n  text\n--- !!map\nb: 2\n");
    assert.deepEqual(
      spans.map((span) => [span.startLine, span.contentLine]),
      [
        [0, 0],
        [1, 1],
        [3, 3],
      ],
    );
  });

  it("does not take ---x, ---- or -- as markers", () => {
    assert.equal(split("a: ---x\n---x: 1\n----: 2\n--: 3\n").length, 1);
  });

  it("ends a document at ... and starts the next after it", () => {
    const spans = split("a: 1\n...\n%YAML 1.1\n---\nb: 2\n...\n");
    assert.deepEqual(
      spans.map((span) => span.text),
      ["a: 1\n...\n", "%YAML 1.1\n---\nb: 2\n...\n"],
    );
    assert.equal(spans[1]?.contentLine, 4);
  });

  it("handles CRLF line ends and tabs after markers", () => {
    const spans = split("a: 1\r\n---\r\nb: 2\r\n---\t# c\r\nc: 3\r\n");
    assert.deepEqual(
      spans.map((span) => [span.startLine, span.contentLine]),
      [
        [0, 0],
        [1, 2],
        [3, 4],
      ],
    );
  });

  it("counts consecutive markers as empty documents", () => {
    assert.deepEqual(
      split("---\n---\n---\na: 1\n").map((span) => span.contentLine),
      [-1, -1, 3],
    );
  });

  it("yields nothing for empty text and one empty document for comments only", () => {
    assert.deepEqual(split(""), []);
    assert.deepEqual(split("# nothing\n"), [{ text: "# nothing\n", startLine: 0, contentLine: -1 }]);
  });
});
