import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DEFAULT_EXCEPTION_POLICY,
  exceptionMatcher,
  exceptionRules,
  exceptionsChangeAt,
  knownRuleNames,
  parseException,
  parseExpiry,
} from "./exceptions.ts";
import { ruleContext } from "./evaluate.ts";
import { ALL_RULES } from "./rules/index.ts";
import { listInventory } from "./rules/util/inventory.ts";
import type { ExceptionPolicy, KubeObject, Rule, RuleContext } from "./types.ts";

function rule(id: string, sets: readonly string[]): Rule {
  return {
    id,
    title: id,
    severity: "high",
    defaultAction: "deny",
    kinds: ["Deployment", "Pod"],
    sets,
    rationale: "r",
    fix: "f",
    controls: [],
    evidenceBoundary: "e",
    check: () => [],
  };
}

const RULES: readonly Rule[] = [
  rule("pss-privileged", ["pss-baseline", "pss-restricted"]),
  rule("pss-run-as-non-root", ["pss-restricted"]),
  rule("image-tag", ["platform", "platform-images"]),
];
const KNOWN = knownRuleNames(RULES);
const NOW = new Date("2026-06-15T12:00:00Z");
/** Wide exceptions allowed: for the tests of what an exception matches, not of its bounds. */
const PERMISSIVE: ExceptionPolicy = { allowWide: { namespaces: true, ruleSets: true }, maxExpiryDays: 3650 };

type Json = Record<string, unknown>;

/** An exception in the platform namespace, which may cover any namespace. */
function exception(spec: Json, name = "exc", namespace = "vakt-system"): KubeObject {
  return {
    apiVersion: "vakt.dev/v1alpha1",
    kind: "PolicyException",
    metadata: { name, namespace },
    spec: {
      justification: "legacy image, isolated node pool, reviewed monthly",
      approvedBy: "ciso@example.com",
      expires: "2027-01-31",
      ...spec,
    },
  };
}

function workload(kind: string, name: string, namespace: string | undefined, labels: Json = {}): KubeObject {
  return {
    apiVersion: kind === "Pod" ? "v1" : "apps/v1",
    kind,
    metadata: { name, labels, ...(namespace === undefined ? {} : { namespace }) },
  };
}

/** Which exception (by name) covers `ruleId` on `object`, with `exceptions` in force at `now`. */
function coveredBy(
  exceptions: readonly KubeObject[],
  ruleId: string,
  object: KubeObject,
  now: Date = NOW,
  policy: ExceptionPolicy = PERMISSIVE,
): string | undefined {
  return exceptionMatcher(exceptions, RULES, now, policy)(ruleId, object);
}

describe("parseExpiry", () => {
  it("reads a date as the end of that day, UTC", () => {
    assert.equal(parseExpiry("2027-01-31")?.toISOString(), "2027-01-31T23:59:59.999Z");
    assert.equal(parseExpiry("2024-02-29")?.toISOString(), "2024-02-29T23:59:59.999Z");
  });

  it("reads RFC 3339 timestamps with Z or an offset, with or without fractions", () => {
    assert.equal(parseExpiry("2027-01-31T10:20:30Z")?.toISOString(), "2027-01-31T10:20:30.000Z");
    assert.equal(parseExpiry("2027-01-31T10:20:30.25Z")?.toISOString(), "2027-01-31T10:20:30.250Z");
    assert.equal(parseExpiry("2027-01-31T10:20:30+02:00")?.toISOString(), "2027-01-31T08:20:30.000Z");
    assert.equal(parseExpiry("2027-01-31T23:20:30-05:30")?.toISOString(), "2027-02-01T04:50:30.000Z");
  });

  it("rejects impossible dates instead of rolling them over", () => {
    for (const value of [
      "2026-02-30",
      "2025-02-29",
      "2026-04-31",
      "2026-13-01",
      "2026-00-10",
      "2026-01-00",
      "2026-02-30T10:00:00Z",
      "2025-02-29T10:00:00Z",
      "2026-04-31T00:00:00+01:00",
      "2026-01-01T24:00:00Z",
      "2026-01-01T23:60:00Z",
      "2026-01-01T23:59:60Z",
      "2026-01-01T10:00:00+24:00",
    ]) {
      assert.equal(parseExpiry(value), undefined, value);
    }
  });

  it("rejects other formats", () => {
    for (const value of [
      "",
      "tomorrow",
      "2026-1-1",
      "31.01.2027",
      "2027-01-31T10:00:00",
      "2027-01-31 10:00:00Z",
      " 2027-01-31",
      "2027-01-31\n",
    ]) {
      assert.equal(parseExpiry(value), undefined, JSON.stringify(value));
    }
  });
});

