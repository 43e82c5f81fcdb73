/**
 * One OpenReports report per namespace (a `Report`; cluster-scoped objects go to one
 * `ClusterReport`), never one per object: results that say the same (rule, outcome, severity,
 * message) are one result naming every object it holds for, and a replica is named by its
 * controlling owner. So a report grows with the kinds of problems and the workloads of a
 * namespace, not with its pods. Bounded three ways: objects named per result, results per report
 * (the rest counted in an annotation), and the encoded size, measured before it is written.
 */
import { createHash } from "node:crypto";
import type { Rule } from "../engine/types.ts";
import { SEVERITIES } from "../engine/types.ts";
import type { ObjectRef, Verdict } from "./verdict.ts";

export const REPORTS_GROUP = "openreports.io";
export const REPORTS_VERSION = "v1alpha1";
export const REPORTS_API_VERSION = `${REPORTS_GROUP}/${REPORTS_VERSION}`;
/** The name of vakt's report in each namespace, and of its ClusterReport. */
export const REPORT_NAME = "vakt-audit";
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "vakt" } as const;
export const MANAGED_BY_SELECTOR = "app.kubernetes.io/managed-by=vakt";
/** Result groups beyond the caps: how many the report leaves out. */
export const NOT_LISTED_ANNOTATION = "vakt.dev/results-not-listed";
export const OBJECTS_ANNOTATION = "vakt.dev/objects-judged";
const SOURCE = "vakt";

export interface ReportLimits {
  /** Results listed per report (default 500). */
  readonly maxResults: number;
  /** Objects named per result (default 20); the result's `objects` property counts them all. */
  readonly maxSubjects: number;
  /**
   * Bytes of the encoded report (default 512 KiB, a third of etcd's 1.5 MiB request limit: the
   * API server adds metadata and managedFields). Results are left out from the end until it fits.
   */
  readonly maxBytes: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = { maxResults: 500, maxSubjects: 20, maxBytes: 512 * 1024 };

export interface ReportSummary {
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly error: number;
  readonly skip: number;
}

export interface BuiltReport {
  /** The object to apply. */
  readonly object: Record<string, unknown>;
  /** sha256 of what vakt sets in it (contentHash), to compare with what the cluster holds. */
  readonly hash: string;
  /** Bytes of the encoded object. */
  readonly bytes: number;
  readonly summary: ReportSummary;
  readonly listed: number;
  readonly notListed: number;
}

interface Group {
  readonly policy: string;
  readonly rule: string;
  readonly result: "fail" | "warn" | "error";
  readonly severity: string;
  readonly message: string;
  readonly controls: string;
  readonly subjects: Map<string, ObjectRef>;
  objects: number;
}

const SEVERITY_RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));
const RESULT_RANK = { error: 0, fail: 1, warn: 2 } as const;

