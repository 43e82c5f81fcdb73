/**
 * The Tenant reconciler: level-triggered, given only a name, it re-reads the Tenant and makes
 * the cluster match it.
 *
 *   read -> validate -> render -> apply (server-side, field manager "vakt", force, owned by the
 *   Tenant) -> prune what carries the tenant's label but is no longer rendered -> status + Events
 *
 * Deletion needs no code here: every child has a controlling ownerReference to the Tenant, so
 * the garbage collector in kube-controller-manager removes them (a cluster-scoped owner works
 * for cluster-scoped Namespaces and namespaced children alike).
 *
 * Status conditions (decided here, shown by `kubectl get tenants -o wide`):
 * - Ready=True  Reconciled: every rendered object of a served kind is applied.
 * - Ready=False InvalidSpec: the spec has errors; nothing was applied or pruned (a typo must
 *   not delete a tenant's namespaces). Not retried until the spec changes.
 * - Ready=False ApplyFailed: the API server refused some objects; retried with backoff.
 * - Degraded=True with the same reason and a precise message for the two failures above, or
 *   Degraded=True MissingCRDs while Ready stays True: kinds whose CRD is not installed
 *   (cert-manager, Velero, ...) are skipped and listed in status.skippedKinds. The guardrails
 *   that can be applied are in force; what is missing is visible, not fatal. Such tenants are
 *   re-checked every 30 s so that installing the CRD later is picked up.
 * - Degraded=False AsExpected otherwise.
 */
import type { Logger } from "pino";
import type { KubeObject } from "../engine/types.ts";
import { renderTenant } from "../tenant/render.ts";
import { TENANT_API_VERSION, TENANT_KIND } from "../tenant/schema.ts";
import type { Tenant, TenantProblem } from "../tenant/types.ts";
import { formatFieldPath, parseTenant } from "../tenant/validate.ts";
import type { DiscoverFn } from "../kube/discovery.ts";
import type { ChildIndex } from "./index.ts";
import { FIELD_MANAGER, childKey, hashOf } from "./index.ts";
import type { ApiResource, Json, KubeClient } from "../kube/client.ts";
import { APPLY_PATCH, KubeError, METADATA_ONLY, errorMessage, resourcePath } from "../kube/client.ts";
import { TENANT, collectionPath } from "../api/registry.ts";

export { FIELD_MANAGER };
export const TENANTS_PATH = collectionPath(TENANT);
/** Namespace of the Events about Tenants (cluster-scoped objects report to "default"). */
export const EVENT_NAMESPACE = "default";
const MISSING_KINDS_RECHECK_MS = 30_000;

/** A write the reconciler is about to make (test seam: count, fail or interrupt writes). */
export interface WriteInfo {
  readonly verb: "apply" | "delete" | "status" | "event";
  readonly tenant: string;
  readonly kind: string;
  readonly name: string;
}

export interface ReconcileDeps {
  readonly client: KubeClient;
  readonly discover: DiscoverFn;
  readonly index: ChildIndex;
  readonly logger: Logger;
  /** Whether this instance may write now (the leader, not closed). Checked before every write. */
  readonly mayWrite: () => boolean;
  readonly onWrite?: (write: WriteInfo) => void;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
  readonly identity?: string;
  readonly now?: () => Date;
  /** Invalidates discovery of a group version after a 404 from it. */
  readonly invalidate?: (apiVersion: string) => void;
  /**
   * The Tenant as the informer last saw it (undefined: not seen, then it is read from the API
   * server). A cached copy may be a moment behind; a newer generation enqueues it again.
   */
  readonly cachedTenant?: (name: string) => Json | undefined;
  /**
   * The status each tenant was last given by this controller (JSON), kept by the caller across
   * reconciles: a cached Tenant may not show our own last write yet, and an unchanged-looking
   * status must still be written when what we wrote last differs.
   */
  readonly statusWritten?: Map<string, string>;
}

export interface ReconcileResult {
  /** Reconcile again after this long even without events. */
  readonly requeueAfterMs?: number;
}

/** Thrown when this instance lost the right to write mid-reconcile; the key is dropped. */
export class NotLeaderError extends Error {
  constructor() {
    super("not the leader (or closing): write skipped");
    this.name = "NotLeaderError";
  }
}

/** Some objects could not be applied: retried with backoff after the status says why. */
export class ApplyFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApplyFailedError";
  }
}

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

