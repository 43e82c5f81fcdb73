/**
 * `vakt report` end to end: the real CLI reading a real embedded evidence database (PGlite on a
 * directory) written through the store's append API; the PDF printed by Debian's chromium and
 * read back with pdftotext (both installed by scripts/setup.sh).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { openDatabase } from "../../src/evidence/db.ts";
import { openEvidenceStore } from "../../src/evidence/store.ts";
import { createTestDatabase, testPostgresUrl } from "../../src/testing/postgres.ts";
import type { EvidenceEvent, EvidenceRecord } from "../../src/evidence/types.ts";
import { HOSTILE, history } from "../../src/report/fixture.test.ts";
import { runVakt } from "./helpers.ts";
import { oscalValidator } from "../../src/testing/oscal.ts";

function events(records: readonly EvidenceRecord[]): EvidenceEvent[] {
  return records.map(({ seq: _seq, prevHash: _prev, hash: _hash, ...event }) => event);
}

async function seed(dir: string, list: readonly EvidenceEvent[]): Promise<void> {
  const store = await openEvidenceStore({ url: dir });
  for (const event of list) assert.equal(store.append(event), true);
  await store.flush();
  await store.close();
}

const PERIOD = ["--from", "2026-03-01", "--to", "2026-03-31", "--cluster", "prod"];
const SLOW = { timeoutMs: 120_000 };

let root: string;
let database: string;
let hostileDatabase: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "vakt-report-"));
  database = join(root, "evidence");
  hostileDatabase = join(root, "hostile");
  await seed(database, events(history()));
  await seed(hostileDatabase, events(history(HOSTILE)));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("vakt report", () => {
  it("-o json: open findings, history and exceptions of the period", async () => {
    const result = await runVakt([
      "report",
      "-o",
      "json",
      "--database",
      database,
      ...PERIOD,
      "--framework",
      "iso27001",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      version: number;
      openTotal: number;
      resolvedTotal: number;
      exceptions: { name: string }[];
      chain: { ok: boolean; records: number };
      request: { to: string };
    };
    assert.equal(report.version, 1);
    assert.equal(report.openTotal, 1);
    assert.equal(report.resolvedTotal, 1);
    assert.deepEqual(
      report.exceptions.map((e) => e.name),
      ["shop/legacy-host-network"],
    );
    assert.equal(report.chain.ok, true);
    assert.equal(report.chain.records, 7);
    assert.equal(report.request.to, "2026-04-01T00:00:00.000Z");
  });

  it("-o oscal: valid against NIST's OSCAL 1.1.3 schema, hostile content included", async () => {
    const oscalErrors = oscalValidator();
    for (const db of [database, hostileDatabase]) {
      const result = await runVakt(["report", "-o", "oscal", "--database", db, ...PERIOD]);
      assert.equal(result.code, 0, result.stderr);
      const document = JSON.parse(result.stdout) as unknown;
      assert.deepEqual(oscalErrors(document).slice(0, 5), []);
      assert.match(result.stdout, /"statement": "/);
    }
  });

  it("-o html: one page with the controls, the tenant's open finding, the exception; hostile text escaped", async () => {
    const result = await runVakt(["report", "--database", database, ...PERIOD, "--tenant", "acme"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^<!DOCTYPE html>/);
    assert.ok(result.stdout.includes("tenant acme of cluster prod"));
    assert.ok(result.stdout.includes("Pod shop/db"));
    assert.ok(result.stdout.includes("shop/legacy-host-network"));
    const hostile = await runVakt(["report", "--database", hostileDatabase, ...PERIOD]);
    assert.equal(hostile.code, 0, hostile.stderr);
    assert.doesNotMatch(hostile.stdout, /<(script|img|iframe)\b/i);
    assert.ok(hostile.stdout.includes("&lt;script&gt;"));
  });

  it("-o pdf: printed by Chromium; pdftotext finds the controls and the findings", async () => {
    const file = join(root, "report.pdf");
    const fd = openSync(file, "w");
    let result;
    try {
      result = await runVakt(
        ["report", "-o", "pdf", "--database", database, ...PERIOD, "--framework", "iso27001,gdpr"],
        {
          ...SLOW,
          stdoutFd: fd,
        },
      );
    } finally {
      closeSync(fd);
    }
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(file).subarray(0, 5).toString(), "%PDF-");
    // Table cells wrap, and pdftotext joins a word broken after its hyphen without the hyphen: compare
    // without white space and hyphens.
    const flat = (text: string): string => text.replace(/[\s-]+/g, "");
    const text = flat(execFileSync("pdftotext", [file, "-"], { encoding: "utf8" }));
    for (const expected of [
      "ISO/IEC 27001:2022 Annex A",
      "General Data Protection Regulation",
      "A.8.2",
      "not satisfied",
      "not evidenced by vakt",
      "pss-privileged",
      "Pod shop/db",
      "shop/legacy-host-network",
      "ciso@example.org",
    ])
      assert.ok(text.includes(flat(expected)), `the PDF's text lacks "${expected}"`);
  });

  it("exits 2 on a bad period, an unknown framework, a missing or unreachable database, saying how to fix it", async () => {
    const cases: [string[], RegExp][] = [
      [["--period", "ninety"], /--period "ninety" is not a length; write --period as a number and a unit/],
      [["--from", "2026-04-01", "--to", "2026-03-01"], /the period is empty/],
      [
        ["--framework", "iso27001,sox"],
        /unknown framework "sox"; --framework takes a comma-separated list of: iso27001/,
      ],
      [
        ["--database", join(root, "nothing-here")],
        /no evidence database at .*nothing-here\n {2}how to fix: /,
      ],
      [
        ["--database", "postgres://vakt@127.0.0.1:1/evidence"],
        /cannot read the evidence history from PostgreSQL at 127\.0\.0\.1:1, database evidence: .*connection refused\n {2}how to fix: /,
      ],
      [["-o", "docx"], /--output must be html or oscal or json or pdf, got "docx"/],
    ];
    for (const [args, message] of cases) {
      const result = await runVakt([
        "report",
        ...(args.includes("--database") ? [] : ["--database", database]),
        ...args,
      ]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "");
    }
  });
});

describe("vakt report on PostgreSQL", () => {
  it("reads a real server's history by URL, and verifies its chain", async () => {
    const url = await createTestDatabase(await testPostgresUrl());
    await seed(url, events(history()));
    const result = await runVakt(["report", "-o", "json", "--database", url, ...PERIOD]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { openTotal: number; request: { source: string } };
    assert.equal(report.openTotal, 1);
    assert.match(report.request.source, /^PostgreSQL at 127\.0\.0\.1:\d+, database vakt_/);
    const verify = await runVakt(["report", "verify", "--database", url]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /^ok: 7 records/);
  });
});

describe("vakt report verify", () => {
  it("passes an intact chain, names the first changed record and shows it in the report", async () => {
    const dir = join(root, "tampered");
    await seed(dir, events(history()));
    const good = await runVakt(["report", "verify", "--database", dir]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^ok: 7 records, hash chain intact \(head 7:[0-9a-f]{64}; keep it/);
    const head = /head (7:[0-9a-f]{64})/.exec(good.stdout)?.[1] ?? "";
    assert.equal((await runVakt(["report", "verify", "--database", dir, "--expect-head", head])).code, 0);
    const bad = await runVakt(["report", "verify", "--database", dir, "--expect-head", "nonsense"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--expect-head "nonsense" is not a record number and a sha256 hash/);

    // The last record deleted: the chain left is valid, the head kept elsewhere shows the loss.
    const cut = await openDatabase(dir);
    await cut.query("DELETE FROM evidence_record WHERE seq = 7");
    await cut.query(
      "UPDATE evidence_head SET seq = 6, hash = (SELECT hash FROM evidence_record WHERE seq = 6)",
    );
    await cut.close();
    const shortened = await runVakt(["report", "verify", "--database", dir, "--expect-head", head]);
    assert.equal(shortened.code, 1, shortened.stdout);
    assert.match(shortened.stdout, /^BAD: record 7 is /);

    const db = await openDatabase(dir);
    await db.query("UPDATE evidence_record SET message = 'nothing to see' WHERE seq = 4");
    await db.close();

    const changed = await runVakt(["report", "verify", "--database", dir]);
    assert.equal(changed.code, 1, changed.stderr);
    assert.match(changed.stdout, /^BAD: record 4 is changed: /);
    const page = await runVakt(["report", "--database", dir, ...PERIOD]);
    assert.equal(page.code, 0, page.stderr);
    assert.match(
      page.stdout,
      /class="alert">The evidence history failed verification: BROKEN at record 4 \(changed/,
    );
  });
});