describe("parseException", () => {
  it("accepts a complete exception", () => {
    const parsed = parseException(
      exception({ rules: ["image-tag"], match: { kinds: ["Deployment"] } }),
      KNOWN,
    );
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.exception?.name, "exc");
    assert.deepEqual(parsed.exception.rules, ["image-tag"]);
    assert.deepEqual(parsed.exception.kinds, ["Deployment"]);
    assert.equal(parsed.exception.expires.toISOString(), "2027-01-31T23:59:59.999Z");
  });

  it("reports each missing or malformed field at its path", () => {
    const paths = (spec: Json): string[] =>
      parseException(
        { apiVersion: "vakt.dev/v1alpha1", kind: "PolicyException", metadata: { name: "x" }, spec },
        KNOWN,
      ).problems.map((problem) => problem.path.join("."));
    assert.deepEqual(paths({}), [
      "spec.rules",
      "spec.justification",
      "spec.approvedBy",
      "spec.expires",
      "spec.match",
    ]);
    const complete = {
      rules: ["image-tag"],
      match: { names: ["a"] },
      justification: "long enough reason",
      approvedBy: "me",
      expires: "2027-01-31",
    };
    assert.deepEqual(paths(complete), []);
    assert.deepEqual(paths({ ...complete, rules: [] }), ["spec.rules"]);
    assert.deepEqual(paths({ ...complete, rules: "image-tag" }), ["spec.rules"]);
    assert.deepEqual(paths({ ...complete, rules: ["image-tag", "nope", 3] }), [
      "spec.rules.2",
      "spec.rules.1",
    ]);
    assert.deepEqual(paths({ ...complete, justification: "   short  " }), ["spec.justification"]);
    assert.deepEqual(paths({ ...complete, approvedBy: " " }), ["spec.approvedBy"]);
    assert.deepEqual(paths({ ...complete, expires: "2026-02-30" }), ["spec.expires"]);
    assert.deepEqual(paths({ ...complete, expires: 20270131 }), ["spec.expires"]);
    assert.deepEqual(paths({ ...complete, match: {} }), ["spec.match"]);
    assert.deepEqual(paths({ ...complete, match: { kinds: [] } }), ["spec.match"]);
    // The empty selector selects everything: on its own it is an exception for everything.
    assert.deepEqual(paths({ ...complete, match: { selector: {} } }), ["spec.match"]);
    assert.deepEqual(paths({ ...complete, match: { selector: { matchLabels: { a: 1 } } } }), [
      "spec.match.selector",
    ]);
    assert.deepEqual(paths({ ...complete, match: { names: "a" } }), ["spec.match.names", "spec.match"]);
    assert.deepEqual(paths({ ...complete, match: { names: "a", kinds: ["Pod"] } }), ["spec.match.names"]);
    assert.deepEqual(
      parseException({ kind: "PolicyException", metadata: { name: "x" } }, KNOWN).problems.map((p) => p.path),
      [["spec"]],
    );
  });

  it("says why an expiry is invalid", () => {
    const [problem] = parseException(
      exception({ rules: ["image-tag"], match: { kinds: ["Pod"] }, expires: "someday" }),
      KNOWN,
    ).problems;
    assert.match(problem?.message ?? "", /spec\.expires is not a valid date \("someday"\)/);
  });
});

