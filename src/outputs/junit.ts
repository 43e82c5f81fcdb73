/**
 * `vakt check --output junit`: JUnit XML for CI systems that show test reports.
 *
 * One <testsuite> per file (classname = file), one <testcase> per object (name =
 * kind/namespace/name) holding a <failure> per unsuppressed deny or warn finding; audit and
 * suppressed findings are listed in the testcase's <system-out> only, so they never fail it.
 * Input problems are testcases of their own: an error-level problem holds an <error>, a note a
 * <skipped> (the document was skipped, not failed).
 *
 * Counts follow JUnit's meaning: tests = testcases, failures = testcases with at least one
 * <failure>, errors = testcases with an <error>, skipped = testcases with <skipped>.
 *
 * The list of objects comes from CheckReport.objectsByFile; without it, only objects named by
 * findings get a testcase.
 */
import { CHUNK_CHARACTERS, objectLabel, orderedFiles, problemLocation, sortFindings } from "./common.ts";
import type { CheckReport, InputProblem, ReportFinding, ReportObject } from "./report.ts";

interface TestCase {
  readonly name: string;
  readonly failures: readonly ReportFinding[];
  readonly output: readonly ReportFinding[];
  readonly problem?: InputProblem;
}

export function renderJunit(report: CheckReport): string {
  return [...renderJunitChunks(report)].join("");
}

/**
 * renderJunit's text in pieces of about CHUNK_CHARACTERS: the counts of the root element need
 * every testcase, so the testcases are gathered first (linear in objects and findings); their
 * XML is made as the pieces are pulled.
 */
export function* renderJunitChunks(report: CheckReport): Generator<string> {
  const suites = buildSuites(report);
  const counted = [...suites].map(([file, cases]) => ({ file, cases, counts: countCases(cases) }));
  const total = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const { counts } of counted) {
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
  }
  let chunk =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="vakt check" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}">\n`;
  for (const { file, cases, counts } of counted) {
    chunk +=
      `  <testsuite name="${attr(file)}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}"` +
      (cases.length === 0 ? " />\n" : ">\n");
    if (cases.length === 0) continue;
    for (const testCase of cases) {
      // Line by line: one object can have thousands of findings.
      for (const line of renderCase(file, testCase)) {
        chunk += `${line}\n`;
        if (chunk.length >= CHUNK_CHARACTERS) {
          yield chunk;
          chunk = "";
        }
      }
    }
    chunk += "  </testsuite>\n";
  }
  yield `${chunk}</testsuites>\n`;
}

function countCases(cases: readonly TestCase[]): {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
} {
  let failures = 0;
  let errors = 0;
  let skipped = 0;
  for (const testCase of cases) {
    if (testCase.failures.length > 0) failures++;
    if (testCase.problem?.level === "error") errors++;
    if (testCase.problem?.level === "note") skipped++;
  }
  return { tests: cases.length, failures, errors, skipped };
}

/** Testcases per file, files in output order. */
function buildSuites(report: CheckReport): Map<string, TestCase[]> {
  interface Slot {
    readonly object: ReportObject;
    readonly findings: ReportFinding[];
  }
  const slotsByFile = new Map<string, Slot[]>();
  // Slots by object label within a file: looking a finding's object up by scanning the file's
  // objects made the output quadratic (10,000 objects in one file took seconds).
  const slotsByLabel = new Map<string, Map<string, Slot[]>>();
  for (const file of orderedFiles(report)) slotsByFile.set(file, []);
  const add = (file: string, slot: Slot): void => {
    let slots = slotsByFile.get(file);
    if (slots === undefined) slotsByFile.set(file, (slots = []));
    slots.push(slot);
    let labels = slotsByLabel.get(file);
    if (labels === undefined) slotsByLabel.set(file, (labels = new Map<string, Slot[]>()));
    const label = objectLabel(slot.object);
    const same = labels.get(label);
    if (same === undefined) labels.set(label, [slot]);
    else same.push(slot);
  };
  for (const entry of report.objectsByFile ?? []) {
    for (const object of entry.objects) add(entry.file, { object, findings: [] });
  }

  for (const finding of sortFindings(report)) {
    // The same object identity can occur twice in a file: take the last one starting at or
    // before the finding's line.
    const candidates = slotsByLabel.get(finding.file)?.get(objectLabel(finding)) ?? [];
    let match: Slot | undefined;
    for (const slot of candidates) {
      if (
        slot.object.line <= finding.line &&
        (match === undefined || slot.object.line >= match.object.line)
      ) {
        match = slot;
      }
    }
    match ??= candidates[0];
    if (match === undefined) {
      match = {
        object: { kind: finding.kind, namespace: finding.namespace, name: finding.name, line: finding.line },
        findings: [],
      };
      add(finding.file, match);
    }
    match.findings.push(finding);
  }

  const suites = new Map<string, TestCase[]>();
  for (const [file, slots] of slotsByFile) {
    suites.set(
      file,
      [...slots]
        .sort((a, b) => a.object.line - b.object.line)
        .map(({ object, findings }) => ({
          name: objectLabel(object),
          failures: findings.filter((f) => !f.suppressed && f.action !== "audit"),
          output: findings.filter((f) => f.suppressed || f.action === "audit"),
        })),
    );
  }
  for (const problem of report.problems) {
    let cases = suites.get(problem.file);
    if (cases === undefined) suites.set(problem.file, (cases = []));
    const where =
      problem.line === undefined
        ? ""
        : ` at line ${problem.line}${problem.column === undefined ? "" : `, column ${problem.column}`}`;
    cases.push({ name: `input ${problem.level}${where}`, failures: [], output: [], problem });
  }
  return suites;
}

