import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ALL_RULES } from "../engine/rules/index.ts";
import type { KubeObject } from "../engine/types.ts";
import { openEvidenceStore } from "../evidence/store.ts";
import type { EvidenceRecord, EvidenceStore } from "../evidence/types.ts";
import { compliantPod } from "../testing/admission-fixtures.ts";
import { AdmissionState } from "../webhook/admission.ts";
import { EvidenceWriter } from "./evidence.ts";
import { judge } from "./verdict.ts";
import type { Verdict } from "./verdict.ts";

const rulesById = new Map(ALL_RULES.map((rule) => [rule.id, rule]));
const ruleIds = new Set(rulesById.keys());
const logger = pino({ level: "silent" });
const noException = (): undefined => undefined;

function verdict(image: string, state = new AdmissionState(), name = "web", owner?: string): Verdict {
  const pod = compliantPod({ image }) as KubeObject & { metadata: Record<string, unknown> };
  const ownerReferences =
    owner === undefined
      ? []
      : [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: owner, uid: "u", controller: true }];
  const judged = judge(
    { ...pod, metadata: { ...pod.metadata, name, namespace: "team-a", ownerReferences } },
    state.snapshot(),
  );
  assert.ok(judged !== undefined);
  return judged;
}

async function records(store: EvidenceStore): Promise<EvidenceRecord[]> {
  await store.flush();
  const all: EvidenceRecord[] = [];
  for await (const record of store.query()) all.push(record);
  return all;
}

function writer(store: EvidenceStore): EvidenceWriter {
  return new EvidenceWriter({ store, cluster: "test", logger });
}

