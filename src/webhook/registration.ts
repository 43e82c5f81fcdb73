import type { KubeObject, Rule } from "../engine/types.ts";
import { JUDGED_POD_SUBRESOURCES } from "./admission.ts";
import { ENVIRONMENT, GROUP, POLICY_EXCEPTION } from "../api/registry.ts";
import { VERSION } from "../version.ts";

/** The label of vakt's webhook configurations that carries the version of the vakt answering them. */
export const VERSION_LABEL = "app.kubernetes.io/version";

/** A version as a label value (at most 63 of [A-Za-z0-9_.-]; a "+build" suffix becomes "_build"). */
export function versionLabelValue(version: string): string {
  return version
    .replace(/[^A-Za-z0-9_.-]/g, "_")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** Where the API server reaches the webhook: a URL (vakt as a host process) or a Service. */
export type WebhookTarget =
  | { readonly url: string }
  | { readonly service: { readonly namespace: string; readonly name: string; readonly port: number } };

export interface WebhookConfigOptions {
  readonly name: string;
  readonly target: WebhookTarget;
  /** PEM of the CA that signed the webhook's serving certificate. */
  readonly caBundle: string;
  /** Fail (default): a request is refused when vakt cannot answer; Ignore: admitted. */
  readonly failurePolicy: "Fail" | "Ignore";
  readonly timeoutSeconds: number;
  /** Namespaces never sent to the webhook (vakt's own, kube-system). */
  readonly excludedNamespaces: readonly string[];
  readonly rules: readonly Rule[];
  readonly mutate: boolean;
  /** Only namespaces with these labels are judged (default: all but the excluded ones). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/** Kind -> [API group, resource] for every kind admission judges (the audit reads more). */
export const ADMISSION_RESOURCES: Readonly<Record<string, readonly [string, string]>> = {
  Pod: ["", "pods"],
  PodTemplate: ["", "podtemplates"],
  ReplicationController: ["", "replicationcontrollers"],
  Service: ["", "services"],
  Namespace: ["", "namespaces"],
  ServiceAccount: ["", "serviceaccounts"],
  PersistentVolumeClaim: ["", "persistentvolumeclaims"],
  PersistentVolume: ["", "persistentvolumes"],
  ConfigMap: ["", "configmaps"],
  Secret: ["", "secrets"],
  Deployment: ["apps", "deployments"],
  StatefulSet: ["apps", "statefulsets"],
  DaemonSet: ["apps", "daemonsets"],
  ReplicaSet: ["apps", "replicasets"],
  Job: ["batch", "jobs"],
  CronJob: ["batch", "cronjobs"],
  Ingress: ["networking.k8s.io", "ingresses"],
  NetworkPolicy: ["networking.k8s.io", "networkpolicies"],
  PodDisruptionBudget: ["policy", "poddisruptionbudgets"],
  HorizontalPodAutoscaler: ["autoscaling", "horizontalpodautoscalers"],
  StorageClass: ["storage.k8s.io", "storageclasses"],
  [POLICY_EXCEPTION.kind]: [GROUP, POLICY_EXCEPTION.plural],
  [ENVIRONMENT.kind]: [GROUP, ENVIRONMENT.plural],
  Role: ["rbac.authorization.k8s.io", "roles"],
  RoleBinding: ["rbac.authorization.k8s.io", "rolebindings"],
  ClusterRole: ["rbac.authorization.k8s.io", "clusterroles"],
  ClusterRoleBinding: ["rbac.authorization.k8s.io", "clusterrolebindings"],
};

/**
 * The admission rules (group/resource lists) covering every kind the given rules judge, with the
 * subresources that change what a pod runs unless `subresources` is false.
 */
export function admissionRules(
  rules: readonly Rule[],
  kinds?: ReadonlySet<string>,
  subresources = true,
): {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: string;
}[] {
  const byGroup = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const kind of rule.kinds) {
      if (kinds !== undefined && !kinds.has(kind)) continue;
      const entry = ADMISSION_RESOURCES[kind];
      if (entry === undefined) continue;
      const [group, resource] = entry;
      let set = byGroup.get(group);
      if (set === undefined) byGroup.set(group, (set = new Set()));
      set.add(resource);
      if (subresources && resource === "pods")
        for (const sub of JUDGED_POD_SUBRESOURCES) set.add(`pods/${sub}`);
    }
  }
  return [...byGroup]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, resources]) => ({
      apiGroups: [group],
      apiVersions: ["*"],
      operations: ["CREATE", "UPDATE"],
      resources: [...resources].sort(),
      scope: "*",
    }));
}

const MUTATED_KINDS = new Set([
  "Pod",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
  "CronJob",
  "PodTemplate",
]);

