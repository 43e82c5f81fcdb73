/**
 * What every Cluster API provider of the fleet shares: the core objects (Cluster, MachinePool) at
 * the contract's storage version (cluster.x-k8s.io/v1beta2, Cluster API v1.13; docs/adr/0024),
 * names and labels, and the Cluster's progress read back from its status.
 *
 * Replicas are not set on MachinePools: the managed pools scale themselves between min and max
 * (EKS node groups, GKE autoscaling) and say so with `cluster.x-k8s.io/replicas-managed-by`; a
 * count vakt applied would be taken back from the providers at every reconcile.
 */
import type { KubeObject } from "../engine/types.ts";
import type { ObjectKind, Progress, ProgressCondition, Rendered } from "./provider.ts";
import type { Environment, NodePool } from "./types.ts";

export const CLUSTER_API = "cluster.x-k8s.io/v1beta2";
export const CLUSTER_KIND: ObjectKind = { apiVersion: CLUSTER_API, kind: "Cluster" };
export const MACHINE_POOL_KIND: ObjectKind = { apiVersion: CLUSTER_API, kind: "MachinePool" };

/** The kinds every Cluster API provider renders besides its own. */
export const CLUSTER_API_KINDS: readonly ObjectKind[] = [
  { apiVersion: "v1", kind: "Namespace" },
  CLUSTER_KIND,
  MACHINE_POOL_KIND,
];

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** Every object rendered for an Environment carries it: the controller finds, watches and prunes by it. */
export const ENVIRONMENT_LABEL = "vakt.dev/environment";
const CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name";
const REPLICAS_MANAGED_BY = "cluster.x-k8s.io/replicas-managed-by";

/** The hub namespace of an Environment's Cluster API objects. */
export function environmentNamespace(environment: string): string {
  return `env-${environment}`;
}

export function environmentLabels(environment: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: "vakt", [ENVIRONMENT_LABEL]: environment };
}

/** The Namespace the provider's objects live in. */
export function namespaceObject(environment: Environment): KubeObject {
  const name = environment.metadata.name;
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: environmentNamespace(name), labels: environmentLabels(name) },
  };
}

/** metadata of a Cluster API object of the Environment. */
export function capiMetadata(
  environment: Environment,
  name: string,
  extra: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const env = environment.metadata.name;
  return {
    name,
    namespace: environmentNamespace(env),
    labels: { ...environmentLabels(env), [CLUSTER_NAME_LABEL]: env },
    ...extra,
  };
}

/** A reference of the v1beta2 contract: the version is looked up from the CRD's contract labels. */
export interface ContractRef {
  readonly apiGroup: string;
  readonly kind: string;
  readonly name: string;
}

export function clusterObject(
  environment: Environment,
  infrastructureRef: ContractRef,
  controlPlaneRef: ContractRef,
): KubeObject {
  return {
    apiVersion: CLUSTER_API,
    kind: "Cluster",
    metadata: capiMetadata(environment, environment.metadata.name),
    spec: { infrastructureRef: { ...infrastructureRef }, controlPlaneRef: { ...controlPlaneRef } },
  };
}

/** <environment>-<pool>: unique in the namespace, within 63 characters (schema.ts bounds both). */
export function poolObjectName(environment: Environment, pool: NodePool): string {
  return `${environment.metadata.name}-${pool.name}`;
}

/**
 * A MachinePool whose machines a managed pool of the provider makes: no bootstrap configuration
 * (the managed service joins its nodes; an empty dataSecretName says so), replicas left to it.
 */
export function machinePoolObject(
  environment: Environment,
  pool: NodePool,
  infrastructureRef: ContractRef,
): KubeObject {
  const cluster = environment.metadata.name;
  return {
    apiVersion: CLUSTER_API,
    kind: "MachinePool",
    metadata: capiMetadata(environment, poolObjectName(environment, pool), {
      annotations: { [REPLICAS_MANAGED_BY]: "external-autoscaler" },
    }),
    spec: {
      clusterName: cluster,
      template: {
        spec: {
          clusterName: cluster,
          bootstrap: { dataSecretName: "" },
          infrastructureRef: { ...infrastructureRef },
        },
      },
    },
  };
}

/**
 * The kinds of a managed cluster in a provider's Cluster API: its infrastructure cluster, its
 * control plane (the managed service) and its infrastructure machine pool (a managed node pool).
 */
