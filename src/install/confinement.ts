/**
 * Where vakt may write, held by kube-apiserver itself: a ValidatingAdmissionPolicy that matches
 * only requests of vakt's ServiceAccount (ADR 0012). RBAC cannot say "RoleBindings, but only in
 * the namespaces vakt created", so the ClusterRole grants the verbs cluster-wide and this policy
 * confines them; the write rules of the ClusterRole are derived from the same table, so a kind
 * vakt may write is never missing from the policy.
 */
import { REPORTS_GROUP, REPORT_NAME } from "../audit/report.ts";
import { EVENT_NAMESPACE } from "../controllers/tenant/status.ts";
import type { KubeObject } from "../engine/types.ts";
import { TENANT_LABEL } from "../tenant/render.ts";
import { GROUP, TENANT } from "../api/registry.ts";

/**
 * Set by a cluster administrator on a namespace outside the tenants (Velero's, Argo CD's) where
 * vakt may write a tenant's backup Schedule, AppProject and Application. vakt cannot set it on a
 * namespace it does not manage: the policy refuses it any change to such a namespace.
 */
export const INTEGRATIONS_LABEL = "vakt.dev/integrations";
export const INTEGRATIONS_ALLOWED = "allowed";

/** The built-in roles a tenant's owners are given; vakt may bind no other. */
export const OWNER_ROLES = ["admin", "edit", "view"] as const;

/**
 * - tenant: only in a namespace labelled vakt.dev/tenant (one vakt created for a Tenant);
 * - integration: there, in vakt's own namespace, or where INTEGRATIONS_LABEL allows it.
 */
type Place = "tenant" | "integration";

interface WriteGrant {
  readonly group: string;
  readonly resources: readonly string[];
  readonly place: Place;
}

/** The namespaced kinds the Tenant controller applies and prunes (TENANT_CHILD_KINDS). */
export const TENANT_WRITES: readonly WriteGrant[] = [
  { group: "", resources: ["resourcequotas", "limitranges"], place: "tenant" },
  { group: "rbac.authorization.k8s.io", resources: ["rolebindings"], place: "tenant" },
  { group: "networking.k8s.io", resources: ["networkpolicies"], place: "tenant" },
  { group: "cert-manager.io", resources: ["certificates"], place: "tenant" },
  { group: "postgresql.cnpg.io", resources: ["clusters", "scheduledbackups"], place: "tenant" },
  { group: "rabbitmq.com", resources: ["rabbitmqclusters"], place: "tenant" },
  { group: "databases.spotahome.com", resources: ["redisfailovers"], place: "tenant" },
  {
    group: "monitoring.coreos.com",
    resources: ["servicemonitors", "prometheusrules", "podmonitors"],
    place: "tenant",
  },
  { group: "velero.io", resources: ["schedules"], place: "integration" },
  { group: "argoproj.io", resources: ["applications", "appprojects"], place: "integration" },
];

const key = (group: string, resource: string): string => `${group}/${resource}`;
const keysOf = (place: Place): string[] =>
  TENANT_WRITES.filter((grant) => grant.place === place).flatMap((grant) =>
    grant.resources.map((resource) => key(grant.group, resource)),
  );
