/**
 * vakt's API, defined once: the group and version of its own kinds, their resource names, and
 * the kinds a Tenant renders, in the order they are rendered and applied. Data only, no imports:
 * every layer may import it (the engine names PolicyException, the installer writes RBAC for
 * these resources, the controller watches the child kinds).
 */

export const GROUP = "vakt.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export interface VaktKind {
  readonly kind: string;
  /** The resource name in API paths and RBAC rules. */
  readonly plural: string;
  readonly singular: string;
  readonly scope: "Cluster" | "Namespaced";
}

export const TENANT = {
  kind: "Tenant",
  plural: "tenants",
  singular: "tenant",
  scope: "Cluster",
} as const satisfies VaktKind;

/** A standalone cluster of one customer, provisioned and kept in line from the hub (fleet). */
export const ENVIRONMENT = {
  kind: "Environment",
  plural: "environments",
  singular: "environment",
  scope: "Cluster",
} as const satisfies VaktKind;

export const POLICY_EXCEPTION = {
  kind: "PolicyException",
  plural: "policyexceptions",
  singular: "policyexception",
  scope: "Namespaced",
} as const satisfies VaktKind;

export const VAKT_CONFIGURATION = {
  kind: "VaktConfiguration",
  plural: "vaktconfigurations",
  singular: "vaktconfiguration",
  scope: "Cluster",
} as const satisfies VaktKind;

/** Where completed Velero backups are copied off-site, under S3 Object Lock (src/backup/). */
export const BACKUP_LOCATION = {
  kind: "BackupLocation",
  plural: "backuplocations",
  singular: "backuplocation",
  scope: "Cluster",
} as const satisfies VaktKind;

/** `/apis/vakt.dev/v1alpha1/<plural>`: the path that lists a kind across namespaces. */
export function collectionPath(kind: VaktKind): string {
  return `/apis/${API_VERSION}/${kind.plural}`;
}

export interface ChildKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/**
 * The kinds a Tenant renders, in render (and apply) order: the Namespace first, then what
 * confines it (quota, limits, access, network), then the services and their backups,
 * monitoring and delivery. The controller watches exactly these kinds for drift.
 */
export const TENANT_CHILD_KINDS: readonly ChildKind[] = [
  { apiVersion: "v1", kind: "Namespace" },
  { apiVersion: "v1", kind: "ResourceQuota" },
  { apiVersion: "v1", kind: "LimitRange" },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  { apiVersion: "cert-manager.io/v1", kind: "Certificate" },
  { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster" },
  { apiVersion: "postgresql.cnpg.io/v1", kind: "ScheduledBackup" },
  { apiVersion: "rabbitmq.com/v1beta1", kind: "RabbitmqCluster" },
  { apiVersion: "databases.spotahome.com/v1", kind: "RedisFailover" },
  { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor" },
  { apiVersion: "monitoring.coreos.com/v1", kind: "PodMonitor" },
  { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule" },
  { apiVersion: "velero.io/v1", kind: "Schedule" },
  { apiVersion: "argoproj.io/v1alpha1", kind: "AppProject" },
  { apiVersion: "argoproj.io/v1alpha1", kind: "Application" },
];

/** A child kind's place in render order; kinds that are not Tenant children sort last. */
export function childKindRank(apiVersion: string, kind: string): number {
  const rank = TENANT_CHILD_KINDS.findIndex(
    (child) => child.apiVersion === apiVersion && child.kind === kind,
  );
  return rank === -1 ? TENANT_CHILD_KINDS.length : rank;
}
