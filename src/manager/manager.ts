/**
 * The manager of `vakt run` (controller-runtime's Manager is the model): it runs a list of parts
 * (part.ts) with one Kubernetes client, one metrics registry and one logger. Parts without
 * leader election start at once, in order; the others start when this replica wins the one
 * Lease and stop at once when it loses it (they start again if it wins it back). /healthz,
 * /readyz and /metrics are served by a part with a listener of its own (the webhook's HTTPS
 * port) or else on a plain-HTTP probe port (ADR 0017). stop() stops everything in reverse order.
 *
 *   const manager = new Manager({ kubeconfig, parts, lease: { namespace: "vakt-system" } });
 *   await manager.start();
 *   ...
 *   await manager.stop();
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import type { Logger } from "pino";
import { Registry, collectDefaultMetrics } from "prom-client";
import { setting } from "../config/settings.ts";
import type { KubeClient } from "../kube/client.ts";
import { errorMessage, makeKubeClient } from "../kube/client.ts";
import { LeaderElector } from "../kube/leader.ts";
import type { Clock } from "../kube/workqueue.ts";
import { answerProbe, pathOf, safeReady, send } from "../webhook/http.ts";
import type { Part, PartContext } from "../kube/part.ts";

/** The Lease the Tenant controller has always used: replicas of an older vakt contend for it too. */
export const DEFAULT_LEASE_NAME = "vakt-tenant-controller";
export const DEFAULT_PROBE_HOST = "127.0.0.1";
export const DEFAULT_PROBE_PORT = 8081;

export interface LeaseOptions {
  /** Namespace of the Lease. */
  readonly namespace: string;
  /** Default DEFAULT_LEASE_NAME. */
  readonly name?: string;
  /** This replica's identity (default <hostname>-<pid>). */
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Test seam: the election's clock. */
  readonly clock?: Clock;
}

export interface ManagerOptions {
  readonly kubeconfig: KubeConfig;
  /** Started in this order, stopped in the reverse one. */
  readonly parts: readonly Part[];
  /** The one Lease of the parts with leader election (required when there is one). */
  readonly lease?: LeaseOptions;
  /**
   * Plain-HTTP address of /healthz, /readyz and /metrics, used when no part serves them (default
   * 127.0.0.1:8081; port 0 picks a free one).
   */
  readonly probes?: { readonly host?: string; readonly port?: number };
  readonly logger?: Logger;
  /** Test seam: the client (default: makeKubeClient(kubeconfig), closed by stop()). */
  readonly client?: KubeClient;
}

interface Running {
  readonly part: Part;
  /** start() resolved (a part whose start failed is not counted). */
  started: boolean;
}

