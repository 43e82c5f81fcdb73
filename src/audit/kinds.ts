/**
 * Where the kinds the rules judge are served. Rules name bare kinds ("Deployment"); the audit
 * lists and watches them, so each needs its API group and resource. Built-in kinds are here with
 * their group; the version is the group's preferred one, read from discovery at start, so a
 * group that is not installed (Gateway API, cert-manager) is skipped until the next pass.
 */
import type { ApiResource, KubeClient } from "../kube/client.ts";
import { KubeError } from "../kube/client.ts";
import type { Rule } from "../engine/types.ts";
import { ADMISSION_RESOURCES } from "../webhook/registration.ts";

/**
 * Kind -> [API group ("" for the core group), resource]: the kinds admission judges, and those
 * it is not registered for but rules name (the audit judges them as they are).
 */
export const AUDITED_RESOURCES: Readonly<Record<string, readonly [string, string]>> = {
  ...ADMISSION_RESOURCES,
  Endpoints: ["", "endpoints"],
  LimitRange: ["", "limitranges"],
  ResourceQuota: ["", "resourcequotas"],
  ControllerRevision: ["apps", "controllerrevisions"],
  CSIStorageCapacity: ["storage.k8s.io", "csistoragecapacities"],
  EndpointSlice: ["discovery.k8s.io", "endpointslices"],
  Lease: ["coordination.k8s.io", "leases"],
  ResourceClaim: ["resource.k8s.io", "resourceclaims"],
  ResourceClaimTemplate: ["resource.k8s.io", "resourceclaimtemplates"],
  VolumeSnapshot: ["snapshot.storage.k8s.io", "volumesnapshots"],
  Gateway: ["gateway.networking.k8s.io", "gateways"],
  HTTPRoute: ["gateway.networking.k8s.io", "httproutes"],
  GRPCRoute: ["gateway.networking.k8s.io", "grpcroutes"],
  TCPRoute: ["gateway.networking.k8s.io", "tcproutes"],
  TLSRoute: ["gateway.networking.k8s.io", "tlsroutes"],
  UDPRoute: ["gateway.networking.k8s.io", "udproutes"],
  ReferenceGrant: ["gateway.networking.k8s.io", "referencegrants"],
  Certificate: ["cert-manager.io", "certificates"],
  Issuer: ["cert-manager.io", "issuers"],
  ServiceMonitor: ["monitoring.coreos.com", "servicemonitors"],
  PodMonitor: ["monitoring.coreos.com", "podmonitors"],
  PrometheusRule: ["monitoring.coreos.com", "prometheusrules"],
  ExternalSecret: ["external-secrets.io", "externalsecrets"],
  SecretStore: ["external-secrets.io", "secretstores"],
  SealedSecret: ["bitnami.com", "sealedsecrets"],
  HelmRelease: ["helm.toolkit.fluxcd.io", "helmreleases"],
  VerticalPodAutoscaler: ["autoscaling.k8s.io", "verticalpodautoscalers"],
  ScaledObject: ["keda.sh", "scaledobjects"],
};

/**
 * Kinds the background audit does not read although a rule names them. Secret: listing Secrets
 * would put every credential of the cluster in vakt's memory and need a cluster-wide grant to read
 * them; the only rules that name Secrets judge where they are placed, which admission already
 * judges when they are written. A least-privilege choice (ADR 22).
 */
export const NOT_AUDITED: ReadonlySet<string> = new Set(["Secret"]);

/** The kinds some rule applies to and the audit reads, in a stable order. */
export function ruleKinds(rules: readonly Rule[]): string[] {
  return [...new Set(rules.flatMap((rule) => rule.kinds))].filter((kind) => !NOT_AUDITED.has(kind)).sort();
}

/** [group, resources] pairs the audit reads (for `vakt install`'s ClusterRole). */
export function auditedGrants(rules: readonly Rule[]): { group: string; resources: string[] }[] {
  const byGroup = new Map<string, Set<string>>();
  for (const kind of ruleKinds(rules)) {
    const entry = AUDITED_RESOURCES[kind];
    if (entry === undefined) continue;
    let set = byGroup.get(entry[0]);
    if (set === undefined) byGroup.set(entry[0], (set = new Set()));
    set.add(entry[1]);
  }
  return [...byGroup]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, resources]) => ({ group, resources: [...resources].sort() }));
}

export interface ResolvedKinds {
  readonly resources: readonly ApiResource[];
  /** Kinds whose group the API server does not serve (not installed). */
  readonly notServed: readonly string[];
  /** Kinds vakt does not know where to find (not in AUDITED_RESOURCES). */
  readonly unknown: readonly string[];
}

/**
 * The served resource of every kind the rules judge: one discovery request per group for its
 * preferred version (and one for the core group's resources). A group that is not served is
 * skipped; any other failure rejects (the pass is retried).
 */
export async function resolveKinds(client: KubeClient, rules: readonly Rule[]): Promise<ResolvedKinds> {
  const resources: ApiResource[] = [];
  const notServed: string[] = [];
  const unknown: string[] = [];
  const groupResources = async (
    group: string,
  ): Promise<{
    apiVersion: string;
    kinds: ReadonlyMap<string, { plural: string; namespaced: boolean }>;
  } | null> => {
    let apiVersion = "v1";
    try {
      if (group !== "") {
        const { body } = await client.request("GET", `/apis/${group}`);
        const preferred = (body["preferredVersion"] ?? {}) as { groupVersion?: unknown };
        if (typeof preferred.groupVersion !== "string") return null;
        apiVersion = preferred.groupVersion;
      }
      const { body } = await client.request("GET", group === "" ? "/api/v1" : `/apis/${apiVersion}`);
      const kinds = new Map<string, { plural: string; namespaced: boolean }>();
      for (const item of (body["resources"] ?? []) as { name: string; kind: string; namespaced: boolean }[])
        if (!item.name.includes("/"))
          kinds.set(item.kind, { plural: item.name, namespaced: item.namespaced });
      return { apiVersion, kinds };
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return null;
      throw error;
    }
  };
  const groups = new Map<string, Awaited<ReturnType<typeof groupResources>>>();
  for (const kind of ruleKinds(rules)) {
    const entry = AUDITED_RESOURCES[kind];
    if (entry === undefined) {
      unknown.push(kind);
      continue;
    }
    const [group, plural] = entry;
    if (!groups.has(group)) groups.set(group, await groupResources(group));
    const served = groups.get(group);
    const found = served?.kinds.get(kind);
    if (served === null || served === undefined || found?.plural !== plural) {
      notServed.push(kind);
      continue;
    }
    resources.push({ apiVersion: served.apiVersion, kind, plural, namespaced: found.namespaced });
  }
  return { resources, notServed, unknown };
}