describe("audit evidence", () => {
  it("opens a finding once, resolves it when fixed with its first sighting, and records the pass", async (t) => {
    const store = await openEvidenceStore({ url: "memory://" });
    t.after(() => store.close());
    const untagged = verdict("registry.example.com/acme/app");
    const fixed = verdict("registry.example.com/acme/app:1.2.3");
    const audit = writer(store);
    await audit.load();
    audit.changed(undefined, untagged, rulesById, noException);
    audit.changed(untagged, untagged, rulesById, noException);
    await audit.drained();
    const opened = (await records(store)).filter((r) => r.kind === "finding.opened");
    assert.deepEqual(
      opened.map((r) => r.rule).sort(),
      untagged.results
        .map((r) => r.rule)
        .filter((rule, i, all) => all.indexOf(rule) === i)
        .sort(),
    );
    const tagOpened = opened.find((r) => r.rule === "image-tag");
    assert.ok(tagOpened !== undefined);
    assert.deepEqual(tagOpened.subject, { apiVersion: "v1", kind: "Pod", namespace: "team-a", name: "web" });
    assert.deepEqual(tagOpened.scope, { cluster: "test", namespace: "team-a" });
    assert.equal(tagOpened.data.action, "deny");

    audit.changed(untagged, fixed, rulesById, noException);
    audit.passEnded(
      [fixed],
      { started: new Date().toISOString(), durationMs: 12, objects: 1, unjudgeable: 0 },
      ruleIds,
    );
    await audit.drained();
    const all = await records(store);
    const resolved = all.filter((r) => r.kind === "finding.resolved");
    assert.equal(resolved.length, 1);
    const [first] = resolved;
    assert.ok(first?.kind === "finding.resolved");
    assert.equal(first.rule, "image-tag");
    assert.equal(first.data.reason, "fixed");
    assert.equal(first.data.firstSeen, tagOpened.time);
    const pass = all.at(-1);
    assert.ok(pass?.kind === "audit.pass");
    assert.equal(pass.data.resolved, 1);
    assert.equal(
      pass.data.findingsOpen,
      fixed.results.map((r) => r.rule).filter((r, i, a) => a.indexOf(r) === i).length,
    );
    assert.equal((await store.verify()).ok, true);
  });

  it("after a restart opens nothing twice and resolves what went away while it was not looking", async (t) => {
    const store = await openEvidenceStore({ url: "memory://" });
    t.after(() => store.close());
    const untagged = verdict("registry.example.com/acme/app");
    const before = writer(store);
    await before.load();
    before.changed(undefined, untagged, rulesById, noException);
    await before.drained();
    const openedBefore = (await records(store)).filter((r) => r.kind === "finding.opened").length;

    // A restart that finds the pod failing still opens nothing new.
    const after = writer(store);
    await after.load();
    assert.equal(after.openFindings, openedBefore);
    after.changed(undefined, untagged, rulesById, noException);
    await after.drained();
    assert.equal((await records(store)).filter((r) => r.kind === "finding.opened").length, openedBefore);

    // Another restart: the pod was deleted while vakt was down, so the pass ends without it.
    const later = writer(store);
    await later.load();
    later.passEnded(
      [],
      { started: new Date().toISOString(), durationMs: 5, objects: 0, unjudgeable: 0 },
      ruleIds,
    );
    await later.drained();
    const all = await records(store);
    assert.equal(all.filter((r) => r.kind === "finding.opened").length, openedBefore);
    const resolved = all.filter((r) => r.kind === "finding.resolved");
    assert.equal(resolved.length, openedBefore);
    assert.ok(resolved.every((r) => r.data.reason === "deleted"));
  });

  it("records an exception applied once, with who approved it, why and until when", async (t) => {
    const store = await openEvidenceStore({ url: "memory://" });
    t.after(() => store.close());
    const expires = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    const exception: KubeObject = {
      apiVersion: "vakt.dev/v1alpha1",
      kind: "PolicyException",
      metadata: { name: "legacy", namespace: "team-a" },
      spec: {
        rules: ["image-tag"],
        match: { namespaces: ["team-a"], names: ["web"] },
        justification: "legacy image, replaced next sprint",
        approvedBy: "ciso@example.com",
        expires,
      },
    };
    const excepted = verdict(
      "registry.example.com/acme/app",
      new AdmissionState({ exceptions: [exception] }),
    );
    const audit = writer(store);
    const lookup = (): Record<string, unknown> => exception;
    audit.changed(undefined, excepted, rulesById, lookup);
    audit.changed(excepted, excepted, rulesById, lookup);
    await audit.drained();
    const applied = (await records(store)).filter((r) => r.kind === "exception.applied");
    assert.equal(applied.length, 1);
    const [record] = applied;
    assert.ok(record?.kind === "exception.applied");
    assert.deepEqual(record.data, {
      exception: "team-a/legacy",
      approver: "ciso@example.com",
      justification: "legacy image, replaced next sprint",
      expires,
    });
  });

  it("keeps one finding per owner for its replicas, resolved when the last replica is fixed", async (t) => {
    const store = await openEvidenceStore({ url: "memory://" });
    t.after(() => store.close());
    const audit = writer(store);
    const state = new AdmissionState();
    const [a, b] = ["web-5d8f-a", "web-5d8f-b"].map((name) =>
      verdict("registry.example.com/acme/app", state, name, "web-5d8f"),
    );
    const [fixedA, fixedB] = ["web-5d8f-a", "web-5d8f-b"].map((name) =>
      verdict("registry.example.com/acme/app:1.2.3", state, name, "web-5d8f"),
    );
    assert.ok(a !== undefined && b !== undefined && fixedA !== undefined && fixedB !== undefined);
    audit.changed(undefined, a, rulesById, noException);
    audit.changed(undefined, b, rulesById, noException);
    audit.changed(a, fixedA, rulesById, noException);
    await audit.drained();
    let all = await records(store);
    const tag = all.filter((r) => r.kind !== "audit.pass" && "rule" in r && r.rule === "image-tag");
    assert.deepEqual(
      tag.map((r) => r.kind),
      ["finding.opened"],
    );
    assert.deepEqual(tag[0] !== undefined && "subject" in tag[0] ? tag[0].subject : undefined, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      namespace: "team-a",
      name: "web-5d8f",
    });
    audit.changed(b, fixedB, rulesById, noException);
    await audit.drained();
    all = await records(store);
    assert.deepEqual(
      all.filter((r) => "rule" in r && r.rule === "image-tag").map((r) => r.kind),
      ["finding.opened", "finding.resolved"],
    );
  });
});