describe("exceptionMatcher", () => {
  it("limits an exception in a team namespace to that namespace, whatever spec.match says", () => {
    const rules = ALL_RULES;
    const now = new Date("2026-06-01T00:00:00Z");
    const team = exception({ rules: ["image-tag"], match: { namespaces: ["*"] } }, "team-exc", "team-a");
    const matcher = exceptionMatcher([team], rules, now, PERMISSIVE);
    assert.equal(matcher("image-tag", workload("Pod", "p", "team-a")), "team-exc");
    assert.equal(matcher("image-tag", workload("Pod", "p", "team-b")), undefined);
    const platform = exceptionMatcher(
      [exception({ rules: ["image-tag"], match: { namespaces: ["*"] } }, "platform-exc")],
      rules,
      now,
      PERMISSIVE,
    );
    assert.equal(platform("image-tag", workload("Pod", "p", "team-b")), "platform-exc");
  });

  const web = workload("Deployment", "legacy-web", "team-a", { app: "web", tier: "front" });

  it("covers a rule named by id or by one of its sets, and no other rule", () => {
    const byId = exception({ rules: ["image-tag"], match: { kinds: ["Deployment"] } }, "by-id");
    assert.equal(coveredBy([byId], "image-tag", web), "by-id");
    assert.equal(coveredBy([byId], "pss-privileged", web), undefined);

    const bySet = exception({ rules: ["pss-restricted"], match: { kinds: ["Deployment"] } }, "by-set");
    assert.equal(coveredBy([bySet], "pss-privileged", web), "by-set");
    assert.equal(coveredBy([bySet], "pss-run-as-non-root", web), "by-set");
    assert.equal(coveredBy([bySet], "image-tag", web), undefined);

    const baseline = exception({ rules: ["pss-baseline"], match: { kinds: ["Deployment"] } }, "baseline");
    assert.equal(coveredBy([baseline], "pss-privileged", web), "baseline");
    assert.equal(coveredBy([baseline], "pss-run-as-non-root", web), undefined);
  });

  it("matches kinds exactly", () => {
    const onlyPods = exception({ rules: ["image-tag"], match: { kinds: ["Pod"] } });
    assert.equal(coveredBy([onlyPods], "image-tag", web), undefined);
    assert.equal(coveredBy([onlyPods], "image-tag", workload("Pod", "p", "team-a")), "exc");
    const lower = exception({ rules: ["image-tag"], match: { kinds: ["deployment"] } });
    assert.equal(coveredBy([lower], "image-tag", web), undefined);
  });

  it("matches namespaces and names as whole-string globs", () => {
    const scoped = (match: Json): string | undefined =>
      coveredBy([exception({ rules: ["image-tag"], match })], "image-tag", web);
    assert.equal(scoped({ namespaces: ["team-a"] }), "exc");
    assert.equal(scoped({ namespaces: ["team-*"] }), "exc");
    assert.equal(scoped({ namespaces: ["team"] }), undefined);
    assert.equal(scoped({ namespaces: ["*-b", "other"] }), undefined);
    assert.equal(scoped({ namespaces: ["team.a"] }), undefined, "a dot is literal, not a regex wildcard");
    assert.equal(scoped({ names: ["legacy-*"] }), "exc");
    assert.equal(scoped({ names: ["*web"] }), "exc");
    assert.equal(scoped({ names: ["legacy"] }), undefined);
    assert.equal(scoped({ names: ["web"] }), undefined);
    assert.equal(scoped({ names: ["(legacy)-web"] }), undefined, "regex syntax is literal");
    // Every given criterion must hold.
    assert.equal(scoped({ namespaces: ["team-a"], names: ["other"] }), undefined);
    assert.equal(scoped({ kinds: ["Deployment"], namespaces: ["team-a"], names: ["legacy-web"] }), "exc");
    // An object without a namespace has the namespace "" for the globs.
    const clusterScoped = workload("Deployment", "legacy-web", undefined);
    assert.equal(
      coveredBy(
        [exception({ rules: ["image-tag"], match: { namespaces: ["*"] } })],
        "image-tag",
        clusterScoped,
      ),
      "exc",
    );
    assert.equal(
      coveredBy(
        [exception({ rules: ["image-tag"], match: { namespaces: ["?*"] } })],
        "image-tag",
        clusterScoped,
      ),
      undefined,
    );
  });

  it("matches label selectors", () => {
    const scoped = (selector: Json): string | undefined =>
      coveredBy([exception({ rules: ["image-tag"], match: { selector } })], "image-tag", web);
    assert.equal(scoped({ matchLabels: { app: "web" } }), "exc");
    assert.equal(scoped({ matchLabels: { app: "api" } }), undefined);
    assert.equal(
      scoped({ matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }),
      "exc",
    );
    assert.equal(
      scoped({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }),
      undefined,
    );
    assert.equal(scoped({ matchExpressions: [{ key: "legacy", operator: "Exists" }] }), undefined);
    assert.equal(
      scoped({
        matchLabels: { app: "web" },
        matchExpressions: [{ key: "legacy", operator: "DoesNotExist" }],
      }),
      "exc",
    );
  });

  it("returns the first exception in force that covers the finding", () => {
    const a = exception({ rules: ["pss-privileged"], match: { names: ["x"] } }, "a");
    const b = exception({ rules: ["image-tag"], match: { names: ["legacy-web"] } }, "b");
    const c = exception({ rules: ["platform"], match: { names: ["legacy-web"] } }, "c");
    assert.equal(coveredBy([a, b, c], "image-tag", web), "b");
    assert.equal(coveredBy([a, c, b], "image-tag", web), "c");
  });

  it("ignores invalid exceptions and objects of other kinds", () => {
    const noApprover = exception({ rules: ["image-tag"], match: { names: ["legacy-web"] }, approvedBy: "" });
    assert.equal(coveredBy([noApprover], "image-tag", web), undefined);
    const notAnException = {
      ...exception({ rules: ["image-tag"], match: { names: ["legacy-web"] } }),
      kind: "ConfigMap",
    };
    assert.equal(coveredBy([notAnException], "image-tag", web), undefined);
  });

  it("applies an exception until its expiry, judged against the injected clock", () => {
    const dated = exception({
      rules: ["image-tag"],
      match: { names: ["legacy-web"] },
      expires: "2026-06-15",
    });
    assert.equal(coveredBy([dated], "image-tag", web, new Date("2026-06-15T23:59:59.998Z")), "exc");
    assert.equal(coveredBy([dated], "image-tag", web, new Date("2026-06-15T23:59:59.999Z")), undefined);
    assert.equal(coveredBy([dated], "image-tag", web, new Date("2026-06-16T00:00:00Z")), undefined);

    const timed = exception({
      rules: ["image-tag"],
      match: { names: ["legacy-web"] },
      expires: "2026-06-15T12:00:00+02:00",
    });
    assert.equal(coveredBy([timed], "image-tag", web, new Date("2026-06-15T09:59:59Z")), "exc");
    assert.equal(coveredBy([timed], "image-tag", web, new Date("2026-06-15T10:00:00Z")), undefined);
  });
});

