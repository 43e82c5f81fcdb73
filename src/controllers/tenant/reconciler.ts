/**
 * The Tenant reconciler: level-triggered, given only a name, it re-reads the Tenant and makes
 * the cluster match it, one method per phase:
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
import type { KubeObject } from "../../engine/types.ts";
import { renderTenant } from "../../tenant/render.ts";
import { TENANT_API_VERSION, TENANT_KIND } from "../../tenant/schema.ts";
import type { Tenant, TenantProblem } from "../../tenant/types.ts";
import { formatFieldPath, parseTenant } from "../../tenant/validate.ts";
import type { DiscoverFn } from "../../kube/discovery.ts";
import type { ApiResource, Json } from "../../kube/client.ts";
import { APPLY_PATCH, KubeError, METADATA_ONLY, errorMessage, resourcePath } from "../../kube/client.ts";
import { NotLeaderError } from "../controller.ts";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../controller.ts";
import type { ChildIndex } from "./children.ts";
import { childKey, hashOf } from "./children.ts";
import { FIELD_MANAGER } from "../../kube/apply.ts";
import { TENANTS_PATH, TenantReporter } from "./status.ts";
import type { Condition, ReporterDeps, WriteInfo } from "./status.ts";

const MISSING_KINDS_RECHECK_MS = 30_000;

export interface TenantReconcilerDeps extends ReporterDeps {
  readonly discover: DiscoverFn;
  readonly index: ChildIndex;
  /** Whether this instance may write now (the leader, not stopped). Checked before every write. */
  readonly mayWrite: () => boolean;
  readonly onWrite?: (write: WriteInfo) => void;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
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

/** Some objects could not be applied: retried with backoff after the status says why. */
export class ApplyFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApplyFailedError";
  }
}

/** The rendered objects and where the API server serves them. */
interface Plan {
  readonly tenant: Tenant;
  readonly warnings: readonly TenantProblem[];
  readonly objects: readonly KubeObject[];
  /** Objects of served kinds; the others are skipped. */
  readonly resources: ReadonlyMap<KubeObject, ApiResource>;
  /** Skipped objects by kind (Kind.group). */
  readonly skipped: ReadonlyMap<string, number>;
  /** Index keys of every object that is applied. */
  readonly rendered: ReadonlySet<string>;
}

/** What applying the plan did. */
interface Outcome {
  /** Applied (or already up to date) objects by kind. */
  readonly applied: Map<string, number>;
  readonly failures: string[];
  created: number;
  corrected: number;
  pruned: number;
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

export class TenantReconciler implements Reconciler {
  readonly #deps: TenantReconcilerDeps;

  constructor(deps: TenantReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(name: string, context: ReconcileContext): Promise<ReconcileResult> {
    const object = await this.#read(name);
    if (object === undefined) return {};
    return new TenantReconcile(this.#deps, name, object, context.logger).run();
  }

  /** The Tenant (cached or from the API server); undefined when it is gone or being deleted. */
  async #read(name: string): Promise<Json | undefined> {
    let object = this.#deps.cachedTenant?.(name);
    if (object === undefined) {
      try {
        object = (await this.#deps.client.request("GET", `${TENANTS_PATH}/${encodeURIComponent(name)}`)).body;
      } catch (error) {
        // Gone: its children carry ownerReferences and the garbage collector removes them.
        if (error instanceof KubeError && error.code === 404) {
          this.#deps.statusWritten?.delete(name);
          return undefined;
        }
        throw error;
      }
    }
    const metadata = object["metadata"] as { deletionTimestamp?: string };
    return metadata.deletionTimestamp === undefined ? object : undefined;
  }
}

/** One reconcile of one Tenant that exists: the state its phases share. */
class TenantReconcile {
  readonly #deps: TenantReconcilerDeps;
  readonly #name: string;
  readonly #object: Json;
  readonly #uid: string;
  readonly #logger: Logger;
  readonly #report: TenantReporter;
  readonly #concurrency: number;

  constructor(deps: TenantReconcilerDeps, name: string, object: Json, logger: Logger) {
    this.#deps = deps;
    this.#name = name;
    this.#object = object;
    this.#uid = (object["metadata"] as { uid: string }).uid;
    this.#logger = logger;
    this.#report = new TenantReporter(deps, object, logger, (write) => {
      this.#guard(write);
    });
    this.#concurrency = deps.applyConcurrency ?? 8;
  }

  async run(): Promise<ReconcileResult> {
    const plan = await this.#validateAndRender();
    if (plan === undefined) return {};
    const outcome = await this.#applyChildren(plan);
    // Pruned only after a clean apply: a half applied tenant keeps its old objects until the
    // new ones are in place.
    if (outcome.failures.length === 0) await this.#prune(plan, outcome);
    return this.#writeOutcome(plan, outcome);
  }

