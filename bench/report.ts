// Benchmark (a script, not a test): `vakt report` over a long evidence history.
//
//   node bench/report.ts [--objects 10000] [--days 90] [--change 0.01] [--pdf] [--keep DIR]
//
// Writes, through the evidence store's append API into an embedded (PGlite) database on a temp
// directory, the history the background audit would leave for N objects of which a share changes
// every hour (each change opens a finding, or resolves the object's open one), with a full audit
// pass record every hour and a few exceptions; 10% of the objects start with an open finding.
// Then runs the real CLI (`node src/cli/main.ts report`, a child process per run) over the whole
// period with -o json, -o oscal and -o html, and -o pdf when --pdf is given, with --no-verify, and
// -o json once more walking the whole hash chain (the default); prints wall time, peak RSS and
// output size of each. Target (issue 13): under 5 s for a 90-day period over 10,000
// objects with 1% changing per hour. --keep DIR keeps (or reuses) the database in DIR.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALL_RULES } from "../src/engine/rules/index.ts";
import { openEvidenceStore } from "../src/evidence/store.ts";
import type { EvidenceEvent, EvidenceStore, Scope, Subject } from "../src/evidence/types.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const keepIndex = process.argv.indexOf("--keep");
const keep = keepIndex >= 0 ? process.argv[keepIndex + 1] : undefined;
const OBJECTS = arg("objects", 10_000);
const DAYS = arg("days", 90);
const CHANGE = arg("change", 0.01);
const PDF = process.argv.includes("--pdf");

const HOUR = 3_600_000;
const END = Date.parse("2026-06-01T00:00:00Z");
const START = END - DAYS * 24 * HOUR;
const NAMESPACES = 100;
const TENANTS = 10;
const RULES = ALL_RULES.filter((rule) => rule.kinds.includes("Pod")).slice(0, 12);

/** A small deterministic generator (same seed, same history). */
let seed = 42;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}

function subject(i: number): { subject: Subject; scope: Scope } {
  const namespace = `ns-${i % NAMESPACES}`;
  return {
    subject: { apiVersion: "v1", kind: "Pod", namespace, name: `app-${i}-7d9f8c6b5-x2x4z`, uid: `uid-${i}` },
    scope: { cluster: "bench", tenant: `tenant-${(i % NAMESPACES) % TENANTS}`, namespace },
  };
}

async function append(store: EvidenceStore, event: EvidenceEvent): Promise<void> {
  while (!store.append(event)) await store.writable();
}

