// Benchmark (a script, not a test): the evidence history's size and the read `vakt report` needs.
//
//   node bench/evidence.ts [--days 90] [--objects 10000] [--backend pglite|postgres|both]
//
// Simulates what the background audit appends for `--days` days over `--objects` objects of
// which 1% change every hour, through the store (buffer, hash chain, batched transactions), into
// PGlite (a temp directory) and into a real PostgreSQL server (Debian's, started here as in the
// tests). The model, seeded so every run writes the same records:
// - every object is judged by 3 rules and fails each with probability 0.2 (about 6,000 findings
//   open at any time for 10,000 objects): day 0 opens them (the first full pass);
// - every hour 1% of the objects change and are judged again; each rule whose verdict flipped
//   writes finding.opened or finding.resolved (its first and last seen); a changed object is
//   covered by an exception now and then (exception.applied, 1 in 50 changes);
// - a full audit pass every hour writes one audit.pass record (which stands for "last seen" of
//   every finding open: no record per sighting, docs/adr/0021).
// Prints records and bytes per day in steady state (database size grown after day 0, divided by
// the days: pg_total_relation_size of the tables, and for PGlite its data directory too), the
// time to stream the 90-day period's records (all scopes, then one tenant) and fold them as the
// report does (findings per control opened/resolved, open at the end), and the time of verify.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase } from "../src/evidence/db.ts";
import { openEvidenceStore } from "../src/evidence/store.ts";
import type { EvidenceEvent, EvidenceStore, Subject } from "../src/evidence/types.ts";
import { createTestDatabase, startPostgres } from "../src/testing/postgres.ts";
import { prng } from "./corpus.ts";

const { values } = parseArgs({
  options: {
    days: { type: "string", default: "90" },
    objects: { type: "string", default: "10000" },
    backend: { type: "string", default: "both" },
  },
});
const DAYS = Number(values.days);
const OBJECTS = Number(values.objects);
const RULES = [
  {
    id: "pss-restricted-run-as-non-root",
    controls: ["iso27001:A.8.9", "nis2:21.2.e", "hipaa:164.312(a)(1)"],
  },
  { id: "resources-limits", controls: ["iso27001:A.8.6"] },
  { id: "image-trusted-registry", controls: ["iso27001:A.8.19", "iso27001:A.5.21", "pdl:3.1"] },
] as const;
const FAIL = 0.2;
const NAMESPACES = 100;
const TENANTS = 20;

interface Obj {
  readonly subject: Subject;
  readonly scope: { cluster: string; tenant: string; namespace: string };
  /** Per rule: when its open finding was first seen, or undefined. */
  readonly open: (string | undefined)[];
  revision: number;
}

function objects(): Obj[] {
  return Array.from({ length: OBJECTS }, (_, i) => {
    const ns = `team-${String(i % NAMESPACES).padStart(3, "0")}`;
    const name = `web-${String(Math.floor(i / NAMESPACES))}-7d9f8c6b5-x${String(i).padStart(5, "0")}`;
    return {
      subject: {
        apiVersion: "v1",
        kind: "Pod",
        namespace: ns,
        name,
        uid: `0000${String(i).padStart(8, "0")}-aaaa-4bbb-8ccc-dddddddddddd`,
      },
      scope: { cluster: "prod-se-1", tenant: `tenant-${String(i % TENANTS)}`, namespace: ns },
      open: RULES.map(() => undefined),
      revision: 0,
    };
  });
}

function finding(
  kind: "finding.opened" | "finding.resolved",
  obj: Obj,
  rule: number,
  time: string,
  lastPass: string,
): EvidenceEvent {
  const r = RULES[rule] ?? RULES[0];
  const common = {
    time,
    scope: obj.scope,
    subject: obj.subject,
    rule: r.id,
    controls: r.controls,
    severity: "high" as const,
    message: `container "app" of pod "${obj.subject.name}" breaks ${r.id} (revision ${String(obj.revision)})`,
  };
  if (kind === "finding.opened") return { ...common, kind, data: { action: "warn" } };
  return {
    ...common,
    kind,
    data: { reason: "fixed", firstSeen: obj.open[rule] ?? time, lastSeen: lastPass },
  };
}

