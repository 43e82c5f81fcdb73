/**
 * The report's model: what `vakt report` says about a period, a scope and some frameworks, built
 * by one pass over the evidence records in sequence order. Pure: records in, model out; the
 * renderers (oscal.ts, html.ts, json.ts) turn the model into documents and run.ts does the I/O.
 *
 * Findings open when the period starts were opened before it, so the builder is fed the records
 * before the period too (only findings and exceptions: they carry state), and counts what
 * happened only from the period's start.
 */
import { controlsOf, frameworkById } from "../catalog/index.ts";
import type { Control } from "../catalog/index.ts";
import type { Severity } from "../engine/types.ts";
import type { EvidenceRecord, Subject, VerifyResult } from "../evidence/types.ts";
import { findingKey } from "../evidence/types.ts";
import { BACKUP_RULES, backupEvent, backupFindings } from "./backup.ts";
import type { BackupEvent } from "./backup.ts";

/** What the caller asked for. Times are instants; `to` is exclusive. */
export interface ReportRequest {
  readonly from: Date;
  readonly to: Date;
  /** Absent fields: every cluster, every tenant, every namespace. */
  readonly scope: { readonly cluster?: string; readonly tenant?: string; readonly namespace?: string };
  /** Framework ids of the catalog, in the order asked. */
  readonly frameworks: readonly string[];
  readonly generatedAt: Date;
  /** Where the records came from, in words ("the embedded database at …", "PostgreSQL at host …"). */
  readonly source: string;
  /** Longest list of findings, resolved findings and objects per exception the model keeps (the counts stay whole). */
  readonly limit: number;
}

/** What vakt knows of a rule: the engine's rules, passed in by the caller. */
export interface RuleInfo {
  readonly id: string;
  readonly title: string;
  readonly controls: readonly string[];
  readonly evidenceBoundary: string;
}

export type ControlStatus = "satisfied" | "not-satisfied" | "not-evidenced";

export interface ControlPosture {
  readonly control: Control;
  readonly status: ControlStatus;
  /** Rules that evidence the control (the catalog's coverage, plus rules found in the records). */
  readonly rules: readonly string[];
  /** Findings open at the period's end naming the control. */
  readonly open: number;
  /** Exceptions in force at the period's end covering a rule that names the control. */
  readonly exceptions: number;
  readonly opened: number;
  readonly resolved: number;
  /** In plain words: what the status rests on and what it does not prove. */
  readonly boundary: string;
}

export interface FrameworkPosture {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly controls: readonly ControlPosture[];
  readonly satisfied: number;
  readonly notSatisfied: number;
  readonly notEvidenced: number;
}

export interface FindingEntry {
  readonly rule: string;
  readonly severity: Severity;
  readonly controls: readonly string[];
  readonly message: string;
  readonly subject: Subject;
  readonly cluster: string;
  readonly tenant?: string;
  readonly firstSeen: string;
  /** Open findings: the last full audit pass after firstSeen (or firstSeen). Resolved: as recorded. */
  readonly lastSeen: string;
  readonly resolved?: { readonly time: string; readonly reason: string };
}

export interface ExceptionEntry {
  /** The PolicyException, namespace/name. */
  readonly name: string;
  readonly approver: string;
  readonly justification: string;
  readonly expires: string | null;
  /** Expired before the period's end. */
  readonly expired: boolean;
  readonly firstApplied: string;
  readonly rules: readonly string[];
  readonly controls: readonly string[];
  readonly subjects: readonly Subject[];
  /** Objects covered, including those beyond `subjects`. */
  readonly subjectCount: number;
}

export interface RuleHistory {
  readonly rule: string;
  readonly opened: number;
  readonly resolved: number;
  /** Time to resolve of the findings resolved in the period, in ms; null when none was. */
  readonly medianResolveMs: number | null;
  readonly maxResolveMs: number | null;
}

export interface PassSummary {
  readonly full: number;
  readonly partial: number;
  readonly first: string | null;
  readonly last: string | null;
  /** Objects judged by the last full pass, and those it could not judge. */
  readonly objects: number;
  readonly unjudgeable: number;
}

/**
 * What the model needs from a history, computed by the database (sql.ts) instead of folded from
 * every record: the same model, without shipping a 90-day history row by row. Lists are limited
 * to the controls of the asked frameworks, like the records `add` keeps.
 */
