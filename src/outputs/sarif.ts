/**
 * `vakt check --output sarif`: SARIF 2.1.0 for code-scanning tools (GitHub code scanning,
 * Azure DevOps, IDE viewers). One run; every evaluated rule is described in tool.driver.rules;
 * each finding is a result located in its file; suppressed findings carry an external
 * suppression with the PolicyException's justification (its name is in the result's
 * properties); input problems are tool execution notifications.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

import type { Action, Rule, Severity } from "../engine/types.ts";
import { CHUNK_CHARACTERS, objectLabel, sortFindings } from "./common.ts";
import type { CheckReport, InputProblem, ReportFinding } from "./report.ts";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const SARIF_VERSION = "2.1.0";
/** Key of the fingerprint in result.partialFingerprints; bump the suffix if the recipe changes. */
export const FINGERPRINT_KEY = "vaktFinding/v1";

export interface SarifOptions {
  /** driver.version. Default: the version in vakt's package.json. */
  readonly toolVersion?: string;
  /** driver.informationUri. Default: the homepage in vakt's package.json, if it has one. */
  readonly informationUri?: string;
  /** Directory that absolute file paths are made relative to. Default: process.cwd(). */
  readonly baseDirectory?: string;
}

// The subset of SARIF 2.1.0 that vakt writes.
export interface SarifLog {
  readonly $schema: string;
  readonly version: "2.1.0";
  readonly runs: readonly SarifRun[];
}
interface SarifRun {
  readonly tool: { readonly driver: SarifDriver };
  readonly invocations: readonly SarifInvocation[];
  readonly artifacts: readonly {
    readonly location: SarifArtifactLocation;
    readonly roles: readonly string[];
  }[];
  readonly columnKind: "utf16CodeUnits";
  readonly results: readonly SarifResult[];
}
interface SarifDriver {
  readonly name: "vakt";
  readonly version?: string;
  readonly informationUri?: string;
  readonly rules: readonly SarifRule[];
}
interface SarifMessage {
  readonly text: string;
  readonly markdown?: string;
}
export interface SarifRule {
  readonly id: string;
  readonly name?: string;
  readonly shortDescription?: SarifMessage;
  readonly fullDescription?: SarifMessage;
  readonly help?: SarifMessage;
  readonly helpUri?: string;
  readonly defaultConfiguration?: { readonly level: SarifLevel; readonly enabled?: boolean };
  readonly properties?: { readonly tags: readonly string[]; readonly "security-severity": string };
}
type SarifLevel = "error" | "warning" | "note" | "none";
interface SarifArtifactLocation {
  readonly uri: string;
}
interface SarifLocation {
  readonly physicalLocation: {
    readonly artifactLocation: SarifArtifactLocation;
    readonly region?: { readonly startLine: number; readonly startColumn?: number };
  };
  readonly logicalLocations?: readonly {
    readonly name: string;
    readonly fullyQualifiedName: string;
    readonly kind: string;
  }[];
}
interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex: number;
  readonly level: SarifLevel;
  readonly message: SarifMessage;
  readonly locations: readonly SarifLocation[];
  readonly partialFingerprints: Readonly<Record<string, string>>;
  readonly suppressions?: readonly {
    readonly kind: "external";
    readonly status: "accepted";
    readonly justification?: string;
  }[];
  readonly properties: {
    readonly severity: Severity;
    readonly action: ReportFinding["action"];
    readonly field: string;
    readonly controls: readonly string[];
    /** Name of the PolicyException that suppresses the result. */
    readonly exception?: string;
  };
}
interface SarifInvocation {
  readonly executionSuccessful: boolean;
  readonly toolExecutionNotifications: readonly {
    readonly level: "error" | "note";
    readonly message: SarifMessage;
    readonly locations: readonly SarifLocation[];
  }[];
}

/** GitHub code scanning reads properties["security-severity"] (0.0-10.0, as a string). */
const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: "1.0",
};

const LEVEL: Readonly<Record<Action, SarifLevel>> = {
  deny: "error",
  warn: "warning",
  audit: "note",
  off: "none",
};

/** A log as it is written: every part but the results, which are made one by one. */
interface SarifPlan {
  readonly log: SarifLog;
  readonly findings: readonly ReportFinding[];
  readonly result: (finding: ReportFinding) => SarifResult;
}

