import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { openDatabase } from "../evidence/db.ts";
import { openEvidenceStore } from "../evidence/store.ts";
import type { EvidenceEvent, EvidenceRecord } from "../evidence/types.ts";
import { oscalValidator } from "../testing/oscal.ts";
import { backupEvent, backupFindings } from "./backup.ts";
import { request, RULES } from "./fixture.test.ts";
import { renderHtml } from "./html.ts";
import { renderJson } from "./json.ts";
import { buildModel } from "./model.ts";
import type { ReportModel } from "./model.ts";
import { toOscal } from "./oscal.ts";
import { modelFromDatabase } from "./run.ts";

/**
 * Backup findings of `vakt report` from the backup part's and the drills' evidence, in March 2026
 * (the fixture's period, report generated on 2 April):
 * - acme: copies daily until 30 March (46 h old at the end: overdue), a drill passed then one failed;
 * - beta: copies daily until 31 March to offsite-de, never lock-checked, and no drill;
 * - gamma: all well (copies, a passed drill, its location's lock checked);
 * - delta: a weekly schedule (its records say so), copied on 22 and 29 March and drilled: within policy;
 * - offsite-se: its latest lock check failed.
 */
function copied(
  tenant: string,
  time: string,
  location: string,
  outcome = "copied",
  policyMaxAgeSeconds?: number,
): EvidenceEvent {
  return {
    kind: "backup.copied",
    time,
    scope: { cluster: "prod", tenant },
    subject: { apiVersion: "velero.io/v1", kind: "Backup", namespace: "velero", name: `${tenant}-${time}` },
    data: {
      outcome,
      location,
      bucket: "offsite",
      objects: 12,
      ...(policyMaxAgeSeconds === undefined ? {} : { policyMaxAgeSeconds }),
    },
  };
}

function drill(
  tenant: string,
  time: string,
  outcome: "passed" | "failed",
  problems: string[] = [],
): EvidenceEvent {
  return {
    kind: "restore.drill",
    time,
    scope: { cluster: "prod", tenant },
    subject: { apiVersion: "velero.io/v1", kind: "Backup", namespace: "velero", name: `${tenant}-backup` },
    data: { outcome, location: "offsite-se", rpoSeconds: 600, rtoSeconds: 4, problems },
  };
}

function lockChecked(
  location: string,
  time: string,
  passed: boolean,
  problems: string[] = [],
): EvidenceEvent {
  return {
    kind: "backup.lock-checked",
    time,
    scope: { cluster: "prod" },
    subject: { apiVersion: "vakt.dev/v1alpha1", kind: "BackupLocation", name: location },
    data: { location, bucket: "offsite", passed, problems },
  };
}

function day(d: number, time = "02:05:00.000Z"): string {
  return `2026-03-${String(d).padStart(2, "0")}T${time}`;
}

function history(): EvidenceEvent[] {
  const events: EvidenceEvent[] = [
    // Before the lookback: never read.
    copied("acme", "2026-02-01T02:05:00.000Z", "offsite-se"),
  ];
  for (let d = 1; d <= 31; d++) {
    if (d <= 30) events.push(copied("acme", day(d), "offsite-se"));
    events.push(copied("beta", day(d), "offsite-de"), copied("gamma", day(d), "offsite-se"));
  }
  const weekly = 7 * 86_400 + 3600;
  events.push(
    copied("delta", "2026-02-26T02:05:00.000Z", "offsite-se", "copied", weekly),
    copied("delta", day(22), "offsite-se", "copied", weekly),
    copied("delta", day(29), "offsite-se", "copied", weekly),
    drill("delta", day(29, "06:00:00.000Z"), "passed"),
    copied("beta", day(31, "03:00:00.000Z"), "offsite-de", "failed"),
    drill("acme", day(10, "04:00:00.000Z"), "passed"),
    drill("acme", day(20, "04:00:00.000Z"), "failed", ["1 object(s) missing: Secret shop/db"]),
    drill("gamma", day(31, "04:00:00.000Z"), "passed"),
    lockChecked("offsite-se", day(15, "05:00:00.000Z"), true),
    lockChecked("offsite-se", day(31, "05:00:00.000Z"), false, [
      "a delete of the locked canary was not refused",
    ]),
  );
  return events;
}

function stored(events: readonly EvidenceEvent[]): EvidenceRecord[] {
  return events.map((event, index) => ({
    ...event,
    seq: index + 1,
    prevHash: index.toString(16).padStart(64, "0"),
    hash: (index + 1).toString(16).padStart(64, "0"),
  }));
}

const ALL = ["iso27001", "gdpr", "nis2", "pdl"];

