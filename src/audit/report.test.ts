import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALL_RULES } from "../engine/rules/index.ts";
import type { KubeObject } from "../engine/types.ts";
import { compliantPod } from "../testing/admission-fixtures.ts";
import { AdmissionState } from "../webhook/admission.ts";
import { NOT_LISTED_ANNOTATION, OBJECTS_ANNOTATION, buildReport, contentHash } from "./report.ts";
import { judge } from "./verdict.ts";
import type { Verdict } from "./verdict.ts";

const state = new AdmissionState();
const rulesById = new Map(ALL_RULES.map((rule) => [rule.id, rule]));

function pod(name: string, namespace: string, image: string, owner?: string): KubeObject {
  const base = compliantPod({ image });
  return {
    ...base,
    metadata: {
      name,
      namespace,
      labels: { app: "web" },
      ...(owner === undefined
        ? {}
        : {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: "u", controller: true },
            ],
          }),
    },
  };
}

function verdictOf(object: KubeObject): Verdict {
  const verdict = judge(object, state.snapshot());
  assert.ok(verdict !== undefined);
  return verdict;
}

type Result = {
  rule: string;
  result: string;
  message: string;
  properties: Record<string, string>;
  resources: { kind: string; name: string }[];
};

function resultsOf(object: Record<string, unknown>): Result[] {
  return object["results"] as Result[];
}

describe("audit report", () => {
  it("is one result per problem, naming a replica's owner once however many replicas fail", () => {
    const verdicts = ["a", "b", "c"].map((suffix) =>
      verdictOf(pod(`web-5d8f-${suffix}`, "team-a", "nginx", "web-5d8f")),
    );
    const report = buildReport("team-a", verdicts, rulesById);
    const tag = resultsOf(report.object).filter((r) => r.rule === "image-tag");
    assert.equal(tag.length, 1);
    const [only] = tag;
    assert.ok(only !== undefined);
    assert.deepEqual(
      only.resources.map((r) => `${r.kind}/${r.name}`),
      ["ReplicaSet/web-5d8f"],
    );
    assert.equal(only.properties["objects"], "3");
    assert.equal(only.result, "fail");
    assert.match(only.properties["controls"] ?? "", /iso27001/);
    // A message naming the pod names its owner instead, so replicas still share one result.
    for (const result of resultsOf(report.object)) assert.doesNotMatch(result.message, /web-5d8f-[abc]/);
    assert.equal(report.object["kind"], "Report");
    assert.equal((report.object["metadata"] as { namespace: string }).namespace, "team-a");
  });

  it("counts every (object, rule) outcome in the summary, listed or not", () => {
    const failing = verdictOf(pod("bad", "team-a", "nginx"));
    const passing = verdictOf(pod("good", "team-a", "registry.example.com/acme/app:1.2.3"));
    const report = buildReport("team-a", [failing, passing], rulesById, {
      maxResults: 1,
      maxSubjects: 20,
      maxBytes: 512 * 1024,
    });
    const fails = failing.results.filter((r) => r.result === "fail").length;
    const warns = failing.results.length - fails + passing.results.length;
    assert.deepEqual(report.summary, {
      pass: failing.passed + passing.passed,
      fail: fails,
      warn: warns,
      error: 0,
      skip: 0,
    });
    assert.equal(resultsOf(report.object).length, 1);
    const annotations = (report.object["metadata"] as { annotations: Record<string, string> }).annotations;
    assert.equal(annotations[NOT_LISTED_ANNOTATION], String(report.notListed));
    assert.ok(report.notListed > 0);
    assert.equal(annotations[OBJECTS_ANNOTATION], "2");
  });

  it("names at most maxSubjects objects per result and counts the others", () => {
    const verdicts = Array.from({ length: 30 }, (_, i) => verdictOf(pod(`p${i}`, "team-a", "nginx")));
    const report = buildReport("team-a", verdicts, rulesById, {
      maxResults: 500,
      maxSubjects: 5,
      maxBytes: 1 << 20,
    });
    const tag = resultsOf(report.object).find((r) => r.rule === "image-tag");
    assert.equal(tag?.resources.length, 5);
    assert.equal(tag.properties["objectsNotNamed"], "25");
    assert.equal(tag.properties["objects"], "30");
  });

  it("stays under maxBytes by leaving results out, and says how many", () => {
    const verdicts = Array.from({ length: 200 }, (_, i) => verdictOf(pod(`p${i}`, "team-a", `img-${i}`)));
    const report = buildReport("team-a", verdicts, rulesById, {
      maxResults: 500,
      maxSubjects: 20,
      maxBytes: 8_000,
    });
    assert.ok(report.bytes <= 8_000, `${report.bytes} bytes`);
    assert.equal(report.bytes, Buffer.byteLength(JSON.stringify(report.object)));
    assert.ok(report.notListed > 0);
    assert.equal(resultsOf(report.object).length, report.listed);
  });

  it("is the same object and hash whatever order the verdicts come in", () => {
    const verdicts = ["x", "y", "z"].map((name) =>
      verdictOf(pod(name, "team-a", name === "y" ? "nginx" : "busybox")),
    );
    const one = buildReport("team-a", verdicts, rulesById);
    const other = buildReport("team-a", [...verdicts].reverse(), rulesById);
    assert.equal(one.hash, other.hash);
    assert.deepEqual(one.object, other.object);
  });

  it("hashes what the API server sends back (keys re-ordered, fields added) like what was built; an edit changes it", () => {
    const report = buildReport("team-a", [verdictOf(pod("bad", "team-a", "nginx"))], rulesById);
    const reordered = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reordered);
      if (value !== null && typeof value === "object")
        return Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .reverse()
            .map(([k, v]) => [k, reordered(v)]),
        );
      return value;
    };
    const stored = reordered(structuredClone(report.object)) as Record<string, unknown>;
    const metadata = stored["metadata"] as Record<string, unknown>;
    metadata["resourceVersion"] = "42";
    metadata["managedFields"] = [{ manager: "vakt" }];
    (metadata["annotations"] as Record<string, string>)["someone.else/note"] = "hi";
    assert.equal(contentHash(stored), report.hash);
    (resultsOf(stored)[0] as { message: string }).message = "all fine";
    assert.notEqual(contentHash(stored), report.hash);
  });

  it("puts cluster-scoped objects in a ClusterReport", () => {
    const namespace: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b" } };
    const report = buildReport("", [verdictOf(namespace)], rulesById);
    assert.equal(report.object["kind"], "ClusterReport");
    assert.equal((report.object["metadata"] as { namespace?: string }).namespace, undefined);
  });
});