export interface Digest {
  /** Findings open at the period's end (lastSeen is set by the builder from the passes). */
  readonly open: readonly FindingEntry[];
  /** Findings opened and resolved in the period, per rule and set of controls. */
  readonly counts: readonly {
    readonly rule: string;
    readonly controls: readonly string[];
    readonly opened: number;
    readonly resolved: number;
  }[];
  /** Time to resolve of the findings resolved in the period, per rule (median: the lower one). */
  readonly resolveTimes: readonly {
    readonly rule: string;
    readonly count: number;
    readonly medianMs: number;
    readonly maxMs: number;
  }[];
  /** Resolved in the period, latest first, at most `limit`. */
  readonly resolvedLatest: readonly FindingEntry[];
  /** Every exception.applied before the period's end, in sequence order. */
  readonly exceptions: readonly ExceptionRecord[];
  readonly passes: PassSummary & { readonly lastFull: string | null };
  /** The backup records from backupLookback() to the end (backup.ts), in sequence order. */
  readonly backup?: readonly BackupEvent[];
}

/** What an exception.applied record says, as the builder reads it. */
export interface ExceptionRecord {
  readonly time: string;
  readonly subject: Subject;
  readonly rule: string;
  readonly controls: readonly string[];
  readonly data: {
    readonly exception: string;
    readonly approver: string;
    readonly justification: string;
    readonly expires: string | null;
  };
}

export interface ReportModel {
  readonly request: {
    readonly from: string;
    readonly to: string;
    readonly scope: ReportRequest["scope"];
    readonly frameworks: readonly string[];
    readonly generatedAt: string;
    readonly source: string;
  };
  readonly frameworks: readonly FrameworkPosture[];
  /** Open at the period's end, most severe first; at most `limit`. */
  readonly open: readonly FindingEntry[];
  readonly openTotal: number;
  /** Resolved in the period, latest first; at most `limit`. */
  readonly resolved: readonly FindingEntry[];
  readonly openedTotal: number;
  readonly resolvedTotal: number;
  readonly history: readonly RuleHistory[];
  readonly exceptions: readonly ExceptionEntry[];
  readonly passes: PassSummary;
  /** The evidence chain as verify found it; absent when it was not checked. */
  readonly chain?: VerifyResult;
}

const SEVERITY_ORDER: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

/** The words for a control no vakt rule evidences. */
export const NO_RULE_BOUNDARY =
  "No vakt rule evidences this control: it is met by policies, people, processes or systems outside the cluster's objects, and its evidence has to come from there.";

/** The words for an evidenced control when no full audit pass ran in the period. */
export const NO_PASS_BOUNDARY =
  "vakt has rules for this control, but no full audit pass over this scope is recorded in the period, so there is no live check to report.";

interface OpenFinding {
  entry: FindingEntry;
  /** Keys of the controls of the asked frameworks, for counting. */
  wanted: readonly string[];
}

interface ExceptionState {
  name: string;
  approver: string;
  justification: string;
  expires: string | null;
  firstApplied: string;
  rules: Set<string>;
  controls: Set<string>;
  subjects: Subject[];
  subjectCount: number;
}

/** Folds records (in sequence order) into a ReportModel. */
export class ModelBuilder {
  private readonly fromIso: string;
  private readonly toIso: string;
  private readonly wantedControls: ReadonlySet<string>;
  private readonly openFindings = new Map<string, OpenFinding>();
  private resolvedLatest: FindingEntry[] = [];
  private resolvedTotal = 0;
  private openedTotal = 0;
  private readonly openedByControl = new Map<string, number>();
  private readonly resolvedByControl = new Map<string, number>();
  private readonly openedByRule = new Map<string, number>();
  private readonly resolveTimes = new Map<string, number[]>();
  /** Per-rule resolve times already summarised (a digest). */
  private readonly resolveStats = new Map<string, { count: number; medianMs: number; maxMs: number }>();
  private readonly exceptions = new Map<string, ExceptionState>();
  private fullPasses = 0;
  private partialPasses = 0;
  private firstPass: string | null = null;
  private lastPass: string | null = null;
  private lastFullPass: string | null = null;
  private passObjects = 0;
  private passUnjudgeable = 0;
  private readonly backupEvents: BackupEvent[] = [];
  private readonly request: ReportRequest;
  private readonly rules: readonly RuleInfo[];

