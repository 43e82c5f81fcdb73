/**
 * vakt's one REST client for the API server: every part of `vakt run` (webhook watches, live
 * inventory, CA Secret, Tenant controller, leader election) talks through it. The generated
 * clients of @kubernetes/client-node hide the HTTP status (201 created vs 200 unchanged), cannot
 * server-side apply a status subresource and give no request count; this one does all three with
 * the kubeconfig's authentication (its TLS material, headers and proxy settings, from
 * client-node). See docs/adr/0020-one-kubernetes-client.md.
 *
 * Requests and watches use node:https with keep-alive connections, not undici or HTTP/2. On the
 * controller's load (thousands of small requests, sixteen long watches) both undici and Node's
 * HTTP/2 client keep about a quarter of what they allocate alive past a young-generation garbage
 * collection, against almost nothing for node:https (measured: 26% and 23% against 0.1%); V8
 * then grows the young generation to its maximum and fills the old one with dead request
 * objects: the controller's peak RSS was 450 MB with undici over HTTP/2 and 290 MB with this
 * client on the same benchmark. The price: the API server spends about 10% more CPU per request
 * than on one multiplexed HTTP/2 connection, and each watch holds a connection of its own. See
 * docs/adr/0007-tenant-controller-metadata-only-and-http1.md.
 */
import http from "node:http";
import https from "node:https";
import type { IncomingMessage } from "node:http";
import { createSecureContext } from "node:tls";
import type { KubeConfig } from "@kubernetes/client-node";

export type Json = Record<string, unknown>;

/** An error response of the API server, with its HTTP status and Status reason. */
export class KubeError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = "KubeError";
    this.code = code;
    this.reason = reason;
  }
}

export interface KubeResponse {
  readonly status: number;
  readonly body: Json;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** The body already serialized as JSON (instead of `body`). */
  readonly json?: string;
  readonly contentType?: string;
  /** Accept header (default application/json), e.g. for metadata-only responses. */
  readonly accept?: string;
}

export interface KubeClient {
  request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    options?: RequestOptions,
  ): Promise<KubeResponse>;
  /**
   * Opens a watch (`?watch=true`) and calls `onEvent` with each event ({type, object}) as it
   * arrives; resolves when the server ends the watch, rejects on an error status or a broken
   * connection. `signal` ends it early (it then resolves).
   */
  watch(
    path: string,
    query: Readonly<Record<string, string | undefined>>,
    onEvent: (event: Json) => void,
    signal: AbortSignal,
    accept?: string,
  ): Promise<void>;
  /** Requests issued so far (every call, failed or not; a watch counts as one). */
  readonly requests: number;
  /** Closes idle connections and stops reusing them. */
  close?(): Promise<void>;
}

export interface KubeClientOptions {
  /**
   * Requests in flight at once (default 16); more wait in line. Two API server cores cannot work
   * on more at a time: beyond that, requests only wait there, holding memory on both sides.
   */
  readonly maxConnections?: number;
  /**
   * A request fails when its connection carries nothing for this long (default 70 s: the API
   * server answers within its own 60 s). Shorter for servers that may stall, such as a hub's
   * member clusters, so that one stalled server does not hold a worker for a minute.
   */
  readonly requestIdleMs?: number;
}

export const APPLY_PATCH = "application/apply-patch+yaml";
/** Accept headers for metadata-only objects and lists (whole objects from servers without). */
export const METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";
export const METADATA_LIST_ONLY =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/** How often the credentials (and with them the TLS material) are read again. */
const AUTH_REFRESH_MS = 60_000;

function kubeErrorFrom(status: number, statusText: string, text: string): KubeError {
  let body: Json = {};
  try {
    body = JSON.parse(text) as Json;
  } catch {
    // not a Status object: the text is the message
  }
  const message = typeof body["message"] === "string" ? body["message"] : text || statusText;
  const reason = typeof body["reason"] === "string" ? body["reason"] : "";
  return new KubeError(status, reason, message);
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => {
      resolve(
        chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"),
      );
    });
    response.on("error", reject);
  });
}

/**
 * What client-node's applyToHTTPSOptions fills in (a subset of https.RequestOptions). PEM comes
 * as Buffers from kubeconfig files and data, as strings from exec plugins.
 */
interface ConnectionOptions {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers?: Record<string, string>;
  auth?: string;
  agent?: http.Agent;
}

/** The credentials in use and the connection pools built for their TLS material. */
interface Auth {
  readonly headers: Record<string, string>;
  readonly options: ConnectionOptions;
  /** Requests; watches get their own agent (each holds a connection for its duration). */
  readonly agent: http.Agent;
  readonly watchAgent: http.Agent;
  readonly at: number;
}

function sameTls(a: ConnectionOptions, b: ConnectionOptions): boolean {
  const equal = (x: Buffer | string | undefined, y: Buffer | string | undefined): boolean =>
    x === undefined || y === undefined ? x === y : Buffer.from(x).equals(Buffer.from(y));
  return (
    equal(a.ca, b.ca) &&
    equal(a.cert, b.cert) &&
    equal(a.key, b.key) &&
    a.rejectUnauthorized === b.rejectUnauthorized &&
    a.servername === b.servername
  );
}