/**
 * CEL: true when a pod spec at `spec` (an expression) may lack a default the mutations add. Each
 * clause names a field whose absence a mutation needs, so when every clause is false no mutation
 * applies (mutations only ever ADD absent fields); the converse need not hold: a call the clauses
 * let through may still yield no patch (a privileged container, a named service account, ...).
 * Every `has()` of a nested field is guarded by the `has()` of its parent, so the expression never
 * errors on a typed object (an error would count as a failed call).
 */
function podSpecMayNeedDefaults(spec: string): string {
  const container =
    "!has(c.securityContext) || !has(c.securityContext.allowPrivilegeEscalation) || " +
    "!has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.drop)";
  return [
    `!has(${spec}.containers)`,
    `!has(${spec}.automountServiceAccountToken)`,
    `!has(${spec}.securityContext)`,
    `!has(${spec}.securityContext.seccompProfile)`,
    `${spec}.containers.exists(c, ${container})`,
    `(has(${spec}.initContainers) && ${spec}.initContainers.exists(c, ${container}))`,
  ].join(" || ");
}

/** Where each mutated kind keeps its pod spec, as the chain of fields to it. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: ["spec"],
  PodTemplate: ["template", "spec"],
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  ReplicationController: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/**
 * The mutating webhook's matchCondition: call vakt only for an object that may lack a default (a
 * fully declared workload, the usual GitOps case, costs no call). Conservative in both ways: any
 * kind not listed, or an object without its pod spec, is sent to vakt, which decides as before.
 * It ignores which mutations are enabled, so a configuration change never needs new conditions.
 */
export function mutationMatchCondition(): string {
  const byKind = Object.entries(POD_SPEC_PATHS).map(([kind, fields]) => {
    const prefixes = fields.map((_, i) => ["object", ...fields.slice(0, i + 1)].join("."));
    const missing = prefixes.map((prefix) => `!has(${prefix})`);
    const ttl = kind === "Job" ? " || !has(object.spec.ttlSecondsAfterFinished)" : "";
    return `request.kind.kind == '${kind}' ? (${missing.join(" || ")} || ${podSpecMayNeedDefaults(prefixes.at(-1) ?? "object")}${ttl})`;
  });
  return `${byKind.join(" : ")} : true`;
}

function clientConfig(target: WebhookTarget, path: string, caBundle: string): Record<string, unknown> {
  const ca = Buffer.from(caBundle).toString("base64");
  if ("url" in target) return { url: `${target.url}${path}`, caBundle: ca };
  return { service: { ...target.service, path }, caBundle: ca };
}

/**
 * The ValidatingWebhookConfiguration (and MutatingWebhookConfiguration) that make kube-apiserver
 * call vakt. Objects being deleted are skipped by a matchCondition (finalizer updates need no
 * verdict), and so are vakt's own and the system namespaces.
 */
export function webhookConfigurations(options: WebhookConfigOptions): KubeObject[] {
  const common = {
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: options.failurePolicy,
    timeoutSeconds: options.timeoutSeconds,
    matchPolicy: "Equivalent",
    namespaceSelector: {
      matchExpressions: [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: [...options.excludedNamespaces] },
      ],
    },
    matchConditions: [{ name: "not-being-deleted", expression: "!has(object.metadata.deletionTimestamp)" }],
  };
  // The version label says which vakt answers here: a hub reads it to see version skew in its members.
  const labels = {
    "app.kubernetes.io/name": "vakt",
    "app.kubernetes.io/managed-by": "vakt",
    [VERSION_LABEL]: versionLabelValue(VERSION),
  };
  const objects: KubeObject[] = [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: options.name, labels },
      webhooks: [
        {
          name: `validate.${options.name}.vakt.dev`,
          clientConfig: clientConfig(options.target, "/validate", options.caBundle),
          rules: admissionRules(options.rules),
          ...common,
        },
      ],
    },
  ];
  if (options.mutate) {
    objects.push({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: options.name, labels },
      webhooks: [
        {
          name: `mutate.${options.name}.vakt.dev`,
          clientConfig: clientConfig(options.target, "/mutate", options.caBundle),
          // Defaults are added on CREATE only (see planMutations): UPDATE is not sent at all.
          rules: admissionRules(options.rules, MUTATED_KINDS, false).map((rule) => ({
            ...rule,
            operations: ["CREATE"],
          })),
          reinvocationPolicy: "IfNeeded",
          ...common,
          matchConditions: [
            ...common.matchConditions,
            { name: "may-need-defaults", expression: mutationMatchCondition() },
          ],
          // A mutation is a convenience: never block a request because vakt could not add defaults.
          failurePolicy: "Ignore",
        },
      ],
    });
  }
  return objects;
}