  constructor(request: ReportRequest, rules: readonly RuleInfo[]) {
    this.request = request;
    this.rules = rules;
    this.fromIso = request.from.toISOString();
    this.toIso = request.to.toISOString();
    this.wantedControls = new Set(request.frameworks.flatMap((id) => controlsOf(id).map((c) => c.id)));
  }

  /** One record. Records outside the scope or after the period are the caller's to leave out; those after `to` are ignored. */
  add(record: EvidenceRecord): void {
    if (record.time >= this.toIso) return;
    const inPeriod = record.time >= this.fromIso;
    switch (record.kind) {
      case "finding.opened": {
        const wanted = record.controls.filter((c) => this.wantedControls.has(c));
        if (wanted.length === 0) return;
        const key = findingKey(record);
        if (this.openFindings.has(key)) return;
        this.openFindings.set(key, {
          wanted,
          entry: {
            rule: record.rule,
            severity: record.severity,
            controls: record.controls,
            message: record.message,
            subject: record.subject,
            cluster: record.scope.cluster,
            ...(record.scope.tenant === undefined ? {} : { tenant: record.scope.tenant }),
            firstSeen: record.time,
            lastSeen: record.time,
          },
        });
        if (inPeriod) {
          this.openedTotal++;
          bump(this.openedByRule, record.rule);
          for (const control of wanted) bump(this.openedByControl, control);
        }
        return;
      }
      case "finding.resolved": {
        const wanted = record.controls.filter((c) => this.wantedControls.has(c));
        if (wanted.length === 0) return;
        const key = findingKey(record);
        const open = this.openFindings.get(key);
        this.openFindings.delete(key);
        if (!inPeriod) return;
        this.resolvedTotal++;
        for (const control of wanted) bump(this.resolvedByControl, control);
        const firstSeen = open?.entry.firstSeen ?? record.data.firstSeen;
        const took = Date.parse(record.time) - Date.parse(firstSeen);
        if (Number.isFinite(took)) {
          const times = this.resolveTimes.get(record.rule);
          if (times === undefined) this.resolveTimes.set(record.rule, [took]);
          else times.push(took);
        }
        this.resolvedLatest.push({
          rule: record.rule,
          severity: record.severity,
          controls: record.controls,
          message: record.message,
          subject: record.subject,
          cluster: record.scope.cluster,
          ...(record.scope.tenant === undefined ? {} : { tenant: record.scope.tenant }),
          firstSeen,
          lastSeen: record.data.lastSeen,
          resolved: { time: record.time, reason: record.data.reason },
        });
        // Keep the latest `limit` without holding every resolved finding of a long period.
        if (this.resolvedLatest.length >= 2 * this.request.limit + 1)
          this.resolvedLatest = this.resolvedLatest.slice(-this.request.limit);
        return;
      }
      case "exception.applied":
        this.exception(record);
        return;
      case "backup.copied":
      case "backup.lock-checked":
      case "restore.drill":
        this.backupEvents.push(backupEvent(record));
        return;
      case "audit.pass": {
        if (!inPeriod) return;
        if (this.firstPass === null) this.firstPass = record.time;
        this.lastPass = record.time;
        if (!record.data.full) {
          this.partialPasses++;
          return;
        }
        this.fullPasses++;
        this.lastFullPass = record.time;
        this.passObjects = record.data.objects;
        this.passUnjudgeable = record.data.unjudgeable;
        return;
      }
      default:
        return;
    }
  }

  private exception(record: ExceptionRecord): void {
    const wanted = record.controls.filter((c) => this.wantedControls.has(c));
    if (wanted.length === 0) return;
    const data = record.data;
    let state = this.exceptions.get(data.exception);
    if (state === undefined) {
      state = {
        name: data.exception,
        approver: data.approver,
        justification: data.justification,
        expires: data.expires,
        firstApplied: record.time,
        rules: new Set(),
        controls: new Set(),
        subjects: [],
        subjectCount: 0,
      };
      this.exceptions.set(data.exception, state);
    }
    // The latest record says what the exception is now (it may have been renewed or re-justified).
    state.approver = data.approver;
    state.justification = data.justification;
    state.expires = data.expires;
    state.rules.add(record.rule);
    for (const control of wanted) state.controls.add(control);
    state.subjectCount++;
    if (state.subjects.length < this.request.limit) state.subjects.push(record.subject);
  }

