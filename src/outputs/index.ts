/**
 * Renderers for `vakt check --output FORMAT`. Each turns a CheckReport into the complete text
 * to write to stdout (ending in a newline); none writes anything itself.
 */
import { renderJson, renderJsonChunks } from "./json.ts";
import { renderJunit } from "./junit.ts";
import type { CheckReport } from "./report.ts";
import { renderSarif } from "./sarif.ts";
import { renderText } from "./text.ts";

export type OutputFormat = "text" | "json" | "sarif" | "junit";

/** Every format, in the order `--help` lists them; the first is the default. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["text", "json", "sarif", "junit"];

export function isOutputFormat(value: string): value is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(value);
}

export interface RenderOptions {
  /** text: use ANSI colour. The CLI sets it from stdout's isTTY and NO_COLOR. Default false. */
  readonly color?: boolean;
  /** sarif: tool.driver.version. Default: the version in vakt's package.json. */
  readonly toolVersion?: string;
  /** sarif: tool.driver.informationUri. Default: the homepage in vakt's package.json, if any. */
  readonly informationUri?: string;
  /** sarif: directory absolute file paths are made relative to. Default: process.cwd(). */
  readonly baseDirectory?: string;
}

export function render(report: CheckReport, format: OutputFormat, options: RenderOptions = {}): string {
  switch (format) {
    case "text":
      return renderText(report, options);
    case "json":
      return renderJson(report);
    case "sarif":
      return renderSarif(report, options);
    case "junit":
      return renderJunit(report);
  }
}

/**
 * Like render(), as the pieces to write one after another (their concatenation is what render()
 * returns): large outputs are not copied once more just to join them.
 */
export function renderParts(
  report: CheckReport,
  format: OutputFormat,
  options: RenderOptions = {},
): Iterable<string> {
  return format === "json" ? renderJsonChunks(report) : [render(report, format, options)];
}

export { renderJson, renderJsonChunks, toJsonOutput, JSON_OUTPUT_VERSION } from "./json.ts";
export type { JsonOutput } from "./json.ts";
export { renderJunit } from "./junit.ts";
export { renderSarif, toSarif, SARIF_SCHEMA, SECURITY_SEVERITY } from "./sarif.ts";
export type { SarifLog, SarifOptions } from "./sarif.ts";
export { renderText } from "./text.ts";
export type { TextOptions } from "./text.ts";
export { summarize } from "./common.ts";
export type { ReportSummary } from "./common.ts";