async function generate(url: string): Promise<number> {
  const store = await openEvidenceStore({ url, capacity: 50_000 });
  const open = new Map<number, { rule: (typeof RULES)[number]; since: string }>();
  let records = 0;
  const opened = async (i: number, time: string): Promise<void> => {
    const rule = RULES[Math.floor(random() * RULES.length)] ?? RULES[0];
    if (rule === undefined) throw new Error("no Pod rules");
    open.set(i, { rule, since: time });
    await append(store, {
      kind: "finding.opened",
      time,
      ...subject(i),
      rule: rule.id,
      controls: rule.controls,
      severity: rule.severity,
      message: `container "app" of pod app-${i} fails ${rule.id}`,
      data: { action: "warn" },
    });
    records++;
  };
  const start = new Date(START).toISOString();
  for (let i = 0; i < OBJECTS; i += 10) await opened(i, start);
  for (let i = 5; i < OBJECTS; i += 1000) {
    const rule = RULES[0];
    if (rule === undefined) continue;
    await append(store, {
      kind: "exception.applied",
      time: start,
      ...subject(i),
      rule: rule.id,
      controls: rule.controls,
      severity: rule.severity,
      message: `would fail ${rule.id}`,
      data: {
        exception: `ns-${i % NAMESPACES}/legacy`,
        approver: "ciso@example.org",
        justification: "Legacy workload until its replacement ships.",
        expires: new Date(END + 30 * 24 * HOUR).toISOString(),
      },
    });
    records++;
  }
  const perHour = Math.max(1, Math.round(OBJECTS * CHANGE));
  for (let hour = 1; hour <= DAYS * 24; hour++) {
    const base = START + hour * HOUR;
    let openedNow = 0;
    let resolvedNow = 0;
    for (let k = 0; k < perHour; k++) {
      const i = Math.floor(random() * OBJECTS);
      const time = new Date(base - HOUR + Math.floor((k * HOUR) / perHour)).toISOString();
      const was = open.get(i);
      if (was === undefined) {
        await opened(i, time);
        openedNow++;
        continue;
      }
      open.delete(i);
      await append(store, {
        kind: "finding.resolved",
        time,
        ...subject(i),
        rule: was.rule.id,
        controls: was.rule.controls,
        severity: was.rule.severity,
        message: `container "app" of pod app-${i} fails ${was.rule.id}`,
        data: { reason: "fixed", firstSeen: was.since, lastSeen: time },
      });
      records++;
      resolvedNow++;
    }
    await append(store, {
      kind: "audit.pass",
      time: new Date(base).toISOString(),
      scope: { cluster: "bench" },
      data: {
        full: true,
        started: new Date(base - 20_000).toISOString(),
        durationMs: 20_000,
        objects: OBJECTS,
        unjudgeable: 0,
        findingsOpen: open.size,
        opened: openedNow,
        resolved: resolvedNow,
      },
    });
    records++;
  }
  await store.flush();
  await store.close();
  return records;
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

function runReport(
  url: string,
  format: string,
  verify: boolean,
): { seconds: number; cpu: number; rssMb: number; bytes: number } {
  const args = [
    "-f",
    "%e %U %S %M",
    process.execPath,
    "src/cli/main.ts",
    "report",
    "-o",
    format,
    "--database",
    url,
    "--cluster",
    "bench",
    "--from",
    new Date(START).toISOString(),
    "--to",
    new Date(END).toISOString(),
    ...(verify ? [] : ["--no-verify"]),
  ];
  const child = spawnSync("/usr/bin/time", args, { maxBuffer: 1 << 30, encoding: "buffer" });
  if (child.status !== 0)
    throw new Error(
      `vakt report -o ${format} exited ${String(child.status)}: ${child.stderr.toString().slice(-2000)}`,
    );
  const [seconds, user, sys, kb] = child.stderr.toString().trim().split("\n").at(-1)?.split(" ") ?? [];
  return {
    seconds: Number(seconds),
    cpu: Number(user) + Number(sys),
    rssMb: Number(kb) / 1024,
    bytes: child.stdout.length,
  };
}

const dir = keep ?? mkdtempSync(join(tmpdir(), "vakt-bench-report-"));
const url = join(dir, "evidence");
try {
  if (!existsSync(url)) {
    const started = performance.now();
    const records = await generate(url);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `history: ${OBJECTS} objects, ${CHANGE * 100}% changing per hour, ${DAYS} days: ${records} records appended in ${seconds.toFixed(1)} s (${Math.round(records / seconds)}/s), database ${((await directoryBytes(url)) / 1e6).toFixed(1)} MB`,
    );
  } else {
    console.log(`history: reusing ${url}`);
  }
  const formats = ["json", "oscal", "html", ...(PDF ? ["pdf"] : [])];
  for (const verify of [false, true]) {
    for (const format of verify ? ["json"] : formats) {
      const { seconds, cpu, rssMb, bytes } = runReport(url, format, verify);
      console.log(
        `vakt report -o ${format.padEnd(5)} ${DAYS}-day period${verify ? ", chain verified" : " --no-verify"}: ${seconds.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU, peak RSS ${rssMb.toFixed(0)} MB, ${(bytes / 1e6).toFixed(2)} MB out`,
      );
    }
  }
} finally {
  if (keep === undefined) rmSync(dir, { recursive: true, force: true });
}