describe("exception rules", () => {
  const byId = (id: string): Rule => {
    const found = exceptionRules(() => RULES).find((candidate) => candidate.id === id);
    assert.ok(found !== undefined, id);
    return found;
  };
  const invalid = byId("exception-invalid");
  const expired = byId("exception-expired");
  const context = (object: KubeObject, now: Date): RuleContext =>
    ruleContext(object, {
      settings: { pssVersion: "latest", registries: [], allowedRegions: [], now },
      inventory: listInventory([], false),
    });

  it("are exception-invalid, exception-expired and exception-scope, on PolicyExceptions", () => {
    assert.deepEqual(
      exceptionRules(() => RULES).map((candidate) => candidate.id),
      ["exception-invalid", "exception-expired", "exception-scope"],
    );
    assert.deepEqual(invalid.kinds, ["PolicyException"]);
    assert.deepEqual(expired.kinds, ["PolicyException"]);
  });

  it("exception-invalid reports the problems of parseException, naming unknown rules", () => {
    const object = exception({ rules: ["image-tg"], match: { kinds: ["Pod"] }, justification: "" });
    const problems = invalid.check(object, context(object, NOW));
    assert.deepEqual(
      problems.map((problem) => problem.path.join(".")),
      ["spec.rules.0", "spec.justification"],
    );
    assert.match(problems[0]?.message ?? "", /"image-tg" is not a known rule id or set/);
    const valid = exception({ rules: ["image-tag"], match: { kinds: ["Pod"] } });
    assert.deepEqual(invalid.check(valid, context(valid, NOW)), []);
  });

  it("exception-expired reports an exception whose expiry has passed at the injected clock", () => {
    const object = exception({ rules: ["image-tag"], match: { kinds: ["Pod"] }, expires: "2026-06-14" });
    assert.deepEqual(expired.check(object, context(object, new Date("2026-06-14T12:00:00Z"))), []);
    const [finding, ...rest] = expired.check(object, context(object, NOW));
    assert.deepEqual(rest, []);
    assert.deepEqual(finding?.path, ["spec", "expires"]);
    assert.match(finding.message, /PolicyException exc expired on 2026-06-14; .*\(rules: image-tag\)/);
    // An unparseable expiry is exception-invalid's business, not an expiry.
    const unparseable = exception({ rules: ["image-tag"], expires: "2020-02-30" });
    assert.deepEqual(expired.check(unparseable, context(unparseable, NOW)), []);
  });
});

