/**
 * The hub's hold on its member clusters once their kubeconfig exists: one client per member,
 * the baseline applied into it (server-side apply, field manager vakt, Strict), and a watch of
 * every baseline kind there (selected by vakt.dev/environment) that puts the Environment back in
 * the queue when someone deletes or changes one of its objects: the next reconcile heals it.
 * The Argo CD registration is applied on the hub.
 *
 * A member that cannot be reached fails only its own Environment's reconcile (Degraded, retried
 * with backoff); the other members are served as before.
 */
import { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeObject } from "../engine/types.ts";
import {
  APPLICATION_SET,
  argoClusterSecret,
  applicationSet,
  baselineCrds,
  baselineObjects,
} from "../environment/baseline.ts";
import type { HubTenant, MemberAccess } from "../environment/baseline.ts";
import { ENVIRONMENT_LABEL } from "../environment/cluster-api.ts";
import type { Environment } from "../environment/types.ts";
import { FIELD_MANAGER } from "../kube/apply.ts";
import type { ApiResource, Json, KubeClient } from "../kube/client.ts";
import { APPLY_PATCH, KubeError, METADATA_ONLY, makeKubeClient, resourcePath } from "../kube/client.ts";
import { makeDiscovery } from "../kube/discovery.ts";
import type { Discovery } from "../kube/discovery.ts";
import { Reflector } from "../kube/reflector.ts";
import { API_VERSION, ENVIRONMENT } from "../api/registry.ts";
import { getOk } from "../devcluster/cluster.ts";
import { VERSION_LABEL } from "../webhook/registration.ts";
import type { MemberPosture } from "./posture.ts";
import { summaryFindings } from "./posture.ts";

/** vakt's audit reports (audit/report.ts: a layer of its own beside fleet/, so spelled here). */
const REPORT_KINDS = ["Report", "ClusterReport"] as const;
const REPORTS_API_VERSION = "openreports.io/v1alpha1";

const MEMBER_REQUEST_IDLE_MS = 15_000;
const CRD_KIND = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" };

/** What the baseline step did in one member. */
export interface BaselineOutcome {
  readonly applied: number;
  /** Kinds the member does not serve and the baseline does not install (Karpenter's). */
  readonly notServed: readonly string[];
  /** vakt's own kinds not served yet: the CRDs were just applied, look again shortly. */
  readonly establishing: boolean;
}

/** What the Argo CD registration did on the hub. */
export interface RegistrationOutcome {
  readonly registered: boolean;
  readonly reason: string;
  readonly message: string;
}

interface Member {
  readonly kubeconfig: string;
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly watches: Map<string, Reflector<Json>>;
}

export interface MembersOptions {
  readonly hub: KubeClient;
  readonly logger: Logger;
  /** Puts an Environment back in the queue (a baseline object of its member changed). */
  readonly enqueue: (environment: string) => void;
  /** Argo CD's namespace on the hub (default argocd). */
  readonly argocdNamespace?: string;
}

function kindName(object: { apiVersion?: unknown; kind?: unknown }): string {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  return apiVersion.includes("/") ? `${kind}.${apiVersion.slice(0, apiVersion.indexOf("/"))}` : kind;
}

/** The server and credentials of a kubeconfig's current context, as the Argo CD Secret wants them. */
export function memberAccess(kubeconfig: string): MemberAccess {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (cluster === null) throw new Error("the kubeconfig has no current cluster");
  return {
    server: cluster.server,
    ...(cluster.caData === undefined ? {} : { caData: cluster.caData }),
    ...(user?.certData === undefined ? {} : { certData: user.certData }),
    ...(user?.keyData === undefined ? {} : { keyData: user.keyData }),
    ...(user?.token === undefined ? {} : { bearerToken: user.token }),
  };
}

export class Members {
  readonly #options: MembersOptions;
  readonly #members = new Map<string, Member>();
  readonly #hubDiscovery: Discovery;

  constructor(options: MembersOptions) {
    this.#options = options;
    this.#hubDiscovery = makeDiscovery(options.hub);
  }

  get argocdNamespace(): string {
    return this.#options.argocdNamespace ?? "argocd";
  }