/** Appends, waiting for room (the store refuses at its bound rather than drop). */
async function put(store: EvidenceStore, event: EvidenceEvent): Promise<void> {
  while (!store.append(event)) await store.writable();
}

interface Simulated {
  readonly records: number;
  readonly initial: number;
  readonly seconds: number;
  readonly start: number;
  readonly end: number;
}

async function simulate(current: () => EvidenceStore, afterDayZero: () => Promise<void>): Promise<Simulated> {
  let store = current();
  const random = prng(42);
  const objs = objects();
  const end = Date.now();
  const start = end - DAYS * 86_400_000;
  let records = 0;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const began = performance.now();
  // Day 0: the first full pass judges everything.
  for (const obj of objs)
    for (let rule = 0; rule < RULES.length; rule += 1)
      if (random() < FAIL) {
        await put(store, finding("finding.opened", obj, rule, iso(start), iso(start)));
        obj.open[rule] = iso(start);
        records += 1;
      }
  await store.flush();
  const initial = records;
  await afterDayZero();
  store = current();
  let lastPass = iso(start);
  let openCount = initial;
  for (let hour = 1; hour <= DAYS * 24; hour += 1) {
    const hourStart = start + (hour - 1) * 3_600_000;
    let opened = 0;
    let resolved = 0;
    for (let c = 0; c < OBJECTS / 100; c += 1) {
      const obj = objs[Math.floor(random() * objs.length)];
      if (obj === undefined) continue;
      obj.revision += 1;
      const time = iso(hourStart + Math.floor(random() * 3_500_000));
      for (let rule = 0; rule < RULES.length; rule += 1) {
        const fails = random() < FAIL;
        const wasOpen = obj.open[rule] !== undefined;
        if (fails === wasOpen) continue;
        if (fails) {
          await put(store, finding("finding.opened", obj, rule, time, lastPass));
          obj.open[rule] = time;
          opened += 1;
        } else {
          await put(store, finding("finding.resolved", obj, rule, time, lastPass));
          obj.open[rule] = undefined;
          resolved += 1;
        }
        records += 1;
      }
      if (random() < 0.02) {
        const r = RULES[2];
        await put(store, {
          kind: "exception.applied",
          time,
          scope: obj.scope,
          subject: obj.subject,
          rule: r.id,
          controls: r.controls,
          severity: "medium",
          message: `image of pod "${obj.subject.name}" is not from a trusted registry`,
          data: {
            exception: `${obj.scope.namespace}/vendor-images`,
            approver: "ciso@example.se",
            justification: "vendor-supplied image, reviewed quarterly (change 4711)",
            expires: iso(hourStart + 90 * 86_400_000),
          },
        });
        records += 1;
      }
    }
    openCount += opened - resolved;
    lastPass = iso(hourStart + 3_599_000);
    await put(store, {
      kind: "audit.pass",
      time: lastPass,
      scope: { cluster: "prod-se-1" },
      data: {
        full: true,
        started: iso(hourStart + 3_590_000),
        durationMs: 8123,
        objects: OBJECTS,
        unjudgeable: 0,
        findingsOpen: openCount,
        opened,
        resolved,
      },
    });
    records += 1;
    if (hour % 24 === 0) await store.flush();
  }
  await store.flush();
  return { records, initial, seconds: (performance.now() - began) / 1000, start, end };
}

/** Reads the period as `vakt report` does and folds it: per control, opened and resolved; open at the end. */
async function readPeriod(
  store: EvidenceStore,
  sim: Simulated,
  tenant?: string,
): Promise<{ seconds: number; cpu: number; records: number; open: number }> {
  const began = performance.now();
  const cpu = process.cpuUsage();
  const open = new Set<string>();
  const perControl = new Map<string, { opened: number; resolved: number }>();
  let records = 0;
  for await (const record of store.query({
    from: new Date(sim.start),
    to: new Date(sim.end + 3_600_000),
    scope: { cluster: "prod-se-1", ...(tenant === undefined ? {} : { tenant }) },
  })) {
    records += 1;
    if (record.kind !== "finding.opened" && record.kind !== "finding.resolved") continue;
    const key = `${record.subject.namespace ?? ""}/${record.subject.name}/${record.rule}`;
    if (record.kind === "finding.opened") open.add(key);
    else open.delete(key);
    for (const control of record.controls) {
      const counts = perControl.get(control) ?? { opened: 0, resolved: 0 };
      if (record.kind === "finding.opened") counts.opened += 1;
      else counts.resolved += 1;
      perControl.set(control, counts);
    }
  }
  const used = process.cpuUsage(cpu);
  return {
    seconds: (performance.now() - began) / 1000,
    cpu: (used.user + used.system) / 1e6,
    records,
    open: open.size,
  };
}