interface Summary {
  readonly applied: ReadonlyMap<string, number>;
  readonly namespaceCount: number;
  readonly objectCount: number;
  readonly skippedKinds: readonly string[];
}

function meta(object: KubeObject): { name: string; namespace?: string } {
  return object.metadata as { name: string; namespace?: string };
}

function kindName(apiVersion: string, kind: string): string {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  return group === "" ? kind : `${kind}.${group}`;
}

function describe(object: { kind?: unknown; metadata?: unknown }): string {
  const m = object.metadata as { name?: string; namespace?: string };
  return `${String(object.kind)} ${m.namespace === undefined ? "" : `${m.namespace}/`}${m.name ?? ""}`;
}

export function formatProblems(problems: readonly TenantProblem[]): string {
  return problems.map((problem) => `${formatFieldPath(problem.path)}: ${problem.message}`).join("; ");
}

async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

export async function reconcileTenant(name: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const { client, index } = deps;
  const logger = deps.logger.child({ tenant: name });
  const now = deps.now ?? (() => new Date());
  const guard = (write: WriteInfo): void => {
    if (!deps.mayWrite()) throw new NotLeaderError();
    deps.onWrite?.(write);
  };

  let raw: Json | undefined = deps.cachedTenant?.(name);
  if (raw === undefined) {
    try {
      raw = (await client.request("GET", `${TENANTS_PATH}/${encodeURIComponent(name)}`)).body;
    } catch (error) {
      // Gone: its children carry ownerReferences and the garbage collector removes them.
      if (error instanceof KubeError && error.code === 404) {
        deps.statusWritten?.delete(name);
        return {};
      }
      throw error;
    }
  }
  const tenantObject: Json = raw;
  const metadata = tenantObject["metadata"] as {
    uid: string;
    generation?: number;
    deletionTimestamp?: string;
  };
  if (metadata.deletionTimestamp !== undefined) return {};
  const generation = metadata.generation ?? 0;
  const previous = ((tenantObject["status"] as Json | undefined)?.["conditions"] ?? []) as Condition[];

  const condition = (
    type: string,
    status: Condition["status"],
    reason: string,
    message: string,
  ): Condition => {
    const before = previous.find((c) => c.type === type);
    const unchanged = before !== undefined && before.status === status;
    return {
      type,
      status,
      reason,
      message: message.slice(0, 32_000),
      lastTransitionTime: unchanged
        ? before.lastTransitionTime
        : now()
            .toISOString()
            .replace(/\.\d{3}Z$/, "Z"),
      observedGeneration: generation,
    };
  };

  const writeStatus = async (conditions: Condition[], summary: Summary | undefined): Promise<void> => {
    const status: Json = { observedGeneration: generation, conditions };
    if (summary !== undefined) {
      status["namespaceCount"] = summary.namespaceCount;
      status["objectCount"] = summary.objectCount;
      status["children"] = Object.fromEntries([...summary.applied].sort(([a], [b]) => a.localeCompare(b)));
      status["skippedKinds"] = [...summary.skippedKinds];
    }
    const current = tenantObject["status"] as Json | undefined;
    const same = (key: string): boolean => JSON.stringify(current?.[key]) === JSON.stringify(status[key]);
    const serialized = JSON.stringify(status);
    const lastWritten = deps.statusWritten?.get(name);
    // Level-triggered but quiet: an unchanged status is not written again.
    if (
      current !== undefined &&
      Object.keys(status).every(same) &&
      (lastWritten === undefined || lastWritten === serialized)
    )
      return;
    guard({ verb: "status", tenant: name, kind: TENANT_KIND, name });
    try {
      await client.request("PATCH", `${TENANTS_PATH}/${encodeURIComponent(name)}/status`, {
        query: { fieldManager: FIELD_MANAGER, force: "true", fieldValidation: "Ignore" },
        contentType: APPLY_PATCH,
        body: { apiVersion: TENANT_API_VERSION, kind: TENANT_KIND, metadata: { name }, status },
      });
      deps.statusWritten?.set(name, serialized);
    } catch (error) {
      // Deleted while we worked: nothing left to report on.
      if (!(error instanceof KubeError && error.code === 404)) throw error;
    }
  };

  const event = async (type: "Normal" | "Warning", reason: string, message: string): Promise<void> => {
    try {
      guard({ verb: "event", tenant: name, kind: "Event", name: reason });
      const time = now().toISOString();
      await client.request("POST", `/api/v1/namespaces/${EVENT_NAMESPACE}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${name}.`, namespace: EVENT_NAMESPACE },
          involvedObject: { apiVersion: TENANT_API_VERSION, kind: TENANT_KIND, name, uid: metadata.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: "vakt" },
          reportingComponent: "vakt.dev/tenant-controller",
          reportingInstance: deps.identity ?? "vakt",
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      // An Event is a courtesy: failing to record one must not fail the reconcile.
      logger.warn({ reason, error: errorMessage(error) }, "could not record event");
    }
  };

  // 1. Validate: the CRD schema has already checked structure; this adds the semantic checks.
  const parsed = parseTenant(tenantObject);
  const errors = parsed.problems.filter((problem) => problem.severity === "error");
  if (parsed.tenant === undefined || errors.length > 0) {
    const message = `spec is invalid, nothing was applied: ${formatProblems(errors)}`;
    logger.warn({ problems: errors.length, message }, "tenant spec invalid");
    const wasInvalid = previous.some(
      (c) => c.type === "Degraded" && c.reason === "InvalidSpec" && c.message === message,
    );
    await writeStatus(
      [
        condition("Ready", "False", "InvalidSpec", message),
        condition("Degraded", "True", "InvalidSpec", message),
      ],
      undefined,
    );
    if (!wasInvalid) await event("Warning", "InvalidSpec", message);
    return {};
  }
  const tenant: Tenant = parsed.tenant;
  const warnings = parsed.problems.filter((problem) => problem.severity === "warning");

  // 2. Render and sort out which kinds the API server serves.
  const { objects } = renderTenant(tenant);
  const resources = new Map<KubeObject, ApiResource>();
  const skipped = new Map<string, number>();
  for (const object of objects) {
    const apiVersion = String(object.apiVersion);
    const kind = String(object.kind);
    const resource = await deps.discover(apiVersion, kind);
    if (resource === undefined) {
      const key = kindName(apiVersion, kind);
      skipped.set(key, (skipped.get(key) ?? 0) + 1);
    } else resources.set(object, resource);
  }

  // 3. Apply: namespaces first (everything else lives in them), then the rest in parallel.
  const owner = {
    apiVersion: TENANT_API_VERSION,
    kind: TENANT_KIND,
    name,
    uid: metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const applied = new Map<string, number>();
  const failures: string[] = [];
  const rendered = new Set<string>();
  let created = 0;
  let corrected = 0;
  const apply = async (object: KubeObject): Promise<void> => {
    const resource = resources.get(object);
    if (resource === undefined) return;
    const { name: childName, namespace } = meta(object);
    const key = childKey(resource.apiVersion, resource.kind, namespace, childName);
    const body = { ...object, metadata: { ...(object.metadata as Json), ownerReferences: [owner] } };
    const json = JSON.stringify(body);
    const hash = hashOf(json);
    const kindKey = kindName(resource.apiVersion, resource.kind);
    // Applied before, and nothing seen since changed it: the same apply would be a no-op that
    // still costs the API server a request (most reconciles after the first: a requeue for a
    // missing CRD, one drifted child among twenty).
    if (index.upToDate(name, key, hash)) {
      applied.set(kindKey, (applied.get(kindKey) ?? 0) + 1);
      return;
    }
    guard({ verb: "apply", tenant: name, kind: resource.kind, name: childName });
    try {
      const response = await client.request("PATCH", resourcePath(resource, namespace, childName), {
        // fieldValidation=Ignore: the default (Warn) makes the API server decode every apply a
        // second time to find duplicate fields for warnings that nobody reads here. Rendered
        // third-party objects are checked against their CRD schemas by the unit tests
        // (src/tenant/thirdparty.test.ts), and an invalid value is still refused (422).
        query: { fieldManager: FIELD_MANAGER, force: "true", fieldValidation: "Ignore" },
        contentType: APPLY_PATCH,
        json,
        // Only metadata back: the index needs managedFields, not the object.
        accept: METADATA_ONLY,
      });
      const drifted = index.drifted(name, key);
      index.applied(response.body, hash, resource);
      if (response.status === 201) created += 1;
      else if (drifted) corrected += 1;
      applied.set(kindKey, (applied.get(kindKey) ?? 0) + 1);
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      if (
        error instanceof KubeError &&
        error.code === 404 &&
        error.reason === "NotFound" &&
        !/namespaces? "/.test(error.message)
      )
        deps.invalidate?.(resource.apiVersion);
      failures.push(`${describe(object)}: ${errorMessage(error)}`);
    }
  };
  for (const object of objects) {
    const resource = resources.get(object);
    if (resource !== undefined)
      rendered.add(childKey(resource.apiVersion, resource.kind, meta(object).namespace, meta(object).name));
  }
  const concurrency = deps.applyConcurrency ?? 8;
  await mapLimit(
    objects.filter((o) => o.kind === "Namespace"),
    concurrency,
    apply,
  );
  await mapLimit(
    objects.filter((o) => o.kind !== "Namespace"),
    concurrency,
    apply,
  );

  // 4. Prune what this Tenant owns but no longer renders (only after a clean apply: a half
  //    applied tenant keeps its old objects until the new ones are in place).
  let pruned = 0;
  if (failures.length === 0) {
    const stale = index
      .children(name)
      .filter(([key, entry]) => !rendered.has(key) && !entry.deleting && entry.ownerUid === metadata.uid);
    await mapLimit(stale, concurrency, async ([key, entry]) => {
      const resource = await deps.discover(entry.apiVersion, entry.kind);
      if (resource === undefined) return;
      guard({ verb: "delete", tenant: name, kind: entry.kind, name: entry.name });
      try {
        await client.request("DELETE", resourcePath(resource, entry.namespace, entry.name), {
          query: { propagationPolicy: "Background" },
        });
        pruned += 1;
        logger.info({ kind: entry.kind, namespace: entry.namespace, name: entry.name }, "pruned child");
      } catch (error) {
        if (error instanceof KubeError && error.code === 404) index.delete(name, key);
        else
          failures.push(
            `pruning ${entry.kind} ${entry.namespace ?? ""}/${entry.name}: ${errorMessage(error)}`,
          );
      }
    });
  }

  // 5. Status and Events.
  const skippedKinds = [...skipped.keys()].sort();
  const summary: Summary = {
    applied,
    namespaceCount: tenant.spec.namespaces.length,
    objectCount: objects.length,
    skippedKinds,
  };
  const appliedCount = [...applied.values()].reduce((a, b) => a + b, 0);
  const warningText = warnings.length > 0 ? ` Warnings: ${formatProblems(warnings)}` : "";
  if (failures.length > 0) {
    const message = `${failures.length} of ${resources.size} objects could not be applied: ${failures.join("; ")}`;
    await writeStatus(
      [
        condition("Ready", "False", "ApplyFailed", message),
        condition("Degraded", "True", "ApplyFailed", message),
      ],
      summary,
    );
    await event("Warning", "ApplyFailed", message);
    logger.warn({ failures: failures.length, message }, "tenant apply failed");
    throw new ApplyFailedError(message);
  }
  const conditions: Condition[] = [];
  if (skippedKinds.length > 0) {
    const list = skippedKinds.map((kind) => `${kind} (${skipped.get(kind) ?? 0})`).join(", ");
    const message =
      `${appliedCount} objects applied; skipped because their CRD is not installed: ${list}. ` +
      "Install the operators' CRDs; vakt applies the skipped objects within a minute.";
    conditions.push(
      condition("Ready", "True", "Reconciled", message + warningText),
      condition("Degraded", "True", "MissingCRDs", message),
    );
  } else {
    conditions.push(
      condition("Ready", "True", "Reconciled", `${appliedCount} objects applied.${warningText}`),
      condition("Degraded", "False", "AsExpected", "All rendered objects are applied."),
    );
  }
  await writeStatus(conditions, summary);
  if (created > 0) await event("Normal", "Created", `created ${created} objects`);
  if (corrected > 0)
    await event("Normal", "DriftCorrected", `restored ${corrected} objects changed outside vakt`);
  if (pruned > 0) await event("Normal", "Pruned", `deleted ${pruned} objects no longer in the spec`);
  logger.debug(
    { applied: appliedCount, created, corrected, pruned, skipped: skippedKinds },
    "tenant reconciled",
  );
  return skippedKinds.length > 0 ? { requeueAfterMs: MISSING_KINDS_RECHECK_MS } : {};
}
