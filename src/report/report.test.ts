import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { FROM, HOSTILE, history, request, RULES, stored } from "./fixture.test.ts";
import { duration, renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { buildModel, NO_PASS_BOUNDARY, NO_RULE_BOUNDARY } from "./model.ts";
import type { ControlPosture, ReportModel } from "./model.ts";
import { controlToken, toOscal, uuid5 } from "./oscal.ts";
import { clean, cleanLine, escapeHtml, MAX_TEXT } from "./text.ts";
import { oscalValidator } from "../testing/oscal.ts";

const oscalErrors = oscalValidator();

function defined<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

function posture(model: ReportModel, control: string): ControlPosture {
  const found = model.frameworks.flatMap((f) => f.controls).find((c) => c.control.id === control);
  assert.ok(found !== undefined, `no posture for ${control}`);
  return found;
}

interface OscalResult {
  "reviewed-controls": { "control-selections": { "include-controls": { "control-id": string }[] }[] };
  observations: {
    uuid: string;
    methods: string[];
    subjects?: { "subject-uuid": string; type: string }[];
    title?: string;
  }[];
  findings: {
    target: { "target-id": string; status: { state: string } };
    "related-risks"?: { "risk-uuid": string }[];
  }[];
  risks: {
    uuid: string;
    statement: string;
    status: string;
    deadline?: string;
    props: { name: string; value: string }[];
  }[];
  "local-definitions": { "inventory-items": { uuid: string }[] };
}

function oscalResult(model: ReportModel): OscalResult {
  const document = toOscal(model) as { "assessment-results": { results: OscalResult[] } };
  const result = document["assessment-results"].results[0];
  assert.ok(result !== undefined);
  return result;
}

describe("report model", () => {
  const model = buildModel(request(), RULES, history());

  it("keeps a finding opened before the period open, and counts only what happened in it", () => {
    assert.equal(model.openTotal, 1);
    const open = defined(model.open[0]);
    assert.equal(open.rule, "pss-privileged");
    assert.equal(open.tenant, "acme");
    assert.equal(open.firstSeen, "2026-02-20T10:00:00.000Z");
    // Last seen: the last full pass after it opened.
    assert.equal(open.lastSeen, "2026-03-31T01:00:00.000Z");
    assert.equal(model.openedTotal, 1);
    assert.equal(model.resolvedTotal, 1);
    assert.equal(defined(model.resolved[0]).subject.name, "web");
    assert.deepEqual(
      model.history.find((h) => h.rule === "image-tag"),
      {
        rule: "image-tag",
        opened: 1,
        resolved: 1,
        medianResolveMs: 2 * 86_400_000,
        maxResolveMs: 2 * 86_400_000,
      },
    );
    assert.deepEqual(model.passes, {
      full: 3,
      partial: 0,
      first: "2026-03-01T01:00:00.000Z",
      last: "2026-03-31T01:00:00.000Z",
      objects: 40,
      unjudgeable: 1,
    });
  });

  it("judges each control: open finding or exception → not satisfied, no rule → not evidenced, else satisfied", () => {
    assert.equal(posture(model, "iso27001:A.8.2").status, "not-satisfied");
    assert.equal(posture(model, "iso27001:A.8.2").open, 1);
    assert.equal(posture(model, "iso27001:A.8.22").status, "not-satisfied");
    assert.equal(posture(model, "iso27001:A.8.22").exceptions, 1);
    // image-tag's finding was fixed: nothing open at the end.
    assert.equal(posture(model, "iso27001:A.8.32").status, "satisfied");
    assert.equal(posture(model, "iso27001:A.8.32").resolved, 1);
    assert.match(posture(model, "iso27001:A.8.32").boundary, /a pass does not prove/);
    const policies = posture(model, "iso27001:A.5.1");
    assert.equal(policies.status, "not-evidenced");
    assert.equal(policies.boundary, NO_RULE_BOUNDARY);
    const iso = model.frameworks[0];
    assert.ok(iso !== undefined);
    assert.equal(iso.satisfied + iso.notSatisfied + iso.notEvidenced, iso.controls.length);
  });

  it("says a control is not evidenced when no full pass ran in the period", () => {
    const noPasses = buildModel(
      request(),
      RULES,
      history().filter((r) => r.kind !== "audit.pass"),
    );
    assert.equal(posture(noPasses, "iso27001:A.8.32").status, "not-evidenced");
    assert.equal(posture(noPasses, "iso27001:A.8.32").boundary, NO_PASS_BOUNDARY);
    // An open finding is evidence enough that the control is not met.
    assert.equal(posture(noPasses, "iso27001:A.8.2").status, "not-satisfied");
  });

  it("lists the exception with approver, justification and expiry", () => {
    assert.equal(model.exceptions.length, 1);
    const exception = defined(model.exceptions[0]);
    assert.equal(exception.name, "shop/legacy-host-network");
    assert.equal(exception.approver, "ciso@example.org");
    assert.equal(exception.expires, "2026-06-30T00:00:00.000Z");
    assert.equal(exception.expired, false);
    assert.deepEqual(
      exception.subjects.map((s) => s.name),
      ["legacy"],
    );
  });

  it("leaves out findings of frameworks not asked for", () => {
    const hipaa = buildModel(request({ frameworks: ["hipaa"] }), RULES, history());
    // pss-privileged names hipaa:164.312(a)(1) in the catalog, but the recorded finding names none.
    assert.equal(hipaa.openTotal, 0);
    assert.equal(hipaa.exceptions.length, 0);
  });

  it("bounds the lists it keeps and keeps the counts whole", () => {
    const events = history();
    const many = stored(
      Array.from({ length: 30 }, (_, i) => ({
        ...(events[0] as Extract<(typeof events)[number], { kind: "finding.opened" }>),
        subject: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: `p${i}` },
      })),
    );
    const bounded = buildModel(request({ limit: 5 }), RULES, many);
    assert.equal(bounded.openTotal, 30);
    assert.equal(bounded.open.length, 5);
  });

  it("ignores records at or after the period's end", () => {
    const late = buildModel(request({ to: new Date("2026-03-06T00:00:00Z") }), RULES, history());
    assert.equal(late.resolvedTotal, 0);
    assert.equal(late.openTotal, 2);
  });
});