  #guard(write: WriteInfo): void {
    if (!this.#deps.mayWrite()) throw new NotLeaderError();
    this.#deps.onWrite?.(write);
  }

  /**
   * The CRD schema has already checked structure; this adds the semantic checks. An invalid
   * spec is reported (and undefined returned): nothing is applied or pruned.
   */
  async #validateAndRender(): Promise<Plan | undefined> {
    const parsed = parseTenant(this.#object);
    const errors = parsed.problems.filter((problem) => problem.severity === "error");
    if (parsed.tenant === undefined || errors.length > 0) {
      await this.#reportInvalid(errors);
      return undefined;
    }
    const warnings = parsed.problems.filter((problem) => problem.severity === "warning");
    return this.#render(parsed.tenant, warnings);
  }

  async #reportInvalid(errors: readonly TenantProblem[]): Promise<void> {
    const report = this.#report;
    const message = `spec is invalid, nothing was applied: ${formatProblems(errors)}`;
    this.#logger.warn({ problems: errors.length, message }, "tenant spec invalid");
    const wasInvalid = report.previous.some(
      (c) => c.type === "Degraded" && c.reason === "InvalidSpec" && c.message === message,
    );
    await report.writeStatus(
      [
        report.condition("Ready", "False", "InvalidSpec", message),
        report.condition("Degraded", "True", "InvalidSpec", message),
      ],
      undefined,
    );
    if (!wasInvalid) await report.event("Warning", "InvalidSpec", message);
  }

