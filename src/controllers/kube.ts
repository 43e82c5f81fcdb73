/**
 * A small REST client for the controller. The generated clients of @kubernetes/client-node hide
 * the HTTP status (201 created vs 200 unchanged), cannot server-side apply a status subresource
 * and give no request count; this one does all three with the same authentication (the
 * kubeconfig's headers and TLS dispatcher) and the same HTTP stack (undici) as client-node.
 */
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { fetch } from "undici";

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
  readonly body?: unknown;
  readonly contentType?: string;
}

export interface KubeClient {
  request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    options?: RequestOptions,
  ): Promise<KubeResponse>;
  /** Requests issued so far (every call, failed or not, and watches counted by countExternal). */
  readonly requests: number;
  /** Counts a request made through another client (a watch through client-node's Watch). */
  countExternal(): void;
}

export const APPLY_PATCH = "application/apply-patch+yaml";

export function makeKubeClient(config: KubeConfig): KubeClient {
  const server = config.getCurrentCluster()?.server;
  if (server === undefined) throw new Error("the kubeconfig has no current cluster: set a current context");
  let requests = 0;
  // client-node builds a new undici Agent (a new TLS connection pool) on every
  // applySecurityAuthentication: per request that means a TLS handshake each time and hundreds
  // of MB of pools under load. Reuse one, and refresh it (and the credentials) every minute so
  // rotated tokens and certificates are still picked up.
  let cached:
    | { headers: Record<string, string>; dispatcher: ReturnType<RequestContext["getDispatcher"]>; at: number }
    | undefined;
  const authentication = async (url: URL): Promise<NonNullable<typeof cached>> => {
    if (cached !== undefined && Date.now() - cached.at < 60_000) return cached;
    const context = new RequestContext(url.toString(), HttpMethod.GET);
    await config.applySecurityAuthentication(context);
    cached = { headers: context.getHeaders(), dispatcher: context.getDispatcher(), at: Date.now() };
    return cached;
  };
  return {
    get requests() {
      return requests;
    },
    countExternal() {
      requests += 1;
    },
    async request(method, path, options = {}) {
      const url = new URL(server.replace(/\/$/, "") + path);
      for (const [key, value] of Object.entries(options.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, value);
      const auth = await authentication(url);
      const headers: Record<string, string> = { ...auth.headers, accept: "application/json" };
      if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
      requests += 1;
      const dispatcher = auth.dispatcher;
      const response = await fetch(url, {
        method,
        headers,
        ...(dispatcher === undefined ? {} : { dispatcher }),
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      });
      const text = await response.text();
      let body: Json = {};
      if (text !== "") {
        try {
          body = JSON.parse(text) as Json;
        } catch {
          body = { message: text };
        }
      }
      if (response.status >= 400) {
        const message = typeof body["message"] === "string" ? body["message"] : text || response.statusText;
        const reason = typeof body["reason"] === "string" ? body["reason"] : "";
        throw new KubeError(response.status, reason, message);
      }
      return { status: response.status, body };
    },
  };
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
