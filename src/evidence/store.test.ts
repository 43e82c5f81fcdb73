// The evidence store against both backends: PGlite on a temporary directory and a real
// PostgreSQL server (the one `npm test` starts, or one started for this file). Tampering is done
// as an attacker with SQL access would: UPDATE, DELETE, renumber, straight on the tables.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createTestDatabase, startPostgres, testPostgresUrl } from "../testing/postgres.ts";
import { recordHash } from "./canonical.ts";
import { openDatabase } from "./db.ts";
import { MIGRATIONS, SCHEMA_TABLE } from "./migrations.ts";
import { READ_BATCH, openEvidenceStore } from "./store.ts";
import {
  EvidenceError,
  MAX_MESSAGE,
  type EvidenceEvent,
  type EvidenceRecord,
  type EvidenceStore,
  type OpenOptions,
  type VerifyResult,
} from "./types.ts";

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

function opened(minutes: number, namespace: string, name: string, tenant?: string): EvidenceEvent {
  return {
    kind: "finding.opened",
    time: at(minutes),
    scope: { cluster: "c1", namespace, ...(tenant === undefined ? {} : { tenant }) },
    subject: { apiVersion: "v1", kind: "Pod", namespace, name, uid: `uid-${name}` },
    rule: "pss-restricted-run-as-non-root",
    controls: ["iso27001:A.8.9", "nis2:21.2.e"],
    severity: "high",
    message: `pod "${name}" runs as root`,
    data: { action: "warn" },
  };
}

function pass(minutes: number): EvidenceEvent {
  return {
    kind: "audit.pass",
    time: at(minutes),
    scope: { cluster: "c1" },
    data: {
      full: true,
      started: at(minutes - 1),
      durationMs: 812,
      objects: 10_000,
      unjudgeable: 0,
      findingsOpen: 3,
      opened: 1,
      resolved: 0,
    },
  };
}

async function all(
  store: EvidenceStore,
  query?: Parameters<EvidenceStore["query"]>[0],
): Promise<EvidenceRecord[]> {
  const records: EvidenceRecord[] = [];
  for await (const record of store.query(query)) records.push(record);
  return records;
}

/** Waits for a condition the store reaches by itself (a retry, a state change); fails after 60 s. */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What verify found, failing the test when it found nothing wrong. */
function badOf(result: VerifyResult): { seq: number; problem: string; detail: string; records: number } {
  assert.ok(!result.ok, "verify found nothing wrong");
  return { ...result.firstBad, records: result.records };
}

interface Backend {
  readonly name: string;
  /** A URL of an empty database, dropped (or removed) after the file. */
  fresh(): Promise<string>;
}

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups) cleanup();
});

/** An initialised, empty PGlite directory, made once: each test copies it (initdb takes seconds). */
let template: Promise<string> | undefined;
const pglite: Backend = {
  name: "PGlite",
  fresh: async () => {
    template ??= (async () => {
      const dir = join(mkdtempSync(join(tmpdir(), "vakt-evidence-")), "template");
      cleanups.push(() => {
        rmSync(join(dir, ".."), { recursive: true, force: true });
      });
      await (await openDatabase(dir)).close();
      return dir;
    })();
    const from = await template;
    const dir = mkdtempSync(join(tmpdir(), "vakt-evidence-"));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    cpSync(from, dir, { recursive: true });
    return dir;
  },
};
const postgres: Backend = {
  name: "PostgreSQL",
  fresh: async () => createTestDatabase(await testPostgresUrl()),
};
const backends = [pglite, postgres];

async function sqlOn(url: string, statements: readonly string[]): Promise<void> {
  const db = await openDatabase(url);
  try {
    for (const statement of statements) await db.query(statement);
  } finally {
    await db.close();
  }
}

/** A store with `events` written and closed again, for tampering with. */
async function written(url: string, events: readonly EvidenceEvent[]): Promise<void> {
  const store = await openEvidenceStore({ url });
  for (const event of events) assert.equal(store.append(event), true);
  await store.flush();
  await store.close();
}

async function verifyAfter(url: string): Promise<Awaited<ReturnType<EvidenceStore["verify"]>>> {
  const store = await openEvidenceStore({ url });
  try {
    return await store.verify();
  } finally {
    await store.close();
  }
}