  /** A history already summarised by the database, instead of its records (see Digest). */
  addDigest(digest: Digest): void {
    for (const entry of digest.open) {
      const wanted = entry.controls.filter((c) => this.wantedControls.has(c));
      if (wanted.length === 0) continue;
      this.openFindings.set(
        findingKey({ scope: { cluster: entry.cluster }, subject: entry.subject, rule: entry.rule }),
        {
          wanted,
          entry,
        },
      );
    }
    for (const count of digest.counts) {
      const wanted = count.controls.filter((c) => this.wantedControls.has(c));
      if (wanted.length === 0) continue;
      this.openedTotal += count.opened;
      this.resolvedTotal += count.resolved;
      if (count.opened > 0)
        this.openedByRule.set(count.rule, (this.openedByRule.get(count.rule) ?? 0) + count.opened);
      for (const control of wanted) {
        this.openedByControl.set(control, (this.openedByControl.get(control) ?? 0) + count.opened);
        this.resolvedByControl.set(control, (this.resolvedByControl.get(control) ?? 0) + count.resolved);
      }
    }
    for (const times of digest.resolveTimes) this.resolveStats.set(times.rule, times);
    this.resolvedLatest = [...digest.resolvedLatest].reverse();
    for (const exception of digest.exceptions) this.exception(exception);
    const passes = digest.passes;
    this.fullPasses = passes.full;
    this.partialPasses = passes.partial;
    this.firstPass = passes.first;
    this.lastPass = passes.last;
    this.lastFullPass = passes.lastFull;
    this.passObjects = passes.objects;
    this.passUnjudgeable = passes.unjudgeable;
    if (digest.backup !== undefined) this.backupEvents.push(...digest.backup);
  }

