import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { SaxesParser } from "saxes";

import { finding, RULES, sampleReport } from "./fixture.test.ts";
import { attr, renderJunit, text } from "./junit.ts";
import type { CheckReport } from "./report.ts";

interface Element {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: Element[];
  text: string;
}

/**
 * Parses with saxes, a conforming XML 1.0 parser: it throws on anything not well-formed,
 * including characters XML does not allow, and decodes entity and character references.
 */
function parseXml(xml: string): Element {
  const parser = new SaxesParser();
  const stack: Element[] = [];
  let root: Element | undefined;
  parser.on("error", (error) => {
    throw error;
  });
  parser.on("opentag", (tag) => {
    const element: Element = { name: tag.name, attributes: { ...tag.attributes }, children: [], text: "" };
    const parent = stack.at(-1);
    if (parent === undefined) root = element;
    else parent.children.push(element);
    stack.push(element);
  });
  parser.on("text", (value) => {
    const current = stack.at(-1);
    if (current !== undefined) current.text += value;
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  parser.write(xml).close();
  assert.ok(root !== undefined, "a root element");
  return root;
}

function children(element: Element | undefined, name: string): Element[] {
  assert.ok(element !== undefined);
  return element.children.filter((child) => child.name === name);
}

function only(elements: readonly Element[]): Element {
  assert.equal(elements.length, 1);
  const [element] = elements;
  assert.ok(element !== undefined);
  return element;
}

describe("junit output", () => {
  it("is well-formed XML with one testsuite per file and one testcase per object", () => {
    const xml = renderJunit(sampleReport());
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
    const root = parseXml(xml);
    assert.equal(root.name, "testsuites");
    const suites = children(root, "testsuite");
    assert.deepEqual(
      suites.map((suite) => suite.attributes["name"]),
      ["manifests/web.yaml", "manifests/db.yaml", "manifests/broken.yaml", "manifests/extra.yaml"],
    );
    const [web, db, broken, extra] = suites;
    assert.deepEqual(
      children(web, "testcase").map((testCase) => [
        testCase.attributes["classname"],
        testCase.attributes["name"],
      ]),
      [
        ["manifests/web.yaml", "Deployment/shop/web"],
        ["manifests/web.yaml", "Service/shop/web"],
      ],
    );
    assert.deepEqual(
      children(db, "testcase").map((testCase) => testCase.attributes["name"]),
      ["StatefulSet/shop/db"],
    );
    assert.deepEqual(
      children(broken, "testcase").map((testCase) => testCase.attributes["name"]),
      ["input error at line 3, column 5"],
    );
    assert.deepEqual(
      children(extra, "testcase").map((testCase) => testCase.attributes["name"]),
      ["Namespace/shop", "ConfigMap/shop/settings", "input note at line 9"],
    );
  });

  it("fails a testcase per deny/warn finding and lists audit and suppressed findings as output only", () => {
    const root = parseXml(renderJunit(sampleReport()));
    const [web, db, , extra] = children(root, "testsuite");
    const [deployment, service] = children(web, "testcase");
    const failures = children(deployment, "failure");
    assert.deepEqual(
      failures.map((failure) => [failure.attributes["type"], failure.attributes["message"]]),
      [
        ["deny", 'pss-privileged: container "app" runs privileged'],
        ["warn", 'image-tag: container "app" uses image "nginx:latest" without a digest'],
      ],
    );
    assert.equal(
      failures[0]?.text,
      [
        "line 12, column 9 (manifests/web.yaml:12:9)",
        "severity: critical",
        "field: spec.template.spec.containers[0].securityContext.privileged",
        "fix: Set securityContext.privileged to false.",
        "controls: iso27001:A.8.9, gdpr:32",
      ].join("\n"),
    );
    assert.match(
      only(children(deployment, "system-out")).text,
      /^\[audit\] resource-limits: container "app" has no memory limit\n {2}line 22/,
    );
    assert.deepEqual(service?.children, []);

    const statefulSet = only(children(db, "testcase"));
    assert.deepEqual(children(statefulSet, "failure"), []);
    assert.match(
      only(children(statefulSet, "system-out")).text,
      /^\[deny, suppressed by legacy-db\] pss-privileged: container "postgres" runs privileged\n/,
    );
    const namespace = children(extra, "testcase")[0];
    assert.deepEqual(children(namespace, "failure"), []);
    assert.equal(children(namespace, "system-out").length, 1);
  });

  it("reports input errors as <error> and notes as <skipped>, and counts like JUnit", () => {
    const root = parseXml(renderJunit(sampleReport()));
    // 7 testcases: 5 objects + 2 problems; 1 failing (the Deployment), 1 error, 1 skipped.
    assert.deepEqual(
      { ...root.attributes },
      { name: "vakt check", tests: "7", failures: "1", errors: "1", skipped: "1" },
    );
    const [web, db, broken, extra] = children(root, "testsuite");
    assert.deepEqual(
      [web, db, broken, extra].map((suite) => [
        suite?.attributes["tests"],
        suite?.attributes["failures"],
        suite?.attributes["errors"],
        suite?.attributes["skipped"],
      ]),
      [
        ["2", "1", "0", "0"],
        ["1", "0", "0", "0"],
        ["1", "0", "1", "0"],
        ["3", "0", "0", "1"],
      ],
    );
    const error = only(children(only(children(broken, "testcase")), "error"));
    assert.equal(error.attributes["message"], "could not parse YAML: bad indentation");
    assert.equal(error.text, "manifests/broken.yaml:3:5: could not parse YAML: bad indentation");
    const note = children(extra, "testcase")[2];
    assert.equal(
      only(children(note, "skipped")).attributes["message"],
      "skipped a document that is not a Kubernetes object",
    );
  });

  it("escapes <&\"' and characters XML 1.0 does not allow, in attributes and text", () => {
    const nasty = `a<b & "c" 'd'\u0001e\u0000\uffff]]>`;
    const report: CheckReport = {
      rules: RULES,
      files: ["dir/<&\"'>.yaml"],
      objects: 1,
      findings: [
        finding({
          file: "dir/<&\"'>.yaml",
          name: `web<&"'>\u001b`,
          message: nasty,
          fix: "line one\nline two\ttab\r",
        }),
      ],
      problems: [],
    };
    const xml = renderJunit(report);
    // eslint-disable-next-line no-control-regex -- looking for characters XML forbids
    assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\uffff]/);
    const root = parseXml(xml);
    const suite = only(children(root, "testsuite"));
    assert.equal(suite.attributes["name"], "dir/<&\"'>.yaml");
    const testCase = only(children(suite, "testcase"));
    assert.equal(testCase.attributes["classname"], "dir/<&\"'>.yaml");
    assert.equal(testCase.attributes["name"], "Deployment/shop/web<&\"'>\\u001b");
    const failure = only(children(testCase, "failure"));
    const visible = `a<b & "c" 'd'\\u0001e\\u0000\\uffff]]>`;
    assert.equal(failure.attributes["message"], `pss-privileged: ${visible}`);
    assert.ok(failure.text.includes("fix: line one\nline two\ttab\r\n"), JSON.stringify(failure.text));
  });

  it("keeps newlines and tabs in attribute values as character references", () => {
    assert.equal(attr("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
    const root = parseXml(`<x m="${attr("one\ntwo\tthree")}">${text("<&>")}</x>`);
    assert.equal(root.attributes["m"], "one\ntwo\tthree");
    assert.equal(root.text, "<&>");
    // A lone surrogate is not a character XML can carry either.
    assert.equal(text("a\ud800b"), "a\\ud800b");
  });

  it("the XML check can fail: unescaped markup and control characters are rejected", () => {
    assert.throws(() => parseXml('<x m="a<b"/>'));
    assert.throws(() => parseXml("<x>a & b</x>"));
    assert.throws(() => parseXml("<x>\u0001</x>"));
  });

  it("without objectsByFile, gives each object named by a finding a testcase", () => {
    const { objectsByFile: _unused, ...report } = sampleReport();
    const root = parseXml(renderJunit(report));
    const [web, db, broken, extra] = children(root, "testsuite");
    assert.deepEqual(
      children(web, "testcase").map((testCase) => testCase.attributes["name"]),
      ["Deployment/shop/web"],
    );
    assert.equal(children(db, "testcase").length, 1);
    assert.equal(children(broken, "testcase").length, 1);
    assert.deepEqual(
      children(extra, "testcase").map((testCase) => testCase.attributes["name"]),
      ["Namespace/shop", "input note at line 9"],
    );
  });

  it("matches a finding to the right one of two objects with the same identity in a file", () => {
    const report: CheckReport = {
      rules: RULES,
      files: ["dup.yaml"],
      objects: 2,
      findings: [finding({ file: "dup.yaml", line: 25 })],
      problems: [],
      objectsByFile: [
        {
          file: "dup.yaml",
          objects: [
            { kind: "Deployment", namespace: "shop", name: "web", line: 1 },
            { kind: "Deployment", namespace: "shop", name: "web", line: 20 },
          ],
        },
      ],
    };
    const suite = only(children(parseXml(renderJunit(report)), "testsuite"));
    const [first, second] = children(suite, "testcase");
    assert.equal(children(first, "failure").length, 0);
    assert.equal(children(second, "failure").length, 1);
  });

  it("does work linear in the objects of a file: each object's identity is read a bounded number of times", () => {
    // Counting reads instead of timing: matching each finding to its object by scanning the
    // file's objects read every object once per finding (10,000 objects in one file: 10^8 reads).
    const readsFor = (count: number): number => {
      let reads = 0;
      const objects = Array.from({ length: count }, (_, i) => {
        const object = { kind: "Deployment", namespace: "shop", name: "", line: i * 20 + 1 };
        return Object.defineProperty(object, "name", {
          enumerable: true,
          get: () => {
            reads++;
            return `web-${String(i)}`;
          },
        });
      });
      const findings = objects.map((_, i) =>
        finding({ file: "big.yaml", name: `web-${String(i)}`, line: i * 20 + 12 }),
      );
      const report: CheckReport = {
        rules: RULES,
        files: ["big.yaml"],
        objects: count,
        findings,
        problems: [],
        objectsByFile: [{ file: "big.yaml", objects }],
      };
      const xml = renderJunit(report);
      assert.equal((xml.match(/<failure /g) ?? []).length, count);
      return reads;
    };
    const small = readsFor(1000);
    const large = readsFor(4000);
    assert.ok(
      large <= 4 * small + 100,
      `${String(small)} reads for 1,000 objects, ${String(large)} for 4,000`,
    );
    assert.ok(small <= 10 * 1000, `${String(small)} reads for 1,000 objects`);
  });

  it("escapes control characters and separators of every field so the XML stays valid", () => {
    const nasty = "a\u0000b\u001bc\u2028d\ufffee\ud800f\r\ng";
    const report: CheckReport = {
      rules: RULES,
      files: [`f${nasty}.yaml`],
      objects: 1,
      findings: [
        finding({ file: `f${nasty}.yaml`, namespace: nasty, name: nasty, message: nasty, field: nasty }),
        finding({ file: `f${nasty}.yaml`, namespace: nasty, name: nasty, action: "audit", message: nasty }),
      ],
      problems: [{ file: `f${nasty}.yaml`, level: "error", message: nasty, line: 1 }],
    };
    const root = parseXml(renderJunit(report));
    const testCase = only(children(only(children(root, "testsuite")), "testcase").slice(0, 1));
    assert.equal(
      testCase.attributes["name"],
      "Deployment/a\\u0000b\\u001bc\u2028d\\ufffee\\ud800f\r\ng/a\\u0000b\\u001bc\u2028d\\ufffee\\ud800f\r\ng",
    );
  });
});
