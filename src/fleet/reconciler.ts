/**
 * The fleet's Environment reconciler: level-triggered, given only a name, it re-reads the
 * Environment and makes the hub match it.
 *
 *   read -> (being deleted: the guarded teardown) -> validate -> tenant conflicts -> finalizer
 *   -> render -> apply (server-side, field manager "vakt", owned by the Environment) -> prune
 *   what carries its label but is no longer rendered -> status from the Cluster + Events
 *
 * Ownership: vakt is the controller of the Environment's namespace; of the Cluster API objects
 * in it, an owner only. Cluster API makes itself the controller of what it manages (a MachinePool
 * of its infrastructure pool), and a second controller reference would make its reconcile fail.
 *
 * Deletion is guarded by the finalizer vakt.dev/environment-protection. An Environment that still
 * hosts live tenants (listed in spec.tenants and present on the hub; all listed ones when the hub
 * does not serve Tenants) stays until they are moved off or the annotation
 * vakt.dev/allow-delete-with-tenants: "true" says to go ahead. Then the Cluster is deleted first
 * (Cluster API tears the cloud resources down and holds the Cluster until it has), and only when
 * it is gone does the finalizer go: the garbage collector removes the rest.
 *
 * Status (`kubectl get environments`):
 * - Applied: True when every rendered object is applied; False with InvalidSpec (nothing applied
 *   or pruned), TenantConflict, NamespaceConflict, MissingCRDs (re-checked every 30 s) or
 *   ApplyFailed (retried with backoff).
 * - ClusterAvailable and Cluster<Condition>: the Cluster's own conditions, in its words.
 * - Ready: Applied and ClusterAvailable both True. phase: the Cluster's, or Invalid, Conflict,
 *   Deleting.
 * - DeletionBlocked: while live tenants hold a deletion.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { childKey, ownedFields } from "../controllers/tenant/children.ts";
import type { ChildIndex } from "../controllers/tenant/children.ts";
import { NotLeaderError } from "../controllers/controller.ts";
import type { ReconcileContext, ReconcileResult, Reconciler } from "../controllers/controller.ts";
import type { KubeObject } from "../engine/types.ts";
import { renderEnvironment } from "../environment/render.ts";
import type { Progress, Rendered } from "../environment/provider.ts";
import type { Environment, EnvironmentProblem } from "../environment/types.ts";
import { parseEnvironment, providerOf } from "../environment/validate.ts";
import { formatFieldPath } from "../tenant/validate.ts";
import { FIELD_MANAGER } from "../kube/apply.ts";
import type { DiscoverFn } from "../kube/discovery.ts";
import type { ApiResource, Json } from "../kube/client.ts";
import { APPLY_PATCH, KubeError, METADATA_ONLY, errorMessage, resourcePath } from "../kube/client.ts";
import { API_VERSION, ENVIRONMENT, TENANT, collectionPath } from "../api/registry.ts";
import type { HubTenant } from "../environment/baseline.ts";
import { EnvironmentReporter } from "./status.ts";
import type { LocalClusters } from "./local.ts";
import { localProgress } from "./local.ts";
import type { Members } from "./members.ts";
import { memberAccess } from "./members.ts";
import type { Condition, ReporterDeps, StatusFields, WriteInfo } from "./status.ts";
import { ENVIRONMENTS_PATH, observe } from "./watches.ts";
import { rollUp } from "./posture.ts";
import type { PostureStatus } from "./posture.ts";
import { VERSION } from "../version.ts";
import type { CachedEnvironment } from "./watches.ts";

export const FINALIZER = "vakt.dev/environment-protection";
export const ALLOW_DELETE_WITH_TENANTS = "vakt.dev/allow-delete-with-tenants";

const MISSING_KINDS_RECHECK_MS = 30_000;
const DELETION_BLOCKED_RECHECK_MS = 30_000;
const CLUSTER_DELETION_RECHECK_MS = 5_000;

export interface FleetReconcilerDeps extends ReporterDeps {
  readonly discover: DiscoverFn;
  readonly invalidate?: (apiVersion: string) => void;
  readonly index: ChildIndex;
  /** Whether this instance may write now (the leader, not stopped). Checked before every write. */
  readonly mayWrite: () => boolean;
  readonly onWrite?: (write: WriteInfo) => void;
  /** Parallel applies within one reconcile (default 8). */
  readonly applyConcurrency?: number;
  /** The Environment as its watch last saw it (undefined: read it from the API server). */
  readonly cached?: (name: string) => CachedEnvironment | undefined;
  /** Every Environment the watch knows, for tenants hosted twice. */
  readonly all?: () => Iterable<CachedEnvironment>;
  /** Starts the control planes of `local` Environments (absent: they wait, and status says so). */
  readonly local?: LocalClusters;
  /** Registers and baselines member clusters once their kubeconfig exists (absent: not done). */
  readonly members?: Members;
}

