/**
 * A part of `vakt run`: the admission webhook, the Tenant controller, and later background audit,
 * backup copies and restore drills, fleet provisioning. The manager (manager/manager.ts) starts
 * the parts `--parts` selects, gives them one client, one metrics registry and one logger, runs
 * one leader election for the parts that need it, and serves one /metrics, /healthz and /readyz
 * that reflect them all (controller-runtime's Manager and Runnable are the model).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { KubeClient } from "./client.ts";

export interface PartContext {
  /** The one client of the process (keep-alive, authenticated from the kubeconfig). */
  readonly client: KubeClient;
  readonly kubeconfig: KubeConfig;
  /** A child logger with `part: <name>`. */
  readonly logger: Logger;
  /** The one metrics registry; a part registers its metrics here, prefixed `vakt_`. */
  readonly registry: Registry;
  /**
   * For parts with `leaderElection: true`: whether this replica holds the Lease right now. A
   * part checks it before every write; the manager stops the part when the Lease is lost.
   */
  isLeader(): boolean;
  /**
   * Whether every started part is ready: what the manager's /readyz answers. A part that serves
   * the probes on a listener of its own (`servesProbes`) answers /readyz with it.
   */
  allReady(): boolean;
  /** What started parts report without being unready (see `Part.conditions`), each prefixed with its part's name. */
  allConditions(): readonly string[];
}

export interface Part {
  /** The name `--parts` selects it by: webhook, controller, ... */
  readonly name: string;
  /** Started only on the replica that holds the Lease (writers); false for servers such as the webhook. */
  readonly leaderElection: boolean;
  /**
   * The part serves /healthz, /readyz (with `context.allReady`) and /metrics (from
   * `context.registry`) on a listener of its own, as the webhook does on its HTTPS port; without
   * such a part the manager serves them on a plain-HTTP probe port.
   */
  readonly servesProbes?: boolean;
  /**
   * Conditions worth saying on /readyz that do not make the part unready, e.g. "evidence
   * buffering: 120 records waiting". A degraded audit must not take the webhook out of its
   * Service, so these are reported, not failed on.
   */
  conditions?(): readonly string[];
  /**
   * Resolves once the part runs (not when it ends); rejects if it cannot start. A leader part is
   * started again when this replica wins the Lease back after losing it: metrics are registered
   * once (on the first start, or looked up with `registry.getSingleMetric`), not at every start.
   */
  start(context: PartContext): Promise<void>;
  /** Whether the part serves: /readyz is 200 only when every started part is ready. */
  ready(): boolean;
  /**
   * Stops the part and releases what it holds. `crash: true` leaves shared state as a killed
   * process would (tests of takeover use it).
   */
  stop(options?: { readonly crash?: boolean }): Promise<void>;
}