const ten = Array.from({ length: 10 }, (_, i) => opened(i, "shop", `web-${String(i)}`, "acme"));

for (const backend of backends) {
  describe(`evidence store on ${backend.name}`, () => {
    test("appends in order, reads back by period, scope and kind, and verifies", async () => {
      const url = await backend.fresh();
      const store = await openEvidenceStore({ url });
      try {
        const hostile = {
          ...opened(5, "shop", "odd", "acme"),
          message: `nul\u0000 lone\ud800 ${"x".repeat(MAX_MESSAGE)}`,
        };
        const events: EvidenceEvent[] = [
          opened(1, "shop", "web-1", "acme"),
          opened(2, "billing", "api-1", "globex"),
          pass(3),
          {
            kind: "exception.applied",
            time: at(4),
            scope: { cluster: "c1", namespace: "shop", tenant: "acme" },
            subject: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "legacy" },
            rule: "image-trusted-registry",
            controls: ["iso27001:A.8.19"],
            severity: "medium",
            message: "image from docker.io",
            data: {
              exception: "shop/legacy-images",
              approver: "ciso@acme.example",
              justification: "vendor image",
              expires: at(60 * 24 * 30),
            },
          },
          hostile,
          {
            kind: "finding.resolved",
            time: at(6),
            scope: { cluster: "c1", namespace: "shop", tenant: "acme" },
            subject: { apiVersion: "v1", kind: "Pod", namespace: "shop", name: "web-1", uid: "uid-web-1" },
            rule: "pss-restricted-run-as-non-root",
            controls: ["iso27001:A.8.9", "nis2:21.2.e"],
            severity: "high",
            message: 'pod "web-1" runs as root',
            data: { reason: "fixed", firstSeen: at(1), lastSeen: at(3) },
          },
          {
            kind: "backup.copied",
            time: at(7),
            scope: { cluster: "c2" },
            data: { bytes: 123, nested: { b: [1, null, "x"], a: true } },
          },
        ];
        for (const event of events) assert.equal(store.append(event), true);
        await store.flush();
        assert.equal(store.health().state, "ok");
        assert.equal(store.health().written, events.length);

        const records = await all(store);
        assert.deepEqual(
          records.map((r) => r.seq),
          [1, 2, 3, 4, 5, 6, 7],
        );
        assert.deepEqual(
          records.map((r) => r.kind),
          events.map((e) => e.kind),
        );
        const [first, second] = records;
        assert.equal(first?.prevHash, "0".repeat(64));
        assert.equal(second?.prevHash, first.hash);
        assert.deepEqual(records[3]?.data, events[3]?.data);
        assert.deepEqual(records[6]?.data, { bytes: 123, nested: { a: true, b: [1, null, "x"] } });
        const odd = records[4] as EvidenceRecord & { message: string };
        assert.equal(odd.message.length, MAX_MESSAGE);
        assert.ok(odd.message.startsWith("nul\uFFFD lone\uFFFD x"), odd.message.slice(0, 20));

        // Period: [from, to).
        assert.deepEqual(
          (await all(store, { from: new Date(at(2)), to: new Date(at(5)) })).map((r) => r.seq),
          [2, 3, 4],
        );
        // A tenant's scope: its records plus the cluster-wide pass, not another tenant's nor another cluster's.
        assert.deepEqual(
          (await all(store, { scope: { cluster: "c1", tenant: "acme" } })).map((r) => r.seq),
          [1, 3, 4, 5, 6],
        );
        assert.deepEqual(
          (await all(store, { scope: { namespace: "billing" } })).map((r) => r.seq),
          [2, 3, 7],
        );
        assert.deepEqual(
          (await all(store, { kinds: ["finding.opened", "finding.resolved"] })).map((r) => r.seq),
          [1, 2, 5, 6],
        );
        assert.deepEqual(await store.verify(), {
          ok: true,
          records: 7,
          head: { seq: 7, hash: records.at(-1)?.hash },
        });
      } finally {
        await store.close();
      }
    });

    test("streams a history longer than one read batch, in order", async () => {
      const url = await backend.fresh();
      const store = await openEvidenceStore({ url });
      try {
        for (let i = 0; i < READ_BATCH + 500; i += 1)
          store.append(opened(i, `ns-${String(i % 7)}`, `pod-${String(i)}`));
        await store.flush();
        let expected = 1;
        for await (const record of store.query({ scope: { cluster: "c1" } })) {
          assert.equal(record.seq, expected);
          expected += 1;
        }
        assert.equal(expected, READ_BATCH + 501);
        const result = await store.verify();
        assert.equal(result.ok && result.records, READ_BATCH + 500);
      } finally {
        await store.close();
      }
    });

    test("a record's data changed in SQL is named by verify", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      await sqlOn(url, [`UPDATE evidence_record SET data = '{"action":"audit"}' WHERE seq = 6`]);
      const result = await verifyAfter(url);
      const bad = badOf(result);
      assert.deepEqual([bad.seq, bad.problem, bad.records], [6, "changed", 5]);
    });

    test("a record changed and re-hashed breaks the next record's link", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      // The attacker rewrites record 4 with a hash that matches its new content.
      const store = await openEvidenceStore({ url });
      const [fourth] = await all(store, { from: new Date(at(3)), to: new Date(at(4)) });
      await store.close();
      assert.equal(fourth?.seq, 4);
      const forged = { ...fourth, message: "nothing to see" } as EvidenceRecord;
      const hash = recordHash(forged);
      await sqlOn(url, [
        `UPDATE evidence_record SET message = 'nothing to see', hash = '${hash}' WHERE seq = 4`,
      ]);
      const result = await verifyAfter(url);
      assert.deepEqual([badOf(result).seq, badOf(result).problem], [5, "broken-link"]);
      assert.equal(badOf(result).records, 4);
    });

    test("a record of an unknown kind is named as unreadable", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      await sqlOn(url, ["UPDATE evidence_record SET kind = 'finding.forgotten' WHERE seq = 2"]);
      const bad = badOf(await verifyAfter(url));
      assert.deepEqual([bad.seq, bad.problem, bad.records], [2, "unreadable", 1]);
      assert.match(bad.detail, /unknown kind "finding.forgotten"/);
      const store = await openEvidenceStore({ url });
      try {
        await assert.rejects(all(store), /evidence record 2 cannot be read: unknown kind/);
      } finally {
        await store.close();
      }
    });

    test("a deleted record is named as missing", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      await sqlOn(url, ["DELETE FROM evidence_record WHERE seq = 3"]);
      const result = await verifyAfter(url);
      assert.deepEqual([badOf(result).seq, badOf(result).problem], [4, "gap"]);
      assert.match(badOf(result).detail, /record 3 is missing/);
    });

    test("records deleted from the end are found through the head", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      await sqlOn(url, ["DELETE FROM evidence_record WHERE seq >= 9"]);
      const result = await verifyAfter(url);
      assert.deepEqual([badOf(result).seq, badOf(result).problem], [9, "gap"]);
      assert.match(badOf(result).detail, /records 9 to 10 are missing/);
    });

    test("two records swapped are detected", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      await sqlOn(url, [
        "UPDATE evidence_record SET seq = -1 WHERE seq = 3",
        "UPDATE evidence_record SET seq = 3 WHERE seq = 4",
        "UPDATE evidence_record SET seq = 4 WHERE seq = -1",
      ]);
      const result = await verifyAfter(url);
      assert.deepEqual([badOf(result).seq, badOf(result).problem], [3, "changed"]);
    });

    test("a head kept outside the database shows a rewritten end", async () => {
      const url = await backend.fresh();
      await written(url, ten);
      const store = await openEvidenceStore({ url });
      try {
        const before = await store.verify();
        assert.ok(before.ok && before.head !== null);
        const result = await store.verify({ expectHead: { seq: 12, hash: "f".repeat(64) } });
        assert.deepEqual([badOf(result).seq, badOf(result).problem], [11, "gap"]);
        const rewritten = await store.verify({ expectHead: { seq: 10, hash: "f".repeat(64) } });
        assert.deepEqual([badOf(rewritten).seq, badOf(rewritten).problem], [10, "changed"]);
      } finally {
        await store.close();
      }
    });

    test("migrations: applied on an empty database, nothing to do on an up-to-date one, a newer one refused", async () => {
      const url = await backend.fresh();
      await written(url, ten.slice(0, 2));
      const versions = async (): Promise<number[]> => {
        const db = await openDatabase(url);
        try {
          return (
            await db.query<{ version: unknown }>(`SELECT version FROM ${SCHEMA_TABLE} ORDER BY version`)
          ).map((row) => Number(row.version));
        } finally {
          await db.close();
        }
      };
      assert.deepEqual(
        await versions(),
        MIGRATIONS.map((m) => m.version),
      );
      // Opened again: the same versions, the records kept, the chain continued.
      await written(url, ten.slice(2, 3));
      assert.deepEqual(
        await versions(),
        MIGRATIONS.map((m) => m.version),
      );
      const after3 = await verifyAfter(url);
      assert.equal(after3.ok && after3.records, 3);

      await sqlOn(url, [`INSERT INTO ${SCHEMA_TABLE} (version, description) VALUES (99, 'from the future')`]);
      await assert.rejects(openEvidenceStore({ url }), (error: unknown) => {
        assert.ok(error instanceof EvidenceError);
        assert.match(error.message, /schema version 99; this vakt knows versions up to 1/);
        assert.match(error.hint, /newer vakt/);
        return true;
      });
    });

    test("a non-event is a programming error, not a record", async () => {
      const url = await backend.fresh();
      const store = await openEvidenceStore({ url });
      try {
        assert.throws(
          () => store.append({ ...pass(1), kind: "finding.closed" } as unknown as EvidenceEvent),
          /unknown record kind/,
        );
        assert.throws(() => store.append({ ...pass(1), time: "yesterday" }), /"yesterday" is not a time/);
        assert.throws(
          () =>
            store.append({
              ...opened(1, "a", "b"),
              subject: { apiVersion: "v1", kind: "Pod" },
            } as unknown as EvidenceEvent),
          /subject.name must be a string/,
        );
        assert.equal(store.health().backlog, 0);
      } finally {
        await store.close();
      }
    });
  });
}

