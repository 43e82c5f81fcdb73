import { existsSync } from "node:fs";
import type { Command } from "commander";
import { setting } from "../config/settings.ts";
import type { Database } from "../evidence/db.ts";
import type { EvidenceStore } from "../evidence/types.ts";
import { UsageError, oneOf, wholeNumber } from "./errors.ts";

const FORMATS = ["html", "oscal", "json", "pdf"] as const;

interface ReportOptions {
  output: string;
  from?: string;
  to?: string;
  period?: string;
  framework: string[];
  cluster?: string;
  tenant?: string;
  namespace?: string;
  database?: string;
  limit: string;
  chromium?: string;
  verify: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Where the history is read: the URL, or for an embedded database a copy of it. */
interface Source {
  readonly url: string;
  /** The database as the report names it (never the copy). */
  readonly described: string;
  remove(): void;
}

/**
 * The database at `url`, or exit code 2 saying where it is and what to check. An embedded
 * database is read from a copy (report/snapshot.ts): `vakt run` may have it open, and PGlite in
 * two processes corrupts it.
 */
async function source(url: string): Promise<Source> {
  const { describeSource } = await import("../report/run.ts");
  const { isPostgresUrl } = await import("../evidence/db.ts");
  const embedded = !isPostgresUrl(url) && url !== "memory://";
  // Reading must not create an empty embedded database where none was written.
  if (embedded && !existsSync(url))
    throw new UsageError(
      `no evidence database at ${url}\n  how to fix: the background audit of \`vakt run\` (or \`npm start\`) writes it there; or point --database (VAKT_EVIDENCE_URL) at a postgres:// URL or another directory`,
    );
  const { snapshotEmbedded } = await import("../report/snapshot.ts");
  const snapshot = embedded ? snapshotEmbedded(url) : undefined;
  return { url: snapshot?.dir ?? url, described: describeSource(url), remove: () => snapshot?.remove() };
}

/** A failure to reach or read the database as exit code 2, naming it and how to fix it. */
async function unreadable(error: unknown, from: Source): Promise<unknown> {
  const { describeFailure } = await import("../evidence/store.ts");
  const failure = describeFailure(error, from.described);
  return new UsageError(
    `cannot read the evidence history from ${from.described}: ${failure.message}\n  how to fix: ${failure.hint}`,
  );
}

/** `work` with what `open` opens on `from`, closed afterwards; a database failure becomes exit code 2. */
async function withOpened<H extends { close(): Promise<void> }, T>(
  from: Source,
  open: (url: string) => Promise<H>,
  work: (handle: H) => Promise<T>,
): Promise<T> {
  let handle: H;
  try {
    handle = await open(from.url);
  } catch (error) {
    throw await unreadable(error, from);
  }
  try {
    return await work(handle);
  } catch (error) {
    // Database failures (they carry a code, or are the store's EvidenceError) are the user's to
    // fix; anything else is a bug and keeps its stack.
    const { EvidenceError } = await import("../evidence/types.ts");
    if (error instanceof EvidenceError || (error instanceof Error && "code" in error))
      throw await unreadable(error, from);
    throw error;
  } finally {
    await handle.close();
  }
}

/** `work` with the evidence store (migrations run, verify available). */
async function withStore<T>(from: Source, work: (store: EvidenceStore) => Promise<T>): Promise<T> {
  const { openEvidenceStore } = await import("../evidence/store.ts");
  return withOpened(from, (url) => openEvidenceStore({ url, connect: "now" }), work);
}

/** `work` with the database itself (the report's SQL digest). */
async function withDatabase<T>(from: Source, work: (db: Database) => Promise<T>): Promise<T> {
  const { openDatabase } = await import("../evidence/db.ts");
  return withOpened<Database, T>(from, openDatabase, work);
}

export function registerReport(program: Command): void {
  const report = program
    .command("report")
    .description(
      "report compliance over a period from the evidence history: posture per framework and control, findings, history, exceptions; `vakt report verify` checks the history's hash chain",
    )
    .option(
      "-o, --output <format>",
      `${FORMATS.join(", ")} (pdf: printed by headless Chromium; redirect it to a file)`,
      "html",
    )
    .option("--period <length>", "the period ending at --to (or now): 90d, 12w, 48h (default 90d)")
    .option("--from <date>", "start of the period: 2026-01-01 or 2026-01-01T00:00:00Z")
    .option("--to <date>", "end of the period, a date included whole (default: now)")
    .option(
      "--framework <ids>",
      "frameworks, comma-separated or repeated: iso27001, gdpr, nis2, pdl, hipaa (default: all)",
      collect,
      [],
    )
    .option(
      "--cluster <name>",
      "the cluster's name in the evidence (default: setting cluster-name, VAKT_CLUSTER_NAME)",
    )
    .option("--tenant <name>", "only this Tenant's namespaces")
    .option("--namespace <name>", "only this namespace")
    .option(
      "--database <url>",
      "the evidence history: a postgres:// URL, or the embedded database's directory (default: setting evidence-url, VAKT_EVIDENCE_URL, <home>/evidence)",
    )
    .option("--limit <n>", "most findings listed per list (counts stay whole)", "1000")
    .option(
      "--chromium <path>",
      "the Chromium binary for -o pdf (default: Debian's /usr/lib/chromium/chromium)",
    )
    .option("--no-verify", "skip walking the evidence chain (the report then says it was not verified)")
    .action(async (options: ReportOptions) => {
      const format = oneOf(options.output, "--output", FORMATS);
      const limit = wholeNumber(options.limit, "--limit", 1, 1_000_000);
      if (format === "pdf" && process.stdout.isTTY)
        throw new UsageError(
          "-o pdf writes a binary document: redirect it to a file (vakt report -o pdf > report.pdf)",
        );
      const { parseFrameworks, parsePeriod, ReportInputError } = await import("../report/request.ts");
      let period: { from: Date; to: Date };
      let frameworks: string[];
      try {
        period = parsePeriod(options, new Date());
        frameworks = parseFrameworks(options.framework);
      } catch (error) {
        if (error instanceof ReportInputError) throw new UsageError(error.message);
        throw error;
      }
      const url = options.database ?? setting("evidenceUrl");
      const { modelFromDatabase, render } = await import("../report/run.ts");
      const { ALL_RULES } = await import("../engine/rules/index.ts");
      const from = await source(url);
      let document: string | Buffer;
      try {
        // One connection to the database: brought to this vakt's schema first, then the chain
        // walked while the database computes the report's digest.
        const { prepareDatabase, verifyChain } = await import("../evidence/store.ts");
        const model = await withDatabase(from, async (db) => {
          await prepareDatabase(db);
          return modelFromDatabase(
            db,
            {
              ...period,
              scope: {
                cluster: options.cluster ?? setting("clusterName"),
                ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
                ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
              },
              frameworks,
              generatedAt: new Date(),
              source: from.described,
              limit,
            },
            ALL_RULES,
            options.verify ? verifyChain(db) : undefined,
          );
        });
        document = await render(model, format, options.chromium);
      } finally {
        from.remove();
      }
      const { writeOutput } = await import("./output.ts");
      if (typeof document === "string") await writeOutput(process.stdout, [document]);
      else await writeBytes(document);
    });

  report
    .command("verify")
    .description(
      "walk the evidence history's hash chain; names the first changed, missing or reordered record (exit 1)",
    )
    .option("--database <url>", "the evidence history (default: setting evidence-url, VAKT_EVIDENCE_URL)")
    .option(
      "--expect-head <seq:hash>",
      "the head an earlier verify printed: records deleted from the end leave a valid chain, only a head kept elsewhere shows it",
    )
    .action(async (options: { expectHead?: string }, command: Command) => {
      // `report` has --database too, and commander gives it to the parent: read both levels.
      const { database } = command.optsWithGlobals<{ database?: string }>();
      let expectHead: { seq: number; hash: string } | undefined;
      if (options.expectHead !== undefined) {
        const match = /^([1-9]\d*):([0-9a-f]{64})$/.exec(options.expectHead.trim());
        if (match === null)
          throw new UsageError(
            `--expect-head "${options.expectHead}" is not a record number and a sha256 hash: write it as verify printed it, e.g. 42:${"0".repeat(64)}`,
          );
        expectHead = { seq: Number(match[1]), hash: match[2] ?? "" };
      }
      const from = await source(database ?? setting("evidenceUrl"));
      try {
        const result = await withStore(from, (store) =>
          store.verify(expectHead === undefined ? {} : { expectHead }),
        );
        if (result.ok) {
          const head =
            result.head === null
              ? "empty"
              : `head ${result.head.seq}:${result.head.hash}; keep it, and check it later with --expect-head`;
          process.stdout.write(`ok: ${result.records} records, hash chain intact (${head})\n`);
        } else {
          const bad = result.firstBad;
          process.stdout.write(
            `BAD: record ${bad.seq} is ${bad.problem}: ${bad.detail}\n  ${result.records} records before it are good; records from ${bad.seq} on cannot be trusted.\n`,
          );
          process.exitCode = 1;
        }
      } finally {
        from.remove();
      }
    });
}

/** Bytes to stdout (the PDF), resolved once written. */
function writeBytes(bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (error) => {
      if (error) reject(error);
      else resolve();
    });
  });
}
