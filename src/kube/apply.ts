/**
 * Server-side apply with vakt's one field manager. Every object vakt writes (CRDs, webhook
 * configurations, Tenant children and status) is applied as FIELD_MANAGER, so the API server's
 * managedFields say which fields vakt owns and a second writer is a conflict, not a silent
 * overwrite (force only takes fields back from managers that are not vakt).
 */
import type { ApiResource, Json, KubeClient, KubeResponse } from "./client.ts";
import { APPLY_PATCH, KubeError, errorMessage, resourcePath } from "./client.ts";
import { makeDiscovery } from "./discovery.ts";
import type { Discovery } from "./discovery.ts";

/** The field manager of every write vakt makes. */
export const FIELD_MANAGER = "vakt";

export interface ApplyOptions {
  /** Where the object is served; looked up through discovery when absent. */
  readonly resource?: ApiResource;
  /** Discovery to look the kind up in (default: one per client, kept for the client's life). */
  readonly discovery?: Discovery;
  /** Apply to a subresource (a Tenant's status) instead of the object. */
  readonly subresource?: "status";
  /** Take fields from other managers (default true: vakt's desired state wins). */
  readonly force?: boolean;
  /** How the server treats unknown fields (default: the server's, which warns). */
  readonly fieldValidation?: "Ignore" | "Warn" | "Strict";
  /** The object already serialized as JSON (a caller that hashed it), sent instead of `object`. */
  readonly json?: string;
  /** Accept header of the answer, e.g. METADATA_ONLY when only managedFields are read. */
  readonly accept?: string;
}

/**
 * A failed apply, naming the object (kind namespace/name). A KubeError, so callers that look at
 * the API server's status (404, 409) keep doing so; code 0 when no answer came (a broken
 * connection, an object without a name, a kind that is not served).
 */
export class ApplyError extends KubeError {
  /** e.g. "CustomResourceDefinition tenants.vakt.dev" or "Role team-a/vakt". */
  readonly object: string;
  constructor(object: string, code: number, reason: string, message: string, cause?: unknown) {
    super(code, reason, message);
    this.name = "ApplyError";
    this.object = object;
    if (cause !== undefined) this.cause = cause;
  }
}

/** "Kind namespace/name" of an object as a person reads it in an error. */
export function describeObject(object: Json): string {
  const kind = typeof object["kind"] === "string" && object["kind"] !== "" ? object["kind"] : "(no kind)";
  const metadata = (object["metadata"] ?? {}) as { name?: unknown; namespace?: unknown };
  const name = typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : "(no name)";
  return typeof metadata.namespace === "string" && metadata.namespace !== ""
    ? `${kind} ${metadata.namespace}/${name}`
    : `${kind} ${name}`;
}

// One discovery per client, so that repeated applies do not read discovery again.
const discoveries = new WeakMap<KubeClient, Discovery>();

function discoveryOf(client: KubeClient): Discovery {
  let discovery = discoveries.get(client);
  if (discovery === undefined) {
    discovery = makeDiscovery(client);
    discoveries.set(client, discovery);
  }
  return discovery;
}

/**
 * Applies `object` (with apiVersion, kind and metadata.name) as FIELD_MANAGER and returns the
 * server's answer (201: created, 200: updated or unchanged). Throws an ApplyError that names the
 * object: when it lacks apiVersion, kind or name, when its kind is not served (its CRD is not
 * installed), or when the API server refuses it.
 */
export async function apply(
  client: KubeClient,
  object: Json,
  options: ApplyOptions = {},
): Promise<KubeResponse> {
  const what = describeObject(object);
  const apiVersion = object["apiVersion"];
  const kind = object["kind"];
  const metadata = (object["metadata"] ?? {}) as { name?: unknown; namespace?: unknown };
  if (typeof apiVersion !== "string" || apiVersion === "" || typeof kind !== "string" || kind === "")
    throw new ApplyError(what, 0, "Invalid", `cannot apply ${what}: it needs apiVersion and kind`);
  if (typeof metadata.name !== "string" || metadata.name === "")
    throw new ApplyError(what, 0, "Invalid", `cannot apply ${what}: it needs metadata.name`);
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : undefined;
  let resource = options.resource;
  if (resource === undefined) {
    const discovery = options.discovery ?? discoveryOf(client);
    try {
      resource = await discovery.resourceFor(apiVersion, kind);
    } catch (error) {
      throw new ApplyError(
        what,
        error instanceof KubeError ? error.code : 0,
        error instanceof KubeError ? error.reason : "",
        `cannot apply ${what}: discovery of ${apiVersion} failed: ${errorMessage(error)}`,
        error,
      );
    }
    if (resource === undefined)
      throw new ApplyError(
        what,
        0,
        "NotServed",
        `cannot apply ${what}: the API server does not serve ${kind} in ${apiVersion} (is its CRD installed?)`,
      );
  }
  if (resource.namespaced && namespace === undefined)
    throw new ApplyError(
      what,
      0,
      "Invalid",
      `cannot apply ${what}: ${kind} is namespaced; set metadata.namespace`,
    );
  const path = resourcePath(resource, namespace, metadata.name);
  try {
    return await client.request(
      "PATCH",
      options.subresource === undefined ? path : `${path}/${options.subresource}`,
      {
        query: {
          fieldManager: FIELD_MANAGER,
          force: String(options.force ?? true),
          fieldValidation: options.fieldValidation,
        },
        contentType: APPLY_PATCH,
        ...(options.json === undefined ? { body: object } : { json: options.json }),
        ...(options.accept === undefined ? {} : { accept: options.accept }),
      },
    );
  } catch (error) {
    if (error instanceof KubeError) {
      // A 404 from a resource discovery said is served: the CRD went away; look again next time.
      if (error.code === 404 && options.resource === undefined)
        (options.discovery ?? discoveryOf(client)).invalidate(apiVersion);
      throw new ApplyError(
        what,
        error.code,
        error.reason,
        `cannot apply ${what}${options.subresource === undefined ? "" : ` (${options.subresource})`}: ${error.message}`,
        error,
      );
    }
    throw new ApplyError(what, 0, "", `cannot apply ${what}: ${errorMessage(error)}`, error);
  }
}
