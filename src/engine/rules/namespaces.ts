import type { Rule } from "../types.ts";
import { metadataOf, nameOf } from "./util/objects.ts";

/**
 * Namespaced kinds the rule applies to (rules are indexed by kind, so the list is explicit):
 * core and common extension kinds. Cluster-scoped kinds are never listed.
 */
export const NAMESPACED_KINDS: readonly string[] = [
  // core/v1
  "Pod",
  "PodTemplate",
  "ReplicationController",
  "Service",
  "Endpoints",
  "ConfigMap",
  "Secret",
  "ServiceAccount",
  "PersistentVolumeClaim",
  "LimitRange",
  "ResourceQuota",
  // apps, batch, autoscaling, policy
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ControllerRevision",
  "Job",
  "CronJob",
  "HorizontalPodAutoscaler",
  "PodDisruptionBudget",
  // networking, discovery, rbac, coordination, storage, resource
  "Ingress",
  "NetworkPolicy",
  "EndpointSlice",
  "Role",
  "RoleBinding",
  "Lease",
  "CSIStorageCapacity",
  "VolumeSnapshot",
  "ResourceClaim",
  "ResourceClaimTemplate",
  // Gateway API
  "Gateway",
  "HTTPRoute",
  "GRPCRoute",
  "TCPRoute",
  "TLSRoute",
  "UDPRoute",
  "ReferenceGrant",
  // widely used operators
  "Certificate",
  "Issuer",
  "ServiceMonitor",
  "PodMonitor",
  "PrometheusRule",
  "ExternalSecret",
  "SecretStore",
  "SealedSecret",
  "HelmRelease",
  "VerticalPodAutoscaler",
  "ScaledObject",
];

/** Cluster-scoped kinds: never reported, even if a manifest sets metadata.namespace on them. */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "PriorityClass",
  "RuntimeClass",
  "IngressClass",
  "GatewayClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "APIService",
  "CertificateSigningRequest",
  "FlowSchema",
  "PriorityLevelConfiguration",
  "ClusterIssuer",
  "ClusterSecretStore",
  "VolumeSnapshotClass",
  "VolumeSnapshotContent",
  "DeviceClass",
]);

/** Objects Kubernetes itself keeps in the default namespace: kind → names. */
const BUILT_IN_DEFAULT_OBJECTS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["Service", new Set(["kubernetes"])],
  ["Endpoints", new Set(["kubernetes"])],
  ["EndpointSlice", new Set(["kubernetes"])],
  ["ServiceAccount", new Set(["default"])],
  ["ConfigMap", new Set(["kube-root-ca.crt"])],
]);

export const defaultNamespace: Rule = {
  id: "default-namespace",
  title: "Objects are not placed in the default namespace",
  severity: "low",
  defaultAction: "deny",
  kinds: NAMESPACED_KINDS,
  sets: ["platform", "platform-namespaces"],
  rationale:
    "The default namespace has no owner, quota, network policy or access boundary of its own; objects put " +
    "there share it with anything else deployed carelessly, defeating per-team segregation and least privilege.",
  fix:
    "Set `metadata.namespace` to the application's own namespace (create it with its quota, LimitRange, " +
    "NetworkPolicies and RBAC), e.g. `metadata: {namespace: payments}`.",
  controls: ["iso27001:A.8.22", "iso27001:A.5.15", "iso27001:A.8.9", "nis2:21.2.i"],
  evidenceBoundary:
    "Only an explicit `metadata.namespace: default` is reported: an object without a namespace lands in " +
    "whatever namespace kubectl targets, which vakt cannot see. A pass does not prove the chosen namespace " +
    "is isolated. Kinds outside the rule's list (e.g. most custom resources) are not checked.",
  reference: "https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
  check(object) {
    if (typeof object.kind !== "string" || CLUSTER_SCOPED_KINDS.has(object.kind)) return [];
    if (metadataOf(object)["namespace"] !== "default") return [];
    if (BUILT_IN_DEFAULT_OBJECTS.get(object.kind)?.has(nameOf(object)) === true) return [];
    return [
      {
        path: ["metadata", "namespace"],
        message: `${object.kind} "${nameOf(object)}" is in the default namespace; give it an application namespace`,
      },
    ];
  },
};

export const NAMESPACE_RULES: readonly Rule[] = [defaultNamespace];
