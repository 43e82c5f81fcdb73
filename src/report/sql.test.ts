import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { openDatabase } from "../evidence/db.ts";
import type { Database } from "../evidence/db.ts";
import { openEvidenceStore } from "../evidence/store.ts";
import { createTestDatabase, testPostgresUrl } from "../testing/postgres.ts";
import type { EvidenceEvent, EvidenceRecord } from "../evidence/types.ts";
import { HOSTILE, history, request, RULES, stored } from "./fixture.test.ts";
import type { ReportRequest } from "./model.ts";
import { buildModel } from "./model.ts";
import { modelFromDatabase } from "./run.ts";

/**
 * The digest the database computes gives the same model as folding every record: the fixture
 * history and variations of it, written through the store into an embedded database and into a
 * real PostgreSQL server (the one `npm test` starts, or one of this file's own).
 */
let root: string;

function events(list: readonly EvidenceRecord[]): EvidenceEvent[] {
  return list.map(({ seq: _seq, prevHash: _prev, hash: _hash, ...event }) => event);
}

/** The fixture twice over (the second with hostile text, in another cluster), and more findings so medians are real ones. */
function fixture(): EvidenceEvent[] {
  const extra = history()
    .filter((r) => r.kind === "finding.opened" || r.kind === "finding.resolved")
    .map((r, i) => ({
      ...r,
      subject: {
        ...("subject" in r ? r.subject : { apiVersion: "v1", kind: "Pod", name: "x" }),
        name: `extra-${String(i % 2)}`,
      },
    }));
  return [
    ...events(history()),
    ...events(history(HOSTILE)).map((e) => ({ ...e, scope: { ...e.scope, cluster: "staging" } })),
    ...events(stored(extra)),
  ];
}

/** Writes the fixture at `url` through the store; the records as stored, and the database opened for the digest. */
async function load(url: string): Promise<{ records: EvidenceRecord[]; db: Database }> {
  const store = await openEvidenceStore({ url });
  for (const event of fixture()) assert.equal(store.append(event), true);
  await store.flush();
  const records: EvidenceRecord[] = [];
  for await (const record of store.query()) records.push(record);
  await store.close();
  return { records, db: await openDatabase(url) };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "vakt-report-sql-"));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The records of a request's scope, as run.ts's streaming path keeps them. */
function scoped(records: readonly EvidenceRecord[], r: ReportRequest): EvidenceRecord[] {
  return records.filter((record) => {
    if (r.scope.cluster !== undefined && record.scope.cluster !== r.scope.cluster) return false;
    if (record.kind === "audit.pass") return true;
    if (r.scope.tenant !== undefined && record.scope.tenant !== r.scope.tenant) return false;
    if (r.scope.namespace !== undefined && record.scope.namespace !== r.scope.namespace) return false;
    return true;
  });
}

const BACKENDS: [string, () => Promise<string>][] = [
  ["PGlite", () => Promise.resolve(join(root, "evidence"))],
  ["PostgreSQL", async () => createTestDatabase(await testPostgresUrl())],
];

for (const [backend, url] of BACKENDS) {
  describe(`the database's digest (${backend})`, () => {
    let loaded: { records: EvidenceRecord[]; db: Database };
    before(async () => {
      loaded = await load(await url());
    });
    after(async () => {
      await loaded.db.close();
    });

    const requests: [string, ReportRequest][] = [
      ["cluster prod, iso27001", request()],
      [
        "cluster prod, every framework",
        request({ frameworks: ["iso27001", "gdpr", "nis2", "pdl", "hipaa"] }),
      ],
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
        assert.deepEqual(
          await modelFromDatabase(loaded.db, r, RULES),
          buildModel(r, RULES, scoped(loaded.records, r)),
        );
      });
    }

    it("finds what the fixture holds (the comparison is not between two empty models)", async () => {
      const model = await modelFromDatabase(loaded.db, request(), RULES);
      assert.ok(model.openTotal >= 1);
      assert.ok(model.resolvedTotal >= 2);
      assert.equal(model.exceptions.length, 1);
      assert.equal(model.passes.full, 3);
    });
  });
}
