/**
 * What the hub puts into a member cluster and registers for it, once the cluster's kubeconfig
 * exists (issue 15, bootstrap and baseline). Pure: an Environment (and the hub's Tenants it hosts)
 * in, objects out; fleet/ applies them.
 *
 * - In the member cluster: vakt's CRDs (the same values `vakt install` ships: crds/ and the
 *   Tenant CRD), the vakt-system namespace, the VaktConfiguration "default" from spec.baseline,
 *   the Environment's Tenants; the autoscaling defaults: a KEDA-ready namespace (keda, Pod
 *   Security restricted) and a Karpenter NodePool limited to the pools' zones and instance types,
 *   with its provider's node class (EC2NodeClass on AWS, KWOKNodeClass on local; none on GCP,
 *   where GKE's own autoscaler bounds the pools and no Karpenter provider exists).
 * - On the hub: the Argo CD cluster Secret (label argocd.argoproj.io/secret-type: cluster; data
 *   name, server, config) and an ApplicationSet whose cluster generator selects that Secret.
 *
 * Every object carries vakt's labels: the hub's watch of the member finds them by
 * vakt.dev/environment and heals what someone deleted or changed.
 */
import type { KubeObject } from "../engine/types.ts";
import { POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD } from "../crds/vakt.ts";
import { tenantCrd } from "../tenant/schema.ts";
import { API_VERSION, TENANT, VAKT_CONFIGURATION } from "../api/registry.ts";
import { ENVIRONMENT_LABEL, environmentLabels } from "./cluster-api.ts";
import type { Environment } from "./types.ts";

/** The namespace vakt runs in, in a member cluster as in any. */
export const MEMBER_VAKT_NAMESPACE = "vakt-system";
/** Where KEDA is installed: prepared by the baseline so that KEDA's own install needs nothing else. */
export const KEDA_NAMESPACE = "keda";
export const NODE_POOL_NAME = "default";
/** What the Argo CD cluster Secret and ApplicationSet are labelled with, besides vakt's labels. */
export const ARGOCD_SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type";

export const KARPENTER_NODE_POOL = { apiVersion: "karpenter.sh/v1", kind: "NodePool" } as const;
export const EC2_NODE_CLASS = { apiVersion: "karpenter.k8s.aws/v1", kind: "EC2NodeClass" } as const;
export const KWOK_NODE_CLASS = { apiVersion: "karpenter.kwok.sh/v1alpha1", kind: "KWOKNodeClass" } as const;
export const APPLICATION_SET = { apiVersion: "argoproj.io/v1alpha1", kind: "ApplicationSet" } as const;

/** A Tenant as the hub holds it: what is copied into the member cluster. */
export interface HubTenant {
  readonly name: string;
  readonly spec: Readonly<Record<string, unknown>>;
}

function labelled(environment: Environment, metadata: Record<string, unknown>): Record<string, unknown> {
  const labels = (metadata["labels"] ?? {}) as Record<string, string>;
  return { ...metadata, labels: { ...labels, ...environmentLabels(environment.metadata.name) } };
}

/** vakt's CRDs in the member cluster; applied and established before the objects of their kinds. */
export function baselineCrds(environment: Environment): KubeObject[] {
  return [POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD, tenantCrd() as KubeObject].map((crd) => ({
    ...crd,
    metadata: labelled(environment, crd.metadata as Record<string, unknown>),
  }));
}

/** The node class the NodePool refers to, by provider; undefined where Karpenter has no provider. */
function nodeClass(environment: Environment): KubeObject | undefined {
  const name = environment.metadata.name;
  const metadata = labelled(environment, { name: NODE_POOL_NAME });
  switch (environment.spec.provider) {
    case "aws":
      return {
        ...EC2_NODE_CLASS,
        metadata,
        spec: {
          amiSelectorTerms: [{ alias: "al2023@latest" }],
          role: `KarpenterNodeRole-${name}`,
          // CAPA tags the subnets and security groups of the cluster it creates with its name.
          subnetSelectorTerms: [{ tags: { [`kubernetes.io/cluster/${name}`]: "owned" } }],
          securityGroupSelectorTerms: [{ tags: { [`kubernetes.io/cluster/${name}`]: "owned" } }],
          metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
        },
      };
    case "local":
      return { ...KWOK_NODE_CLASS, metadata, spec: {} };
    default:
      return undefined;
  }
}

