/**
 * Connection bounds of the webhook server (ADR 0015): a connection cap, counted connections, and
 * a connection that errs or times out is destroyed rather than left half-open.
 */
import type { Server } from "node:https";
import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { WebhookMetrics } from "./review-metrics.ts";

export interface ConnectionLimits {
  readonly maxConnections: number;
  /** Time to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request. */
  readonly requestTimeoutMs: number;
}

/** Open connections, and the response being written on each socket. */
export class ConnectionTracker {
  open = 0;
  /** So that a late socket error does not write into an answer already under way. */
  readonly responses = new WeakMap<Socket, ServerResponse>();
}

/** Applies the limits and the error handling to `server`; counts its connections in `tracker`. */
export function boundConnections(
  server: Server,
  limits: ConnectionLimits,
  tracker: ConnectionTracker,
  metrics: WebhookMetrics,
  logger: Logger,
): void {
  // The API server (a Go client, idle connections kept 90 s) should close idle connections
  // first: a server-side close racing a new request makes the call fail.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.on("connection", (socket: Socket) => {
    tracker.open++;
    metrics.connections.inc();
    socket.once("close", () => {
      tracker.open--;
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
    const answering = tracker.responses.get(socket);
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
}