export interface ManagedClusterKinds {
  readonly infrastructure: ObjectKind;
  readonly controlPlane: ObjectKind;
  readonly machinePool: ObjectKind;
}

/** The specs a provider gives each of its objects. */
export interface ManagedClusterSpecs {
  readonly infrastructure: Readonly<Record<string, unknown>>;
  readonly controlPlane: Readonly<Record<string, unknown>>;
  pool(pool: NodePool, objectName: string): Readonly<Record<string, unknown>>;
}

/** Every kind a managed cluster renders: the core ones and the provider's three. */
export function managedClusterKinds(kinds: ManagedClusterKinds): ObjectKind[] {
  return [...CLUSTER_API_KINDS, kinds.infrastructure, kinds.controlPlane, kinds.machinePool];
}

function contractRef(kind: ObjectKind, name: string): ContractRef {
  return { apiGroup: kind.apiVersion.split("/")[0] ?? "", kind: kind.kind, name };
}

/**
 * A managed cluster as Cluster API's managed providers shape it (CAPA's eks-managedmachinepool and
 * CAPG's gke flavours): Namespace, Cluster -> infrastructure cluster + control plane, then per
 * node pool a MachinePool -> infrastructure machine pool. Progress is read from the Cluster; the
 * kubeconfig is in <cluster>-kubeconfig.
 */
export function renderManagedCluster(
  environment: Environment,
  kinds: ManagedClusterKinds,
  specs: ManagedClusterSpecs,
): Rendered {
  const name = environment.metadata.name;
  const namespace = environmentNamespace(name);
  const controlPlaneName = `${name}-control-plane`;
  const objects: KubeObject[] = [
    namespaceObject(environment),
    clusterObject(
      environment,
      contractRef(kinds.infrastructure, name),
      contractRef(kinds.controlPlane, controlPlaneName),
    ),
    { ...kinds.infrastructure, metadata: capiMetadata(environment, name), spec: specs.infrastructure },
    {
      ...kinds.controlPlane,
      metadata: capiMetadata(environment, controlPlaneName),
      spec: specs.controlPlane,
    },
  ];
  for (const pool of environment.spec.nodePools) {
    const poolName = poolObjectName(environment, pool);
    objects.push(machinePoolObject(environment, pool, contractRef(kinds.machinePool, poolName)), {
      ...kinds.machinePool,
      metadata: capiMetadata(environment, poolName),
      spec: specs.pool(pool, poolName),
    });
  }
  return {
    namespace,
    objects,
    progress: { ...CLUSTER_KIND, namespace, name },
    kubeconfigSecret: { namespace, name: `${name}-kubeconfig`, key: "value" },
  };
}

type Json = Readonly<Record<string, unknown>>;

function record(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function conditionOf(value: unknown): ProgressCondition | undefined {
  const c = record(value);
  const type = text(c["type"]);
  const status = c["status"];
  if (type === "" || (status !== "True" && status !== "False" && status !== "Unknown")) return undefined;
  return { type, status, reason: text(c["reason"]), message: text(c["message"]) };
}

/** The Cluster's conditions the Environment repeats besides Available, in this order. */
const REPEATED = [
  "InfrastructureReady",
  "ControlPlaneInitialized",
  "ControlPlaneAvailable",
  "WorkersAvailable",
];

/**
 * How a v1beta2 Cluster's provisioning goes. Before Cluster API has looked at it the Cluster has
 * no status: phase Pending, Available Unknown (WaitingForClusterAPI).
 */
export function clusterProgress(cluster: Json): Progress {
  const status = record(cluster["status"]);
  const conditions = (Array.isArray(status["conditions"]) ? status["conditions"] : [])
    .map(conditionOf)
    .filter((c): c is ProgressCondition => c !== undefined);
  const phase = text(status["phase"]);
  const available = conditions.find((c) => c.type === "Available") ?? {
    type: "Available",
    status: "Unknown",
    reason: "WaitingForClusterAPI",
    message:
      "Cluster API has not reported on the Cluster yet: its controllers (core and the provider's) must run on the hub",
  };
  return {
    phase: phase === "" ? "Pending" : phase,
    available,
    conditions: REPEATED.flatMap((type) => conditions.filter((c) => c.type === type)),
  };
}
