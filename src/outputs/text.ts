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
import {
  CHUNK_CHARACTERS,
  findingsByFile,
  objectLabel,
  plural,
  problemLocation,
  summarize,
} from "./common.ts";
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
  return [...renderTextChunks(report, options)].join("");
}

/**
 * renderText's text in pieces of about CHUNK_CHARACTERS, produced as they are pulled: a report
 * of 100,000 objects is never one string, and nothing is rendered ahead of a slow reader.
 */
export function* renderTextChunks(report: CheckReport, options: TextOptions = {}): Generator<string> {
  const paint = painter(options.color === true);
  const shared: SharedLines = { fix: new Map(), controls: new Map() };
  let chunk = "";
  let lines = 0;
  const line = (text: string): void => {
    chunk += `${text}\n`;
    lines++;
  };

  for (const [file, findings] of findingsByFile(report)) {
    if (lines > 0) line("");
    const suppressed = findings.filter((finding) => finding.suppressed).length;
    const counts: string[] = [];
    if (findings.length > suppressed) counts.push(plural(findings.length - suppressed, "finding"));
    if (suppressed > 0) counts.push(`${suppressed} suppressed`);
    line(paint(safe(file), "bold", "underline") + paint(` (${counts.join(", ")})`, "dim"));
    for (const finding of findings) {
      for (const text of renderFinding(finding, paint, shared)) line(text);
      if (chunk.length >= CHUNK_CHARACTERS) {
        yield chunk;
        chunk = "";
      }
    }
  }

  if (report.problems.length > 0) {
    if (lines > 0) line("");
    line(paint("Input problems", "bold", "underline"));
    for (const problem of report.problems) {
      const level = problem.level === "error" ? paint("ERROR", "red", "bold") : paint("NOTE", "blue", "bold");
      line(`${safe(problemLocation(problem))}  ${level}  ${safe(problem.message)}`);
    }
  }

  if (lines > 0) line("");
  line(summaryLine(report, paint));
  yield chunk;
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
  const details: string[] = [INDENT + safe(finding.message)];
  if (finding.field !== "") details.push(`${INDENT}field: ${safe(finding.field)}`);
  if (finding.fix !== "") {
    let fix = shared.fix.get(finding.fix);
    if (fix === undefined) shared.fix.set(finding.fix, (fix = labelled("fix", safeBlock(finding.fix))));
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

/** Characters that could move the cursor, end a line or reorder what is displayed. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** UNSAFE without the global flag: text without any is shown as it is (one scan, no copy). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NEEDS_ESCAPING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escape(char: string): string {
  const code = char.charCodeAt(0);
  return (
    NAMED[char] ??
    (code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`)
  );
}

/**
 * Input-derived text made safe for a terminal and for whoever reads the report: every control
 * character (newline, carriage return and tab included), line and paragraph separators and
 * bidirectional overrides are shown as escapes, so a name or a message is one line that cannot
 * move the cursor, recolour the screen, reorder what is displayed, or forge a report line.
 */
export function safe(text: string): string {
  return NEEDS_ESCAPING.test(text) ? text.replace(UNSAFE, escape) : text;
}

/** Like safe(), keeping line breaks: for vakt's own multi-line texts (a rule's fix). */
function safeBlock(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => safe(line))
    .join("\n");
}
