/**
 * `vakt report`'s I/O: the model from the database's digest (sql.ts), the document for a format.
 * Everything between reading and writing is pure (model.ts, oscal.ts, html.ts).
 */
import type { Sql } from "../evidence/db.ts";
import type { VerifyResult } from "../evidence/types.ts";
import { ModelBuilder } from "./model.ts";
import type { ReportModel, ReportRequest, RuleInfo } from "./model.ts";

export const REPORT_FORMATS = ["html", "oscal", "json", "pdf"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The model of `request` from the database's digest of the history (sql.ts): the fast path of `vakt report`. */
export async function modelFromDatabase(
  sql: Sql,
  request: ReportRequest,
  rules: readonly RuleInfo[],
  chain?: Promise<VerifyResult>,
): Promise<ReportModel> {
  const { digestFromDatabase } = await import("./sql.ts");
  const builder = new ModelBuilder(request, rules);
  // The chain walk and the digest at once: on PostgreSQL two connections, on the embedded
  // database its process reads while this one hashes (ADR 0027).
  const [digest, verified] = await Promise.all([digestFromDatabase(sql, request), chain]);
  builder.addDigest(digest);
  return builder.finish(verified);
}

/** The document for `format` (pdf: the HTML printed by `chromium`). */
export async function render(
  model: ReportModel,
  format: ReportFormat,
  chromium?: string,
): Promise<string | Buffer> {
  switch (format) {
    case "json": {
      const { renderJson } = await import("./json.ts");
      return renderJson(model);
    }
    case "oscal": {
      const { renderOscal } = await import("./oscal.ts");
      return renderOscal(model);
    }
    case "html": {
      const { renderHtml } = await import("./html.ts");
      return renderHtml(model);
    }
    case "pdf": {
      const { renderHtml } = await import("./html.ts");
      const { findChromium, printPdf } = await import("./pdf.ts");
      return printPdf(renderHtml(model), findChromium(chromium));
    }
  }
}

/** Where a store URL points, in words for the report and for errors; a PostgreSQL URL by host only (no credentials). */
export function describeSource(url: string): string {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      return `PostgreSQL at ${parsed.hostname}${parsed.port === "" ? "" : `:${parsed.port}`}${parsed.pathname === "/" ? "" : `, database ${decodeURIComponent(parsed.pathname.slice(1))}`}`;
    } catch {
      return "PostgreSQL (an unreadable URL)";
    }
  }
  if (url === "memory://") return "an in-memory embedded database";
  return `the embedded database (PGlite) at ${url}`;
}