function renderCase(file: string, testCase: TestCase): string[] {
  const open = `    <testcase classname="${attr(file)}" name="${attr(testCase.name)}"`;
  const children: string[] = [];
  for (const finding of testCase.failures) {
    children.push(
      `      <failure message="${attr(`${finding.rule}: ${finding.message}`)}" type="${finding.action}">` +
        text(details(finding).join("\n")) +
        "</failure>",
    );
  }
  const problem = testCase.problem;
  if (problem?.level === "error") {
    children.push(
      `      <error message="${attr(problem.message)}" type="input">` +
        text(`${problemLocation(problem)}: ${problem.message}`) +
        "</error>",
    );
  } else if (problem?.level === "note") {
    children.push(`      <skipped message="${attr(problem.message)}" />`);
  }
  if (testCase.output.length > 0) {
    const entries = testCase.output.map((finding) => {
      const state = finding.suppressed
        ? `${finding.action}, suppressed${finding.exception === undefined ? "" : ` by ${finding.exception}`}`
        : finding.action;
      return [
        `[${state}] ${finding.rule}: ${finding.message}`,
        ...details(finding).map((line) => `  ${line}`),
      ].join("\n");
    });
    // An entry per element (the same text as one element of the joined entries): the writer
    // can hand the output over between them.
    const lines = entries.map((entry) => text(entry));
    lines[0] = `      <system-out>${lines[0] ?? ""}`;
    lines[lines.length - 1] = `${lines.at(-1) ?? ""}</system-out>`;
    children.push(...lines);
  }
  if (children.length === 0) return [`${open} />`];
  return [`${open}>`, ...children, "    </testcase>"];
}

function details(finding: ReportFinding): string[] {
  const lines = [
    `line ${finding.line}, column ${finding.column} (${finding.file}:${finding.line}:${finding.column})`,
  ];
  lines.push(`severity: ${finding.severity}`);
  if (finding.field !== "") lines.push(`field: ${finding.field}`);
  if (finding.fix !== "") lines.push(`fix: ${finding.fix}`);
  if (finding.controls.length > 0) lines.push(`controls: ${finding.controls.join(", ")}`);
  return lines;
}

/**
 * Characters XML 1.0 does not allow at all, not even as character references: C0 controls
 * other than tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF. They are
 * written as a visible "\uXXXX" instead.
 */
const INVALID_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function visible(value: string): string {
  return value.replace(
    INVALID_XML,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

/** Escaped for character data. A carriage return is kept as a reference, or parsers would drop it. */
export function text(value: string): string {
  return visible(value).replace(/[&<>\r]/g, (char) => TEXT_ESCAPES[char] ?? char);
}

/** Escaped for a double- or single-quoted attribute value; whitespace kept as references. */
export function attr(value: string): string {
  return visible(value).replace(/[&<>"'\t\n\r]/g, (char) => ATTR_ESCAPES[char] ?? char);
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\r": "&#13;",
};
const ATTR_ESCAPES: Readonly<Record<string, string>> = {
  ...TEXT_ESCAPES,
  '"': "&quot;",
  "'": "&apos;",
  "\t": "&#9;",
  "\n": "&#10;",
};
