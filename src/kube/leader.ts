/**
 * Leader election with a coordination.k8s.io/v1 Lease, after client-go's leaderelection: a
 * candidate takes the Lease when it is free or its holder has not renewed it for a lease
 * duration, as measured on the candidate's own clock from when it last saw the record change
 * (so clock skew between replicas does not matter). The leader renews every `retryPeriodMs`;
 * when it cannot renew within `renewDeadlineMs` (shorter than the lease duration) it steps down
 * before anyone else may take over, so two replicas never both act. Updates use the Lease's
 * resourceVersion: of two candidates racing for a free Lease, one gets a 409 Conflict.
 */
import type { Logger } from "pino";
import type { KubeClient, Json } from "./client.ts";
import { KubeError, errorMessage } from "./client.ts";
import type { Clock } from "./workqueue.ts";
import { realClock } from "./workqueue.ts";

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly logger: Logger;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s; must be below the lease duration. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** MicroTime: RFC 3339 with microseconds, as the Lease API wants. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #durationMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  readonly #path: string;
  #leader = false;
  #renewedAt = 0;
  #observed: string | undefined;
  #observedAt = 0;
  #timer: { cancel(): void } | undefined;
  #stopped = false;
  /** A refused lease request was logged as a warning (until an attempt gets through again). */
  #refusalLogged = false;
  #running: Promise<void> = Promise.resolve();

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#durationMs = options.leaseDurationMs ?? 15_000;
    this.#deadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    if (this.#deadlineMs >= this.#durationMs)
      throw new Error("leader election: renewDeadlineMs must be shorter than leaseDurationMs");
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/leases`;
  }

  /** Leader now: renewed within the renew deadline (checked again before every write). */
  isLeader(): boolean {
    return this.#leader && this.#clock.now() - this.#renewedAt < this.#deadlineMs;
  }

  start(): void {
    this.#tick();
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#running = this.#attempt().finally(() => {
      if (!this.#stopped)
        this.#timer = this.#clock.setTimer(() => {
          this.#tick();
        }, this.#retryMs);
    });
  }

  async #attempt(): Promise<void> {
    const { logger, identity } = this.#options;
    try {
      const acquired = await this.#tryAcquireOrRenew();
      if (this.#stopped) return;
      this.#refusalLogged = false;
      if (acquired) {
        this.#renewedAt = this.#clock.now();
        if (!this.#leader) {
          this.#leader = true;
          logger.info({ lease: this.#options.name, identity }, "became leader");
          this.#options.onStartedLeading();
        }
        return;
      }
      // Someone else holds a valid lease: if we thought we led, we lost it.
      if (this.#leader) this.#stepDown("lease held by another candidate");
    } catch (error) {
      if (this.#leader && this.#clock.now() - this.#renewedAt >= this.#deadlineMs)
        this.#stepDown(`renewal failed: ${errorMessage(error)}`);
      else if (refused(error) && !this.#refusalLogged) {
        // Not a race with another replica but a configuration problem (RBAC, credentials):
        // say so once, loudly, rather than retrying in silence.
        this.#refusalLogged = true;
        logger.warn(
          { lease: this.#options.name, namespace: this.#options.namespace, error: errorMessage(error) },
          "the API server refuses the lease: this replica cannot lead until that is fixed",
        );
      } else logger.debug({ error: errorMessage(error) }, "lease attempt failed");
    }
  }

  #stepDown(why: string): void {
    this.#leader = false;
    this.#options.logger.warn({ lease: this.#options.name, why }, "stepped down as leader");
    this.#options.onStoppedLeading();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, name, identity } = this.#options;
    const now = this.#clock.now();
    const desired = (old: LeaseSpec): LeaseSpec => ({
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
      acquireTime:
        old.holderIdentity === identity && old.acquireTime !== undefined ? old.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (old.leaseTransitions ?? 0) + (old.holderIdentity === identity ? 0 : 1),
    });
    let current: Json;
    try {
      current = (await client.request("GET", `${this.#path}/${encodeURIComponent(name)}`)).body;
    } catch (error) {
      if (!(error instanceof KubeError && error.code === 404)) throw error;
      await client.request("POST", this.#path, {
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name },
          spec: { ...desired({}), leaseTransitions: 0 },
        },
      });
      return true;
    }
    const spec = (current["spec"] ?? {}) as LeaseSpec;
    const record = JSON.stringify(spec);
    if (record !== this.#observed) {
      this.#observed = record;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.#durationMs / 1000)) * 1000;
    if (holder !== "" && holder !== identity && this.#observedAt + durationMs > now) return false;
    const metadata = current["metadata"] as Json;
    await client.request("PUT", `${this.#path}/${encodeURIComponent(name)}`, {
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata, spec: desired(spec) },
    });
    return true;
  }

  /** Stops campaigning. With `release`, a leader frees the Lease so a successor need not wait. */
  async stop(release: boolean): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running.catch(() => undefined);
    const wasLeader = this.#leader;
    this.#leader = false;
    if (!wasLeader || !release) return;
    const { client, name } = this.#options;
    try {
      const current = (await client.request("GET", `${this.#path}/${encodeURIComponent(name)}`)).body;
      const spec = (current["spec"] ?? {}) as LeaseSpec;
      if (spec.holderIdentity !== this.#options.identity) return;
      await client.request("PUT", `${this.#path}/${encodeURIComponent(name)}`, {
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: current["metadata"],
          spec: {
            ...spec,
            holderIdentity: "",
            leaseDurationSeconds: 1,
            renewTime: microTime(this.#clock.now()),
          },
        },
      });
    } catch (error) {
      this.#options.logger.warn({ error: errorMessage(error) }, "could not release the lease");
    }
  }
}

/** A lease request the API server turned down for a reason that retrying will not change. */
function refused(error: unknown): boolean {
  return error instanceof KubeError && (error.code === 401 || error.code === 403);
}