  finish(chain?: VerifyResult): ReportModel {
    const openList = [...this.openFindings.values()];
    // Backup findings: derived from the backup records at the period's end (backup.ts).
    const backupRules = this.backupEvents.length === 0 ? [] : BACKUP_RULES;
    for (const entry of backupFindings(this.backupEvents, this.request)) {
      const wanted = entry.controls.filter((c) => this.wantedControls.has(c));
      if (wanted.length > 0) openList.push({ entry, wanted });
    }
    const rules = [...this.rules, ...backupRules];
    const openByControl = new Map<string, number>();
    for (const open of openList) for (const control of open.wanted) bump(openByControl, control);

    const exceptionsInForce = [...this.exceptions.values()].filter(
      (e) => e.expires === null || e.expires >= this.fromIso,
    );
    const exceptionsByControl = new Map<string, number>();
    for (const exception of exceptionsInForce) {
      if (exception.expires !== null && exception.expires < this.toIso) continue;
      for (const control of exception.controls) bump(exceptionsByControl, control);
    }

    const rulesByControl = new Map<string, string[]>();
    const addRule = (control: string, rule: string): void => {
      const list = rulesByControl.get(control);
      if (list === undefined) rulesByControl.set(control, [rule]);
      else if (!list.includes(rule)) list.push(rule);
    };
    for (const rule of rules) for (const control of rule.controls) addRule(control, rule.id);
    for (const open of openList) for (const control of open.wanted) addRule(control, open.entry.rule);
    const boundaries = new Map(rules.map((rule) => [rule.id, rule.evidenceBoundary]));

    const frameworks = this.request.frameworks.map((id): FrameworkPosture => {
      const framework = frameworkById(id);
      if (framework === undefined) throw new Error(`unknown framework "${id}"`);
      const controls = controlsOf(id).map((control): ControlPosture => {
        const rules = rulesByControl.get(control.id) ?? [];
        const open = openByControl.get(control.id) ?? 0;
        const exceptions = exceptionsByControl.get(control.id) ?? 0;
        let status: ControlStatus;
        let boundary: string;
        if (rules.length === 0) {
          status = "not-evidenced";
          boundary = NO_RULE_BOUNDARY;
        } else if (this.fullPasses === 0 && open === 0) {
          status = "not-evidenced";
          boundary = NO_PASS_BOUNDARY;
        } else {
          status = open > 0 || exceptions > 0 ? "not-satisfied" : "satisfied";
          boundary = evidencedBoundary(rules, boundaries);
        }
        return {
          control,
          status,
          rules,
          open,
          exceptions,
          opened: this.openedByControl.get(control.id) ?? 0,
          resolved: this.resolvedByControl.get(control.id) ?? 0,
          boundary,
        };
      });
      return {
        id,
        name: framework.name,
        version: framework.version,
        controls,
        satisfied: controls.filter((c) => c.status === "satisfied").length,
        notSatisfied: controls.filter((c) => c.status === "not-satisfied").length,
        notEvidenced: controls.filter((c) => c.status === "not-evidenced").length,
      };
    });

    const lastFull = this.lastFullPass;
    const open = openList
      .map(({ entry }) =>
        lastFull !== null && lastFull > entry.firstSeen ? { ...entry, lastSeen: lastFull } : entry,
      )
      .sort(bySeverityThenObject)
      .slice(0, this.request.limit);

    const history = [
      ...new Set([...this.openedByRule.keys(), ...this.resolveTimes.keys(), ...this.resolveStats.keys()]),
    ]
      .sort()
      .map((rule): RuleHistory => {
        const stats = this.resolveStats.get(rule);
        if (stats !== undefined)
          return {
            rule,
            opened: this.openedByRule.get(rule) ?? 0,
            resolved: stats.count,
            medianResolveMs: stats.medianMs,
            maxResolveMs: stats.maxMs,
          };
        const times = (this.resolveTimes.get(rule) ?? []).sort((a, b) => a - b);
        return {
          rule,
          opened: this.openedByRule.get(rule) ?? 0,
          resolved: times.length,
          medianResolveMs: times.length === 0 ? null : (times[Math.floor((times.length - 1) / 2)] ?? null),
          maxResolveMs: times.length === 0 ? null : (times[times.length - 1] ?? null),
        };
      });

    return {
      request: {
        from: this.fromIso,
        to: this.toIso,
        scope: this.request.scope,
        frameworks: this.request.frameworks,
        generatedAt: this.request.generatedAt.toISOString(),
        source: this.request.source,
      },
      frameworks,
      open,
      openTotal: openList.length,
      resolved: this.resolvedLatest.slice(-this.request.limit).reverse(),
      openedTotal: this.openedTotal,
      resolvedTotal: this.resolvedTotal,
      history,
      exceptions: exceptionsInForce
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((e) => ({
          name: e.name,
          approver: e.approver,
          justification: e.justification,
          expires: e.expires,
          expired: e.expires !== null && e.expires < this.toIso,
          firstApplied: e.firstApplied,
          rules: [...e.rules].sort(),
          controls: [...e.controls].sort(),
          subjects: e.subjects,
          subjectCount: e.subjectCount,
        })),
      passes: {
        full: this.fullPasses,
        partial: this.partialPasses,
        first: this.firstPass,
        last: this.lastPass,
        objects: this.passObjects,
        unjudgeable: this.passUnjudgeable,
      },
      ...(chain === undefined ? {} : { chain }),
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** What the status of an evidenced control rests on, and the first rules' limits. */
function evidencedBoundary(rules: readonly string[], boundaries: ReadonlyMap<string, string>): string {
  const shown = rules
    .slice(0, 3)
    .map((rule) => `${rule}: ${boundaries.get(rule) ?? "(rule no longer in vakt)"}`);
  const more =
    rules.length > 3 ? ` And the limits of ${rules.length - 3} more rules (vakt rules explain <id>).` : "";
  return (
    `Judged on the cluster's live objects by ${rules.length === 1 ? "1 rule" : `${rules.length} rules`}; ` +
    `a pass does not prove: ${shown.join(" ")}${more}`
  );
}

function bySeverityThenObject(a: FindingEntry, b: FindingEntry): number {
  return (
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
    (a.subject.namespace ?? "").localeCompare(b.subject.namespace ?? "") ||
    a.subject.kind.localeCompare(b.subject.kind) ||
    a.subject.name.localeCompare(b.subject.name) ||
    a.rule.localeCompare(b.rule)
  );
}

/** Every record of `records` folded into a model: the whole pure path, for tests and small inputs. */
export function buildModel(
  request: ReportRequest,
  rules: readonly RuleInfo[],
  records: Iterable<EvidenceRecord>,
  chain?: VerifyResult,
): ReportModel {
  const builder = new ModelBuilder(request, rules);
  for (const record of records) builder.add(record);
  return builder.finish(chain);
}