function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.name}`;
}

/** The report's results, sorted most severe first, before the caps. */
function groupResults(verdicts: Iterable<Verdict>, rulesById: ReadonlyMap<string, Rule>): Group[] {
  const groups = new Map<string, Group>();
  const add = (
    rule: string,
    result: Group["result"],
    severity: string,
    message: string,
    named: ObjectRef,
  ): void => {
    const key = `${rule}\u0000${result}\u0000${severity}\u0000${message}`;
    let group = groups.get(key);
    if (group === undefined) {
      const known = rulesById.get(rule);
      group = {
        policy: known?.sets[0] ?? "vakt",
        rule,
        result,
        severity,
        message,
        controls: known?.controls.join(",") ?? "",
        subjects: new Map(),
        objects: 0,
      };
      groups.set(key, group);
    }
    group.objects++;
    group.subjects.set(refKey(named), named);
  };
  for (const verdict of verdicts) {
    const named = verdict.owner ?? verdict.subject;
    if (verdict.unjudgeable !== undefined)
      add("unjudgeable", "error", "high", verdict.unjudgeable, verdict.subject);
    for (const r of verdict.results) add(r.rule, r.result, r.severity, r.message, named);
  }
  return [...groups.values()].sort(
    (a, b) =>
      RESULT_RANK[a.result] - RESULT_RANK[b.result] ||
      (SEVERITY_RANK.get(a.severity) ?? 9) - (SEVERITY_RANK.get(b.severity) ?? 9) ||
      a.rule.localeCompare(b.rule) ||
      a.message.localeCompare(b.message),
  );
}

function resultOf(group: Group, maxSubjects: number): Record<string, unknown> {
  const subjects = [...group.subjects.values()].sort((a, b) => refKey(a).localeCompare(refKey(b)));
  const properties: Record<string, string> = { objects: String(group.objects) };
  if (group.controls !== "") properties["controls"] = group.controls;
  if (subjects.length > maxSubjects) properties["objectsNotNamed"] = String(subjects.length - maxSubjects);
  return {
    policy: group.policy,
    rule: group.rule,
    result: group.result,
    severity: group.severity,
    message: group.message,
    properties,
    resources: subjects.slice(0, maxSubjects).map((ref) => ({ ...ref })),
  };
}

/** Summary over every verdict: (object, rule) outcomes; an unjudgeable object counts one error. */
export function summarize(verdicts: Iterable<Verdict>): ReportSummary {
  let pass = 0;
  let fail = 0;
  let warn = 0;
  let error = 0;
  let skip = 0;
  for (const verdict of verdicts) {
    pass += verdict.passed;
    skip += verdict.excepted.length;
    if (verdict.unjudgeable !== undefined) error++;
    for (const r of verdict.results)
      if (r.result === "fail") fail++;
      else warn++;
  }
  return { pass, fail, warn, error, skip };
}

/**
 * The report of one namespace ("" for the ClusterReport of cluster-scoped objects). Deterministic:
 * the same verdicts give the same object and hash, whatever order they come in.
 */
export function buildReport(
  namespace: string,
  verdicts: readonly Verdict[],
  rulesById: ReadonlyMap<string, Rule>,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): BuiltReport {
  const summary = summarize(verdicts);
  const groups = groupResults(verdicts, rulesById);
  let listed = Math.min(groups.length, limits.maxResults);
  const results = groups.slice(0, listed).map((group) => resultOf(group, limits.maxSubjects));
  const make = (count: number): Record<string, unknown> => ({
    apiVersion: REPORTS_API_VERSION,
    kind: namespace === "" ? "ClusterReport" : "Report",
    metadata: {
      name: REPORT_NAME,
      ...(namespace === "" ? {} : { namespace }),
      labels: { ...MANAGED_BY },
      annotations: {
        [NOT_LISTED_ANNOTATION]: String(groups.length - count),
        [OBJECTS_ANNOTATION]: String(verdicts.length),
      },
    },
    source: SOURCE,
    configuration: { limits: { maxResults: limits.maxResults, statusFilter: ["fail", "warn", "error"] } },
    summary: { ...summary },
    results: results.slice(0, count),
  });
  let object = make(listed);
  let bytes = Buffer.byteLength(JSON.stringify(object));
  // Each step leaves out a fifth of what is left (at least one), so this ends in few steps.
  while (bytes > limits.maxBytes && listed > 0) {
    listed = Math.max(0, listed - Math.max(1, Math.ceil(listed / 5)));
    object = make(listed);
    bytes = Buffer.byteLength(JSON.stringify(object));
  }
  return { object, hash: contentHash(object), bytes, summary, listed, notListed: groups.length - listed };
}

/** JSON with object keys sorted: the API server re-encodes custom objects with sorted keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (value === null || typeof value !== "object") return kept;
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) kept[key] = v;
  }
  return kept;
}

const RESULT_FIELDS = ["policy", "rule", "result", "severity", "message", "properties", "resources"];
const REF_FIELDS = ["apiVersion", "kind", "name", "namespace"];

/**
 * sha256 over the fields vakt sets in a report, read the same way from the object vakt built and
 * from one the API server sends: fields others add (defaults, managedFields, their own
 * annotations) do not count; any change to vakt's (an edit, a deletion) does.
 */
export function contentHash(report: Record<string, unknown>): string {
  const metadata = pick(report["metadata"], ["annotations", "labels"]);
  const annotations = pick(metadata["annotations"], [NOT_LISTED_ANNOTATION, OBJECTS_ANNOTATION]);
  const labels = pick(metadata["labels"], Object.keys(MANAGED_BY));
  const results = Array.isArray(report["results"]) ? (report["results"] as unknown[]) : [];
  const content = {
    annotations,
    labels,
    source: report["source"],
    configuration: report["configuration"],
    summary: pick(report["summary"], ["pass", "fail", "warn", "error", "skip"]),
    results: results.map((result) => {
      const kept = pick(result, RESULT_FIELDS);
      if (Array.isArray(kept["resources"]))
        kept["resources"] = (kept["resources"] as unknown[]).map((ref) => pick(ref, REF_FIELDS));
      return kept;
    }),
  };
  return createHash("sha256").update(canonical(content)).digest("hex");
}