describe("exception bounds", () => {
  const scope = exceptionRules(() => ALL_RULES).find((candidate) => candidate.id === "exception-scope");
  assert.ok(scope !== undefined);
  const context = (object: KubeObject, policy?: ExceptionPolicy, now: Date = NOW): RuleContext =>
    ruleContext(object, {
      settings: {
        pssVersion: "latest",
        registries: [],
        allowedRegions: [],
        now,
        ...(policy === undefined ? {} : { exceptions: policy }),
      },
      inventory: listInventory([], false),
    });
  const paths = (object: KubeObject, policy?: ExceptionPolicy, now?: Date): string[] =>
    scope.check(object, context(object, policy, now)).map((problem) => problem.path.join("."));
  const pod = workload("Pod", "web", "team-a");
  const coveredWith = (object: KubeObject, policy: ExceptionPolicy, now: Date = NOW): string | undefined =>
    exceptionMatcher([object], ALL_RULES, now, policy)("pss-privileged", pod);

  // Every set, every namespace, for ever: the exception that switched everything off.
  const sets = [...new Set(ALL_RULES.flatMap((rule) => rule.sets))];
  const everything = exception(
    {
      rules: sets,
      match: { namespaces: ["*"] },
      expires: "9999-01-01",
    },
    "everything",
  );

  it("the exception for every rule set, every namespace, until 9999, suppresses nothing and says why, per field", () => {
    assert.equal(coveredWith(everything, DEFAULT_EXCEPTION_POLICY), undefined);
    assert.equal(
      exceptionMatcher([everything], ALL_RULES, NOW)("image-tag", pod),
      undefined,
      "the default policy",
    );
    const problems = scope.check(everything, context(everything));
    assert.deepEqual(
      problems.map((problem) => problem.path.join(".")),
      ["spec.match.namespaces", "spec.rules", "spec.expires"],
    );
    assert.match(
      problems[0]?.message ?? "",
      /^spec\.match\.namespaces \["\*"\] covers more than one namespace; .*set spec\.exceptions\.allowWide\.namespaces: true in the VaktConfiguration/,
    );
    assert.match(
      problems[1]?.message ?? "",
      /^spec\.rules names the rule sets "pss-baseline", "pss-restricted", "platform", .*allowWide\.ruleSets: true/,
    );
    assert.equal(
      problems.at(-1)?.message,
      "spec.expires 9999-01-01 is more than 365 days after 2026-06-15; write 2027-06-15 or earlier, or raise spec.exceptions.maxExpiryDays in the VaktConfiguration (vakt.yaml); until then it suppresses nothing",
    );
  });

  it("applies a wide exception where the configuration allows it, and only within its maximum expiry", () => {
    const wide = exception(
      { rules: ["pss-baseline"], match: { namespaces: ["team-*"] }, expires: "2027-01-31" },
      "wide",
    );
    const allowed: ExceptionPolicy = { allowWide: { namespaces: true, ruleSets: true }, maxExpiryDays: 365 };
    assert.equal(coveredWith(wide, allowed), "wide");
    assert.deepEqual(paths(wide, allowed), []);
    // Each allowance lifts its own bound only.
    const onlyNamespaces = { ...allowed, allowWide: { namespaces: true, ruleSets: false } };
    const onlySets = { ...allowed, allowWide: { namespaces: false, ruleSets: true } };
    assert.equal(coveredWith(wide, onlyNamespaces), undefined);
    assert.deepEqual(paths(wide, onlyNamespaces), ["spec.rules.0"]);
    assert.equal(coveredWith(wide, onlySets), undefined);
    assert.deepEqual(paths(wide, onlySets), ["spec.match.namespaces"]);
    // The allowance does not lift the lifetime.
    assert.equal(coveredWith(everything, { ...allowed, maxExpiryDays: 3650 }), undefined);
    assert.deepEqual(paths(everything, { ...allowed, maxExpiryDays: 3650 }), ["spec.expires"]);
  });

  it("counts as wide: no namespace, several, or a pattern, from vakt's namespace or a file; a set instead of an id", () => {
    const spec = { rules: ["pss-privileged"] };
    const wide = (match: Json, namespace = "vakt-system"): string[] =>
      paths(exception({ ...spec, match }, "e", namespace));
    assert.deepEqual(wide({ namespaces: ["team-a"] }), []);
    assert.deepEqual(wide({ namespaces: ["team-a", "team-a"] }), [], "the same namespace twice is one");
    assert.deepEqual(wide({ namespaces: ["team-a", "team-b"] }), ["spec.match.namespaces"]);
    assert.deepEqual(wide({ namespaces: ["team-*"] }), ["spec.match.namespaces"]);
    assert.deepEqual(wide({ names: ["web"] }), ["spec.match.namespaces"]);
    assert.deepEqual(wide({ names: ["web"] }, ""), ["spec.match.namespaces"], "a file's exception");
    const fileException = exception({ ...spec, match: { names: ["web"] } }, "e", "");
    assert.match(
      scope.check(fileException, context(fileException))[0]?.message ?? "",
      /^spec\.match\.namespaces is not set, so PolicyException e \(which has no namespace\) covers every namespace;/,
    );
    // RBAC confines an exception in a team namespace to that namespace, whatever it matches.
    assert.deepEqual(wide({ namespaces: ["*"] }, "team-a"), []);
    assert.deepEqual(wide({ names: ["web"] }, "team-a"), []);
    // Cluster-scoped kinds have no namespace to be wide over.
    assert.deepEqual(wide({ kinds: ["Namespace"], names: ["legacy"] }), []);
    assert.deepEqual(wide({ kinds: ["Namespace", "Deployment"], names: ["legacy"] }), [
      "spec.match.namespaces",
    ]);
    const bySet = exception({ rules: ["pss-privileged", "platform"], match: { namespaces: ["team-a"] } });
    assert.deepEqual(paths(bySet), ["spec.rules.1"]);
  });

  it("allows an expiry through the end of the day maxExpiryDays after today (UTC), and not a moment later", () => {
    const until = (expires: string, policy: ExceptionPolicy = DEFAULT_EXCEPTION_POLICY): string | undefined =>
      coveredWith(
        exception({ rules: ["pss-privileged"], match: { namespaces: ["team-a"] }, expires }),
        policy,
      );
    assert.equal(until("2027-06-15"), "exc");
    assert.equal(until("2027-06-15T23:59:59.999Z"), "exc");
    assert.equal(until("2027-06-16"), undefined);
    assert.equal(until("2027-06-16T00:00:00Z"), undefined);
    const month: ExceptionPolicy = { ...DEFAULT_EXCEPTION_POLICY, maxExpiryDays: 30 };
    assert.equal(until("2026-07-15", month), "exc");
    assert.equal(until("2026-07-16", month), undefined);
    const over = exception({
      rules: ["pss-privileged"],
      match: { namespaces: ["team-a"] },
      expires: "2026-07-16",
    });
    assert.deepEqual(paths(over, month), ["spec.expires"]);
    assert.deepEqual(paths(over), []);
  });

  it("says when the exceptions in force change next: an expiry, or an expiry coming within the maximum", () => {
    const soon = exception(
      { rules: ["pss-privileged"], match: { namespaces: ["team-a"] }, expires: "2026-07-01" },
      "soon",
    );
    const far = exception(
      { rules: ["pss-privileged"], match: { namespaces: ["team-a"] }, expires: "2027-06-20" },
      "far",
    );
    assert.equal(
      new Date(exceptionsChangeAt([soon, far], ALL_RULES, NOW)).toISOString(),
      "2026-06-20T00:00:00.000Z",
    );
    assert.equal(coveredWith(far, DEFAULT_EXCEPTION_POLICY, new Date("2026-06-19T23:59:59.999Z")), undefined);
    assert.equal(coveredWith(far, DEFAULT_EXCEPTION_POLICY, new Date("2026-06-20T00:00:00Z")), "far");
    assert.equal(
      new Date(exceptionsChangeAt([soon], ALL_RULES, NOW)).toISOString(),
      "2026-07-01T23:59:59.999Z",
    );
    assert.equal(exceptionsChangeAt([], ALL_RULES, NOW), Infinity);
  });
});
