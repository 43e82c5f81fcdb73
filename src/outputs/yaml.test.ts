import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { yamlDocument, yamlStream } from "./yaml.ts";

describe("yamlStream", () => {
  it("writes a value shared by several objects out in full each time", () => {
    const verbs = ["get", "list", "watch"];
    const rule = { apiGroups: [""], resources: ["pods"], verbs };
    const objects = [
      { kind: "ClusterRole", rules: [rule, { ...rule, resources: ["secrets"] }] },
      { kind: "Role", rules: [rule] },
    ];
    const text = yamlStream(objects);
    assert.doesNotMatch(text, /[&*]a\d/);
    assert.equal(text.split("---\n").length, 2);
    assert.deepEqual(
      parseAllDocuments(text).map((document) => document.toJS() as unknown),
      JSON.parse(JSON.stringify(objects)),
    );
  });

  it("does not wrap long lines", () => {
    const message = "word ".repeat(100).trim();
    assert.equal(yamlDocument({ message }), `message: ${message}\n`);
  });
});