function planSarif(report: CheckReport, options: SarifOptions): SarifPlan {
  const base = options.baseDirectory ?? process.cwd();
  const uri = (file: string): string => artifactUri(file, base);

  const rules: SarifRule[] = report.rules.map(ruleDescriptor);
  const ruleIndex = new Map<string, number>();
  rules.forEach((rule, index) => {
    if (!ruleIndex.has(rule.id)) ruleIndex.set(rule.id, index);
  });
  const findings = sortFindings(report);
  // A finding whose rule is not among the evaluated rules still needs a valid ruleIndex; the
  // rules are written before the results, so every such rule is added first.
  for (const finding of findings) {
    if (!ruleIndex.has(finding.rule)) ruleIndex.set(finding.rule, rules.push({ id: finding.rule }) - 1);
  }

  const result = (finding: ReportFinding): SarifResult => {
    const fileUri = uri(finding.file);
    const label = objectLabel(finding);
    return {
      ruleId: finding.rule,
      ruleIndex: ruleIndex.get(finding.rule) ?? 0,
      level: LEVEL[finding.action],
      message: { text: `${finding.message} (${label})` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: fileUri },
            ...region(finding.line, finding.column),
          },
          logicalLocations: [{ name: finding.name, fullyQualifiedName: label, kind: "resource" }],
        },
      ],
      partialFingerprints: { [FINGERPRINT_KEY]: fingerprint(finding, fileUri) },
      ...(finding.suppressed
        ? {
            suppressions: [
              {
                kind: "external",
                status: "accepted",
                // SARIF's justification is the reason the result is accepted: the exception's
                // own justification, not its name (which the text and JSON outputs give).
                ...(finding.justification === undefined ? {} : { justification: finding.justification }),
              },
            ],
          }
        : {}),
      properties: {
        severity: finding.severity,
        action: finding.action,
        field: finding.field,
        controls: [...finding.controls],
        ...(finding.exception === undefined ? {} : { exception: finding.exception }),
      },
    };
  };

  const version = options.toolVersion ?? packageMetadata().version;
  const informationUri = options.informationUri ?? packageMetadata().homepage;
  const log: SarifLog = {
    $schema: SARIF_SCHEMA,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: "vakt",
            ...(version === undefined ? {} : { version }),
            ...(informationUri === undefined ? {} : { informationUri }),
            rules,
          },
        },
        invocations: [
          {
            // An input that could not be read or parsed was not checked: the run did not do
            // all it was asked to, and code-scanning tools should not read it as a clean pass.
            executionSuccessful: !report.problems.some((problem) => problem.level === "error"),
            toolExecutionNotifications: report.problems.map((problem) => notification(problem, uri)),
          },
        ],
        artifacts: report.files.map((file) => ({ location: { uri: uri(file) }, roles: ["analysisTarget"] })),
        columnKind: "utf16CodeUnits",
        results: [],
      },
    ],
  };
  return { log, findings, result };
}

export function toSarif(report: CheckReport, options: SarifOptions = {}): SarifLog {
  const { log, findings, result } = planSarif(report, options);
  const [run] = log.runs;
  if (run === undefined) return log;
  return { ...log, runs: [{ ...run, results: findings.map(result) }] };
}

export function renderSarif(report: CheckReport, options: SarifOptions = {}): string {
  return [...renderSarifChunks(report, options)].join("");
}

/** A string no log contains, standing for the results in the skeleton of the document. */
const RESULTS_MARK = "\u0000vakt-results\u0000";
/** Where a result sits in the log ($.runs[0].results[i]): its lines are indented this far. */
const RESULT_INDENT = "\n        ";

/**
 * renderSarif's text in pieces of about CHUNK_CHARACTERS, each result made and written when it
 * is pulled: the log of a large report was one JSON.stringify of the whole tree, which fails
 * with "Invalid string length" past V8's largest string (about 512 MiB).
 */
export function* renderSarifChunks(report: CheckReport, options: SarifOptions = {}): Generator<string> {
  const { log, findings, result } = planSarif(report, options);
  const [run] = log.runs;
  if (run === undefined || findings.length === 0) {
    yield JSON.stringify(log, null, 2) + "\n";
    return;
  }
  const skeleton = JSON.stringify({ ...log, runs: [{ ...run, results: [RESULTS_MARK] }] }, null, 2);
  const mark = JSON.stringify(RESULTS_MARK);
  const at = skeleton.indexOf(mark);
  let chunk = skeleton.slice(0, at);
  for (let i = 0; i < findings.length; i++) {
    if (i > 0) chunk += `,${RESULT_INDENT}`;
    // JSON.stringify escapes line breaks inside strings: every "\n" in its text is a line break.
    chunk += JSON.stringify(result(findings[i] as ReportFinding), null, 2).replaceAll("\n", RESULT_INDENT);
    if (chunk.length >= CHUNK_CHARACTERS) {
      yield chunk;
      chunk = "";
    }
  }
  yield chunk + skeleton.slice(at + mark.length) + "\n";
}

