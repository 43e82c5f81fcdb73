/**
 * The audit's metrics on vakt's /metrics. Label sets are bounded: `kind` by the kinds rules
 * judge, `rule` by the rule set, `severity` and `result` by their enums. Registered once per
 * registry (a leader part starts again after winning the Lease back and finds them there); the
 * gauges read the audit's current state when scraped.
 */
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";

/** What the gauges read at scrape time: the running audit's state. */
export interface AuditGauges {
  /** Open (object, rule) findings by rule, severity and result (fail or warn). */
  findings(): Iterable<{ rule: string; severity: string; result: string; count: number }>;
  readonly objects: number;
  readonly unjudgeable: number;
  /** Reports as last built: their total and largest encoded size, and results left out. */
  readonly reportBytes: number;
  readonly largestReportBytes: number;
  readonly resultsNotListed: number;
}

export type ReportWrite = "written" | "unchanged" | "failed" | "too_large";

interface Families {
  readonly passDuration: Histogram<"full">;
  readonly judged: Counter<"kind">;
  readonly writes: Counter<"result">;
  readonly evidenceAppends: Counter<"result">;
  current: AuditGauges | undefined;
}

const families = new WeakMap<Registry, Families>();

function register(registry: Registry): Families {
  const registers = [registry];
  const state: { current: AuditGauges | undefined } = { current: undefined };
  const gauge = (name: string, help: string, read: (g: AuditGauges) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(state.current === undefined ? 0 : read(state.current));
      },
    });
  };
  new Gauge({
    name: "vakt_audit_findings",
    help: "Open findings of the background audit: failing (object, rule) pairs by rule, severity and result.",
    labelNames: ["rule", "severity", "result"],
    registers,
    collect() {
      this.reset();
      for (const f of state.current?.findings() ?? [])
        this.set({ rule: f.rule, severity: f.severity, result: f.result }, f.count);
    },
  });
  gauge("vakt_audit_objects", "Live objects the audit holds a verdict for.", (g) => g.objects);
  gauge(
    "vakt_audit_unjudgeable_objects",
    "Live objects the audit could not judge (beyond the evaluation limits, malformed); reported as errors.",
    (g) => g.unjudgeable,
  );
  gauge("vakt_audit_report_bytes", "Encoded size of all audit reports, as last built.", (g) => g.reportBytes);
  gauge(
    "vakt_audit_report_largest_bytes",
    "Encoded size of the largest audit report, as last built.",
    (g) => g.largestReportBytes,
  );
  gauge(
    "vakt_audit_results_not_listed",
    "Report results left out by the caps (results per report, report size), all reports together.",
    (g) => g.resultsNotListed,
  );
  const found: Families = {
    passDuration: new Histogram({
      name: "vakt_audit_pass_duration_seconds",
      help: "Duration of audit passes: a full pass lists and judges every object and writes the reports that changed.",
      labelNames: ["full"],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    judged: new Counter({
      name: "vakt_audit_objects_judged_total",
      help: "Objects judged by the audit, by kind (each list and each change).",
      labelNames: ["kind"],
      registers,
    }),
    writes: new Counter({
      name: "vakt_audit_report_writes_total",
      help: "Report reconciles by result: written, unchanged (not rewritten), failed, too_large (refused by the API server; the report is cut further).",
      labelNames: ["result"],
      registers,
    }),
    evidenceAppends: new Counter({
      name: "vakt_audit_evidence_records_total",
      help: "Evidence records the audit appended, by result (accepted, or refused while the store's buffer is full).",
      labelNames: ["result"],
      registers,
    }),
    get current() {
      return state.current;
    },
    set current(value) {
      state.current = value;
    },
  };
  return found;
}

export class AuditMetrics {
  readonly #families: Families;

  constructor(registry: Registry) {
    let found = families.get(registry);
    if (found === undefined) families.set(registry, (found = register(registry)));
    this.#families = found;
  }

  /** The state the gauges read while this run lasts (undefined when it ends). */
  running(gauges: AuditGauges | undefined): void {
    this.#families.current = gauges;
  }

  passFinished(full: boolean, seconds: number): void {
    this.#families.passDuration.observe({ full: String(full) }, seconds);
  }

  judged(kind: string): void {
    this.#families.judged.inc({ kind });
  }

  reportWrite(result: ReportWrite): void {
    this.#families.writes.inc({ result });
  }

  evidenceAppended(accepted: boolean): void {
    this.#families.evidenceAppends.inc({ result: accepted ? "accepted" : "refused" });
  }
}