/** A CEL list literal of strings; every value here is a Kubernetes name or a fixed key. */
const celList = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(", ")}]`;

/**
 * The ValidatingAdmissionPolicy and its binding. Everything vakt's ServiceAccount writes is
 * refused unless a validation below allows its kind and place; an error evaluating the policy
 * refuses too (failurePolicy Fail).
 */
export function confinementPolicy(options: {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Record<string, string>;
}): KubeObject[] {
  const { name, namespace, labels } = options;
  const own = JSON.stringify(namespace);
  const tenantKinds = keysOf("tenant");
  const integrationKinds = keysOf("integration");
  const ownKinds = [key("", "secrets"), key("coordination.k8s.io", "leases")];
  const eventKinds = [key("", "events"), key("events.k8s.io", "events")];
  const webhookKinds = [
    key("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    key("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
  ];
  const reportKinds = [key(REPORTS_GROUP, "reports"), key(REPORTS_GROUP, "clusterreports")];
  const clusterKinds = [
    key("", "namespaces"),
    key(GROUP, TENANT.plural),
    key(GROUP, `${TENANT.plural}/status`),
    key(GROUP, "backuplocations/status"),
  ];
  const labelled = (object: string): string =>
    `(has(${object}.metadata.labels) && ${JSON.stringify(TENANT_LABEL)} in ${object}.metadata.labels)`;
  /** Fields of a webhook vakt must leave as `vakt install` set them: all but clientConfig.caBundle. */
  const sameWebhook = [
    "o.name == w.name",
    "o.clientConfig.?service == w.clientConfig.?service",
    "o.clientConfig.?url == w.clientConfig.?url",
    "o.?rules == w.?rules",
    "o.?failurePolicy == w.?failurePolicy",
    "o.?matchPolicy == w.?matchPolicy",
    "o.?namespaceSelector == w.?namespaceSelector",
    "o.?objectSelector == w.?objectSelector",
    "o.?sideEffects == w.?sideEffects",
    "o.?timeoutSeconds == w.?timeoutSeconds",
    "o.?admissionReviewVersions == w.?admissionReviewVersions",
    "o.?matchConditions == w.?matchConditions",
    "o.?reinvocationPolicy == w.?reinvocationPolicy",
  ].join(" && ");
  const where = `variables.target + (variables.targetNamespace == "" ? "" : " in namespace " + variables.targetNamespace)`;
  const policy: KubeObject = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ["*"],
            apiVersions: ["*"],
            resources: ["*/*"],
            operations: ["*"],
          },
        ],
      },
      matchConditions: [
        {
          name: "vakt-service-account",
          expression: `request.userInfo.username == ${JSON.stringify(`system:serviceaccount:${namespace}:${options.serviceAccount}`)}`,
        },
      ],
      variables: [
        {
          name: "target",
          expression:
            'request.resource.group + "/" + request.resource.resource + request.?subResource.optMap(s, s == "" ? "" : "/" + s).orValue("")',
        },
        // Fields the request leaves empty are absent (a cluster-scoped kind, a generateName).
        { name: "targetNamespace", expression: 'request.?namespace.orValue("")' },
        { name: "targetName", expression: 'request.?name.orValue("")' },
        { name: "own", expression: `variables.targetNamespace == ${own}` },
        { name: "managed", expression: `namespaceObject != null && ${labelled("namespaceObject")}` },
      ],
      validations: [
        {
          expression: `variables.target in ${celList([...tenantKinds, ...integrationKinds, ...ownKinds, ...eventKinds, ...webhookKinds, ...clusterKinds, ...reportKinds])} && request.operation != "CONNECT"`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may not " + request.operation + " " + ${where} + ": vakt never writes this kind, so the request is refused (ValidatingAdmissionPolicy ${name})"`,
        },
        {
          expression: `!(variables.target in ${celList(tenantKinds)}) || variables.managed`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may write " + variables.target + " only in namespaces labelled ${TENANT_LABEL} (the Tenant namespaces it manages); namespace " + variables.targetNamespace + " is not one"`,
        },
        {
          expression: `!(variables.target in ${celList(integrationKinds)}) || variables.managed || variables.own || (namespaceObject != null && has(namespaceObject.metadata.labels) && namespaceObject.metadata.labels[?${JSON.stringify(INTEGRATIONS_LABEL)}] == optional.of(${JSON.stringify(INTEGRATIONS_ALLOWED)}))`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may write " + variables.target + " in namespace " + variables.targetNamespace + " only if a cluster administrator labels it: kubectl label namespace " + variables.targetNamespace + " ${INTEGRATIONS_LABEL}=${INTEGRATIONS_ALLOWED}"`,
        },
        {
          expression: `!(variables.target in ${celList(ownKinds)}) || variables.own`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may write " + variables.target + " only in its own namespace ${namespace}"`,
        },
        {
          expression: `!(variables.target in ${celList(eventKinds)}) || variables.own || variables.managed || variables.targetNamespace == ${JSON.stringify(EVENT_NAMESPACE)}`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may record Events only in ${EVENT_NAMESPACE}, ${namespace} and the Tenant namespaces it manages, not in " + variables.targetNamespace`,
        },
        {
          // The background audit writes one report per namespace, under one name.
          expression: `!(variables.target in ${celList(reportKinds)}) || variables.targetName == ${JSON.stringify(REPORT_NAME)}`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may write only the audit reports named ${REPORT_NAME}; refused " + variables.target + " " + variables.targetName`,
        },
        {
          // Granting a namespace the tenant label would open it to everything above.
          expression: `variables.target != "/namespaces" || ((request.operation == "CREATE" || ${labelled("oldObject")}) && (request.operation == "DELETE" || ${labelled("object")}))`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may " + request.operation + " namespace " + variables.targetName + " only if it is labelled ${TENANT_LABEL} before and after (a Tenant namespace vakt manages)"`,
        },
        {
          expression: `variables.target != "rbac.authorization.k8s.io/rolebindings" || request.operation == "DELETE" || (object.roleRef.kind == "ClusterRole" && object.roleRef.name in ${celList(OWNER_ROLES)} && (!has(object.subjects) || object.subjects.all(s, s.kind in ["User", "Group"] && !s.name.startsWith("system:"))))`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may bind only the ClusterRoles ${OWNER_ROLES.join(", ")} to users and groups (not service accounts or system: names), as a Tenant's owners; refused RoleBinding " + variables.targetNamespace + "/" + variables.targetName`,
        },
        {
          // vakt only keeps caBundle current; changing anything else could switch the checks off.
          expression: `!(variables.target in ${celList(webhookKinds)}) || (variables.targetName == ${JSON.stringify(name)} && request.operation == "UPDATE" && object.webhooks.size() == oldObject.webhooks.size() && object.webhooks.all(w, oldObject.webhooks.exists(o, ${sameWebhook})))`,
          reason: "Forbidden",
          messageExpression: `"vakt's ServiceAccount may change only clientConfig.caBundle of the webhook configurations named ${name}; refused " + request.operation + " of " + variables.target + " " + variables.targetName`,
        },
      ],
    },
  };
  const binding: KubeObject = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels },
    spec: { policyName: name, validationActions: ["Deny"] },
  };
  return [policy, binding];
}