function ruleDescriptor(rule: Rule): SarifRule {
  const helpUri = rule.reference !== undefined && isWebUrl(rule.reference) ? rule.reference : undefined;
  const markdown = [`**Fix:** ${rule.fix}`];
  if (rule.controls.length > 0) {
    markdown.push(`**Controls:** ${rule.controls.map((control) => `\`${control}\``).join(", ")}`);
  }
  markdown.push(`**Evidence boundary:** ${rule.evidenceBoundary}`);
  if (rule.reference !== undefined) {
    markdown.push(`**Reference:** ${helpUri === undefined ? rule.reference : `<${helpUri}>`}`);
  }
  return {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: { text: rule.fix, markdown: markdown.join("\n\n") },
    ...(helpUri === undefined ? {} : { helpUri }),
    defaultConfiguration: {
      level: LEVEL[rule.defaultAction],
      ...(rule.defaultAction === "off" ? { enabled: false } : {}),
    },
    properties: {
      tags: [...new Set([...rule.controls, ...rule.sets])],
      "security-severity": SECURITY_SEVERITY[rule.severity],
    },
  };
}

function notification(
  problem: InputProblem,
  uri: (file: string) => string,
): SarifInvocation["toolExecutionNotifications"][number] {
  return {
    level: problem.level,
    message: { text: problem.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: uri(problem.file) },
          ...(problem.line === undefined ? {} : region(problem.line, problem.column)),
        },
      },
    ],
  };
}

/** A region when the line is known (SARIF lines and columns are 1-based). */
function region(
  line: number,
  column: number | undefined,
): { region?: { startLine: number; startColumn?: number } } {
  if (!Number.isInteger(line) || line < 1) return {};
  return {
    region: {
      startLine: line,
      ...(column !== undefined && Number.isInteger(column) && column >= 1 ? { startColumn: column } : {}),
    },
  };
}

/**
 * The artifact URI for a file as given on the command line: "stdin" for "-"; a relative
 * URI reference with forward slashes and percent-encoded segments for relative paths (and for
 * absolute paths under the base directory); a file: URI for other absolute paths.
 */
export function artifactUri(file: string, baseDirectory: string = process.cwd()): string {
  if (file === "-") return "stdin";
  let path = file;
  if (isAbsolute(path)) {
    const inside = relative(baseDirectory, path);
    if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      return pathToFileURL(path).href;
    }
    path = inside;
  }
  const segments = path.split(sep).join("/").split("/");
  while (segments.length > 1 && (segments[0] === "." || segments[0] === "")) segments.shift();
  return segments.map((segment) => encodeURIComponent(segment)).join("/");
}

/** Stable across runs and line moves: rule, file, object and field, not position. */
function fingerprint(finding: ReportFinding, fileUri: string): string {
  // node:crypto is loaded when a SARIF log is written, not with every `vakt check` (4 ms).
  return process
    .getBuiltinModule("node:crypto")
    .createHash("sha256")
    .update(
      JSON.stringify([finding.rule, fileUri, finding.kind, finding.namespace, finding.name, finding.field]),
    )
    .digest("hex");
}

function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== "")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

interface PackageMetadata {
  readonly version?: string;
  readonly homepage?: string;
}

let cachedMetadata: PackageMetadata | undefined;

/** vakt's own package.json (two levels up from src/outputs and from dist/outputs alike). */
function packageMetadata(): PackageMetadata {
  if (cachedMetadata === undefined) {
    cachedMetadata = {};
    try {
      const parsed: unknown = JSON.parse(
        readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
      );
      if (
        typeof parsed === "object" &&
        parsed !== null &&
        (parsed as Record<string, unknown>)["name"] === "vakt"
      ) {
        const { version, homepage } = parsed as Record<string, unknown>;
        cachedMetadata = {
          ...(typeof version === "string" ? { version } : {}),
          ...(typeof homepage === "string" ? { homepage } : {}),
        };
      }
    } catch {
      // Not fatal: the driver just goes without a version.
    }
  }
  return cachedMetadata;
}