describe("audit verdict", () => {
  it("judges hostile objects or reports them unjudgeable, never throws", () => {
    const snapshot = state.snapshot();
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, image: "x:1" }));
    const huge = verdictOf({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "many", namespace: "a" },
      spec: { containers },
    });
    assert.match(huge.unjudgeable ?? "", /300 containers/);
    const odd: unknown[] = [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "odd", namespace: "a", annotations: { x: "y".repeat(300_000) } },
        spec: 7,
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "odd2", namespace: "a" },
        spec: { containers: "nope" },
      },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d", namespace: "a", labels: [1, 2] },
        spec: { template: null },
      },
    ];
    for (const object of odd) assert.doesNotThrow(() => judge(object as KubeObject, snapshot));
    assert.equal(judge({ apiVersion: "v1", kind: "Pod", metadata: { namespace: "a" } }, snapshot), undefined);
    const report = buildReport("a", [huge], rulesById);
    assert.equal(report.summary.error, 1);
    assert.equal(resultsOf(report.object)[0]?.result, "error");
  });

  it("counts findings a PolicyException covers as skipped, not failing", () => {
    const excepting = new AdmissionState({
      exceptions: [
        {
          apiVersion: "vakt.dev/v1alpha1",
          kind: "PolicyException",
          metadata: { name: "legacy", namespace: "team-a" },
          spec: {
            rules: ["image-tag"],
            match: { namespaces: ["team-a"], names: ["bad"] },
            justification: "legacy image, replaced next sprint",
            approvedBy: "ciso@example.com",
            expires: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10),
          },
        },
      ],
    });
    const verdict = judge(pod("bad", "team-a", "nginx"), excepting.snapshot());
    assert.ok(verdict !== undefined);
    assert.equal(
      verdict.results.some((r) => r.rule === "image-tag"),
      false,
    );
    assert.deepEqual(
      verdict.excepted.map((e) => e.rule),
      ["image-tag"],
    );
    assert.equal(buildReport("team-a", [verdict], rulesById).summary.skip, 1);
  });
});