/** The Karpenter objects: a node class and a NodePool bounded by the Environment's pools. */
export function karpenterObjects(environment: Environment): KubeObject[] {
  const klass = nodeClass(environment);
  if (klass === undefined) return [];
  const pools = environment.spec.nodePools;
  const zones = [...new Set(pools.flatMap((pool) => pool.zones))].sort();
  const types = [...new Set(pools.flatMap((pool) => pool.instanceTypes))].sort();
  const [group] = String(klass.apiVersion).split("/");
  return [
    klass,
    {
      ...KARPENTER_NODE_POOL,
      metadata: labelled(environment, { name: NODE_POOL_NAME }),
      spec: {
        template: {
          metadata: { labels: { [ENVIRONMENT_LABEL]: environment.metadata.name } },
          spec: {
            nodeClassRef: { group, kind: klass.kind, name: NODE_POOL_NAME },
            requirements: [
              { key: "topology.kubernetes.io/zone", operator: "In", values: zones },
              { key: "node.kubernetes.io/instance-type", operator: "In", values: types },
              { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
            ],
          },
        },
        // Karpenter counts nodes as a resource: never more than the pools allow together.
        limits: { nodes: String(pools.reduce((sum, pool) => sum + pool.max, 0)) },
        disruption: { consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "1m" },
      },
    },
  ];
}

/** Everything in the member cluster after the CRDs, in apply order. */
export function baselineObjects(environment: Environment, tenants: readonly HubTenant[]): KubeObject[] {
  const baseline = environment.spec.baseline;
  const configuration: Record<string, unknown> = {};
  if (baseline.failOn !== undefined) configuration["failOn"] = baseline.failOn;
  if (baseline.rules !== undefined) configuration["rules"] = baseline.rules;
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: labelled(environment, {
        name: MEMBER_VAKT_NAMESPACE,
        labels: { "pod-security.kubernetes.io/enforce": "restricted" },
      }),
    },
    {
      apiVersion: API_VERSION,
      kind: VAKT_CONFIGURATION.kind,
      metadata: labelled(environment, { name: "default" }),
      spec: configuration,
    },
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: labelled(environment, {
        name: KEDA_NAMESPACE,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "app.kubernetes.io/part-of": "keda",
        },
      }),
    },
    ...tenants.map((tenant): KubeObject => ({
      apiVersion: API_VERSION,
      kind: TENANT.kind,
      metadata: labelled(environment, { name: tenant.name }),
      spec: tenant.spec,
    })),
    ...karpenterObjects(environment),
  ];
}

/** The TLS a member cluster is reached with, from its kubeconfig. */
export interface MemberAccess {
  readonly server: string;
  /** Base64 PEM, as in a kubeconfig's *-data fields. */
  readonly caData?: string;
  readonly certData?: string;
  readonly keyData?: string;
  readonly bearerToken?: string;
}

/** The Argo CD cluster Secret of the Environment's cluster (Argo CD's declarative setup). */
export function argoClusterSecret(
  environment: Environment,
  namespace: string,
  access: MemberAccess,
): KubeObject {
  const name = environment.metadata.name;
  const tlsClientConfig: Record<string, unknown> = { insecure: false };
  if (access.caData !== undefined) tlsClientConfig["caData"] = access.caData;
  if (access.certData !== undefined) tlsClientConfig["certData"] = access.certData;
  if (access.keyData !== undefined) tlsClientConfig["keyData"] = access.keyData;
  const config = {
    ...(access.bearerToken === undefined ? {} : { bearerToken: access.bearerToken }),
    tlsClientConfig,
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: labelled(environment, {
      name: `cluster-${name}`,
      namespace,
      labels: {
        [ARGOCD_SECRET_TYPE_LABEL]: "cluster",
        "vakt.dev/customer": environment.spec.customer,
        "vakt.dev/provider": environment.spec.provider,
      },
    }),
    stringData: { name, server: access.server, config: JSON.stringify(config) },
  };
}

/**
 * The ApplicationSet of the Environment: its cluster generator selects the Environment's cluster
 * Secret, and the Application it makes deploys the customer's GitOps source (spec.gitops) into
 * it. Absent without spec.gitops: vakt itself installs the baseline (docs/adr/0026).
 */
export function applicationSet(environment: Environment, namespace: string): KubeObject | undefined {
  const gitops = environment.spec.gitops;
  if (gitops === undefined) return undefined;
  const name = environment.metadata.name;
  return {
    ...APPLICATION_SET,
    metadata: labelled(environment, { name, namespace }),
    spec: {
      goTemplate: true,
      goTemplateOptions: ["missingkey=error"],
      generators: [
        {
          clusters: {
            selector: {
              matchLabels: { [ARGOCD_SECRET_TYPE_LABEL]: "cluster", [ENVIRONMENT_LABEL]: name },
            },
          },
        },
      ],
      template: {
        metadata: { name: `{{.name}}-apps`, labels: environmentLabels(name) },
        spec: {
          project: "default",
          source: { repoURL: gitops.repoURL, path: gitops.path, targetRevision: gitops.revision },
          destination: { server: "{{.server}}" },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["ServerSideApply=true"] },
        },
      },
    },
  };
}
