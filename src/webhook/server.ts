import { createServer } from "node:https";
import type { Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { pino } from "pino";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { setting } from "../config/settings.ts";
import { describeError } from "../engine/evaluate.ts";
import { isDict } from "../engine/workloads.ts";
import { mutateReview, review } from "./admission.ts";
import type { AdmissionState, ReviewInfo, ReviewOutcome } from "./admission.ts";

/**
 * The admission webhook server: HTTPS, AdmissionReview v1 on POST /validate and /mutate,
 * GET /healthz, /readyz and /metrics (Prometheus text). Malformed requests get a 4xx with a
 * message, never a crash; close() stops accepting and drains the requests in flight.
 *
 * Bounded against hostile callers (docs/adr/0015): connections are capped and a connection that
 * errs or times out (headers, the whole request, the TLS handshake) is destroyed, not left
 * half-open; reviews being received are capped in number and in buffered bytes (beyond: 429, so
 * the API server applies the failure policy); large bodies are judged one at a time, each step
 * in its own turn of the event loop, so small reviews that arrive meanwhile are not queued
 * behind them.
 */

export interface TlsMaterial {
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
}

/**
 * Largest request body accepted. The API server caps a request at 3 MiB, but an UPDATE review
 * carries the object and its old version (each up to etcd's ~1.5 MiB, larger as JSON), so the
 * limit leaves room for two large objects; beyond it, 413.
 */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;
export const DEFAULT_DRAIN_TIMEOUT_MS = 25_000;
/** Open connections; beyond, new ones are closed at once. The API servers keep a few each. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** AdmissionReviews being received or waiting to be judged; beyond, 429. */
export const DEFAULT_MAX_REVIEWS_IN_FLIGHT = 64;
/** Request bytes buffered across all reviews in flight; beyond, 429. Well under the 512 MiB limit of `vakt install`. */
export const DEFAULT_MAX_BUFFERED_BYTES = 48 * 1024 * 1024;
/** Bodies at least this large are judged in the large-review lane (one at a time, in slices). */
const LARGE_BODY_BYTES = 64 * 1024;
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Distinct `kind` label values kept before the rest count as "other" (hostile callers invent kinds). */
const MAX_KIND_LABELS = 200;

export interface WebhookServerOptions {
  readonly state: AdmissionState;
  readonly tls: TlsMaterial;
  /** Address to listen on (default "0.0.0.0"). */
  readonly host?: string;
  /** Port (default 8443; 0 picks a free one). */
  readonly port?: number;
  /** Default: pino JSON on stdout at the log-level setting. */
  readonly logger?: Logger;
  /** Readiness beyond the server's own: rules loaded, exception informer synced (default: ready). */
  readonly ready?: () => boolean;
  readonly maxBodyBytes?: number;
  /** How long close() waits for requests in flight by default. */
  readonly drainTimeoutMs?: number;
  /** Open connections at most (default DEFAULT_MAX_CONNECTIONS). */
  readonly maxConnections?: number;
  /** AdmissionReviews being received or judged at once (default DEFAULT_MAX_REVIEWS_IN_FLIGHT). */
  readonly maxReviewsInFlight?: number;
  /** Request bytes buffered across reviews in flight (default DEFAULT_MAX_BUFFERED_BYTES). */
  readonly maxBufferedBytes?: number;
  /** Time to receive a request's headers (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** Time to receive a whole request (default 30 s, the longest webhook timeout the API server allows). */
  readonly requestTimeoutMs?: number;
  /** Time for a TLS handshake (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** How often the header and request timeouts are checked (default 1 s). */
  readonly timeoutCheckIntervalMs?: number;
  /** Registry to put the metrics in (default: a new one, with the process metrics). */
  readonly registry?: Registry;
  /** Add Node process metrics to a registry this server creates (default true). */
  readonly processMetrics?: boolean;
}

export interface WebhookServer {
  readonly host: string;
  readonly port: number;
  /** https://host:port */
  readonly url: string;
  readonly registry: Registry;
  /** Requests being received or answered right now. */
  readonly inFlight: number;
  /** Open connections (TCP, TLS handshakes included). */
  readonly connections: number;
  /** Replaces the serving certificate (rotation) without dropping connections. */
  setSecureContext(tls: TlsMaterial): void;
  /**
   * Graceful shutdown: /readyz turns 503, no new connections, requests in flight finish (up
   * to `deadlineMs`, default drainTimeoutMs), then every connection is closed.
   */
  close(deadlineMs?: number): Promise<void>;
}

interface Metrics {
  readonly requests: Counter<"endpoint" | "operation" | "kind" | "allowed">;
  readonly duration: Histogram<"endpoint">;
  readonly findings: Counter<"rule" | "action">;
  readonly errors: Counter<"reason">;
  readonly connections: Gauge;
}

function createMetrics(registry: Registry): Metrics {
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

type Endpoint = "validate" | "mutate";

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const logger = options.logger ?? pino({ level: setting("logLevel"), base: { component: "webhook" } });
  const registry = options.registry ?? new Registry();
  if (options.registry === undefined && options.processMetrics !== false)
    collectDefaultMetrics({ register: registry });
  const metrics = createMetrics(registry);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const ready = options.ready ?? ((): boolean => true);
  const maxReviews = options.maxReviewsInFlight ?? DEFAULT_MAX_REVIEWS_IN_FLIGHT;
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const kinds = new Set<string>();
  const kindLabel = (kind: string): string => {
    if (kind === "") return "none";
    if (kinds.has(kind)) return kind;
    if (kinds.size >= MAX_KIND_LABELS || !/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(kind)) return "other";
    kinds.add(kind);
    return kind;
  };

  let inFlight = 0;
  let connections = 0;
  let reviews = 0;
  let buffered = 0;
  const large = new LargeReviewLane();
  /** The response being written on each socket, so a late socket error does not write into it. */
  const responses = new WeakMap<Socket, ServerResponse>();
  let closing = false;
  let onDrained: (() => void) | undefined;

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    contentType = "application/json",
    headers: Record<string, string> = {},
  ): void => {
    if (res.headersSent) return;
    res.writeHead(status, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(body)),
      ...(closing ? { connection: "close" } : {}),
      ...headers,
    });
    res.end(body);
  };

  /** A metav1.Status, what the API server expects in an error body. */
  const sendStatus = (res: ServerResponse, code: number, reason: string, message: string): void => {
    send(
      res,
      code,
      JSON.stringify({ apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message }),
    );
  };

  const record = (endpoint: Endpoint, info: ReviewInfo): void => {
    metrics.requests.inc({
      endpoint,
      operation: ["CREATE", "UPDATE", "DELETE", "CONNECT"].includes(info.operation)
        ? info.operation
        : "invalid",
      kind: kindLabel(info.kind),
      allowed: String(info.allowed),
    });
    for (const finding of info.findings)
      metrics.findings.inc({
        rule: finding.rule,
        action: finding.suppressedBy === undefined ? finding.action : "suppressed",
      });
    if (info.reason === "bad-request" || info.reason === "evaluation-error")
      metrics.errors.inc({ reason: info.reason });
  };

  const logDecision = (endpoint: Endpoint, info: ReviewInfo, seconds: number): void => {
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
  };

  const admit = (endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, started: bigint): void => {
    const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const fail = (code: number, reason: string, errorReason: string, message: string): void => {
      metrics.errors.inc({ reason: errorReason });
      logger.warn({ endpoint, status: code, error: message }, "admission request rejected");
      sendStatus(res, code, reason, message);
      metrics.duration.observe({ endpoint }, elapsed());
    };
    const busy = (): void => {
      res.setHeader("retry-after", "1");
      res.setHeader("connection", "close");
      req.resume();
      fail(
        429,
        "TooManyRequests",
        "busy",
        `vakt is receiving ${reviews} reviews (${Math.round(buffered / 1024)} KiB) already, its limit; the API server applies the webhook's failure policy, retry the request`,
      );
    };
    const contentType = req.headers["content-type"] ?? "";
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      req.resume();
      fail(
        415,
        "UnsupportedMediaType",
        "content-type",
        `content-type must be application/json (got "${contentType.slice(0, 80)}")`,
      );
      return;
    }
    const declared = Number(req.headers["content-length"] ?? "0");
    if (
      reviews >= maxReviews ||
      (declared > 0 && buffered + Math.min(declared, maxBodyBytes) > maxBuffered)
    ) {
      busy();
      return;
    }
    reviews++;
    let held = 0;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      reviews--;
      buffered -= held;
      held = 0;
    };
    res.on("close", release);
    const tooLarge = (): void => {
      // Drain (and drop) the rest so the client reads the answer; the request timeout bounds it.
      req.resume();
      fail(
        413,
        "RequestEntityTooLarge",
        "too-large",
        `the AdmissionReview exceeds ${maxBodyBytes} bytes; vakt does not judge objects this large`,
      );
    };
    if (declared > maxBodyBytes) {
      res.setHeader("connection", "close");
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    req.on("data", (chunk: Buffer) => {
      if (overflow) return;
      size += chunk.length;
      if (size > maxBodyBytes || buffered + chunk.length > maxBuffered) {
        overflow = true;
        chunks.length = 0;
        buffered -= held;
        held = 0;
        res.setHeader("connection", "close");
        if (size > maxBodyBytes) tooLarge();
        else {
          req.resume();
          busy();
        }
        return;
      }
      chunks.push(chunk);
      held += chunk.length;
      buffered += chunk.length;
    });
    req.on("error", (error) => {
      metrics.errors.inc({ reason: "client" });
      logger.debug({ endpoint, error: describeError(error) }, "admission request aborted");
    });
    const parse = (): unknown => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        fail(400, "BadRequest", "bad-json", `the body is not valid JSON: ${describeError(error)}`);
        return undefined;
      } finally {
        chunks.length = 0;
        release();
      }
      return body;
    };
    const judge = (body: unknown): void => {
      let outcome: ReviewOutcome;
      try {
        outcome = endpoint === "validate" ? review(body, options.state) : mutateReview(body, options.state);
      } catch (error) {
        // review() does not throw by design; if it ever does, answer rather than crash.
        const uid = uidOf(body);
        metrics.errors.inc({ reason: "internal" });
        logger.error({ endpoint, uid, error: describeError(error) }, "admission review failed");
        if (uid === undefined) {
          sendStatus(res, 500, "InternalError", `vakt failed to answer: ${describeError(error)}`);
        } else {
          const allowed = endpoint === "mutate";
          send(
            res,
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
        metrics.duration.observe({ endpoint }, elapsed());
        return;
      }
      if (outcome.type === "invalid") {
        fail(400, "BadRequest", "invalid-review", outcome.message);
        return;
      }
      send(res, 200, JSON.stringify(outcome.body));
      const seconds = elapsed();
      metrics.duration.observe({ endpoint }, seconds);
      record(endpoint, outcome.info);
      logDecision(endpoint, outcome.info, seconds);
    };
    req.on("end", () => {
      if (overflow) return;
      if (size < LARGE_BODY_BYTES) {
        const body = parse();
        if (body !== undefined) judge(body);
        return;
      }
      // Parsing and judging a large body each take a turn of their own, so the small reviews
      // that arrived meanwhile are answered in between.
      large.add(() => {
        if (res.destroyed) {
          release();
          return;
        }
        const body = parse();
        if (body !== undefined)
          large.next(() => {
            judge(body);
          });
      });
    });
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    inFlight++;
    responses.set(req.socket, res);
    res.on("close", () => {
      if (responses.get(req.socket) === res) responses.delete(req.socket);
      inFlight--;
      if (closing && inFlight === 0) onDrained?.();
    });
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    const method = req.method ?? "GET";
    const only = (allowed: string): boolean => {
      if (method === allowed || (allowed === "GET" && method === "HEAD")) return true;
      req.resume();
      send(res, 405, `method ${method} not allowed; use ${allowed}\n`, "text/plain", { allow: allowed });
      return false;
    };
    switch (path) {
      case "/validate":
      case "/mutate":
        if (only("POST")) admit(path === "/validate" ? "validate" : "mutate", req, res, started);
        return;
      case "/healthz":
        if (only("GET")) send(res, 200, "ok\n", "text/plain");
        return;
      case "/readyz":
        if (!only("GET")) return;
        if (closing) send(res, 503, "shutting down\n", "text/plain");
        else if (!safeReady(ready)) send(res, 503, "not ready\n", "text/plain");
        else send(res, 200, "ok\n", "text/plain");
        return;
      case "/metrics":
        if (!only("GET")) return;
        registry.metrics().then(
          (text) => {
            send(res, 200, text, registry.contentType);
          },
          (error: unknown) => {
            send(res, 500, `metrics unavailable: ${describeError(error)}\n`, "text/plain");
          },
        );
        return;
      default:
        req.resume();
        send(
          res,
          404,
          `no such endpoint: ${path.slice(0, 100)}; use /validate, /mutate, /healthz, /readyz, /metrics\n`,
          "text/plain",
        );
    }
  };

  const server: Server = createServer(
    {
      key: options.tls.key,
      cert: options.tls.cert,
      minVersion: "TLSv1.2",
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      // Node's default (30 s) lets a connection outlive the header timeout by that much.
      connectionsCheckingInterval: options.timeoutCheckIntervalMs ?? 1000,
    },
    handler,
  );
  // The API server (a Go client, idle connections kept 90 s) should close idle connections
  // first: a server-side close racing a new request makes the call fail.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.on("connection", (socket: Socket) => {
    connections++;
    metrics.connections.inc();
    socket.once("close", () => {
      connections--;
      metrics.connections.dec();
    });
  });
  server.on("drop", () => {
    metrics.errors.inc({ reason: "connection-limit" });
    logger.debug({ maxConnections: server.maxConnections }, "connection refused: too many open");
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    metrics.errors.inc({ reason: "client" });
    logger.debug({ error: error.message, code: error.code }, "client connection error");
    // After this error Node no longer times the connection: it must be closed here, whatever the
    // peer does (a half-closed socket stays open as long as the peer keeps sending).
    const answering = responses.get(socket);
    if (error.code === "ECONNRESET" || !socket.writable || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    const status = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request";
    const timer = setTimeout(() => socket.destroy(), 1000);
    timer.unref();
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () => {
      clearTimeout(timer);
      socket.destroy();
    });
  });
  server.on("tlsClientError", (error: Error, socket: Socket) => {
    metrics.errors.inc({ reason: "tls" });
    logger.debug({ error: error.message }, "TLS handshake failed");
    socket.destroy();
  });

  const host = options.host ?? "0.0.0.0";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8443, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 8443);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  logger.info({ host, port }, "webhook server listening");

  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    url: `https://${urlHost}:${port}`,
    registry,
    get inFlight(): number {
      return inFlight;
    },
    get connections(): number {
      return connections;
    },
    setSecureContext(tls: TlsMaterial): void {
      server.setSecureContext({ key: tls.key, cert: tls.cert, minVersion: "TLSv1.2" });
      logger.info("webhook serving certificate replaced");
    },
    close(deadlineMs: number = drainTimeoutMs): Promise<void> {
      closed ??= (async () => {
        closing = true;
        logger.info({ inFlight, deadlineMs }, "webhook server shutting down");
        const stopped = new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
        server.closeIdleConnections();
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            new Promise<void>((resolve) => (onDrained = resolve)),
            new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
          ]);
          clearTimeout(timer);
        }
        const abandoned = inFlight;
        server.closeAllConnections();
        await stopped;
        logger.info({ abandoned }, "webhook server stopped");
      })();
      return closed;
    },
  };
}

function safeReady(ready: () => boolean): boolean {
  try {
    return ready();
  } catch {
    return false;
  }
}

function uidOf(body: unknown): string | undefined {
  if (!isDict(body) || !isDict(body["request"])) return undefined;
  const uid = body["request"]["uid"];
  return typeof uid === "string" && uid !== "" ? uid : undefined;
}

/**
 * Large reviews, one step at a time: each step runs in its own turn of the event loop
 * (setImmediate, after pending I/O), and a step may queue the next step of its review first.
 */
class LargeReviewLane {
  readonly #queue: (() => void)[] = [];
  #scheduled = false;

  add(step: () => void): void {
    this.#queue.push(step);
    this.#schedule();
  }

  /** Runs `step` right after the current one, before other reviews' steps. */
  next(step: () => void): void {
    this.#queue.unshift(step);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const step = this.#queue.shift();
      if (this.#queue.length > 0) this.#schedule();
      step?.();
    });
  }
}
