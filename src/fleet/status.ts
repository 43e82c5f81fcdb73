/**
 * What the fleet controller reports about one Environment: its status (phase, the Cluster it
 * follows, what was applied, conditions with observedGeneration) and Events. An unchanged status
 * is not written again; an Event that cannot be recorded does not fail the reconcile.
 */
import type { PostureStatus } from "./posture.ts";
import type { Logger } from "pino";
import type { Condition } from "../controllers/tenant/status.ts";
import { NotLeaderError } from "../controllers/controller.ts";
import { apply } from "../kube/apply.ts";
import type { ApiResource, Json, KubeClient } from "../kube/client.ts";
import { KubeError, errorMessage } from "../kube/client.ts";
import { API_VERSION, ENVIRONMENT } from "../api/registry.ts";

export type { Condition };

/** Where Environments are served (vakt's own CRD: no discovery needed). */
export const ENVIRONMENT_RESOURCE: ApiResource = {
  apiVersion: API_VERSION,
  kind: ENVIRONMENT.kind,
  plural: ENVIRONMENT.plural,
  namespaced: false,
};

/** Cluster-scoped objects report their Events here. */
const EVENT_NAMESPACE = "default";

/** A write the reconciler is about to make (test seam: count, fail or interrupt writes). */
export interface WriteInfo {
  readonly verb: "apply" | "delete" | "status" | "event" | "finalizer";
  readonly environment: string;
  readonly kind: string;
  readonly name: string;
}

/** The status fields besides conditions and observedGeneration. */
export interface StatusFields {
  readonly phase: string;
  readonly cluster?: { readonly namespace: string; readonly name: string; readonly phase: string };
  readonly objectCount?: number;
  readonly children?: Readonly<Record<string, number>>;
  readonly posture?: PostureStatus;
}

export interface ReporterDeps {
  readonly client: KubeClient;
  readonly identity?: string;
  readonly now?: () => Date;
  /** The status each Environment was last given (JSON), kept across reconciles: the cache may lag our writes. */
  readonly statusWritten?: Map<string, string>;
}

function second(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class EnvironmentReporter {
  readonly #deps: ReporterDeps;
  readonly #object: Json;
  readonly #name: string;
  readonly #uid: string;
  readonly #generation: number;
  readonly #logger: Logger;
  readonly #guard: (write: WriteInfo) => void;
  readonly #previous: ReadonlyMap<string, Condition>;

  constructor(deps: ReporterDeps, object: Json, logger: Logger, guard: (write: WriteInfo) => void) {
    const metadata = object["metadata"] as { name: string; uid: string; generation?: number };
    this.#deps = deps;
    this.#object = object;
    this.#name = metadata.name;
    this.#uid = metadata.uid;
    this.#generation = metadata.generation ?? 0;
    this.#logger = logger;
    this.#guard = guard;
    const conditions = ((object["status"] as Json | undefined)?.["conditions"] ?? []) as Condition[];
    this.#previous = new Map(conditions.map((c) => [c.type, c]));
  }

  /** The condition the Environment had when read. */
  previous(type: string): Condition | undefined {
    return this.#previous.get(type);
  }

  /** A condition of this generation; its transition time moves only with its status. */
  condition(type: string, status: Condition["status"], reason: string, message: string): Condition {
    const before = this.#previous.get(type);
    const lastTransitionTime =
      before?.status === status ? before.lastTransitionTime : second(this.#deps.now?.() ?? new Date());
    return {
      type,
      status,
      reason,
      message: message.slice(0, 32_000),
      lastTransitionTime,
      observedGeneration: this.#generation,
    };
  }

  async writeStatus(fields: StatusFields, conditions: readonly Condition[]): Promise<void> {
    const status: Json = { observedGeneration: this.#generation, ...fields, conditions };
    const serialized = JSON.stringify(status);
    const current = JSON.stringify(this.#object["status"] ?? null);
    const written = this.#deps.statusWritten?.get(this.#name);
    if (current === serialized && (written === undefined || written === serialized)) return;
    this.#guard({ verb: "status", environment: this.#name, kind: ENVIRONMENT.kind, name: this.#name });
    try {
      await apply(
        this.#deps.client,
        { apiVersion: API_VERSION, kind: ENVIRONMENT.kind, metadata: { name: this.#name }, status },
        { resource: ENVIRONMENT_RESOURCE, subresource: "status", fieldValidation: "Ignore" },
      );
      this.#deps.statusWritten?.set(this.#name, serialized);
    } catch (error) {
      // Gone while we worked: nothing left to report on.
      if (!(error instanceof KubeError && error.code === 404)) throw error;
    }
  }

  async event(type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    try {
      this.#guard({ verb: "event", environment: this.#name, kind: "Event", name: reason });
      const time = (this.#deps.now?.() ?? new Date()).toISOString();
      const involvedObject = {
        apiVersion: API_VERSION,
        kind: ENVIRONMENT.kind,
        name: this.#name,
        uid: this.#uid,
      };
      await this.#deps.client.request("POST", `/api/v1/namespaces/${EVENT_NAMESPACE}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${this.#name}.`, namespace: EVENT_NAMESPACE },
          involvedObject,
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: "vakt" },
          reportingComponent: "vakt.dev/fleet-controller",
          reportingInstance: this.#deps.identity ?? "vakt",
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      this.#logger.warn({ reason, error: errorMessage(error) }, "could not record event");
    }
  }
}
