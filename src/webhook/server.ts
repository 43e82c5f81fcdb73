import { createServer } from "node:https";
import type { Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pino } from "pino";
import type { Logger } from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";
import { setting } from "../config/settings.ts";
import type { AdmissionState } from "./admission.ts";
import { Exchange } from "./answer.ts";
import type { AnswerContext } from "./answer.ts";
import { ConnectionTracker, boundConnections } from "./connections.ts";
import { allowMethod, answerProbe, pathOf, send } from "./http.ts";
import type { Probes } from "./http.ts";
import { LargeReviewLane, ReviewBudget, readBody } from "./intake.ts";
import { KindLabels, createMetrics } from "./review-metrics.ts";

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
  /** Lines /readyz adds to its answer (conditions of degraded parts; default none). */
  readonly conditions?: () => readonly string[];
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

/** Requests being received or answered, and the shutdown that waits for them. */
class Requests {
  inFlight = 0;
  closing = false;
  #onDrained: (() => void) | undefined;

  /** Counts the request until its response closes. */
  track(req: IncomingMessage, res: ServerResponse, connections: ConnectionTracker): void {
    this.inFlight++;
    connections.responses.set(req.socket, res);
    res.on("close", () => {
      if (connections.responses.get(req.socket) === res) connections.responses.delete(req.socket);
      this.inFlight--;
      if (this.closing && this.inFlight === 0) this.#onDrained?.();
    });
  }

  /** Resolves when no request is in flight any more, or after `deadlineMs`. */
  async drained(deadlineMs: number): Promise<void> {
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => (this.#onDrained = resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
    ]);
    clearTimeout(timer);
  }
}

/**
 * Receives a review within the budget (415 for another content type, 429 beyond the reviews or
 * bytes in flight, 413 beyond the size limit), then judges it: small bodies at once, large ones
 * in the lane, parsing and judging each in a turn of their own so that small reviews arriving
 * meanwhile are answered in between.
 */
function receiveReview(exchange: Exchange, budget: ReviewBudget, large: LargeReviewLane): void {
  const { req, res } = exchange;
  const busy = (): void => {
    res.setHeader("retry-after", "1");
    res.setHeader("connection", "close");
    req.resume();
    exchange.fail(
      429,
      "TooManyRequests",
      "busy",
      `vakt is receiving ${budget.reviews} reviews (${Math.round(budget.buffered / 1024)} KiB) already, its limit; the API server applies the webhook's failure policy, retry the request`,
    );
  };
  const contentType = req.headers["content-type"] ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    req.resume();
    exchange.fail(
      415,
      "UnsupportedMediaType",
      "content-type",
      `content-type must be application/json (got "${contentType.slice(0, 80)}")`,
    );
    return;
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (!budget.admits(declared)) {
    busy();
    return;
  }
  const hold = budget.hold(res);
  const tooLarge = (): void => {
    // Drain (and drop) the rest so the client reads the answer; the request timeout bounds it.
    req.resume();
    exchange.fail(
      413,
      "RequestEntityTooLarge",
      "too-large",
      `the AdmissionReview exceeds ${budget.maxBodyBytes} bytes; vakt does not judge objects this large`,
    );
  };
  if (declared > budget.maxBodyBytes) {
    res.setHeader("connection", "close");
    tooLarge();
    return;
  }
  req.on("error", (error) => {
    exchange.aborted(error);
  });
  readBody(req, res, budget, hold, {
    tooLarge,
    busy,
    received: (chunks, size) => {
      const parse = (): unknown => {
        const body = exchange.parse(chunks);
        chunks.length = 0;
        hold.release();
        return body;
      };
      if (size < LARGE_BODY_BYTES) {
        const body = parse();
        if (body !== undefined) exchange.judge(body);
        return;
      }
      large.add(() => {
        if (res.destroyed) {
          hold.release();
          return;
        }
        const body = parse();
        if (body !== undefined)
          large.next(() => {
            exchange.judge(body);
          });
      });
    },
  });
}

/** POST /validate and /mutate, the probes, and 404 for anything else. */
function route(
  req: IncomingMessage,
  res: ServerResponse,
  answers: AnswerContext,
  probes: Probes,
  receive: (exchange: Exchange) => void,
): void {
  const started = process.hrtime.bigint();
  const path = pathOf(req);
  if (path === "/validate" || path === "/mutate") {
    if (allowMethod(req, res, "POST", answers.closing()))
      receive(new Exchange(answers, path === "/validate" ? "validate" : "mutate", req, res, started));
    return;
  }
  if (answerProbe(req, res, probes)) return;
  req.resume();
  send(
    res,
    404,
    `no such endpoint: ${path.slice(0, 100)}; use /validate, /mutate, /healthz, /readyz, /metrics\n`,
    "text/plain",
    {},
    answers.closing(),
  );
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const logger = options.logger ?? pino({ level: setting("logLevel"), base: { component: "webhook" } });
  const registry = options.registry ?? new Registry();
  if (options.registry === undefined && options.processMetrics !== false)
    collectDefaultMetrics({ register: registry });
  const metrics = createMetrics(registry);
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const budget = new ReviewBudget({
    maxReviews: options.maxReviewsInFlight ?? DEFAULT_MAX_REVIEWS_IN_FLIGHT,
    maxBuffered: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  const large = new LargeReviewLane();
  const connections = new ConnectionTracker();
  const requests = new Requests();
  const closing = (): boolean => requests.closing;
  const answers: AnswerContext = { state: options.state, metrics, kinds: new KindLabels(), logger, closing };
  const probes: Probes = {
    ready: options.ready ?? ((): boolean => true),
    ...(options.conditions === undefined ? {} : { conditions: options.conditions }),
    registry,
    closing,
  };
  const receive = (exchange: Exchange): void => {
    receiveReview(exchange, budget, large);
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
    (req, res) => {
      requests.track(req, res, connections);
      route(req, res, answers, probes, receive);
    },
  );
  boundConnections(
    server,
    {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    },
    connections,
    metrics,
    logger,
  );

  const host = options.host ?? "0.0.0.0";
  const port = await listen(server, options.port ?? 8443, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  logger.info({ host, port }, "webhook server listening");

  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    url: `https://${urlHost}:${port}`,
    registry,
    get inFlight(): number {
      return requests.inFlight;
    },
    get connections(): number {
      return connections.open;
    },
    setSecureContext(tls: TlsMaterial): void {
      server.setSecureContext({ key: tls.key, cert: tls.cert, minVersion: "TLSv1.2" });
      logger.info("webhook serving certificate replaced");
    },
    close(deadlineMs: number = drainTimeoutMs): Promise<void> {
      closed ??= (async () => {
        requests.closing = true;
        logger.info({ inFlight: requests.inFlight, deadlineMs }, "webhook server shutting down");
        const stopped = new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
        server.closeIdleConnections();
        await requests.drained(deadlineMs);
        const abandoned = requests.inFlight;
        server.closeAllConnections();
        await stopped;
        logger.info({ abandoned }, "webhook server stopped");
      })();
      return closed;
    },
  };
}
