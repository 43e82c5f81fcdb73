/**
 * What a reconcile reports about one Tenant: its status (conditions with observedGeneration,
 * counts of what was applied, the kinds skipped) and Events. The reasons are decided by the
 * reconciler (see reconciler.ts); this writes them, quietly: an unchanged status is not written
 * again, and an Event that cannot be recorded does not fail the reconcile.
 */
import type { Logger } from "pino";
import { TENANT_API_VERSION, TENANT_KIND } from "../../tenant/schema.ts";
import type { ApiResource, Json, KubeClient } from "../../kube/client.ts";
import { KubeError, errorMessage } from "../../kube/client.ts";
import { apply } from "../../kube/apply.ts";
import { NotLeaderError } from "../controller.ts";
import { API_VERSION, TENANT, collectionPath } from "../../api/registry.ts";

export const TENANTS_PATH = collectionPath(TENANT);
/** Where Tenants are served (the CRD is vakt's own: no discovery needed). */
const TENANT_RESOURCE: ApiResource = {
  apiVersion: API_VERSION,
  kind: TENANT.kind,
  plural: TENANT.plural,
  namespaced: false,
};
/** Namespace of the Events about Tenants (cluster-scoped objects report to "default"). */
export const EVENT_NAMESPACE = "default";

/** A write the reconciler is about to make (test seam: count, fail or interrupt writes). */
export interface WriteInfo {
  readonly verb: "apply" | "delete" | "status" | "event";
  readonly tenant: string;
  readonly kind: string;
  readonly name: string;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** What was applied, for status. */
export interface Summary {
  readonly applied: ReadonlyMap<string, number>;
  readonly namespaceCount: number;
  readonly objectCount: number;
  readonly skippedKinds: readonly string[];
}

export interface ReporterDeps {
  readonly client: KubeClient;
  readonly identity?: string;
  readonly now?: () => Date;
  /** See TenantReconcilerDeps.statusWritten. */
  readonly statusWritten?: Map<string, string>;
}

/** Status and Events of one Tenant in one reconcile. */
export class TenantReporter {
  readonly #deps: ReporterDeps;
  readonly #name: string;
  readonly #object: Json;
  readonly #uid: string;
  readonly #generation: number;
  readonly #logger: Logger;
  /** Checks leadership (and calls the test seam) before a write. */
  readonly #guard: (write: WriteInfo) => void;
  /** The conditions the Tenant had when read. */
  readonly previous: readonly Condition[];

  constructor(deps: ReporterDeps, object: Json, logger: Logger, guard: (write: WriteInfo) => void) {
    const metadata = object["metadata"] as { name: string; uid: string; generation?: number };
    this.#deps = deps;
    this.#name = metadata.name;
    this.#object = object;
    this.#uid = metadata.uid;
    this.#generation = metadata.generation ?? 0;
    this.#logger = logger;
    this.#guard = guard;
    this.previous = ((object["status"] as Json | undefined)?.["conditions"] ?? []) as Condition[];
  }

  #now(): Date {
    return this.#deps.now?.() ?? new Date();
  }

  /** A condition for the current generation; its transition time moves only when its status does. */
  condition(type: string, status: Condition["status"], reason: string, message: string): Condition {
    const before = this.previous.find((c) => c.type === type);
    const unchanged = before !== undefined && before.status === status;
    return {
      type,
      status,
      reason,
      message: message.slice(0, 32_000),
      lastTransitionTime: unchanged
        ? before.lastTransitionTime
        : this.#now()
            .toISOString()
            .replace(/\.\d{3}Z$/, "Z"),
      observedGeneration: this.#generation,
    };
  }

  async writeStatus(conditions: Condition[], summary: Summary | undefined): Promise<void> {
    const name = this.#name;
    const status: Json = { observedGeneration: this.#generation, conditions };
    if (summary !== undefined) {
      status["namespaceCount"] = summary.namespaceCount;
      status["objectCount"] = summary.objectCount;
      status["children"] = Object.fromEntries([...summary.applied].sort(([a], [b]) => a.localeCompare(b)));
      status["skippedKinds"] = [...summary.skippedKinds];
    }
    const current = this.#object["status"] as Json | undefined;
    const same = (key: string): boolean => JSON.stringify(current?.[key]) === JSON.stringify(status[key]);
    const serialized = JSON.stringify(status);
    const lastWritten = this.#deps.statusWritten?.get(name);
    // Level-triggered but quiet: an unchanged status is not written again.
    if (
      current !== undefined &&
      Object.keys(status).every(same) &&
      (lastWritten === undefined || lastWritten === serialized)
    )
      return;
    this.#guard({ verb: "status", tenant: name, kind: TENANT_KIND, name });
    try {
      await apply(
        this.#deps.client,
        { apiVersion: TENANT_API_VERSION, kind: TENANT_KIND, metadata: { name }, status },
        { resource: TENANT_RESOURCE, subresource: "status", fieldValidation: "Ignore" },
      );
      this.#deps.statusWritten?.set(name, serialized);
    } catch (error) {
      // Deleted while we worked: nothing left to report on.
      if (!(error instanceof KubeError && error.code === 404)) throw error;
    }
  }

  async event(type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const name = this.#name;
    try {
      this.#guard({ verb: "event", tenant: name, kind: "Event", name: reason });
      const time = this.#now().toISOString();
      await this.#deps.client.request("POST", `/api/v1/namespaces/${EVENT_NAMESPACE}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${name}.`, namespace: EVENT_NAMESPACE },
          involvedObject: { apiVersion: TENANT_API_VERSION, kind: TENANT_KIND, name, uid: this.#uid },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: "vakt" },
          reportingComponent: "vakt.dev/tenant-controller",
          reportingInstance: this.#deps.identity ?? "vakt",
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      // An Event is a courtesy: failing to record one must not fail the reconcile.
      this.#logger.warn({ reason, error: errorMessage(error) }, "could not record event");
    }
  }
}