describe("evidence store while PostgreSQL is down", () => {
  test("buffers in order while the server is stopped, refuses at the bound, writes everything when it is back", async () => {
    // A server of its own: stopping the shared one would fail other test files.
    const server = await startPostgres();
    cleanups.push(() => {
      server.stop();
    });
    const url = await createTestDatabase(server.url);
    const warnings: string[] = [];
    const options: OpenOptions = {
      url,
      connect: "background",
      capacity: 8,
      retryMs: 50,
      log: {
        warn: (_object, message) => warnings.push(message),
        info: () => undefined,
      },
    };
    const store = await openEvidenceStore(options);
    try {
      for (const event of ten.slice(0, 3)) assert.equal(store.append(event), true);
      await store.flush();

      server.pause();
      for (const event of ten.slice(3, 8)) assert.equal(store.append(event), true);
      await until("the store notices the database is down", () => store.health().state === "buffering");
      assert.equal(store.health().backlog, 5);
      assert.ok(
        warnings.some((w) => w.includes("buffering")),
        warnings.join("\n"),
      );
      assert.match(store.health().lastError ?? "", /connection refused|terminat|closed|ended/i);

      for (const event of ten.slice(8, 10)) assert.equal(store.append(event), true);
      const extra = opened(20, "shop", "late");
      assert.equal(store.append(extra), true);
      assert.equal(store.health().state, "full");
      assert.equal(store.append(opened(21, "shop", "refused")), false);
      assert.equal(store.health().refused, 1);
      let room = false;
      const waiting = store.writable().then(() => {
        room = true;
      });
      assert.equal(room, false);

      server.resume();
      await store.flush();
      await waiting;
      assert.equal(room, true);
      assert.equal(store.health().state, "ok");
      assert.equal(store.health().backlog, 0);
      const records = await all(store);
      assert.deepEqual(
        records.map((r) => [r.seq, "subject" in r ? r.subject.name : ""]),
        [...ten.map((e, i) => [i + 1, "subject" in e ? e.subject.name : ""]), [11, "late"]],
      );
      const result = await store.verify();
      assert.equal(result.ok && result.records, 11);
    } finally {
      await store.close();
    }
  });

  test("opens in the background while the server is down and catches up when it starts", async () => {
    const server = await startPostgres();
    cleanups.push(() => {
      server.stop();
    });
    const url = await createTestDatabase(server.url);
    server.pause();
    const store = await openEvidenceStore({ url, connect: "background", retryMs: 50 });
    try {
      await until("the store reports the database down", () => store.health().state === "buffering");
      assert.equal(store.append(pass(1)), true);
      server.resume();
      await store.flush();
      const result = await store.verify();
      assert.equal(result.ok && result.records, 1);
    } finally {
      await store.close();
    }
  });
});

