/**
 * For the transition only: the Tenant controller part under a Lease of its own, with the API
 * `vakt run` used before it ran parts under manager/manager.ts. It goes once nothing calls it.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { makeKubeClient } from "../../kube/client.ts";
import { LeaderElector } from "../../kube/leader.ts";
import { TenantControllerPart } from "./part.ts";
import type { TenantControllerOptions } from "./part.ts";

export interface ElectedTenantControllerOptions extends TenantControllerOptions {
  readonly kubeconfig: KubeConfig;
  readonly logger: Logger;
  /** This replica's name in the Lease (e.g. the pod name). */
  readonly identity: string;
  readonly leaseNamespace: string;
  /** Default "vakt-tenant-controller". */
  readonly leaseName?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export interface TenantController {
  isLeader(): boolean;
  /** API requests issued (including watches). */
  readonly requests: number;
  /** Reconciles run (finished or failed). */
  readonly reconciles: number;
  /** Stops; with `releaseLease: false` (a crash) the Lease is left to expire. */
  close(options?: { readonly releaseLease?: boolean }): Promise<void>;
}

export function startTenantController(options: ElectedTenantControllerOptions): Promise<TenantController> {
  const client = makeKubeClient(options.kubeconfig);
  const part = new TenantControllerPart(options);
  let closed = false;
  const elector: LeaderElector = new LeaderElector({
    client,
    namespace: options.leaseNamespace,
    name: options.leaseName ?? "vakt-tenant-controller",
    identity: options.identity,
    logger: options.logger,
    ...(options.leaseDurationMs === undefined ? {} : { leaseDurationMs: options.leaseDurationMs }),
    ...(options.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: options.renewDeadlineMs }),
    ...(options.retryPeriodMs === undefined ? {} : { retryPeriodMs: options.retryPeriodMs }),
    onStartedLeading: () => {
      if (!closed) void part.start(context);
    },
    onStoppedLeading: () => {
      void part.stop();
    },
  });
  const context = {
    client,
    kubeconfig: options.kubeconfig,
    logger: options.logger,
    registry: new Registry(),
    isLeader: () => elector.isLeader(),
    allReady: () => part.ready(),
  };
  elector.start();
  return Promise.resolve({
    isLeader: () => elector.isLeader() && part.ready(),
    get requests() {
      return client.requests;
    },
    get reconciles() {
      return part.reconciles;
    },
    async close(closeOptions = {}) {
      closed = true;
      // Stop writing first (workers check before each write), then give up the Lease.
      const acting = part.stop();
      await elector.stop(closeOptions.releaseLease ?? true);
      await acting;
      await client.close?.();
    },
  });
}