export class Manager {
  readonly client: KubeClient;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly #options: ManagerOptions;
  readonly #ownsClient: boolean;
  readonly #running: Running[] = [];
  #elector: LeaderElector | undefined;
  /** Leader parts start and stop one transition at a time, in the order the Lease changed. */
  #leaderTransitions: Promise<void> = Promise.resolve();
  #leading = false;
  #probeServer: Server | undefined;
  #probeUrl: string | undefined;
  #started = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    const names = new Set<string>();
    for (const part of options.parts) {
      if (names.has(part.name)) throw new Error(`vakt run: the part "${part.name}" is listed twice`);
      names.add(part.name);
    }
    if (options.parts.length === 0) throw new Error("vakt run: no part to run");
    if (options.parts.some((part) => part.leaderElection) && options.lease === undefined)
      throw new Error("vakt run: parts with leader election need a Lease (options.lease)");
    this.#options = options;
    this.logger = options.logger ?? pino({ level: setting("logLevel"), base: { component: "manager" } });
    this.#ownsClient = options.client === undefined;
    this.client = options.client ?? makeKubeClient(options.kubeconfig);
    this.registry = new Registry();
    collectDefaultMetrics({ register: this.registry });
  }

  /** The parts, in start order. */
  get parts(): readonly Part[] {
    return this.#options.parts;
  }

  /** http://host:port of the plain-HTTP probe port, when the manager serves one. */
  get probeUrl(): string | undefined {
    return this.#probeUrl;
  }

  /** This replica holds the Lease and its leader parts run (or are starting). */
  isLeader(): boolean {
    return this.#leading && this.#elector?.isLeader() === true;
  }

  /** Every part started so far is ready (and the parts without leader election have started). */
  ready(): boolean {
    if (!this.#started || this.#stopping) return false;
    return this.#running.every(({ part, started }) => !started || safeReady(() => part.ready()));
  }

  /** The conditions started parts report (`Part.conditions`), as "<part>: <condition>". */
  conditions(): string[] {
    return this.#running.flatMap(({ part, started }) => {
      if (!started || part.conditions === undefined) return [];
      try {
        return part.conditions().map((condition) => `${part.name}: ${condition}`);
      } catch (error) {
        return [`${part.name}: conditions unavailable: ${errorMessage(error)}`];
      }
    });
  }

  /**
   * Starts the probe port (when no part serves the probes), the parts without leader election in
   * order, then the leader election. Rejects, with what started stopped again, when a part
   * cannot start.
   */
  async start(): Promise<void> {
    if (!this.#options.parts.some((part) => part.servesProbes === true)) await this.#startProbeServer();
    try {
      for (const part of this.#options.parts) if (!part.leaderElection) await this.#startPart(part);
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.#started = true;
    const leaderParts = this.#options.parts.filter((part) => part.leaderElection);
    const lease = this.#options.lease;
    if (leaderParts.length === 0 || lease === undefined) return;
    const identity = lease.identity ?? `${hostname()}-${process.pid}`;
    this.#elector = new LeaderElector({
      client: this.client,
      namespace: lease.namespace,
      name: lease.name ?? DEFAULT_LEASE_NAME,
      identity,
      logger: this.logger,
      ...(lease.leaseDurationMs === undefined ? {} : { leaseDurationMs: lease.leaseDurationMs }),
      ...(lease.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: lease.renewDeadlineMs }),
      ...(lease.retryPeriodMs === undefined ? {} : { retryPeriodMs: lease.retryPeriodMs }),
      ...(lease.clock === undefined ? {} : { clock: lease.clock }),
      onStartedLeading: () => {
        void this.#leaderTransition(async () => {
          if (this.#stopping) return;
          this.#leading = true;
          this.logger.info({ parts: leaderParts.map((p) => p.name) }, "starting the leader parts");
          for (const part of leaderParts) {
            // The Lease may be lost (or stop() called) while the parts before this one start.
            if (!this.#mayLead()) return;
            await this.#startPart(part).catch((error: unknown) => {
              // The other parts keep running; the Lease stays with this replica. A part that
              // cannot start is retried when the Lease is won again.
              this.logger.error(
                { part: part.name, error: errorMessage(error) },
                "leader part failed to start",
              );
            });
          }
        });
      },
      onStoppedLeading: () => {
        // Stop writing at once: the parts check isLeader() before each write, and stop now.
        this.#leading = false;
        void this.#leaderTransition(() => this.#stopParts(leaderParts, {}));
      },
    });
    this.#elector.start();
  }

  /**
   * Stops the leader parts, gives up the Lease (kept with `crash`, as a killed process would),
   * then stops the other parts and the probe port, each in reverse start order.
   */
  stop(options: { readonly crash?: boolean } = {}): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      this.#leading = false;
      const all = this.#options.parts;
      await this.#leaderTransition(() =>
        this.#stopParts(
          all.filter((p) => p.leaderElection),
          options,
        ),
      );
      await this.#elector?.stop(options.crash !== true);
      await this.#stopParts(
        all.filter((p) => !p.leaderElection),
        options,
      );
      await this.#stopProbeServer();
      if (this.#ownsClient) await this.client.close?.();
    })();
    return this.#stopped;
  }

  #mayLead(): boolean {
    return this.#leading && !this.#stopping;
  }

  #leaderTransition(step: () => Promise<void>): Promise<void> {
    this.#leaderTransitions = this.#leaderTransitions.then(step, step);
    return this.#leaderTransitions;
  }

  #context(part: Part): PartContext {
    return {
      client: this.client,
      kubeconfig: this.#options.kubeconfig,
      logger: this.logger.child({ part: part.name }),
      registry: this.registry,
      isLeader: () => !this.#stopping && this.isLeader(),
      allReady: () => this.ready(),
      allConditions: () => this.conditions(),
    };
  }

  async #startPart(part: Part): Promise<void> {
    let running = this.#running.find((r) => r.part === part);
    if (running === undefined) {
      running = { part, started: false };
      this.#running.push(running);
    }
    await part.start(this.#context(part));
    running.started = true;
    this.logger.info({ part: part.name }, "part started");
  }

  async #stopParts(parts: readonly Part[], options: { readonly crash?: boolean }): Promise<void> {
    for (const part of [...parts].reverse()) {
      const running = this.#running.find((r) => r.part === part);
      if (running?.started !== true) continue;
      running.started = false;
      try {
        await part.stop(options);
        this.logger.info({ part: part.name }, "part stopped");
      } catch (error) {
        this.logger.error({ part: part.name, error: errorMessage(error) }, "part failed to stop cleanly");
      }
    }
  }

  async #startProbeServer(): Promise<void> {
    const host = this.#options.probes?.host ?? DEFAULT_PROBE_HOST;
    const probes = {
      ready: () => this.ready(),
      conditions: () => this.conditions(),
      registry: this.registry,
      closing: () => this.#stopping,
    };
    const server = createServer((req, res) => {
      if (answerProbe(req, res, probes)) return;
      req.resume();
      send(
        res,
        404,
        `no such endpoint: ${pathOf(req).slice(0, 100)}; use /healthz, /readyz, /metrics\n`,
        "text/plain",
      );
    });
    // A probe port answers small requests only: no reason to keep idle connections long.
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.probes?.port ?? DEFAULT_PROBE_PORT, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    this.#probeServer = server;
    this.#probeUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    this.logger.info({ url: this.#probeUrl }, "serving /healthz, /readyz and /metrics");
  }

  async #stopProbeServer(): Promise<void> {
    const server = this.#probeServer;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    server.closeAllConnections();
    await closed;
  }
}