/**
 * The kubeconfig's credentials (client certificates, bearer tokens, a token file read again,
 * exec plugins: whatever client-node's applyToHTTPSOptions supports), read again every
 * AUTH_REFRESH_MS, with the agents that carry them. Rotated credentials in headers (tokens) keep
 * the agents; new TLS material gets new ones.
 */
class Credentials {
  readonly #config: KubeConfig;
  readonly #secure: boolean;
  readonly #proxy: boolean;
  readonly #maxConnections: number;
  #current: Auth | undefined;
  #refreshing: Promise<Auth> | undefined;

  constructor(config: KubeConfig, secure: boolean, proxy: boolean, maxConnections: number) {
    this.#config = config;
    this.#secure = secure;
    this.#proxy = proxy;
    this.#maxConnections = maxConnections;
  }

  /** The current credentials; read again (once, whoever asks) when they are older than AUTH_REFRESH_MS. */
  get(): Auth | Promise<Auth> {
    if (this.#current !== undefined && Date.now() - this.#current.at < AUTH_REFRESH_MS) return this.#current;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Destroys the agents' connections; the next get() builds new ones. */
  close(): void {
    this.#current?.agent.destroy();
    this.#current?.watchAgent.destroy();
    this.#current = undefined;
  }

  async #refresh(): Promise<Auth> {
    const options: ConnectionOptions = {};
    await this.#config.applyToHTTPSOptions(options);
    const headers: Record<string, string> = { ...options.headers };
    if (options.auth !== undefined)
      headers["authorization"] = `Basic ${Buffer.from(options.auth).toString("base64")}`;
    const previous = this.#current;
    const agents =
      previous !== undefined && sameTls(previous.options, options)
        ? { agent: previous.agent, watchAgent: previous.watchAgent }
        : this.#agentsFor(options);
    // Replaced agents are left to drain: their requests and watches finish on the connections
    // they have, and idle connections close after the agents' 30 s timeout.
    this.#current = { headers, options, ...agents, at: Date.now() };
    return this.#current;
  }

  #agentsFor(options: ConnectionOptions): { agent: http.Agent; watchAgent: http.Agent } {
    // A proxy: client-node's own agent for it (HTTP CONNECT or SOCKS), without pooling limits.
    if (this.#proxy && options.agent !== undefined)
      return { agent: options.agent, watchAgent: options.agent };
    // A secure context rather than ca/cert/key: https.Agent names its connection pools by
    // concatenating those options, so PEM buffers would be turned into strings on every request.
    const tls = {
      secureContext: createSecureContext({
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
      }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    };
    // `timeout` closes connections idle for 30 s; requests set their own while in use.
    const pool = { keepAlive: true, maxFreeSockets: 16, scheduling: "lifo", timeout: 30_000 } as const;
    const make = (maxSockets: number): http.Agent =>
      this.#secure
        ? new https.Agent({ ...pool, maxSockets, ...tls })
        : new http.Agent({ ...pool, maxSockets });
    return { agent: make(this.#maxConnections), watchAgent: make(Infinity) };
  }
}

/**
 * At most `limit` requests in flight; the others wait here, before anything is built for them
 * (a queued ClientRequest would hold its headers and buffers for as long as it waits).
 */
class Slots {
  readonly #limit: number;
  #inUse = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Undefined when a slot is free at once (no promise, no microtask). */
  acquire(): Promise<void> | undefined {
    if (this.#inUse < this.#limit) {
      this.#inUse += 1;
      return undefined;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#inUse -= 1;
    else next();
  }
}

/**
 * Calls `onEvent` with each event of a watch response (one JSON object per line) as its chunks
 * arrive; resolves when the response ends (or `signal` ended it), rejects when it breaks.
 */
function readEvents(
  response: IncomingMessage,
  onEvent: (event: Json) => void,
  signal: AbortSignal,
): Promise<void> {
  // Lines are split as bytes; a line spanning chunks is joined once complete. Flowing mode: each
  // chunk is handled as it arrives and nothing is buffered.
  let partial: Buffer[] = [];
  const onChunk = (chunk: Buffer): void => {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      let line: Buffer = chunk.subarray(start, newline);
      if (partial.length > 0) {
        line = Buffer.concat([...partial, line]);
        partial = [];
      }
      start = newline + 1;
      if (line.length > 0) onEvent(JSON.parse(line.toString("utf8")) as Json);
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  };
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error === undefined || signal.aborted) resolve();
      else reject(error);
    };
    response.on("data", (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (error) {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    });
    response.on("end", () => {
      settle();
    });
    response.on("error", (error: Error) => {
      settle(error);
    });
    response.on("close", () => {
      settle(response.complete || signal.aborted ? undefined : new Error("watch connection closed"));
    });
  });
}

/** The KubeClient over node:http(s) with keep-alive agents (see the top of this file). */
class HttpKubeClient implements KubeClient {
  readonly #base: URL;
  readonly #basePath: string;
  readonly #secure: boolean;
  readonly #credentials: Credentials;
  readonly #slots: Slots;
  #requests = 0;
  #closed = false;
  readonly #requestIdleMs: number;

  constructor(config: KubeConfig, options: KubeClientOptions) {
    this.#requestIdleMs = options.requestIdleMs ?? 70_000;
    const cluster = config.getCurrentCluster();
    const server = cluster?.server;
    if (cluster === null || server === undefined)
      throw new Error("the kubeconfig has no current cluster: set a current context");
    this.#base = new URL(server.replace(/\/$/, ""));
    this.#basePath = this.#base.pathname === "/" ? "" : this.#base.pathname;
    this.#secure = this.#base.protocol === "https:";
    const maxConnections = options.maxConnections ?? 16;
    this.#slots = new Slots(maxConnections);
    this.#credentials = new Credentials(config, this.#secure, cluster.proxyUrl !== undefined, maxConnections);
  }

  get requests(): number {
    return this.#requests;
  }

  async request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    options: RequestOptions = {},
  ): Promise<KubeResponse> {
    if (this.#closed) throw new Error("the Kubernetes client is closed");
    const auth = await this.#credentials.get();
    const payload = options.json ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const headers: Record<string, string> = { accept: options.accept ?? "application/json" };
    if (payload !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    this.#requests += 1;
    await this.#slots.acquire();
    let response: IncomingMessage;
    let text: string;
    try {
      // A hung request would hold a worker: the API server answers within its own 60 s.
      response = await this.#send(
        auth,
        auth.agent,
        method,
        this.#path(path, options.query),
        headers,
        payload,
        this.#requestIdleMs,
      );
      text = await readAll(response);
    } finally {
      this.#slots.release();
    }
    const status = response.statusCode ?? 0;
    if (status >= 400) throw kubeErrorFrom(status, response.statusMessage ?? "", text);
    let body: Json = {};
    if (text !== "") {
      try {
        body = JSON.parse(text) as Json;
      } catch {
        body = { message: text };
      }
    }
    return { status, body };
  }

  async watch(
    path: string,
    query: Readonly<Record<string, string | undefined>>,
    onEvent: (event: Json) => void,
    signal: AbortSignal,
    accept = "application/json",
  ): Promise<void> {
    if (this.#closed) return;
    const auth = await this.#credentials.get();
    this.#requests += 1;
    let response: IncomingMessage;
    try {
      response = await this.#send(
        auth,
        auth.watchAgent,
        "GET",
        this.#path(path, { ...query, watch: "true" }),
        { accept },
        undefined,
        // Between chunks: the server ends a watch after its timeoutSeconds (< 30 s here) and
        // sends bookmarks; silence for a minute means the connection is gone.
        60_000,
        signal,
      );
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    const status = response.statusCode ?? 0;
    if (status >= 400) throw kubeErrorFrom(status, response.statusMessage ?? "", await readAll(response));
    await readEvents(response, onEvent, signal);
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#credentials.close();
    return Promise.resolve();
  }

  #path(path: string, query: Readonly<Record<string, string | undefined>> = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
    const search = params.toString();
    return search === "" ? this.#basePath + path : `${this.#basePath}${path}?${search}`;
  }

  /** Sends a request; `idleMs` ends it when its connection carries nothing for that long. */
  #send(
    auth: Auth,
    agent: http.Agent,
    method: string,
    path: string,
    headers: Record<string, string>,
    payload: string | undefined,
    idleMs: number,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = (this.#secure ? https : http).request(
        {
          protocol: this.#base.protocol,
          hostname: this.#base.hostname,
          port: this.#base.port,
          method,
          path,
          agent,
          headers: { ...auth.headers, ...headers },
          timeout: idleMs,
          ...(signal === undefined ? {} : { signal }),
        },
        resolve,
      );
      request.on("timeout", () => {
        request.destroy(new Error(`${method} ${path}: no data from the API server for ${idleMs / 1000} s`));
      });
      request.on("error", reject);
      request.end(payload);
    });
  }
}

/** The client of a kubeconfig's current context (throws when it names no cluster). */
export function makeKubeClient(config: KubeConfig, clientOptions: KubeClientOptions = {}): KubeClient {
  return new HttpKubeClient(config, clientOptions);
}

/** A resource as the API server names it (from discovery). */
export interface ApiResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** /api/v1/namespaces/ns/configmaps/name or /apis/group/version/plural */
export function resourcePath(resource: ApiResource, namespace?: string, name?: string): string {
  const base = resource.apiVersion.includes("/")
    ? `/apis/${resource.apiVersion}`
    : `/api/${resource.apiVersion}`;
  const ns =
    resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const suffix = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${base}${ns}/${resource.plural}${suffix}`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