/** What the bootstrap of a member cluster reports. */
interface Bootstrap {
  readonly conditions: Condition[];
  readonly baselined: boolean;
  readonly degraded: boolean;
  readonly requeueAfterMs?: number;
  readonly posture?: PostureStatus;
}

const BASELINE_ESTABLISHING_RECHECK_MS = 1_000;
const MEMBER_UNREACHABLE_RECHECK_MS = 10_000;
const AUTOSCALING_RECHECK_MS = 15_000;
const POSTURE_RECHECK_MS = 30_000;

/** Some objects could not be applied: retried with backoff after the status says why. */
export class ApplyFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ApplyFailedError";
  }
}

function formatProblems(problems: readonly EnvironmentProblem[]): string {
  return problems.map((p) => `${formatFieldPath(p.path)}: ${p.message}`).join("; ");
}

function kindName(apiVersion: string, kind: string): string {
  return apiVersion.includes("/") ? `${kind}.${apiVersion.slice(0, apiVersion.indexOf("/"))}` : kind;
}

/** " at <server>" of a kubeconfig, for messages ("" when it names none). */
function serverOf(kubeconfig: string): string {
  try {
    return ` at ${memberAccess(kubeconfig).server}`;
  } catch {
    return "";
  }
}

function metaOf(object: KubeObject): { name: string; namespace?: string } {
  return object.metadata as { name: string; namespace?: string };
}