describe("backup findings", () => {
  const findings = backupFindings(
    stored(history()).map((r) => backupEvent(r as Parameters<typeof backupEvent>[0])),
    request({ frameworks: ALL }),
  );
  const named = (rule: string, subject: string) =>
    findings.find((f) => f.rule === rule && f.subject.name === subject);

  it("finds a backup older than policy, no drill, a failed drill and a lock not shown to hold", () => {
    assert.deepEqual(findings.map((f) => `${f.rule} ${f.subject.kind} ${f.subject.name}`).sort(), [
      "backup-drill-failed Tenant acme",
      "backup-drill-missing Tenant beta",
      "backup-lock-missing BackupLocation offsite-de",
      "backup-lock-missing BackupLocation offsite-se",
      "backup-overdue Tenant acme",
    ]);
    const overdue = named("backup-overdue", "acme");
    assert.match(
      overdue?.message ?? "",
      /from 2026-03-30T02:05:00.000Z, 46 h old at the period's end; the policy allows 25 h/,
    );
    assert.equal(overdue?.firstSeen, "2026-03-31T03:05:00.000Z");
    assert.equal(overdue.tenant, "acme");
    assert.match(named("backup-drill-failed", "acme")?.message ?? "", /Secret shop\/db/);
    assert.match(named("backup-lock-missing", "offsite-se")?.message ?? "", /canary was not refused/);
    assert.match(
      named("backup-lock-missing", "offsite-de")?.message ?? "",
      /no lock check of it is recorded/,
    );
  });

  it("maps them to ISO/IEC 27001 A.8.13, NIS2 21(2)(c), GDPR 32(1)(c) and HSLF-FS 2016:40 3:12/3:13", () => {
    assert.deepEqual(named("backup-overdue", "acme")?.controls, [
      "iso27001:A.8.13",
      "nis2:21.2.c",
      "gdpr:32.1.c",
      "pdl:3.12",
    ]);
    assert.ok(named("backup-drill-missing", "beta")?.controls.includes("pdl:3.13"));
  });

  it("keeps to one tenant's locations in a tenant's report", () => {
    const beta = backupFindings(
      stored(history())
        .filter((r) => r.scope.tenant === "beta" || r.kind === "backup.lock-checked")
        .map((r) => backupEvent(r as Parameters<typeof backupEvent>[0])),
      request({ scope: { cluster: "prod", tenant: "beta" }, frameworks: ALL }),
    );
    assert.deepEqual(beta.map((f) => `${f.rule} ${f.subject.name}`).sort(), [
      "backup-drill-missing beta",
      "backup-lock-missing offsite-de",
    ]);
  });

  it("says nothing when the period has no backup records", () => {
    assert.deepEqual(backupFindings([], request()), []);
  });
});

describe("backup findings in vakt report, from the embedded database", () => {
  let root: string;
  let model: ReportModel;
  let folded: ReportModel;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "vakt-report-backup-"));
    const url = join(root, "evidence");
    const store = await openEvidenceStore({ url });
    for (const event of history()) assert.equal(store.append(event), true);
    await store.flush();
    const records: EvidenceRecord[] = [];
    for await (const record of store.query()) records.push(record);
    await store.close();
    const db = await openDatabase(url);
    try {
      model = await modelFromDatabase(db, request({ frameworks: ALL }), RULES);
    } finally {
      await db.close();
    }
    folded = buildModel(request({ frameworks: ALL }), RULES, records);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("gives the findings folding the records gives, and the controls they name are not satisfied", () => {
    assert.deepEqual(model, folded);
    const rules = model.open.map((f) => f.rule);
    for (const rule of [
      "backup-overdue",
      "backup-drill-missing",
      "backup-drill-failed",
      "backup-lock-missing",
    ])
      assert.ok(rules.includes(rule), `${rule} in ${rules.join(", ")}`);
    const controls = model.frameworks.flatMap((f) => f.controls);
    for (const id of ["iso27001:A.8.13", "nis2:21.2.c", "gdpr:32.1.c", "pdl:3.12", "pdl:3.13"]) {
      const posture = controls.find((c) => c.control.id === id);
      assert.equal(posture?.status, "not-satisfied", id);
      assert.ok(
        posture.rules.some((r) => r.startsWith("backup-")),
        id,
      );
    }
  });

  it("shows them in JSON, HTML and OSCAL (valid against NIST's schema)", () => {
    const json = JSON.parse(renderJson(model)) as { model?: ReportModel } & ReportModel;
    const open = (json.model ?? json).open;
    assert.ok(open.some((f) => f.rule === "backup-overdue" && f.subject.name === "acme"));
    const html = renderHtml(model);
    assert.match(html, /backup-drill-failed/);
    assert.match(html, /Secret shop\/db/);
    const oscal = toOscal(model);
    assert.deepEqual(oscalValidator()(oscal), []);
    const text = JSON.stringify(oscal);
    assert.match(text, /backup-lock-missing on BackupLocation offsite-se/);
  });
});