function du(dir: string): number {
  return Number(execFileSync("du", ["-sb", dir], { encoding: "utf8" }).split("\t")[0]);
}

async function relationBytes(url: string): Promise<number> {
  const db = await openDatabase(url);
  try {
    const [row] = await db.query<{ bytes: unknown }>(
      "SELECT pg_total_relation_size('evidence_record') + pg_total_relation_size('evidence_head') AS bytes",
    );
    return Number(row?.bytes ?? 0);
  } finally {
    await db.close();
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

async function run(
  name: string,
  url: string,
  size: () => Promise<{ relation: number; dir?: number }>,
  reopen: boolean,
): Promise<void> {
  let store = await openEvidenceStore({ url });
  let day0 = { relation: 0 } as { relation: number; dir?: number };
  // PGlite holds its directory: its size is read with the store closed.
  const measureDay0 = async (): Promise<void> => {
    if (reopen) {
      await store.close();
      day0 = await size();
      store = await openEvidenceStore({ url });
    } else day0 = await size();
  };
  const sim = await simulate(() => store, measureDay0);
  if (reopen) await store.close();
  const end = await size();
  if (reopen) store = await openEvidenceStore({ url });
  const steady = sim.records - sim.initial;
  const perDay = (total: number, first: number): string =>
    `${mb((total - first) / DAYS)}/day (${String(Math.round((total - first) / steady))} B/record)`;
  process.stdout.write(
    `\n${name}: ${String(sim.records)} records over ${String(DAYS)} days (${String(sim.initial)} on day 0, then ${String(Math.round(steady / DAYS))}/day), appended in ${sim.seconds.toFixed(1)} s (${String(Math.round(sim.records / sim.seconds))} records/s)\n`,
  );
  process.stdout.write(
    `  tables: ${mb(end.relation)} in all, day 0 ${mb(day0.relation)}, steady ${perDay(end.relation, day0.relation)}\n`,
  );
  if (end.dir !== undefined && day0.dir !== undefined)
    process.stdout.write(
      `  data directory: ${mb(end.dir)} in all, day 0 ${mb(day0.dir)}, steady ${perDay(end.dir, day0.dir)}\n`,
    );
  const all = await readPeriod(store, sim);
  process.stdout.write(
    `  ${String(DAYS)}-day period, whole cluster: ${String(all.records)} records streamed and folded in ${all.seconds.toFixed(2)} s (${all.cpu.toFixed(2)} s CPU in this process), ${String(all.open)} findings open at the end\n`,
  );
  const one = await readPeriod(store, sim, "tenant-3");
  process.stdout.write(
    `  ${String(DAYS)}-day period, one tenant of ${String(TENANTS)}: ${String(one.records)} records in ${one.seconds.toFixed(2)} s (${one.cpu.toFixed(2)} s CPU)\n`,
  );
  const began = performance.now();
  const verified = await store.verify();
  process.stdout.write(
    `  verify: ${verified.ok ? `${String(verified.records)} records, chain intact` : `BAD at ${String(verified.firstBad.seq)}`} in ${((performance.now() - began) / 1000).toFixed(2)} s\n`,
  );
  await store.close();
}

process.stdout.write(
  `evidence bench: ${String(OBJECTS)} objects, 1% changing per hour, ${String(DAYS)} days, ${String(RULES.length)} rules failing with p=${String(FAIL)}\n`,
);
if (values.backend === "both" || values.backend === "pglite") {
  const dir = mkdtempSync(join(tmpdir(), "vakt-bench-evidence-"));
  try {
    await run("PGlite", dir, async () => ({ relation: await relationBytes(dir), dir: du(dir) }), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (values.backend === "both" || values.backend === "postgres") {
  const server = await startPostgres();
  try {
    const url = await createTestDatabase(server.url);
    await run("PostgreSQL", url, async () => ({ relation: await relationBytes(url) }), false);
  } finally {
    server.stop();
  }
}