/** Runs `fn` on every item, at most `limit` at a time. */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) await fn(next.value);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class FleetReconciler implements Reconciler {
  readonly #deps: FleetReconcilerDeps;

  constructor(deps: FleetReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(name: string, context: ReconcileContext): Promise<ReconcileResult> {
    const object = await this.#read(name);
    if (object === undefined) {
      this.#deps.statusWritten?.delete(name);
      return {};
    }
    return new EnvironmentReconcile(this.#deps, object, context.logger).run();
  }

  async #read(name: string): Promise<Json | undefined> {
    const cached = this.#deps.cached?.(name);
    if (cached !== undefined) return JSON.parse(cached.text) as Json;
    try {
      return (await this.#deps.client.request("GET", `${ENVIRONMENTS_PATH}/${encodeURIComponent(name)}`))
        .body;
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return undefined;
      throw error;
    }
  }
}

/** What applying the rendered objects did. */
interface Outcome {
  readonly applied: Map<string, number>;
  readonly failures: string[];
  /** Kinds not served (their CRDs are not installed), Kind.group -> objects. */
  readonly missing: Map<string, number>;
  readonly rendered: Set<string>;
  created: number;
  corrected: number;
  pruned: number;
}

interface Metadata {
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly generation?: number;
}

/** One reconcile of one Environment: the state its phases share. */
class EnvironmentReconcile {
  readonly #deps: FleetReconcilerDeps;
  readonly #object: Json;
  readonly #name: string;
  readonly #uid: string;
  readonly #logger: Logger;
  readonly #report: EnvironmentReporter;
  /** Why the member cannot be reached, when its provider already knows (a local cluster's stalled API server). */
  #unreachable: string | undefined;
  /** vakt's webhook beside a local cluster, probed for the posture. */
  #vaktUrl: string | undefined;

  constructor(deps: FleetReconcilerDeps, object: Json, logger: Logger) {
    const metadata = object["metadata"] as { name: string; uid: string };
    this.#deps = deps;
    this.#object = object;
    this.#name = metadata.name;
    this.#uid = metadata.uid;
    this.#logger = logger;
    this.#report = new EnvironmentReporter(deps, object, logger, (write) => {
      this.#guard(write);
    });
  }

  #guard(write: WriteInfo): void {
    if (!this.#deps.mayWrite()) throw new NotLeaderError();
    this.#deps.onWrite?.(write);
  }

  #metadata(): Metadata {
    return this.#object["metadata"] as Metadata;
  }

  async run(): Promise<ReconcileResult> {
    if (this.#metadata().deletionTimestamp !== undefined) return this.#teardown();
    const parsed = parseEnvironment(this.#object);
    if (parsed.environment === undefined) {
      await this.#blocked(
        "Invalid",
        "InvalidSpec",
        `spec is invalid, nothing was applied: ${formatProblems(parsed.problems)}`,
      );
      return {};
    }
    const environment = parsed.environment;
    const conflict = this.#tenantConflict(environment);
    if (conflict !== undefined) {
      await this.#blocked("Conflict", "TenantConflict", conflict);
      return {};
    }
    const { rendered } = renderEnvironment(environment);
    if (rendered === undefined) return {};
    const namespaceConflict = await this.#namespaceConflict(rendered);
    if (namespaceConflict !== undefined) {
      await this.#blocked("Conflict", "NamespaceConflict", namespaceConflict);
      return {};
    }
    await this.#ensureFinalizer();
    const outcome = await this.#applyAll(rendered);
    // Pruned only after a clean apply: a half-applied environment keeps its old objects.
    if (outcome.failures.length === 0 && outcome.missing.size === 0) await this.#prune(outcome);
    return this.#writeOutcome(environment, rendered, outcome);
  }

  /** Status for an Environment nothing is applied for; one Event per new message. */
  async #blocked(phase: string, reason: string, message: string): Promise<void> {
    const report = this.#report;
    const repeated = report.previous("Applied")?.message === message;
    this.#logger.warn({ reason, message }, "environment not applied");
    await report.writeStatus({ phase }, [
      report.condition("Applied", "False", reason, message),
      report.condition("Ready", "False", reason, message),
    ]);
    if (!repeated) await report.event("Warning", reason, message);
  }

  /** A tenant listed here that an older Environment already hosts. */
  #tenantConflict(environment: Environment): string | undefined {
    const tenants = environment.spec.tenants ?? [];
    if (tenants.length === 0 || this.#deps.all === undefined) return undefined;
    const created = (this.#object["metadata"] as { creationTimestamp?: string }).creationTimestamp ?? "";
    const clashes: string[] = [];
    for (const other of this.#deps.all()) {
      if (other.name === this.#name || other.deleting) continue;
      const first = other.created < created || (other.created === created && other.name < this.#name);
      if (!first) continue;
      for (const tenant of other.tenants)
        if (tenants.includes(tenant))
          clashes.push(`tenant "${tenant}" is hosted by Environment ${other.name}`);
    }
    return clashes.length === 0
      ? undefined
      : `${clashes.join("; ")}: a tenant lives in one cluster; remove it from spec.tenants here or there`;
  }

  /** The namespace exists and is not this Environment's: vakt does not take it over. */
  async #namespaceConflict(rendered: Rendered): Promise<string | undefined> {
    const key = childKey("v1", "Namespace", undefined, rendered.namespace);
    if (this.#deps.index.get(this.#name, key)?.ownerUid === this.#uid) return undefined;
    try {
      const { body } = await this.#deps.client.request("GET", `/api/v1/namespaces/${rendered.namespace}`, {
        accept: METADATA_ONLY,
      });
      const owners = ((body["metadata"] as Json | undefined)?.["ownerReferences"] ?? []) as {
        uid?: string;
      }[];
      if (owners.some((owner) => owner.uid === this.#uid)) return undefined;
      return `namespace ${rendered.namespace} exists and does not belong to this Environment: rename the Environment or remove the namespace`;
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return undefined;
      throw error;
    }
  }

  async #ensureFinalizer(): Promise<void> {
    if (this.#metadata().finalizers?.includes(FINALIZER) === true) return;
    await this.#writeFinalizer(true);
  }

  /**
   * Adds or removes vakt's finalizer with a JSON patch tested against the list as read: a patch,
   * unlike an apply, never creates an Environment that was deleted meanwhile (404), and a list
   * someone changed since is a conflict (422) retried with a fresh read.
   */
  async #writeFinalizer(present: boolean): Promise<void> {
    const finalizers = this.#metadata().finalizers;
    const index = finalizers?.indexOf(FINALIZER) ?? -1;
    const operations = present
      ? finalizers === undefined
        ? [{ op: "add", path: "/metadata/finalizers", value: [FINALIZER] }]
        : [{ op: "add", path: "/metadata/finalizers/-", value: FINALIZER }]
      : index < 0
        ? []
        : [
            { op: "test", path: `/metadata/finalizers/${index}`, value: FINALIZER },
            { op: "remove", path: `/metadata/finalizers/${index}` },
          ];
    if (operations.length === 0) return;
    this.#guard({ verb: "finalizer", environment: this.#name, kind: ENVIRONMENT.kind, name: this.#name });
    try {
      await this.#deps.client.request("PATCH", `${ENVIRONMENTS_PATH}/${encodeURIComponent(this.#name)}`, {
        contentType: "application/json-patch+json",
        body: operations,
        accept: METADATA_ONLY,
      });
    } catch (error) {
      if (!(error instanceof KubeError && error.code === 404)) throw error;
    }
  }

  async #applyAll(rendered: Rendered): Promise<Outcome> {
    const outcome: Outcome = {
      applied: new Map(),
      failures: [],
      missing: new Map(),
      rendered: new Set(),
      created: 0,
      corrected: 0,
      pruned: 0,
    };
    const resources = new Map<KubeObject, ApiResource>();
    for (const object of rendered.objects) {
      const resource = await this.#deps.discover(String(object.apiVersion), String(object.kind));
      if (resource === undefined) {
        const key = kindName(String(object.apiVersion), String(object.kind));
        outcome.missing.set(key, (outcome.missing.get(key) ?? 0) + 1);
        continue;
      }
      resources.set(object, resource);
      outcome.rendered.add(
        childKey(resource.apiVersion, resource.kind, metaOf(object).namespace, metaOf(object).name),
      );
    }
    const applyOne = (object: KubeObject): Promise<void> =>
      this.#applyOne(object, resources.get(object), outcome);
    const [namespace, ...rest] = rendered.objects;
    if (namespace !== undefined) await applyOne(namespace);
    if (outcome.failures.length === 0) await eachLimit(rest, this.#deps.applyConcurrency ?? 8, applyOne);
    return outcome;
  }

  async #applyOne(object: KubeObject, resource: ApiResource | undefined, outcome: Outcome): Promise<void> {
    if (resource === undefined) return;
    const { name, namespace } = metaOf(object);
    const key = childKey(resource.apiVersion, resource.kind, namespace, name);
    const owner = {
      apiVersion: API_VERSION,
      kind: ENVIRONMENT.kind,
      name: this.#name,
      uid: this.#uid,
      controller: resource.kind === "Namespace",
      blockOwnerDeletion: true,
    };
    const body = { ...object, metadata: { ...(object.metadata as Json), ownerReferences: [owner] } };
    const before = this.#deps.index.get(this.#name, key);
    this.#guard({ verb: "apply", environment: this.#name, kind: resource.kind, name });
    try {
      const response = await this.#deps.client.request("PATCH", resourcePath(resource, namespace, name), {
        // Strict: a rendered field the provider's CRD does not know is a bug to see, not to prune.
        query: { fieldManager: FIELD_MANAGER, force: "true", fieldValidation: "Strict" },
        contentType: APPLY_PATCH,
        json: JSON.stringify(body),
        accept: METADATA_ONLY,
      });
      const observed = observe(response.body, resource);
      if (observed !== undefined) this.#deps.index.observe(observed);
      const kind = kindName(resource.apiVersion, resource.kind);
      outcome.applied.set(kind, (outcome.applied.get(kind) ?? 0) + 1);
      if (response.status === 201) outcome.created += 1;
      else if (this.#unchangedSpec() && before !== undefined && before.owned !== ownedFields(response.body))
        outcome.corrected += 1;
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      if (error instanceof KubeError && error.code === 404 && !/namespaces? "/.test(error.message))
        this.#deps.invalidate?.(resource.apiVersion);
      outcome.failures.push(`${String(object.kind)} ${namespace ?? ""}/${name}: ${errorMessage(error)}`);
    }
  }

  /** The spec is the one last reconciled: a changed object was changed by someone else. */
  #unchangedSpec(): boolean {
    const status = this.#object["status"] as { observedGeneration?: number } | undefined;
    return status?.observedGeneration === this.#metadata().generation;
  }

  /** Deletes what this Environment owns but no longer renders. */
  async #prune(outcome: Outcome): Promise<void> {
    const stale = this.#deps.index
      .children(this.#name)
      .filter(
        ([key, entry]) => !outcome.rendered.has(key) && !entry.deleting && entry.ownerUid === this.#uid,
      );
    await eachLimit(stale, this.#deps.applyConcurrency ?? 8, async ([key, entry]) => {
      const resource = await this.#deps.discover(entry.apiVersion, entry.kind);
      if (resource === undefined) return;
      this.#guard({ verb: "delete", environment: this.#name, kind: entry.kind, name: entry.name });
      try {
        await this.#deps.client.request("DELETE", resourcePath(resource, entry.namespace, entry.name), {
          query: { propagationPolicy: "Background" },
        });
        outcome.pruned += 1;
        this.#logger.info({ kind: entry.kind, namespace: entry.namespace, name: entry.name }, "pruned");
      } catch (error) {
        if (error instanceof KubeError && error.code === 404) this.#deps.index.delete(this.#name, key);
        else
          outcome.failures.push(
            `pruning ${entry.kind} ${entry.namespace ?? ""}/${entry.name}: ${errorMessage(error)}`,
          );
      }
    });
  }

  /** The engine's progress object, read now (its status is what the Environment follows). */
  async #progress(environment: Environment, rendered: Rendered): Promise<Progress> {
    const provider = providerOf(environment);
    if (!("progress" in provider)) throw new Error(`provider ${environment.spec.provider} is not served`);
    const local = this.#deps.local;
    if (environment.spec.provider === "local" && local !== undefined) {
      try {
        const cluster = await local.ensure(environment);
        await this.#writeKubeconfig(rendered, await readFile(cluster.kubeconfig, "utf8"));
        this.#vaktUrl = cluster.vaktUrl;
        if (!cluster.reachable)
          this.#unreachable = `the API server of the local cluster at ${cluster.server} does not answer (its processes run)`;
        return localProgress({ cluster });
      } catch (error) {
        if (error instanceof NotLeaderError) throw error;
        this.#logger.warn({ error: errorMessage(error) }, "local cluster did not start");
        return localProgress({ error });
      }
    }
    const ref = rendered.progress;
    if (ref === undefined) return provider.progress({});
    const resource = await this.#deps.discover(ref.apiVersion, ref.kind);
    if (resource === undefined) return provider.progress({});
    try {
      return provider.progress(
        (await this.#deps.client.request("GET", resourcePath(resource, ref.namespace, ref.name))).body,
      );
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return provider.progress({});
      throw error;
    }
  }

  /** The kubeconfig Secret in Cluster API's convention (what Cluster API writes for a cloud cluster). */
  async #writeKubeconfig(rendered: Rendered, kubeconfig: string): Promise<void> {
    const where = rendered.kubeconfigSecret;
    if (where === undefined) return;
    this.#guard({ verb: "apply", environment: this.#name, kind: "Secret", name: where.name });
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "cluster.x-k8s.io/secret",
      metadata: {
        name: where.name,
        namespace: where.namespace,
        labels: { "cluster.x-k8s.io/cluster-name": this.#name },
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: ENVIRONMENT.kind,
            name: this.#name,
            uid: this.#uid,
            controller: false,
          },
        ],
      },
      data: { [where.key]: Buffer.from(kubeconfig).toString("base64") },
    };
    await this.#deps.client.request(
      "PATCH",
      `/api/v1/namespaces/${where.namespace}/secrets/${encodeURIComponent(where.name)}`,
      {
        query: { fieldManager: FIELD_MANAGER, force: "true", fieldValidation: "Strict" },
        contentType: APPLY_PATCH,
        json: JSON.stringify(secret),
        accept: METADATA_ONLY,
      },
    );
  }

  /** The member's kubeconfig from its Secret, or undefined while there is none. */
  async #readKubeconfig(rendered: Rendered): Promise<string | undefined> {
    const where = rendered.kubeconfigSecret;
    if (where === undefined) return undefined;
    try {
      const { body } = await this.#deps.client.request(
        "GET",
        `/api/v1/namespaces/${where.namespace}/secrets/${encodeURIComponent(where.name)}`,
      );
      const value = (body["data"] as Record<string, string> | undefined)?.[where.key];
      return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The hub's Tenants this Environment hosts (those that exist), copied into the member. */
  async #hubTenants(environment: Environment): Promise<HubTenant[]> {
    const names = environment.spec.tenants ?? [];
    if (names.length === 0 || (await this.#deps.discover(API_VERSION, TENANT.kind)) === undefined) return [];
    const tenants: HubTenant[] = [];
    for (const name of names) {
      const body = await this.#tenant(name);
      if (body !== undefined) tenants.push({ name, spec: (body["spec"] ?? {}) as Json });
    }
    return tenants;
  }

  /** A Tenant on the hub (metadata only, or whole), undefined when there is none. */
  async #tenant(name: string, accept?: string): Promise<Json | undefined> {
    try {
      return (
        await this.#deps.client.request("GET", `${collectionPath(TENANT)}/${encodeURIComponent(name)}`, {
          ...(accept === undefined ? {} : { accept }),
        })
      ).body;
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The member's posture rolled up: status fields and the WebhookReady and VersionMatched conditions. */
  async #posture(
    environment: Environment,
    kubeconfig: string,
  ): Promise<{ status?: PostureStatus; conditions: Condition[] }> {
    const report = this.#report;
    const members = this.#deps.members;
    if (members === undefined) return { conditions: [] };
    try {
      const read = await members.posture(this.#name, kubeconfig, this.#vaktUrl);
      const rolled = rollUp(read, environment.spec.baseline.vaktVersion ?? VERSION);
      return {
        status: rolled.status,
        conditions: rolled.conditions.map((c) => report.condition(c.type, c.status, c.reason, c.message)),
      };
    } catch (error) {
      const message = `the member's posture could not be read: ${errorMessage(error)}`;
      return { conditions: [report.condition("WebhookReady", "Unknown", "PostureUnreadable", message)] };
    }
  }

  /** A member known to be unreachable: Degraded, looked at again shortly; nothing sent to it. */
  #unreachableMember(reason: string): Bootstrap {
    const message = `the member cluster could not be baselined: ${reason}`;
    this.#logger.warn({ error: reason }, "member cluster not baselined");
    const report = this.#report;
    // The registration on the hub stands; only the member is out of reach.
    const registered = report.previous("ArgoCDRegistered");
    return {
      conditions: [
        ...(registered === undefined
          ? []
          : [report.condition(registered.type, registered.status, registered.reason, registered.message)]),
        report.condition("Baselined", "False", "MemberUnreachable", message),
      ],
      baselined: false,
      degraded: true,
      requeueAfterMs: MEMBER_UNREACHABLE_RECHECK_MS,
    };
  }

  /** Registers the member with Argo CD and installs the baseline into it, once its kubeconfig exists. */
  async #bootstrap(environment: Environment, rendered: Rendered): Promise<Bootstrap> {
    const report = this.#report;
    const members = this.#deps.members;
    if (members === undefined)
      return {
        conditions: [
          report.condition(
            "Baselined",
            "Unknown",
            "NotBaselining",
            "this hub does not baseline member clusters",
          ),
        ],
        baselined: false,
        degraded: false,
      };
    const kubeconfig = await this.#readKubeconfig(rendered);
    if (kubeconfig === undefined) {
      const where = rendered.kubeconfigSecret;
      const message = `waiting for the kubeconfig Secret ${where?.namespace ?? ""}/${where?.name ?? ""}`;
      return {
        conditions: [report.condition("Baselined", "Unknown", "WaitingForKubeconfig", message)],
        baselined: false,
        degraded: false,
      };
    }
    const conditions: Condition[] = [];
    try {
      this.#guard({ verb: "apply", environment: this.#name, kind: "Secret", name: `cluster-${this.#name}` });
      const registration = await members.register(environment, this.#uid, kubeconfig);
      conditions.push(
        report.condition(
          "ArgoCDRegistered",
          registration.registered ? "True" : "False",
          registration.reason,
          registration.message,
        ),
      );
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      conditions.push(
        report.condition("ArgoCDRegistered", "False", "RegistrationFailed", errorMessage(error)),
      );
    }
    try {
      this.#guard({ verb: "apply", environment: this.#name, kind: "Baseline", name: this.#name });
      const outcome = await members.baseline(environment, kubeconfig, await this.#hubTenants(environment));
      if (outcome.establishing) {
        conditions.push(
          report.condition(
            "Baselined",
            "False",
            "CRDsEstablishing",
            "vakt's CRDs were applied; waiting until they are served",
          ),
        );
        return {
          conditions,
          baselined: false,
          degraded: false,
          requeueAfterMs: BASELINE_ESTABLISHING_RECHECK_MS,
        };
      }
      conditions.push(
        report.condition(
          "Baselined",
          "True",
          "Baselined",
          `${outcome.applied} baseline objects applied in the cluster`,
        ),
        outcome.notServed.length === 0
          ? report.condition(
              "Autoscaling",
              "True",
              "NodePoolApplied",
              "Karpenter NodePool and the KEDA namespace are in place",
            )
          : report.condition(
              "Autoscaling",
              "False",
              "KarpenterNotInstalled",
              `the cluster does not serve ${outcome.notServed.join(", ")}: install Karpenter (its CRDs) and vakt applies the NodePool`,
            ),
      );
      const posture = await this.#posture(environment, kubeconfig);
      conditions.push(...posture.conditions);
      // Karpenter may be installed later (by Argo CD, by people): look for it again. The posture
      // (webhook, version, findings) is read again on the same beat.
      return {
        conditions,
        baselined: true,
        degraded: false,
        requeueAfterMs: outcome.notServed.length === 0 ? POSTURE_RECHECK_MS : AUTOSCALING_RECHECK_MS,
        ...(posture.status === undefined ? {} : { posture: posture.status }),
      };
    } catch (error) {
      if (error instanceof NotLeaderError) throw error;
      const message = `the member cluster${serverOf(kubeconfig)} could not be baselined: ${errorMessage(error)}`;
      this.#logger.warn({ error: errorMessage(error) }, "member cluster not baselined");
      conditions.push(report.condition("Baselined", "False", "MemberUnreachable", message));
      return { conditions, baselined: false, degraded: true, requeueAfterMs: MEMBER_UNREACHABLE_RECHECK_MS };
    }
  }

  async #writeOutcome(
    environment: Environment,
    rendered: Rendered,
    outcome: Outcome,
  ): Promise<ReconcileResult> {
    const report = this.#report;
    const children = Object.fromEntries([...outcome.applied].sort(([a], [b]) => a.localeCompare(b)));
    const objectCount = rendered.objects.length;
    if (outcome.failures.length > 0) {
      const message = `${outcome.failures.length} of ${objectCount} objects could not be applied: ${outcome.failures.join("; ")}`;
      await report.writeStatus({ phase: "Pending", objectCount, children }, [
        report.condition("Applied", "False", "ApplyFailed", message),
        report.condition("Ready", "False", "ApplyFailed", message),
      ]);
      await report.event("Warning", "ApplyFailed", message);
      throw new ApplyFailedError(message);
    }
    if (outcome.missing.size > 0) {
      const list = [...outcome.missing.keys()].sort().join(", ");
      const message =
        `the hub does not serve ${list}: install the CRDs of Cluster API v1.13 and its ${environment.spec.provider} ` +
        "provider (docs/adr/0024); vakt applies the objects within a minute of that";
      await report.writeStatus({ phase: "Pending", objectCount, children }, [
        report.condition("Applied", "False", "MissingCRDs", message),
        report.condition("Ready", "False", "MissingCRDs", message),
      ]);
      if (report.previous("Applied")?.reason !== "MissingCRDs")
        await report.event("Warning", "MissingCRDs", message);
      return { requeueAfterMs: MISSING_KINDS_RECHECK_MS };
    }
    const progress = await this.#progress(environment, rendered);
    const available = progress.available;
    const bootstrap: Bootstrap =
      available.status !== "True"
        ? { conditions: [], baselined: false, degraded: false }
        : this.#unreachable !== undefined
          ? this.#unreachableMember(this.#unreachable)
          : await this.#bootstrap(environment, rendered);
    const conditions: Condition[] = [
      report.condition("Applied", "True", "Applied", `${objectCount} objects applied.`),
      report.condition(
        "ClusterAvailable",
        available.status,
        available.reason || "Unknown",
        available.message,
      ),
      ...progress.conditions.map((c) =>
        report.condition(`Cluster${c.type}`, c.status, c.reason || "Unknown", c.message),
      ),
      ...bootstrap.conditions,
      available.status === "True"
        ? bootstrap.baselined
          ? report.condition("Ready", "True", "Baselined", "The cluster is available and baselined.")
          : report.condition(
              "Ready",
              "False",
              bootstrap.conditions.find((c) => c.type === "Baselined")?.reason ?? "NotBaselined",
              `The cluster is available, not baselined yet: ${bootstrap.conditions.find((c) => c.type === "Baselined")?.message ?? ""}`,
            )
        : report.condition(
            "Ready",
            "False",
            available.reason || "ClusterNotAvailable",
            `The cluster is not available yet (phase ${progress.phase})${available.message === "" ? "" : `: ${available.message}`}`,
          ),
    ];
    const clusterRef =
      rendered.progress ??
      (environment.spec.provider === "local"
        ? { namespace: rendered.namespace, name: this.#name }
        : undefined);
    const fields: StatusFields = {
      phase: bootstrap.degraded ? "Degraded" : progress.phase,
      ...(clusterRef === undefined
        ? {}
        : {
            cluster: {
              namespace: clusterRef.namespace,
              name: clusterRef.name,
              phase: progress.phase,
            },
          }),
      objectCount,
      children,
      ...(bootstrap.posture === undefined ? {} : { posture: bootstrap.posture }),
    };
    await report.writeStatus(fields, conditions);
    if (outcome.created > 0) await report.event("Normal", "Created", `created ${outcome.created} objects`);
    if (outcome.corrected > 0)
      await report.event(
        "Normal",
        "DriftCorrected",
        `restored ${outcome.corrected} objects changed outside vakt`,
      );
    if (outcome.pruned > 0)
      await report.event("Normal", "Pruned", `deleted ${outcome.pruned} objects no longer rendered`);
    return bootstrap.requeueAfterMs === undefined ? {} : { requeueAfterMs: bootstrap.requeueAfterMs };
  }

  // -------------------------------------------------------------------------------------------
  // Deletion

  async #teardown(): Promise<ReconcileResult> {
    if (this.#metadata().finalizers?.includes(FINALIZER) !== true) return {};
    const report = this.#report;
    const live = await this.#liveTenants();
    const allowed = this.#metadata().annotations?.[ALLOW_DELETE_WITH_TENANTS] === "true";
    if (live.length > 0 && !allowed) {
      const message =
        `hosts live tenants ${live.join(", ")}: move them off (remove them from spec.tenants) or annotate ` +
        `${ALLOW_DELETE_WITH_TENANTS}="true" to delete the cluster with them`;
      const repeated = report.previous("DeletionBlocked")?.message === message;
      await report.writeStatus({ phase: "Deleting" }, [
        report.condition("DeletionBlocked", "True", "LiveTenants", message),
        report.condition("Ready", "False", "DeletionBlocked", message),
      ]);
      if (!repeated) await report.event("Warning", "DeletionBlocked", message);
      return { requeueAfterMs: DELETION_BLOCKED_RECHECK_MS };
    }
    const cluster = await this.#deleteCluster();
    if (cluster === "gone") {
      await this.#deps.members?.close(this.#name);
      // A local cluster's processes and state go with it; a cloud one went with its Cluster.
      if (this.#deps.local !== undefined) {
        this.#guard({ verb: "delete", environment: this.#name, kind: "LocalCluster", name: this.#name });
        await this.#deps.local.remove(this.#name);
      }
      await this.#writeFinalizer(false);
      this.#logger.info({}, "environment released: its cluster is gone");
      return {};
    }
    const message = "Cluster API is deleting the cluster; the Environment goes when the Cluster is gone";
    await report.writeStatus({ phase: "Deleting" }, [
      report.condition("DeletionBlocked", "False", "Deleting", message),
      report.condition("Ready", "False", "Deleting", message),
    ]);
    if (cluster === "deleted") await report.event("Normal", "Deleting", message);
    return { requeueAfterMs: CLUSTER_DELETION_RECHECK_MS };
  }

  /**
   * Tenants listed in spec.tenants that exist on the hub and are not being deleted. When the hub
   * does not serve Tenants, every listed one counts: a deletion is never let through on doubt.
   */
  async #liveTenants(): Promise<string[]> {
    const listed = ((this.#object["spec"] as { tenants?: unknown } | undefined)?.tenants ?? []) as unknown[];
    const names = listed.filter((t): t is string => typeof t === "string");
    if (names.length === 0) return [];
    if ((await this.#deps.discover(API_VERSION, TENANT.kind)) === undefined) return names;
    const live: string[] = [];
    for (const name of names) {
      const body = await this.#tenant(name, METADATA_ONLY);
      if (
        body !== undefined &&
        (body["metadata"] as { deletionTimestamp?: string } | undefined)?.deletionTimestamp === undefined
      )
        live.push(name);
    }
    return live;
  }

  /** Deletes the Cluster (once); "gone" when there is none left to wait for. */
  async #deleteCluster(): Promise<"gone" | "deleted" | "deleting"> {
    const parsed = parseEnvironment(this.#object);
    const rendered =
      parsed.environment === undefined ? undefined : renderEnvironment(parsed.environment).rendered;
    const ref = rendered?.progress;
    // Without a Cluster to follow (an invalid spec, the local provider) the index says what exists.
    const clusters =
      ref === undefined
        ? this.#deps.index
            .children(this.#name)
            .filter(([, entry]) => entry.kind === "Cluster" && entry.ownerUid === this.#uid)
            .map(([, entry]) => ({
              apiVersion: entry.apiVersion,
              kind: entry.kind,
              namespace: entry.namespace ?? "",
              name: entry.name,
            }))
        : [ref];
    let state: "gone" | "deleted" | "deleting" = "gone";
    for (const cluster of clusters) {
      const resource = await this.#deps.discover(cluster.apiVersion, cluster.kind);
      if (resource === undefined) continue;
      const path = resourcePath(resource, cluster.namespace, cluster.name);
      try {
        const { body } = await this.#deps.client.request("GET", path, { accept: METADATA_ONLY });
        if ((body["metadata"] as { deletionTimestamp?: string }).deletionTimestamp !== undefined) {
          if (state === "gone") state = "deleting";
          continue;
        }
        this.#guard({ verb: "delete", environment: this.#name, kind: cluster.kind, name: cluster.name });
        await this.#deps.client.request("DELETE", path, { query: { propagationPolicy: "Background" } });
        state = "deleted";
      } catch (error) {
        if (!(error instanceof KubeError && error.code === 404)) throw error;
      }
    }
    // A delete without finalizers is immediate: look again before waiting for nothing.
    if (state === "deleted") {
      for (const cluster of clusters) {
        const resource = await this.#deps.discover(cluster.apiVersion, cluster.kind);
        if (resource === undefined) continue;
        try {
          await this.#deps.client.request("GET", resourcePath(resource, cluster.namespace, cluster.name), {
            accept: METADATA_ONLY,
          });
          return "deleted";
        } catch (error) {
          if (!(error instanceof KubeError && error.code === 404)) throw error;
        }
      }
      return "gone";
    }
    return state;
  }
}
