/**
 * `vakt check --output json`: the stable machine contract.
 *
 *     { "version": 1, "summary": {...}, "findings": [ReportFinding...], "problems": [InputProblem...] }
 *
 * Findings include suppressed ones (suppressed: true, exception: name). Keys are written in a
 * fixed order and only the contract's keys are written, whatever else the report objects carry.
 * Adding keys is compatible; renaming or removing one needs version 2.
 */
import { CHUNK_CHARACTERS, sortFindings, summarize } from "./common.ts";
import type { ReportSummary } from "./common.ts";
import type { CheckReport, InputProblem, ReportFinding } from "./report.ts";

const JSON_OUTPUT_VERSION = 1;

export interface JsonOutput {
  readonly version: typeof JSON_OUTPUT_VERSION;
  readonly summary: ReportSummary;
  readonly findings: readonly ReportFinding[];
  readonly problems: readonly InputProblem[];
}

export function toJsonOutput(report: CheckReport): JsonOutput {
  return {
    version: JSON_OUTPUT_VERSION,
    summary: summarize(report),
    findings: sortFindings(report).map(findingJson),
    problems: report.problems.map(problemJson),
  };
}

export function renderJson(report: CheckReport): string {
  return renderJsonBody(report) + "\n";
}

/**
 * The JSON document without the final newline. The CLI writes the newline on its own: appending
 * it to a document of many megabytes makes a second copy of the whole text just to add a byte.
 */
function renderJsonBody(report: CheckReport): string {
  return JSON.stringify(toJsonOutput(report), null, 2);
}

/** A string no report contains, standing for the findings in the skeleton of the document. */
const FINDINGS_MARK = "\u0000vakt-findings\u0000";

/**
 * The JSON document in pieces (their concatenation is renderJsonBody's text, then "\n"): the
 * findings are written one by one into chunks of about a megabyte, so a report with hundreds of
 * thousands of findings is never one string (nor an object tree copied for JSON.stringify).
 */
export function* renderJsonChunks(report: CheckReport): Generator<string> {
  const findings = sortFindings(report);
  if (findings.length === 0) {
    yield renderJsonBody(report);
    yield "\n";
    return;
  }
  const skeleton = JSON.stringify(
    {
      version: JSON_OUTPUT_VERSION,
      summary: summarize(report),
      findings: [FINDINGS_MARK],
      problems: report.problems.map(problemJson),
    },
    null,
    2,
  );
  const mark = JSON.stringify(FINDINGS_MARK);
  const at = skeleton.indexOf(mark);
  // The skeleton's findings line is indented 4 spaces, as every line of a finding must be.
  let chunk = skeleton.slice(0, at);
  const repeated = new Map<unknown, string>();
  for (let i = 0; i < findings.length; i++) {
    const finding = findings[i] as ReportFinding;
    if (i > 0) chunk += ",\n    ";
    chunk += findingText(finding, repeated);
    if (chunk.length >= CHUNK_CHARACTERS) {
      yield chunk;
      chunk = "";
    }
  }
  yield chunk + skeleton.slice(at + mark.length) + "\n";
}

const q = JSON.stringify;

/**
 * What `JSON.stringify(findingJson(finding), null, 2)` gives, indented to sit in the findings
 * array (its lines after the first start 4 spaces further in), written out directly: it is the
 * bulk of the output, and this is several times faster than stringifying an object per finding.
 * `repeated` caches the JSON of values findings share (rule, fix, file, controls...).
 */
function findingText(f: ReportFinding, repeated: Map<unknown, string>): string {
  const r = (value: string): string => {
    let text = repeated.get(value);
    if (text === undefined) repeated.set(value, (text = q(value)));
    return text;
  };
  let controls = repeated.get(f.controls);
  if (controls === undefined) {
    controls =
      f.controls.length === 0
        ? "[]"
        : `[\n        ${f.controls.map((id) => q(id)).join(",\n        ")}\n      ]`;
    repeated.set(f.controls, controls);
  }
  return (
    `{\n      "rule": ${r(f.rule)},\n      "action": ${r(f.action)},\n      "severity": ${r(f.severity)},` +
    `\n      "file": ${r(f.file)},\n      "line": ${String(f.line)},\n      "column": ${String(f.column)},` +
    `\n      "field": ${q(f.field)},\n      "kind": ${r(f.kind)},\n      "namespace": ${r(f.namespace)},` +
    `\n      "name": ${q(f.name)},\n      "message": ${q(f.message)},\n      "fix": ${r(f.fix)},` +
    `\n      "controls": ${controls},\n      "suppressed": ${f.suppressed ? "true" : "false"}` +
    (f.exception === undefined ? "" : `,\n      "exception": ${r(f.exception)}`) +
    "\n    }"
  );
}

function findingJson(finding: ReportFinding): ReportFinding {
  return {
    rule: finding.rule,
    action: finding.action,
    severity: finding.severity,
    file: finding.file,
    line: finding.line,
    column: finding.column,
    field: finding.field,
    kind: finding.kind,
    namespace: finding.namespace,
    name: finding.name,
    message: finding.message,
    fix: finding.fix,
    controls: [...finding.controls],
    suppressed: finding.suppressed,
    ...(finding.exception === undefined ? {} : { exception: finding.exception }),
  };
}

function problemJson(problem: InputProblem): InputProblem {
  return {
    file: problem.file,
    ...(problem.line === undefined ? {} : { line: problem.line }),
    ...(problem.column === undefined ? {} : { column: problem.column }),
    level: problem.level,
    message: problem.message,
  };
}
