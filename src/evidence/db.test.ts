// The embedded database's process (pglite-host.ts) as db.ts drives it: it is a process of its
// own, a transaction holds its one connection, and when it dies what was pending fails with why
// and the next query starts a new one on the same directory, with the data intact.
import assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openDatabase } from "./db.ts";

const root = mkdtempSync(join(tmpdir(), "vakt-db-test-"));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The pids of this process's children that run the embedded database. */
function hosts(): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("pglite-host");
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("the embedded database runs in a process of its own, started with the baseline WebAssembly compiler", async () => {
  const db = await openDatabase(join(root, "own"));
  try {
    const [pid] = hosts();
    assert.ok(pid !== undefined, "no pglite-host child process");
    const cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").split("\0");
    assert.ok(cmdline.includes("--liftoff-only"), cmdline.join(" "));
    assert.deepEqual(await db.query("SELECT 1 + 1 AS two"), [{ two: 2 }]);
  } finally {
    await db.close();
  }
  assert.deepEqual(hosts(), [], "the host outlived close()");
});

test("a transaction holds the one connection: a query from outside waits for its COMMIT", async () => {
  const db = await openDatabase("memory://");
  try {
    await db.query("CREATE TABLE t (n int)");
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async (sql) => {
      await sql.query("INSERT INTO t VALUES (1)");
      await gate;
      await sql.query("INSERT INTO t VALUES (2)");
    });
    const outside = db.query<{ n: number }>("SELECT count(*)::int AS n FROM t");
    release();
    await tx;
    assert.deepEqual(await outside, [{ n: 2 }]);
    await assert.rejects(
      db.transaction(async (sql) => {
        await sql.query("INSERT INTO t VALUES (3)");
        throw new Error("work failed");
      }),
      /work failed/,
    );
    assert.deepEqual(
      await db.query("SELECT count(*)::int AS n FROM t"),
      [{ n: 2 }],
      "the failed transaction was not rolled back",
    );
  } finally {
    await db.close();
  }
});

test("a host that dies fails what was pending with why, and the next query starts a new one with the data intact", async () => {
  const db = await openDatabase(join(root, "dies"));
  try {
    await db.query("CREATE TABLE t (n int)");
    await db.query("INSERT INTO t VALUES (42)");
    const [pid] = hosts();
    assert.ok(pid !== undefined);
    const pending = db.query("SELECT pg_sleep(5)");
    process.kill(pid, "SIGKILL");
    await assert.rejects(pending, /embedded database process exited \(SIGKILL\)/);
    assert.deepEqual(await db.query("SELECT n FROM t"), [{ n: 42 }]);
    const [again] = hosts();
    assert.ok(again !== undefined && again !== pid, "no new host was started");
  } finally {
    await db.close();
  }
});

test("a SQL error comes back as an error with PostgreSQL's code", async () => {
  const db = await openDatabase("memory://");
  try {
    await assert.rejects(db.query("SELECT * FROM missing"), (error: Error & { code?: string }) => {
      assert.equal(error.code, "42P01");
      assert.match(error.message, /relation "missing" does not exist/);
      return true;
    });
  } finally {
    await db.close();
  }
});
