/**
 * `vakt check --output text`: for people at a terminal. Findings grouped per file, each as
 *
 *     file:line:column  ACTION  rule-id  kind/namespace/name
 *         message
 *         field: spec.containers[0].image
 *         fix: ...
 *         controls: iso27001:A.8.9, gdpr:32
 *
 * then input problems and a summary line. ANSI colour only when asked for (the CLI decides
 * from isTTY and NO_COLOR); without it the output holds no escape sequence at all, and control
 * characters coming from the input (object names, messages) are always shown escaped so that a
 * manifest cannot drive the terminal.
 */
import { findingsByFile, objectLabel, plural, problemLocation, summarize } from "./common.ts";
import type { CheckReport, ReportFinding } from "./report.ts";

export interface TextOptions {
  /** Use ANSI colour. Default false. */
  readonly color?: boolean;
}

type Style = "bold" | "dim" | "red" | "yellow" | "cyan" | "blue" | "green" | "underline";

/** SGR open/close codes; closing codes reset only their own attribute so styles nest. */
const SGR: Readonly<Record<Style, readonly [number, number]>> = {
  bold: [1, 22],
  dim: [2, 22],
  underline: [4, 24],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
};

type Painter = (text: string, ...styles: Style[]) => string;

function painter(color: boolean): Painter {
  if (!color) return (text) => text;
  return (text, ...styles) => {
    let out = text;
    for (const style of styles) {
      const [open, close] = SGR[style];
      out = `\u001b[${open}m${out}\u001b[${close}m`;
    }
    return out;
  };
}

const INDENT = "    ";

const ACTION_STYLE: Readonly<Record<ReportFinding["action"], readonly Style[]>> = {
  deny: ["red", "bold"],
  warn: ["yellow", "bold"],
  audit: ["cyan"],
};

export function renderText(report: CheckReport, options: TextOptions = {}): string {
  const paint = painter(options.color === true);
  const lines: string[] = [];
  const shared: SharedLines = { fix: new Map(), controls: new Map() };

  for (const [file, findings] of findingsByFile(report)) {
    if (lines.length > 0) lines.push("");
    const suppressed = findings.filter((finding) => finding.suppressed).length;
    const counts: string[] = [];
    if (findings.length > suppressed) counts.push(plural(findings.length - suppressed, "finding"));
    if (suppressed > 0) counts.push(`${suppressed} suppressed`);
    lines.push(paint(safe(file), "bold", "underline") + paint(` (${counts.join(", ")})`, "dim"));
    for (const finding of findings) lines.push(...renderFinding(finding, paint, shared));
  }

  if (report.problems.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(paint("Input problems", "bold", "underline"));
    for (const problem of report.problems) {
      const level = problem.level === "error" ? paint("ERROR", "red", "bold") : paint("NOTE", "blue", "bold");
      const [first = "", ...rest] = safe(problem.message).split("\n");
      lines.push(`${safe(problemLocation(problem))}  ${level}  ${first}`);
      for (const line of rest) lines.push(INDENT + line);
    }
  }

  if (lines.length > 0) lines.push("");
  lines.push(summaryLine(report, paint), "");
  return lines.join("\n"); // ends in a newline (the last element is empty), without a second copy
}

/** Lines that many findings share (those of one rule), rendered once per output. */
interface SharedLines {
  readonly fix: Map<string, readonly string[]>;
  readonly controls: Map<readonly string[], string>;
}

function renderFinding(finding: ReportFinding, paint: Painter, shared: SharedLines): string[] {
  const location = `${safe(finding.file)}:${finding.line}:${finding.column}`;
  const action = finding.action.toUpperCase();
  const object = safe(objectLabel(finding));
  const rule = safe(finding.rule);
  const details: string[] = safe(finding.message)
    .split("\n")
    .map((line) => INDENT + line);
  if (finding.field !== "") details.push(`${INDENT}field: ${safe(finding.field)}`);
  if (finding.fix !== "") {
    let fix = shared.fix.get(finding.fix);
    if (fix === undefined) shared.fix.set(finding.fix, (fix = labelled("fix", safe(finding.fix))));
    details.push(...fix);
  }
  if (finding.controls.length > 0) {
    let controls = shared.controls.get(finding.controls);
    if (controls === undefined)
      shared.controls.set(
        finding.controls,
        (controls = `${INDENT}controls: ${safe(finding.controls.join(", "))}`),
      );
    details.push(controls);
  }

  if (finding.suppressed) {
    const by =
      finding.exception === undefined ? "(suppressed)" : `(suppressed by ${safe(finding.exception)})`;
    const header = `${location}  ${action}  ${rule}  ${object}  ${by}`;
    return [header, ...details].map((line) => paint(line, "dim"));
  }
  const header = `${paint(location, "bold")}  ${paint(action, ...ACTION_STYLE[finding.action])}  ${paint(rule, "bold")}  ${object}`;
  return [header, ...details];
}

/** `    label: first line` with continuation lines indented under the value. */
function labelled(label: string, value: string): string[] {
  const [first = "", ...rest] = value.split("\n");
  const pad = INDENT + " ".repeat(label.length + 2);
  return [`${INDENT}${label}: ${first}`, ...rest.map((line) => pad + line)];
}

function summaryLine(report: CheckReport, paint: Painter): string {
  const s = summarize(report);
  let text =
    `Checked ${plural(s.objects, "object")} in ${plural(s.files, "file")} against ${plural(s.rules, "rule")}: ` +
    `${s.deny} deny, ${s.warn} warn, ${s.audit} audit, ${s.suppressed} suppressed`;
  if (s.errors > 0 || s.notes > 0) {
    text += `; ${plural(s.errors, "input error")}, ${plural(s.notes, "note")}`;
  }
  text += ".";
  if (s.deny > 0 || s.errors > 0) return paint(text, "red", "bold");
  if (s.warn > 0) return paint(text, "yellow", "bold");
  return paint(text, "green", "bold");
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** UNSAFE or a carriage return: text without any is shown as it is (one scan, no copy). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * Input-derived text made safe for a terminal: C0/C1 control characters (except newline and
 * tab) and bidirectional overrides are shown as escapes, so names and messages cannot move the
 * cursor, recolour the screen or reorder what is displayed. "\r\n" counts as a newline.
 */
export function safe(text: string): string {
  if (!NEEDS_ESCAPING.test(text)) return text;
  return text.replace(/\r\n/g, "\n").replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
