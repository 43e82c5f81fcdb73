/**
 * Renderers for `vakt check --output FORMAT`. Each turns a CheckReport into the complete text
 * to write to stdout (ending in a newline), or the same text in pieces made as they are pulled
 * (renderParts); none writes anything itself.
 */
import { renderJsonChunks } from "./json.ts";
import { renderJunitChunks } from "./junit.ts";
import type { CheckReport } from "./report.ts";
import { renderSarifChunks } from "./sarif.ts";
import { renderTextChunks } from "./text.ts";

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
  return [...renderParts(report, format, options)].join("");
}

/**
 * Like render(), as the pieces to write one after another (their concatenation is what render()
 * returns), each of about a megabyte and made when it is pulled: a large report is never one
 * string, and a writer that waits for a slow reader keeps only the piece at hand.
 */
export function renderParts(
  report: CheckReport,
  format: OutputFormat,
  options: RenderOptions = {},
): Iterable<string> {
  switch (format) {
    case "text":
      return renderTextChunks(report, options);
    case "json":
      return renderJsonChunks(report);
    case "sarif":
      return renderSarifChunks(report, options);
    case "junit":
      return renderJunitChunks(report);
  }
}

export { renderJson } from "./json.ts";
export { renderJunit } from "./junit.ts";
export { renderSarif } from "./sarif.ts";
export { renderText } from "./text.ts";