  #member(environment: string, kubeconfig: string): Member {
    const known = this.#members.get(environment);
    if (known !== undefined && known.kubeconfig === kubeconfig) return known;
    if (known !== undefined) void this.close(environment);
    const config = new KubeConfig();
    config.loadFromString(kubeconfig);
    // A stalled member fails its reconcile in 15 s instead of holding a worker for the default 70 s.
    const client = makeKubeClient(config, { maxConnections: 4, requestIdleMs: MEMBER_REQUEST_IDLE_MS });
    const member: Member = {
      kubeconfig,
      client,
      discovery: makeDiscovery(client, { missingTtlMs: 1_000 }),
      watches: new Map(),
    };
    this.#members.set(environment, member);
    return member;
  }

  /** Applies the baseline into the member: CRDs first, then what needs them; watches each kind. */
  async baseline(
    environment: Environment,
    kubeconfig: string,
    tenants: readonly HubTenant[],
  ): Promise<BaselineOutcome> {
    const name = environment.metadata.name;
    const member = this.#member(name, kubeconfig);
    let applied = 0;
    const crdResource = await member.discovery.resourceFor(CRD_KIND.apiVersion, CRD_KIND.kind);
    if (crdResource === undefined)
      throw new Error("the member cluster does not serve CustomResourceDefinitions");
    for (const crd of baselineCrds(environment)) {
      await this.#apply(member.client, crdResource, crd);
      applied += 1;
    }
    this.#watch(name, member, crdResource);
    const notServed: string[] = [];
    let establishing = false;
    for (const object of baselineObjects(environment, tenants)) {
      const resource = await member.discovery.resourceFor(String(object.apiVersion), String(object.kind));
      if (resource === undefined) {
        if (String(object.apiVersion) === API_VERSION) establishing = true;
        else notServed.push(kindName(object));
        continue;
      }
      await this.#apply(member.client, resource, object);
      this.#watch(name, member, resource);
      applied += 1;
    }
    return { applied, notServed: [...new Set(notServed)].sort(), establishing };
  }

  async #apply(client: KubeClient, resource: ApiResource, object: KubeObject | Json): Promise<void> {
    const metadata = object["metadata"] as { name: string; namespace?: string };
    await client.request("PATCH", resourcePath(resource, metadata.namespace, metadata.name), {
      query: { fieldManager: FIELD_MANAGER, force: "true", fieldValidation: "Strict" },
      contentType: APPLY_PATCH,
      json: JSON.stringify(object),
      accept: METADATA_ONLY,
    });
  }

  /** A metadata-only watch of one baseline kind in the member: a delete or a change re-queues. */
  #watch(environment: string, member: Member, resource: ApiResource): void {
    const key = `${resource.apiVersion}|${resource.kind}`;
    if (member.watches.has(key)) return;
    const reflector = new Reflector<Json>({
      client: member.client,
      path: resourcePath(resource),
      labelSelector: `${ENVIRONMENT_LABEL}=${environment}`,
      metadataOnly: { apiVersion: resource.apiVersion, kind: resource.kind },
      logger: this.#options.logger,
      transform: (object) => object,
      onList: () => undefined,
      onEvent: (type, object) => {
        if (type === "ADDED") return;
        const fields = ((object["metadata"] as Json | undefined)?.["managedFields"] ?? []) as {
          manager?: string;
        }[];
        // Our own applies echo back as MODIFIED with only vakt's fields: nothing to heal.
        if (type === "MODIFIED" && fields.every((f) => f.manager === FIELD_MANAGER)) return;
        this.#options.enqueue(environment);
      },
    });
    member.watches.set(key, reflector);
    reflector.start();
  }

  /**
   * The member's posture: vakt's webhook configuration there (its version label), whether the
   * webhook answers its readiness probe (at `vaktUrl`, or the URL it is registered with; behind a
   * Service the hub cannot reach it), and the findings of vakt's reports there.
   */
  async posture(environment: string, kubeconfig: string, vaktUrl?: string): Promise<MemberPosture> {
    const member = this.#member(environment, kubeconfig);
    const findings = await this.#findings(member);
    const { body } = await member.client.request(
      "GET",
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
      { query: { labelSelector: "app.kubernetes.io/name=vakt" } },
    );
    const configuration = ((body["items"] ?? []) as Json[])[0];
    const withFindings = findings === undefined ? {} : { findings };
    if (configuration === undefined)
      return {
        webhook: "NotRegistered",
        webhookMessage:
          "no ValidatingWebhookConfiguration of vakt (app.kubernetes.io/name=vakt) in the cluster: nothing there refuses what vakt's rules deny",
        ...withFindings,
      };
    const metadata = (configuration["metadata"] ?? {}) as { name?: string; labels?: Record<string, string> };
    const version = metadata.labels?.[VERSION_LABEL];
    const withVersion = { ...(version === undefined ? {} : { vaktVersion: version }), ...withFindings };
    const hooks = (configuration["webhooks"] ?? []) as { clientConfig?: { url?: string } }[];
    const registered = hooks.map((hook) => hook.clientConfig?.url).find((url) => url !== undefined);
    const base = vaktUrl ?? (registered === undefined ? undefined : new URL(registered).origin);
    if (base === undefined)
      return {
        webhook: "Registered",
        webhookMessage: `ValidatingWebhookConfiguration ${metadata.name ?? ""} calls vakt through a Service, which the hub cannot reach to probe`,
        ...withVersion,
      };
    // Readiness only: the probe skips verifying the webhook's self-made CA.
    const answering = await getOk(`${base}/readyz`, "insecure");
    return {
      webhook: answering ? "Ready" : "NotAnswering",
      webhookMessage: answering
        ? `vakt's webhook answers at ${base}`
        : `vakt's webhook registered in ValidatingWebhookConfiguration ${metadata.name ?? ""} does not answer at ${base}/readyz: with failurePolicy Fail the cluster refuses what it judges`,
      ...withVersion,
    };
  }

  /** fail + warn + error over vakt's reports in the member; undefined when it serves none. */
  async #findings(member: Member): Promise<number | undefined> {
    let total: number | undefined;
    for (const kind of REPORT_KINDS) {
      const resource = await member.discovery.resourceFor(REPORTS_API_VERSION, kind);
      if (resource === undefined) continue;
      const { body } = await member.client.request("GET", resourcePath(resource), {
        query: { labelSelector: "app.kubernetes.io/managed-by=vakt" },
      });
      const items = (body["items"] ?? []) as Json[];
      total = (total ?? 0) + items.reduce((sum, item) => sum + summaryFindings(item["summary"]), 0);
    }
    return total;
  }

  /** Registers the member with Argo CD on the hub: the cluster Secret and the ApplicationSet. */
  async register(environment: Environment, uid: string, kubeconfig: string): Promise<RegistrationOutcome> {
    const hub = this.#options.hub;
    const namespace = this.argocdNamespace;
    try {
      await hub.request("GET", `/api/v1/namespaces/${namespace}`, { accept: METADATA_ONLY });
    } catch (error) {
      if (error instanceof KubeError && error.code === 404)
        return {
          registered: false,
          reason: "ArgoCDNotInstalled",
          message: `namespace ${namespace} does not exist on the hub: install Argo CD there (or set its namespace); vakt installs the baseline itself meanwhile`,
        };
      throw error;
    }
    const owner = {
      apiVersion: API_VERSION,
      kind: ENVIRONMENT.kind,
      name: environment.metadata.name,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const owned = (object: KubeObject): KubeObject => ({
      ...object,
      metadata: { ...(object.metadata as Json), ownerReferences: [owner] },
    });
    const secret = argoClusterSecret(environment, namespace, memberAccess(kubeconfig));
    const secretResource = { apiVersion: "v1", kind: "Secret", plural: "secrets", namespaced: true };
    await this.#apply(hub, secretResource, owned(secret));
    const appSet = applicationSet(environment, namespace);
    if (appSet === undefined)
      return {
        registered: true,
        reason: "Registered",
        message: `cluster Secret ${namespace}/cluster-${environment.metadata.name}; no ApplicationSet: spec.gitops is not set`,
      };
    const resource = await this.#hubDiscovery.resourceFor(APPLICATION_SET.apiVersion, APPLICATION_SET.kind);
    if (resource === undefined)
      return {
        registered: false,
        reason: "ApplicationSetNotServed",
        message: `the hub does not serve ApplicationSet.argoproj.io: install Argo CD's CRDs; the cluster Secret ${namespace}/cluster-${environment.metadata.name} is registered`,
      };
    await this.#apply(hub, resource, owned(appSet));
    return {
      registered: true,
      reason: "Registered",
      message: `cluster Secret ${namespace}/cluster-${environment.metadata.name} and ApplicationSet ${namespace}/${environment.metadata.name}`,
    };
  }

  /** Stops the watches of a member and closes its client. */
  async close(environment: string): Promise<void> {
    const member = this.#members.get(environment);
    if (member === undefined) return;
    this.#members.delete(environment);
    for (const watch of member.watches.values()) watch.stop();
    await member.client.close?.();
  }

  async closeAll(): Promise<void> {
    for (const name of [...this.#members.keys()]) await this.close(name);
  }
}
