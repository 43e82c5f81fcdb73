import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { openDatabase } from "../evidence/db.ts";
import type { Database } from "../evidence/db.ts";
import { openEvidenceStore } from "../evidence/store.ts";
import type { EvidenceEvent, EvidenceRecord } from "../evidence/types.ts";
import { HOSTILE, history, request, RULES, stored } from "./fixture.test.ts";
import type { ReportRequest } from "./model.ts";
import { buildModel } from "./model.ts";
import { modelFromDatabase } from "./run.ts";

/**
 * The digest the database computes gives the same model as folding every record: the fixture
 * history and variations of it, written through the store into an embedded database.
 */
let root: string;
let db: Database;
let records: EvidenceRecord[];

function events(list: readonly EvidenceRecord[]): EvidenceEvent[] {
  return list.map(({ seq: _seq, prevHash: _prev, hash: _hash, ...event }) => event);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "vakt-report-sql-"));
  const dir = join(root, "evidence");
  // The fixture twice over (the second with hostile text, in another cluster), and more findings
  // of one rule so the median is a real one.
  const extra = history()
    .filter((r) => r.kind === "finding.opened" || r.kind === "finding.resolved")
    .map((r, i) => ({
      ...r,
      subject: {
        ...("subject" in r ? r.subject : { apiVersion: "v1", kind: "Pod", name: "x" }),
        name: `extra-${String(i % 2)}`,
      },
    }));
  const all = [
    ...events(history()),
    ...events(history(HOSTILE)).map((e) => ({ ...e, scope: { ...e.scope, cluster: "staging" } })),
    ...events(stored(extra)),
  ];
  const store = await openEvidenceStore({ url: dir });
  for (const event of all) assert.equal(store.append(event), true);
  await store.flush();
  records = [];
  for await (const record of store.query()) records.push(record);
  await store.close();
  db = await openDatabase(dir);
});

after(async () => {
  await db.close();
  await rm(root, { recursive: true, force: true });
});

/** The records of a request's scope, as run.ts's streaming path keeps them. */
function scoped(r: ReportRequest): EvidenceRecord[] {
  return records.filter((record) => {
    if (r.scope.cluster !== undefined && record.scope.cluster !== r.scope.cluster) return false;
    if (record.kind === "audit.pass") return true;
    if (r.scope.tenant !== undefined && record.scope.tenant !== r.scope.tenant) return false;
    if (r.scope.namespace !== undefined && record.scope.namespace !== r.scope.namespace) return false;
    return true;
  });
}

describe("the database's digest", () => {
  const requests: [string, ReportRequest][] = [
    ["cluster prod, iso27001", request()],
    ["cluster prod, every framework", request({ frameworks: ["iso27001", "gdpr", "nis2", "pdl", "hipaa"] })],
    ["cluster staging (hostile text)", request({ scope: { cluster: "staging" } })],
    ["tenant acme", request({ scope: { cluster: "prod", tenant: "acme" } })],
    ["another namespace", request({ scope: { cluster: "prod", namespace: "elsewhere" } })],
    ["a period ending mid-history", request({ to: new Date("2026-03-06T00:00:00Z") })],
    [
      "a period after it all",
      request({ from: new Date("2026-05-01T00:00:00Z"), to: new Date("2026-06-01T00:00:00Z") }),
    ],
    ["lists limited to 1", request({ limit: 1 })],
  ];
  for (const [name, r] of requests) {
    it(`gives the model folding the records gives: ${name}`, async () => {
      assert.deepEqual(await modelFromDatabase(db, r, RULES), buildModel(r, RULES, scoped(r)));
    });
  }

  it("finds what the fixture holds (the comparison is not between two empty models)", async () => {
    const model = await modelFromDatabase(db, request(), RULES);
    assert.ok(model.openTotal >= 1);
    assert.ok(model.resolvedTotal >= 2);
    assert.equal(model.exceptions.length, 1);
    assert.equal(model.passes.full, 3);
  });
});