  /** Renders the tenant and sorts out which kinds the API server serves. */
  async #render(tenant: Tenant, warnings: readonly TenantProblem[]): Promise<Plan> {
    const { objects } = renderTenant(tenant);
    const resources = new Map<KubeObject, ApiResource>();
    const skipped = new Map<string, number>();
    for (const object of objects) {
      const apiVersion = String(object.apiVersion);
      const kind = String(object.kind);
      const resource = await this.#deps.discover(apiVersion, kind);
      if (resource === undefined) {
        const key = kindName(apiVersion, kind);
        skipped.set(key, (skipped.get(key) ?? 0) + 1);
      } else resources.set(object, resource);
    }
    const rendered = new Set<string>();
    for (const object of objects) {
      const resource = resources.get(object);
      if (resource !== undefined)
        rendered.add(childKey(resource.apiVersion, resource.kind, meta(object).namespace, meta(object).name));
    }
    return { tenant, warnings, objects, resources, skipped, rendered };
  }

  /** Namespaces first (everything else lives in them), then the rest in parallel. */
  async #applyChildren(plan: Plan): Promise<Outcome> {
    const outcome: Outcome = { applied: new Map(), failures: [], created: 0, corrected: 0, pruned: 0 };
    const apply = (object: KubeObject): Promise<void> => this.#applyChild(plan, object, outcome);
    await mapLimit(
      plan.objects.filter((o) => o.kind === "Namespace"),
      this.#concurrency,
      apply,
    );
    await mapLimit(
      plan.objects.filter((o) => o.kind !== "Namespace"),
      this.#concurrency,
      apply,
    );
    return outcome;
  }

  async #applyChild(plan: Plan, object: KubeObject, outcome: Outcome): Promise<void> {
    const resource = plan.resources.get(object);
    if (resource === undefined) return;
    const { index, client } = this.#deps;
    const name = this.#name;
    const { name: childName, namespace } = meta(object);
    const key = childKey(resource.apiVersion, resource.kind, namespace, childName);
    const owner = {
      apiVersion: TENANT_API_VERSION,
      kind: TENANT_KIND,
      name,
      uid: this.#uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const body = { ...object, metadata: { ...(object.metadata as Json), ownerReferences: [owner] } };
    const json = JSON.stringify(body);
    const hash = hashOf(json);
    const kindKey = kindName(resource.apiVersion, resource.kind);
    const count = (): void => {
      outcome.applied.set(kindKey, (outcome.applied.get(kindKey) ?? 0) + 1);
    };
    // Applied before, and nothing seen since changed it: the same apply would be a no-op that
    // still costs the API server a request (most reconciles after the first: a requeue for a
    // missing CRD, one drifted child among twenty).
    if (index.upToDate(name, key, hash)) {
      count();
      return;
    }
    this.#guard({ verb: "apply", tenant: name, kind: resource.kind, name: childName });
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
      if (response.status === 201) outcome.created += 1;
      else if (drifted) outcome.corrected += 1;
      count();
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      if (
        error instanceof KubeError &&
        error.code === 404 &&
        error.reason === "NotFound" &&
        !/namespaces? "/.test(error.message)
      )
        this.#deps.invalidate?.(resource.apiVersion);
      outcome.failures.push(`${describe(object)}: ${errorMessage(error)}`);
    }
  }

  /** Deletes what this Tenant owns but no longer renders. */
  async #prune(plan: Plan, outcome: Outcome): Promise<void> {
    const { index, client } = this.#deps;
    const name = this.#name;
    const stale = index
      .children(name)
      .filter(([key, entry]) => !plan.rendered.has(key) && !entry.deleting && entry.ownerUid === this.#uid);
    await mapLimit(stale, this.#concurrency, async ([key, entry]) => {
      const resource = await this.#deps.discover(entry.apiVersion, entry.kind);
      if (resource === undefined) return;
      this.#guard({ verb: "delete", tenant: name, kind: entry.kind, name: entry.name });
      try {
        await client.request("DELETE", resourcePath(resource, entry.namespace, entry.name), {
          query: { propagationPolicy: "Background" },
        });
        outcome.pruned += 1;
        this.#logger.info({ kind: entry.kind, namespace: entry.namespace, name: entry.name }, "pruned child");
      } catch (error) {
        if (error instanceof KubeError && error.code === 404) index.delete(name, key);
        else
          outcome.failures.push(
            `pruning ${entry.kind} ${entry.namespace ?? ""}/${entry.name}: ${errorMessage(error)}`,
          );
      }
    });
  }

  /** Status and Events; throws ApplyFailedError (retried with backoff) after reporting failures. */
  async #writeOutcome(plan: Plan, outcome: Outcome): Promise<ReconcileResult> {
    const report = this.#report;
    const skippedKinds = [...plan.skipped.keys()].sort();
    const summary = {
      applied: outcome.applied,
      namespaceCount: plan.tenant.spec.namespaces.length,
      objectCount: plan.objects.length,
      skippedKinds,
    };
    const appliedCount = [...outcome.applied.values()].reduce((a, b) => a + b, 0);
    const { failures } = outcome;
    if (failures.length > 0) {
      const message = `${failures.length} of ${plan.resources.size} objects could not be applied: ${failures.join("; ")}`;
      await report.writeStatus(
        [
          report.condition("Ready", "False", "ApplyFailed", message),
          report.condition("Degraded", "True", "ApplyFailed", message),
        ],
        summary,
      );
      await report.event("Warning", "ApplyFailed", message);
      this.#logger.warn({ failures: failures.length, message }, "tenant apply failed");
      throw new ApplyFailedError(message);
    }
    await report.writeStatus(this.#conditions(plan, appliedCount), summary);
    if (outcome.created > 0) await report.event("Normal", "Created", `created ${outcome.created} objects`);
    if (outcome.corrected > 0)
      await report.event(
        "Normal",
        "DriftCorrected",
        `restored ${outcome.corrected} objects changed outside vakt`,
      );
    if (outcome.pruned > 0)
      await report.event("Normal", "Pruned", `deleted ${outcome.pruned} objects no longer in the spec`);
    this.#logger.debug(
      {
        applied: appliedCount,
        created: outcome.created,
        corrected: outcome.corrected,
        pruned: outcome.pruned,
        skipped: skippedKinds,
      },
      "tenant reconciled",
    );
    return skippedKinds.length > 0 ? { requeueAfterMs: MISSING_KINDS_RECHECK_MS } : {};
  }

  /** Ready and Degraded after a clean apply: Degraded MissingCRDs when kinds were skipped. */
  #conditions(plan: Plan, appliedCount: number): Condition[] {
    const report = this.#report;
    const skippedKinds = [...plan.skipped.keys()].sort();
    const warningText = plan.warnings.length > 0 ? ` Warnings: ${formatProblems(plan.warnings)}` : "";
    if (skippedKinds.length > 0) {
      const list = skippedKinds.map((kind) => `${kind} (${plan.skipped.get(kind) ?? 0})`).join(", ");
      const message =
        `${appliedCount} objects applied; skipped because their CRD is not installed: ${list}. ` +
        "Install the operators' CRDs; vakt applies the skipped objects within a minute.";
      return [
        report.condition("Ready", "True", "Reconciled", message + warningText),
        report.condition("Degraded", "True", "MissingCRDs", message),
      ];
    }
    return [
      report.condition("Ready", "True", "Reconciled", `${appliedCount} objects applied.${warningText}`),
      report.condition("Degraded", "False", "AsExpected", "All rendered objects are applied."),
    ];
  }
}
