/**
 * The audit's reports in the cluster: writes a namespace's report by server-side apply when its
 * content differs from what the cluster holds, and watches vakt's reports (by label) so that one
 * someone edits or deletes is queued to be written again. What the cluster holds is known by a
 * hash of vakt's fields (report.ts, contentHash), so a restart or a new leader rewrites nothing.
 * A report the API server refuses as too large gets half the size budget before it is tried
 * again: never the same request twice.
 */
import type { Logger } from "pino";
import type { Rule } from "../engine/types.ts";
import { ApplyError, apply } from "../kube/apply.ts";
import type { ApiResource, KubeClient } from "../kube/client.ts";
import { KubeError, resourcePath } from "../kube/client.ts";
import { Reflector } from "../kube/reflector.ts";
import { NotLeaderError } from "../controllers/controller.ts";
import type { AuditMetrics } from "./metrics.ts";
import { MANAGED_BY_SELECTOR, REPORTS_API_VERSION, REPORT_NAME, buildReport, contentHash } from "./report.ts";
import type { ReportLimits } from "./report.ts";
import type { Verdict } from "./verdict.ts";

const REPORTS: ApiResource = {
  apiVersion: REPORTS_API_VERSION,
  kind: "Report",
  plural: "reports",
  namespaced: true,
};
const CLUSTER_REPORTS: ApiResource = {
  apiVersion: REPORTS_API_VERSION,
  kind: "ClusterReport",
  plural: "clusterreports",
  namespaced: false,
};

interface Built {
  readonly hash: string;
  readonly bytes: number;
  readonly notListed: number;
}

export interface ReportSyncOptions {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly metrics: AuditMetrics;
  readonly limits: ReportLimits;
  /** Queues a namespace whose report must be written again. */
  readonly enqueue: (namespace: string) => void;
  /** Whether this replica may write now (it holds the Lease and runs). */
  readonly mayWrite: () => boolean;
}

export class ReportSync {
  readonly #options: ReportSyncOptions;
  /** Content hash of vakt's report per namespace ("" for the ClusterReport), as the cluster holds it. */
  readonly #observed = new Map<string, string>();
  readonly #built = new Map<string, Built>();
  /** Size budget per namespace, lowered when the API server refuses a report as too large. */
  readonly #budget = new Map<string, number>();
  readonly #reflectors: Reflector<{ namespace: string; hash: string }>[] = [];

  constructor(options: ReportSyncOptions) {
    this.#options = options;
  }

  start(): void {
    for (const resource of [REPORTS, CLUSTER_REPORTS]) {
      const reflector = this.#watch(resource);
      this.#reflectors.push(reflector);
      reflector.start();
    }
  }

  stop(): void {
    for (const reflector of this.#reflectors) reflector.stop();
  }

  /** Resolves once both lists arrived (or after `timeoutMs`: the CRDs may not be installed yet). */
  async waitForSync(timeoutMs: number): Promise<void> {
    await Promise.all(this.#reflectors.map((r) => r.waitForSync(timeoutMs)));
  }

  /** Namespaces that hold a report of vakt's. */
  namespaces(): Iterable<string> {
    return this.#observed.keys();
  }

  /** The reports as last built: total and largest size, results the caps left out. */
  stats(): { bytes: number; largest: number; notListed: number } {
    let bytes = 0;
    let largest = 0;
    let notListed = 0;
    for (const built of this.#built.values()) {
      bytes += built.bytes;
      largest = Math.max(largest, built.bytes);
      notListed += built.notListed;
    }
    return { bytes, largest, notListed };
  }

  #watch(resource: ApiResource): Reflector<{ namespace: string; hash: string }> {
    const clusterScoped = !resource.namespaced;
    let missing = false;
    return new Reflector<{ namespace: string; hash: string }>({
      client: this.#options.client,
      path: resourcePath(resource),
      labelSelector: MANAGED_BY_SELECTOR,
      logger: this.#options.logger.child({ resource: resource.plural }),
      transform: (object) => {
        const metadata = (object["metadata"] ?? {}) as { name?: unknown; namespace?: unknown };
        if (metadata.name !== REPORT_NAME) return undefined;
        const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "";
        return { namespace, hash: contentHash(object) };
      },
      onList: (items) => {
        missing = false;
        for (const namespace of [...this.#observed.keys()])
          if ((namespace === "") === clusterScoped) this.#observed.delete(namespace);
        for (const item of items) this.#observed.set(item.namespace, item.hash);
        // Reports that differ from what was last written (edited while the watch was down).
        for (const [namespace, built] of this.#built)
          if ((namespace === "") === clusterScoped && this.#observed.get(namespace) !== built.hash)
            this.#options.enqueue(namespace);
      },
      onEvent: (type, item) => {
        if (type === "DELETED") this.#observed.delete(item.namespace);
        else this.#observed.set(item.namespace, item.hash);
        const built = this.#built.get(item.namespace);
        if (built !== undefined && built.hash !== this.#observed.get(item.namespace)) {
          this.#options.logger.info(
            { namespace: item.namespace, event: type },
            "report changed by someone else; writing it again",
          );
          this.#options.enqueue(item.namespace);
        }
      },
      onListError: (error) => {
        if (!(error instanceof KubeError && error.code === 404) || missing) return;
        missing = true;
        this.#options.logger.warn(
          { resource: `${resource.plural}.openreports.io` },
          "OpenReports CRDs not installed (vakt install, or vakt run --install-crds, installs them); retrying",
        );
      },
    });
  }

  async write(
    namespace: string,
    verdicts: readonly Verdict[],
    rulesById: ReadonlyMap<string, Rule>,
  ): Promise<void> {
    if (verdicts.length === 0 && !this.#observed.has(namespace)) {
      this.#built.delete(namespace);
      return;
    }
    const limits = this.#options.limits;
    const report = buildReport(namespace, verdicts, rulesById, {
      ...limits,
      maxBytes: this.#budget.get(namespace) ?? limits.maxBytes,
    });
    this.#built.set(namespace, { hash: report.hash, bytes: report.bytes, notListed: report.notListed });
    if (this.#observed.get(namespace) === report.hash) {
      this.#options.metrics.reportWrite("unchanged");
      return;
    }
    if (!this.#options.mayWrite()) throw new NotLeaderError();
    try {
      await apply(this.#options.client, report.object, {
        resource: namespace === "" ? CLUSTER_REPORTS : REPORTS,
      });
    } catch (error) {
      if (error instanceof ApplyError && tooLarge(error)) {
        // Never the same request again: the next attempt is cut to half the size.
        this.#budget.set(namespace, Math.max(4_096, Math.floor(report.bytes / 2)));
        this.#options.metrics.reportWrite("too_large");
        this.#options.logger.warn(
          { namespace, bytes: report.bytes, error: error.message },
          "report refused as too large; cutting it",
        );
        throw error;
      }
      if (error instanceof ApplyError && error.code === 403 && /being terminated/.test(error.message)) {
        this.#options.logger.debug({ namespace }, "namespace is being deleted; its report goes with it");
        return;
      }
      this.#options.metrics.reportWrite("failed");
      throw error;
    }
    this.#observed.set(namespace, report.hash);
    this.#options.metrics.reportWrite("written");
    this.#options.logger.debug(
      {
        namespace,
        bytes: report.bytes,
        results: report.listed,
        notListed: report.notListed,
        summary: report.summary,
      },
      "report written",
    );
  }
}

/** 413 from the API server, or etcd's "request is too large" passed on as a 500 or 422. */
function tooLarge(error: KubeError): boolean {
  return error.code === 413 || /too large|too long|exceeds the maximum/i.test(error.message);
}
