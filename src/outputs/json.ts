/**
 * `vakt check --output json`: the stable machine contract.
 *
 *     { "version": 1, "summary": {...}, "findings": [ReportFinding...], "problems": [InputProblem...] }
 *
 * Findings include suppressed ones (suppressed: true, exception: name). Keys are written in a
 * fixed order and only the contract's keys are written, whatever else the report objects carry.
 * Adding keys is compatible; renaming or removing one needs version 2.
 */
import { sortFindings, summarize } from "./common.ts";
import type { ReportSummary } from "./common.ts";
import type { CheckReport, InputProblem, ReportFinding } from "./report.ts";

export const JSON_OUTPUT_VERSION = 1;

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
export function renderJsonBody(report: CheckReport): string {
  return JSON.stringify(toJsonOutput(report), null, 2);
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