describe("OSCAL assessment results", () => {
  const model = buildModel(request({ frameworks: ["iso27001", "gdpr", "hipaa"] }), RULES, history());

  it("validates against NIST's OSCAL 1.1.3 schema", () => {
    assert.deepEqual(oscalErrors(toOscal(model)), []);
    assert.equal(
      (toOscal(model) as { "assessment-results": { metadata: { "oscal-version": string } } })[
        "assessment-results"
      ].metadata["oscal-version"],
      "1.1.3",
    );
  });

  it("reviews every control, observes each open finding by TEST on its object, and finds per control", () => {
    const result = oscalResult(model);
    const reviewed = defined(result["reviewed-controls"]["control-selections"][0])["include-controls"];
    assert.equal(
      reviewed.length,
      model.frameworks.reduce((n, f) => n + f.controls.length, 0),
    );
    assert.ok(reviewed.some((c) => c["control-id"] === "hipaa_164.312_a__1_"));

    const observation = result.observations.find((o) => o.title?.startsWith("pss-privileged"));
    assert.ok(observation !== undefined);
    assert.deepEqual(observation.methods, ["TEST"]);
    const inventory = new Set(result["local-definitions"]["inventory-items"].map((i) => i.uuid));
    const subject = defined(observation.subjects?.[0]);
    assert.equal(subject.type, "inventory-item");
    assert.ok(inventory.has(subject["subject-uuid"]));

    const state = (control: string): string | undefined =>
      result.findings.find((f) => f.target["target-id"] === controlToken(control))?.target.status.state;
    assert.equal(state("iso27001:A.8.2"), "not-satisfied");
    assert.equal(state("iso27001:A.8.32"), "satisfied");
    // Not evidenced by vakt: reviewed, with no finding either way.
    assert.equal(state("iso27001:A.5.1"), undefined);
  });

  it("writes the exception as a risk with its justification and expiry, related to the findings of its controls", () => {
    const result = oscalResult(model);
    assert.equal(result.risks.length, 1);
    const risk = defined(result.risks[0]);
    assert.equal(risk.status, "deviation-approved");
    assert.equal(
      risk.statement,
      "The legacy VPN gateway needs the host network until its replacement ships.",
    );
    assert.equal(risk.deadline, "2026-06-30T00:00:00.000Z");
    assert.ok(risk.props.some((p) => p.name === "approver" && p.value === "ciso@example.org"));
    const finding = result.findings.find((f) => f.target["target-id"] === controlToken("iso27001:A.8.22"));
    assert.deepEqual(finding?.["related-risks"], [{ "risk-uuid": risk.uuid }]);
  });

  it("gives the same document for the same history (uuids derived, version 5)", () => {
    assert.deepEqual(
      toOscal(model),
      toOscal(buildModel(request({ frameworks: ["iso27001", "gdpr", "hipaa"] }), RULES, history())),
    );
    assert.match(uuid5("x"), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(uuid5("x"), uuid5("y"));
  });

  it("stays valid with hostile names, messages and justifications", () => {
    const hostile = buildModel(request(), RULES, history(HOSTILE));
    assert.deepEqual(oscalErrors(toOscal(hostile)), []);
    const text = JSON.stringify(toOscal(hostile));
    assert.ok(text.length < 200_000, `OSCAL of a hostile history is ${text.length} characters`);
  });

  it("stays valid with nothing recorded", () => {
    const empty = buildModel(request(), RULES, []);
    assert.deepEqual(oscalErrors(toOscal(empty)), []);
  });
});

describe("HTML report", () => {
  const model = buildModel(request({ frameworks: ["iso27001", "gdpr"] }), RULES, history());
  const page = renderHtml(model);

  it("shows posture per control, open findings with their tenant, history, exceptions, scope and method", () => {
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /A\.8\.2<\/td><td>[^<]*<\/td><td class="not-satisfied">not satisfied/);
    assert.match(page, /A\.5\.1<\/td><td>[^<]*<\/td><td class="not-evidenced">not evidenced by vakt/);
    assert.ok(page.includes(escapeHtml(NO_RULE_BOUNDARY)));
    assert.match(
      page,
      /<td>high<\/td><td class="id">pss-privileged<\/td><td class="text">Pod shop\/db<\/td><td class="text">acme<\/td>/,
    );
    assert.match(page, /image-tag<\/td><td>1<\/td><td>1<\/td><td>2 d 0 h<\/td>/);
    assert.ok(page.includes("shop/legacy-host-network"));
    assert.ok(page.includes("ciso@example.org"));
    assert.ok(page.includes("2026-06-30 00:00 UTC"));
    assert.ok(page.includes("Scope and method"));
    assert.ok(page.includes("cluster prod"));
  });

  it("is self-contained: no scripts, no external assets, a policy that forbids both", () => {
    assert.ok(page.includes(`content="default-src 'none'; style-src 'unsafe-inline'"`));
    assert.doesNotMatch(page, /<(script|img|iframe|link|object|embed)\b/i);
    assert.doesNotMatch(page, /\b(src|href)=/i);
  });

  it("escapes and bounds hostile content", () => {
    const hostile = renderHtml(buildModel(request(), RULES, history(HOSTILE)));
    assert.doesNotMatch(hostile, /<(script|img|iframe)\b/i);
    assert.ok(hostile.includes("&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;"));
    assert.ok(hostile.includes("&lt;img src=x onerror=alert(1)&gt;"));
    // Control characters are shown, not passed through; the 100,000-character message is cut.
    assert.ok(hostile.includes("\\u{7}"));
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    assert.doesNotMatch(hostile, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u2028]/);
    assert.ok(hostile.includes("more characters)"));
    assert.ok(hostile.length < page.length + 40_000, `hostile page is ${hostile.length} characters`);
  });

  it("says so when the evidence chain is broken", () => {
    const broken = buildModel(request(), RULES, history(), {
      ok: false,
      records: 4,
      firstBad: { seq: 5, problem: "changed", detail: "the record's hash does not match its content" },
    });
    assert.match(
      renderHtml(broken),
      /class="alert">The evidence history failed verification: BROKEN at record 5 \(changed/,
    );
  });
});

describe("JSON report", () => {
  it("is the model under a version", () => {
    const model = buildModel(request(), RULES, history());
    const parsed = JSON.parse(renderJson(model)) as {
      version: number;
      openTotal: number;
      request: { from: string };
    };
    assert.equal(parsed.version, 1);
    assert.equal(parsed.openTotal, 1);
    assert.equal(parsed.request.from, FROM.toISOString());
  });
});

describe("text helpers", () => {
  it("clean shows control characters, mends lone surrogates and cuts long text", () => {
    assert.equal(clean("a\u0000b\tc\nd"), "a\\u{0}b\tc\nd");
    assert.equal(clean("x\ud800"), "x\ufffd");
    const long = clean("a".repeat(MAX_TEXT + 10));
    assert.ok(long.endsWith("… (10 more characters)"));
    assert.equal(cleanLine("  a\n\tb  "), "a b");
  });

  it("duration says it in the largest units", () => {
    assert.equal(duration(40_000), "40 s");
    assert.equal(duration(5 * 60_000), "5 min");
    assert.equal(duration(125 * 60_000), "2 h 5 min");
    assert.equal(duration(76 * 3_600_000), "3 d 4 h");
    assert.equal(duration(Number.NaN), "unknown");
  });
});
