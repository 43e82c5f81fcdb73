/**
 * Answering one AdmissionReview request: judging its body, the error answers (a metav1.Status,
 * what the API server expects), the metrics and the decision log line.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { describeError } from "../engine/evaluate.ts";
import { isDict } from "../engine/workloads.ts";
import { mutateReview, review } from "./admission.ts";
import type { AdmissionState, ReviewInfo, ReviewOutcome } from "./admission.ts";
import { send } from "./http.ts";
import { recordReview } from "./review-metrics.ts";
import type { Endpoint, KindLabels, WebhookMetrics } from "./review-metrics.ts";

/** What every exchange of a server shares. */
export interface AnswerContext {
  readonly state: AdmissionState;
  readonly metrics: WebhookMetrics;
  readonly kinds: KindLabels;
  readonly logger: Logger;
  /** Shutting down: answers ask the client to close the connection. */
  readonly closing: () => boolean;
}

/** One review request and its answer. */
export class Exchange {
  readonly endpoint: Endpoint;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly #started: bigint;
  readonly #context: AnswerContext;

  constructor(
    context: AnswerContext,
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    started: bigint,
  ) {
    this.#context = context;
    this.endpoint = endpoint;
    this.req = req;
    this.res = res;
    this.#started = started;
  }

  /** Seconds since the request's headers arrived. */
  elapsed(): number {
    return Number(process.hrtime.bigint() - this.#started) / 1e9;
  }

  send(status: number, body: string): void {
    send(this.res, status, body, "application/json", {}, this.#context.closing());
  }

  /** A metav1.Status, what the API server expects in an error body. */
  sendStatus(code: number, reason: string, message: string): void {
    this.send(
      code,
      JSON.stringify({ apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message }),
    );
  }

  /** An error answer, counted under `errorReason`. */
  fail(code: number, reason: string, errorReason: string, message: string): void {
    const { metrics, logger } = this.#context;
    metrics.errors.inc({ reason: errorReason });
    logger.warn({ endpoint: this.endpoint, status: code, error: message }, "admission request rejected");
    this.sendStatus(code, reason, message);
    metrics.duration.observe({ endpoint: this.endpoint }, this.elapsed());
  }

  /** The client went away or broke the request while it was being received. */
  aborted(error: unknown): void {
    this.#context.metrics.errors.inc({ reason: "client" });
    this.#context.logger.debug(
      { endpoint: this.endpoint, error: describeError(error) },
      "admission request aborted",
    );
  }

  /** The body as JSON, or undefined after answering 400. */
  parse(chunks: Buffer[]): unknown {
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      this.fail(400, "BadRequest", "bad-json", `the body is not valid JSON: ${describeError(error)}`);
      return undefined;
    }
  }

  /** Judges a parsed AdmissionReview and answers it. */
  judge(body: unknown): void {
    const { state, metrics, kinds } = this.#context;
    let outcome: ReviewOutcome;
    try {
      outcome = this.endpoint === "validate" ? review(body, state) : mutateReview(body, state);
    } catch (error) {
      this.#answerInternalError(body, error);
      return;
    }
    if (outcome.type === "invalid") {
      this.fail(400, "BadRequest", "invalid-review", outcome.message);
      return;
    }
    this.send(200, JSON.stringify(outcome.body));
    const seconds = this.elapsed();
    metrics.duration.observe({ endpoint: this.endpoint }, seconds);
    recordReview(metrics, kinds, this.endpoint, outcome.info);
    this.#logDecision(outcome.info, seconds);
  }

  /** review() does not throw by design; if it ever does, answer rather than crash. */
  #answerInternalError(body: unknown, error: unknown): void {
    const { metrics, logger } = this.#context;
    const endpoint = this.endpoint;
    const uid = uidOf(body);
    metrics.errors.inc({ reason: "internal" });
    logger.error({ endpoint, uid, error: describeError(error) }, "admission review failed");
    if (uid === undefined) {
      this.sendStatus(500, "InternalError", `vakt failed to answer: ${describeError(error)}`);
    } else {
      const allowed = endpoint === "mutate";
      this.send(
        200,
        JSON.stringify({
          apiVersion: "admission.k8s.io/v1",
          kind: "AdmissionReview",
          response: {
            uid,
            allowed,
            ...(allowed
              ? {}
              : {
                  status: {
                    code: 500,
                    reason: "InternalError",
                    message: `vakt failed to evaluate the request (${describeError(error)}) and refuses it rather than admit it unchecked (fail closed)`,
                  },
                }),
          },
        }),
      );
    }
    metrics.duration.observe({ endpoint }, this.elapsed());
  }

  #logDecision(info: ReviewInfo, seconds: number): void {
    const { logger } = this.#context;
    const endpoint = this.endpoint;
    const denied = !info.allowed;
    const problem = info.reason === "bad-request" || info.reason === "evaluation-error";
    const level = problem ? "warn" : denied ? "info" : "debug";
    if (!logger.isLevelEnabled(level)) return;
    const log = logger.child({
      endpoint,
      uid: info.uid,
      operation: info.operation,
      kind: info.kind,
      namespace: info.namespace,
      name: info.name,
      ...(info.subResource === "" ? {} : { subResource: info.subResource }),
      dryRun: info.dryRun,
    });
    const active = info.findings.filter((finding) => finding.suppressedBy === undefined);
    const fields = {
      allowed: info.allowed,
      reason: info.reason,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      ...(active.length > 0 ? { rules: [...new Set(active.map((f) => `${f.rule}:${f.action}`))] } : {}),
      ...(info.mutations.length > 0 ? { mutations: info.mutations } : {}),
      ...(info.error === undefined ? {} : { error: info.error }),
    };
    if (problem) log.warn(fields, "admission request not judged normally");
    else if (denied) log.info(fields, "admission denied");
    else log.debug(fields, endpoint === "mutate" ? "admission mutation" : "admission allowed");
  }
}

function uidOf(body: unknown): string | undefined {
  if (!isDict(body) || !isDict(body["request"])) return undefined;
  const uid = body["request"]["uid"];
  return typeof uid === "string" && uid !== "" ? uid : undefined;
}
