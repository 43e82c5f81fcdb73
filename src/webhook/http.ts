/**
 * Small HTTP pieces shared by the webhook server and the manager's plain-HTTP probe port:
 * answering with a body of known length, method checks, and the probe endpoints
 * (/healthz, /readyz, /metrics).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { describeError } from "../engine/evaluate.ts";

/** Writes a whole answer once; `closing` asks the client to drop the connection (shutdown). */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "application/json",
  headers: Record<string, string> = {},
  closing = false,
): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(body)),
    ...(closing ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(body);
}

/** The path of a request, without its query. */
export function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?", 1)[0] ?? "/";
}

/**
 * Whether the request uses `allowed` (GET also admits HEAD); otherwise answers 405 and drains
 * the body.
 */
export function allowMethod(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: string,
  closing = false,
): boolean {
  const method = req.method ?? "GET";
  if (method === allowed || (allowed === "GET" && method === "HEAD")) return true;
  req.resume();
  send(res, 405, `method ${method} not allowed; use ${allowed}\n`, "text/plain", { allow: allowed }, closing);
  return false;
}

export const PROBE_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

export interface Probes {
  /** Whether every part is ready (a throwing check counts as not ready). */
  readonly ready: () => boolean;
  /** Lines /readyz adds to its answer, ready or not (degraded parts; see kube/part.ts). */
  readonly conditions?: () => readonly string[];
  readonly registry: Registry;
  /** Shutting down: /readyz answers 503 and every answer closes its connection. */
  readonly closing: () => boolean;
}

/**
 * Answers /healthz (the process serves), /readyz (`ready`, 503 while shutting down) and /metrics
 * (Prometheus text of `registry`). Returns false for any other path, leaving the answer to the
 * caller.
 */
export function answerProbe(req: IncomingMessage, res: ServerResponse, probes: Probes): boolean {
  const path = pathOf(req);
  if (!PROBE_PATHS.has(path)) return false;
  const closing = probes.closing();
  if (!allowMethod(req, res, "GET", closing)) return true;
  const text = (status: number, body: string): void => {
    send(res, status, body, "text/plain", {}, probes.closing());
  };
  if (path === "/healthz") text(200, "ok\n");
  else if (path === "/readyz") {
    const notes = conditionLines(probes);
    if (closing) text(503, "shutting down\n");
    else if (!safeReady(probes.ready)) text(503, `not ready\n${notes}`);
    else text(200, `ok\n${notes}`);
  } else
    probes.registry.metrics().then(
      (metrics) => {
        send(res, 200, metrics, probes.registry.contentType, {}, probes.closing());
      },
      (error: unknown) => {
        text(500, `metrics unavailable: ${describeError(error)}\n`);
      },
    );
  return true;
}

/** The conditions as lines, one each, bounded (a /readyz answer stays small). */
function conditionLines(probes: Probes): string {
  let conditions: readonly string[];
  try {
    conditions = probes.conditions?.() ?? [];
  } catch {
    conditions = ["conditions unavailable"];
  }
  return conditions
    .slice(0, 20)
    .map((condition) => `${oneLine(condition.slice(0, 300))}\n`)
    .join("");
}

/** Control characters (line breaks included) as spaces: one condition, one line. */
function oneLine(text: string): string {
  return Array.from(text, (char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? " " : char;
  }).join("");
}

/** A readiness check; one that throws counts as not ready. */
export function safeReady(ready: () => boolean): boolean {
  try {
    return ready();
  } catch {
    return false;
  }
}
