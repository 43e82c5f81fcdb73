/** The webhook server's metrics, and what a judged review adds to them. */
import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import type { ReviewInfo } from "./admission.ts";

export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Distinct `kind` label values kept before the rest count as "other" (hostile callers invent kinds). */
const MAX_KIND_LABELS = 200;

export type Endpoint = "validate" | "mutate";

export interface WebhookMetrics {
  readonly requests: Counter<"endpoint" | "operation" | "kind" | "allowed">;
  readonly duration: Histogram<"endpoint">;
  readonly findings: Counter<"rule" | "action">;
  readonly errors: Counter<"reason">;
  readonly connections: Gauge;
}

export function createMetrics(registry: Registry): WebhookMetrics {
  return {
    requests: new Counter({
      name: "vakt_admission_requests_total",
      help: "AdmissionReview requests answered, by endpoint, operation, kind and whether allowed.",
      labelNames: ["endpoint", "operation", "kind", "allowed"] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: "vakt_admission_duration_seconds",
      help: "Time from request headers to response end, by endpoint.",
      labelNames: ["endpoint"] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    findings: new Counter({
      name: "vakt_admission_findings_total",
      help: "Findings in admission reviews, by rule and action (suppressed: covered by a PolicyException).",
      labelNames: ["rule", "action"] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: "vakt_admission_errors_total",
      help: "Requests that could not be judged normally, by reason.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    connections: new Gauge({
      name: "vakt_webhook_connections",
      help: "Open connections to the webhook server (TLS handshakes included).",
      registers: [registry],
    }),
  };
}

/** The `kind` label of a review: the first MAX_KIND_LABELS well-formed kinds, then "other". */
export class KindLabels {
  readonly #kinds = new Set<string>();

  of(kind: string): string {
    if (kind === "") return "none";
    if (this.#kinds.has(kind)) return kind;
    if (this.#kinds.size >= MAX_KIND_LABELS || !/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(kind)) return "other";
    this.#kinds.add(kind);
    return kind;
  }
}

/** Counts an answered review: the request, its findings, and whether it was judged normally. */
export function recordReview(
  metrics: WebhookMetrics,
  kinds: KindLabels,
  endpoint: Endpoint,
  info: ReviewInfo,
): void {
  metrics.requests.inc({
    endpoint,
    operation: ["CREATE", "UPDATE", "DELETE", "CONNECT"].includes(info.operation)
      ? info.operation
      : "invalid",
    kind: kinds.of(info.kind),
    allowed: String(info.allowed),
  });
  for (const finding of info.findings)
    metrics.findings.inc({
      rule: finding.rule,
      action: finding.suppressedBy === undefined ? finding.action : "suppressed",
    });
  if (info.reason === "bad-request" || info.reason === "evaluation-error")
    metrics.errors.inc({ reason: info.reason });
}
