/**
 * Helpers shared by the `vakt check` renderers: counts, a deterministic finding order and the
 * way an object or a problem location is written.
 */
import type { CheckReport, InputProblem, ReportFinding } from "./report.ts";

/**
 * Renderers yield their text in pieces of about this many characters: a large report is never
 * one string (V8 strings stop at about 512 MiB), and a piece is rendered only when the writer
 * asks for it, so output to a slow reader is not queued in memory.
 */
export const CHUNK_CHARACTERS = 1 << 20;

/** Counts shown by every renderer. Findings by action count unsuppressed findings only. */
export interface ReportSummary {
  readonly objects: number;
  readonly files: number;
  readonly rules: number;
  /** Unsuppressed findings. */
  readonly findings: number;
  readonly deny: number;
  readonly warn: number;
  readonly audit: number;
  /** Findings covered by a PolicyException (any action). */
  readonly suppressed: number;
  /** Input problems of level "error". */
  readonly errors: number;
  /** Input problems of level "note". */
  readonly notes: number;
}

export function summarize(report: CheckReport): ReportSummary {
  let deny = 0;
  let warn = 0;
  let audit = 0;
  let suppressed = 0;
  for (const finding of report.findings) {
    if (finding.suppressed) suppressed++;
    else if (finding.action === "deny") deny++;
    else if (finding.action === "warn") warn++;
    else audit++;
  }
  let errors = 0;
  let notes = 0;
  for (const problem of report.problems) {
    if (problem.level === "error") errors++;
    else notes++;
  }
  return {
    objects: report.objects,
    files: report.files.length,
    rules: report.rules.length,
    findings: deny + warn + audit,
    deny,
    warn,
    audit,
    suppressed,
    errors,
    notes,
  };
}

/**
 * Files in output order: the report's reading order first, then any other file named by a
 * finding or a problem (in order of first appearance).
 */
export function orderedFiles(report: CheckReport): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const add = (file: string): void => {
    if (!seen.has(file)) {
      seen.add(file);
      out.push(file);
    }
  };
  for (const file of report.files) add(file);
  for (const finding of report.findings) add(finding.file);
  for (const problem of report.problems) add(problem.file);
  return out;
}

const ACTION_ORDER = { deny: 0, warn: 1, audit: 2 } as const;

/**
 * Findings in a deterministic order: by file (as orderedFiles), line, column, then action
 * (deny first), rule id and field. The sort is stable, so equal findings keep the report's order.
 */
export function sortFindings(report: CheckReport): ReportFinding[] {
  const fileIndex = new Map(orderedFiles(report).map((file, index) => [file, index]));
  return [...report.findings].sort(
    (a, b) =>
      (fileIndex.get(a.file) ?? 0) - (fileIndex.get(b.file) ?? 0) ||
      a.line - b.line ||
      a.column - b.column ||
      ACTION_ORDER[a.action] - ACTION_ORDER[b.action] ||
      compareStrings(a.rule, b.rule) ||
      compareStrings(a.field, b.field),
  );
}

/** Findings grouped per file, in output order; files without findings are left out. */
export function findingsByFile(report: CheckReport): Map<string, ReportFinding[]> {
  const groups = new Map<string, ReportFinding[]>();
  for (const finding of sortFindings(report)) {
    let group = groups.get(finding.file);
    if (group === undefined) groups.set(finding.file, (group = []));
    group.push(finding);
  }
  return groups;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `kind/namespace/name`, or `kind/name` for a cluster-scoped object (empty namespace). */
export function objectLabel(object: {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}): string {
  return object.namespace === ""
    ? `${object.kind}/${object.name}`
    : `${object.kind}/${object.namespace}/${object.name}`;
}

/** `file:line:column`, `file:line` or `file`, as far as the position is known. */
export function problemLocation(problem: InputProblem): string {
  if (problem.line === undefined) return problem.file;
  if (problem.column === undefined) return `${problem.file}:${problem.line}`;
  return `${problem.file}:${problem.line}:${problem.column}`;
}

/** "1 object", "2 objects". */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