describe("two writers on one PostgreSQL database (a Lease handover)", () => {
  test("their records interleave into one chain, none lost, none forked", async () => {
    const url = await postgres.fresh();
    const [a, b] = await Promise.all([openEvidenceStore({ url }), openEvidenceStore({ url })]);
    try {
      for (let i = 0; i < 1200; i += 1) {
        a.append(opened(i, "a", `pod-${String(i)}`));
        b.append(opened(i, "b", `pod-${String(i)}`));
      }
      await Promise.all([a.flush(), b.flush()]);
      const records = await all(a);
      assert.equal(records.length, 2400);
      assert.deepEqual(
        records.map((r) => r.seq),
        records.map((_, i) => i + 1),
      );
      const names = (ns: string): string[] =>
        records.filter((r) => r.scope.namespace === ns).map((r) => ("subject" in r ? r.subject.name : ""));
      // Each writer's records keep their own order.
      assert.deepEqual(
        names("a"),
        Array.from({ length: 1200 }, (_, i) => `pod-${String(i)}`),
      );
      assert.deepEqual(
        names("b"),
        Array.from({ length: 1200 }, (_, i) => `pod-${String(i)}`),
      );
      const result = await b.verify();
      assert.equal(result.ok && result.records, 2400);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("embedded evidence database: one process at a time", () => {
  test("a second open of the same directory is refused while the first holds it; a stale lock is taken over", async () => {
    const dir = await pglite.fresh();
    const store = await openEvidenceStore({ url: dir });
    try {
      await assert.rejects(openEvidenceStore({ url: dir }), (error: unknown) => {
        assert.ok(error instanceof EvidenceError, String(error));
        assert.match(error.message, new RegExp(`in use by process ${String(process.pid)} \\(this one\\)`));
        assert.match(error.hint, /one process at a time/);
        return true;
      });
    } finally {
      await store.close();
    }
    // A process that has exited left its lock behind.
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(`${dir}.lock`, String(gone));
    const again = await openEvidenceStore({ url: dir });
    assert.equal(readFileSync(`${dir}.lock`, "utf8"), String(process.pid));
    await again.close();
    assert.equal(existsSync(`${dir}.lock`), false);
  });
});

describe("evidence store: a database it cannot open", () => {
  const rejectsWith = async (options: OpenOptions, message: RegExp, hint: RegExp): Promise<void> => {
    await assert.rejects(openEvidenceStore(options), (error: unknown) => {
      assert.ok(error instanceof EvidenceError, String(error));
      assert.match(error.message, message);
      assert.match(error.hint, hint);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  };

  test("a server that refuses the connection", async () => {
    await rejectsWith(
      { url: "postgres://vakt:s3cret@127.0.0.1:1/vakt" },
      /127\.0\.0\.1:1.*connection refused/,
      /start PostgreSQL/,
    );
  });

  test("a URL that is not one", async () => {
    await rejectsWith(
      { url: "postgres://vakt:s3cret@[::1/vakt" },
      /is not a valid URL/,
      /postgres:\/\/user:password@host/,
    );
    await rejectsWith({ url: "mysql://vakt:s3cret@db/vakt" }, /unknown URL scheme/, /postgres:\/\//);
  });

  test("a database that does not exist", async () => {
    const server = new URL(await testPostgresUrl());
    server.pathname = "/no_such_database";
    await rejectsWith({ url: server.toString() }, /does not exist/, /createdb/);
  });
});
