import { auditedGrants } from "../audit/kinds.ts";
import { REPORTS_GROUP } from "../audit/report.ts";
import { POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD } from "../crds/vakt.ts";
import type { KubeObject, Rule } from "../engine/types.ts";
import { webhookConfigurations } from "../webhook/registration.ts";
import { RUN_NODE_FLAGS } from "../config/runtime.ts";
import { OWNER_ROLES, TENANT_WRITES, confinementPolicy } from "./confinement.ts";
import { BACKUP_LOCATION, GROUP, POLICY_EXCEPTION, TENANT, VAKT_CONFIGURATION } from "../api/registry.ts";

export interface InstallOptions {
  readonly namespace: string;
  /** Container image, pinned to a tag or digest. */
  readonly image: string;
  readonly replicas: number;
  /** Fail (default): requests are refused while vakt cannot answer; Ignore: admitted. */
  readonly failurePolicy: "Fail" | "Ignore";
  readonly timeoutSeconds: number;
  /**
   * Where the webhook's serving certificate comes from: "cert-manager" (a self-signed Issuer and
   * a Certificate; cert-manager's CA injector keeps caBundle current) or "self" (vakt bootstraps
   * a CA, stores it in a Secret, rotates it and patches caBundle itself).
   */
  readonly tls: "cert-manager" | "self";
  readonly rules: readonly Rule[];
  /** Extra CRDs to install (the Tenant CRD). */
  readonly crds: readonly KubeObject[];
}

const NAME = "vakt";
const PORT = 9443;

/**
 * Everything needed to run vakt in a cluster, in apply order. vakt passes its own rules: the
 * Deployment runs 2 replicas spread over nodes with a PodDisruptionBudget, a restricted security
 * context, probes, requests and limits, no service-account token beyond what it needs (it talks to
 * the API), and a NetworkPolicy that only opens the webhook port.
 */
/** The parts the installed Deployment runs (`vakt run --parts`), in start order. */
export const INSTALLED_PARTS = ["webhook", "controller", "audit", "backup"] as const;

export function installManifests(options: InstallOptions): KubeObject[] {
  const ns = options.namespace;
  const labels = { "app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "vakt" };
  const selector = { "app.kubernetes.io/name": NAME };
  const objects: KubeObject[] = [
    ...[POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD, ...options.crds],
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns,
        labels: {
          ...labels,
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: NAME, namespace: ns, labels },
      automountServiceAccountToken: false,
    },
    // Before the ClusterRole and its binding: the grants never exist unconfined.
    ...confinementPolicy({ name: NAME, namespace: ns, serviceAccount: NAME, labels }),
    clusterRole(labels, options.rules),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: NAME, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: NAME, namespace: ns, labels },
      rules: [
        {
          apiGroups: [""],
          resources: ["secrets"],
          verbs: ["get", "list", "watch", "create", "update", "patch"],
        },
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          verbs: ["get", "list", "watch", "create", "update", "patch"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: NAME, namespace: ns, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    },
    deployment(options, labels, selector),
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: NAME, namespace: ns, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "webhook", port: 443, targetPort: "webhook", protocol: "TCP" }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress"],
        // The API server's source address is not a pod, so the webhook port (which also serves
        // /metrics and the health endpoints) is open to the cluster network; nothing else is.
        ingress: [{ ports: [{ port: PORT, protocol: "TCP" }] }],
      },
    },
  ];
  if (options.tls === "cert-manager") {
    objects.push(
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Issuer",
        metadata: { name: `${NAME}-selfsigned`, namespace: ns, labels },
        spec: { selfSigned: {} },
      },
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: `${NAME}-webhook`, namespace: ns, labels },
        spec: {
          secretName: `${NAME}-webhook-tls`,
          dnsNames: [`${NAME}.${ns}.svc`, `${NAME}.${ns}.svc.cluster.local`],
          duration: "2160h",
          renewBefore: "720h",
          privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
          issuerRef: { name: `${NAME}-selfsigned`, kind: "Issuer" },
        },
      },
    );
  }
  for (const config of webhookConfigurations({
    name: NAME,
    target: { service: { namespace: ns, name: NAME, port: 443 } },
    caBundle: "",
    failurePolicy: options.failurePolicy,
    timeoutSeconds: options.timeoutSeconds,
    excludedNamespaces: ["kube-system", ns],
    rules: options.rules,
    mutate: true,
  })) {
    const metadata = config.metadata as Record<string, unknown>;
    if (options.tls === "cert-manager") {
      metadata["annotations"] = { "cert-manager.io/inject-ca-from": `${ns}/${NAME}-webhook` };
    }
    objects.push(config);
  }
  return objects;
}

function deployment(
  options: InstallOptions,
  labels: Record<string, string>,
  selector: Record<string, string>,
): KubeObject {
  const tlsFromSecret = options.tls === "cert-manager";
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: NAME,
      namespace: options.namespace,
      labels,
      annotations: { "vakt.dev/needs-service-account-token": "vakt watches and writes Kubernetes objects" },
    },
    spec: {
      replicas: options.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: {
            "vakt.dev/needs-service-account-token": "vakt watches and writes Kubernetes objects",
          },
        },
        spec: {
          serviceAccountName: NAME,
          automountServiceAccountToken: true,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
              ],
            },
          },
          containers: [
            {
              name: NAME,
              image: options.image,
              args: [
                "run",
                // Named, not the default of every part: the ClusterRole grants what these need; the
                // fleet part is for a hub, set up on purpose (its Environments are not granted here).
                `--parts=${INSTALLED_PARTS.join(",")}`,
                `--webhook-port=${PORT}`,
                `--namespace=${options.namespace}`,
                ...(tlsFromSecret ? ["--tls-dir=/tls"] : ["--tls=self"]),
                // The audit writes its reports; its evidence history wants PostgreSQL in a cluster:
                // the embedded database (PGlite) peaks near 1 GB when it opens (ADR 22), past this
                // container's limit, and would live only as long as the pod.
                "--no-evidence",
              ],
              // Heap sizing for a long-running process (see src/config/runtime.ts).
              env: [{ name: "NODE_OPTIONS", value: RUN_NODE_FLAGS.join(" ") }],
              ports: [{ name: "webhook", containerPort: PORT, protocol: "TCP" }],
              readinessProbe: {
                httpGet: { path: "/readyz", port: "webhook", scheme: "HTTPS" },
                periodSeconds: 5,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "webhook", scheme: "HTTPS" },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              ...(tlsFromSecret
                ? { volumeMounts: [{ name: "tls", mountPath: "/tls", readOnly: true }] }
                : {}),
            },
          ],
          ...(tlsFromSecret
            ? { volumes: [{ name: "tls", secret: { secretName: `${NAME}-webhook-tls` } }] }
            : {}),
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

/**
 * Least privilege, no wildcards: read what the rules judge, write what the controllers own (in
 * the places confinementPolicy allows: src/install/confinement.ts). The
 * webhook's live inventory (INVENTORY_RESOURCES in src/manager/inventory.ts) lists and watches
 * serviceaccounts, horizontalpodautoscalers, poddisruptionbudgets and networkpolicies.
 */
function clusterRole(labels: Record<string, string>, rules: readonly Rule[]): KubeObject {
  const read = ["get", "list", "watch"];
  const write = ["get", "list", "watch", "create", "update", "patch", "delete"];
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: NAME, labels },
    rules: [
      { apiGroups: [GROUP], resources: [POLICY_EXCEPTION.plural, VAKT_CONFIGURATION.plural], verbs: read },
      { apiGroups: [GROUP], resources: [TENANT.plural], verbs: ["get", "list", "watch", "update", "patch"] },
      { apiGroups: [GROUP], resources: [`${TENANT.plural}/status`], verbs: ["get", "update", "patch"] },
      // The backup part (--parts backup): its locations and their status, the Velero backups and
      // locations it copies from. Credentials Secrets: in vakt's namespace (its Role).
      { apiGroups: [GROUP], resources: [BACKUP_LOCATION.plural], verbs: read },
      {
        apiGroups: [GROUP],
        resources: [`${BACKUP_LOCATION.plural}/status`],
        verbs: ["get", "update", "patch"],
      },
      { apiGroups: ["velero.io"], resources: ["backups", "backupstoragelocations"], verbs: read },
      {
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
        resourceNames: [NAME],
        verbs: ["get", "update", "patch"],
      },
      { apiGroups: [""], resources: ["namespaces"], verbs: write },
      {
        apiGroups: [""],
        resources: [
          "pods",
          "services",
          "serviceaccounts",
          "configmaps",
          "persistentvolumeclaims",
          "persistentvolumes",
          "replicationcontrollers",
          "podtemplates",
        ],
        verbs: read,
      },
      { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
      {
        apiGroups: ["apps"],
        resources: ["deployments", "statefulsets", "daemonsets", "replicasets"],
        verbs: read,
      },
      { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: read },
      { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: read },
      { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: read },
      { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: read },
      { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: read },
      // RoleBindings to the built-in roles for tenant owners need `bind` on exactly those roles.
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        resources: ["clusterroles"],
        resourceNames: [...OWNER_ROLES],
        verbs: ["bind"],
      },
      // Cluster-wide here; the ValidatingAdmissionPolicy confines them to their namespaces.
      ...TENANT_WRITES.map((grant) => ({
        apiGroups: [grant.group],
        resources: [...grant.resources],
        verbs: write,
      })),
      { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: read },
      // The background audit reads every kind the rules judge and writes one report per namespace.
      ...auditedGrants(rules).map(({ group, resources }) => ({ apiGroups: [group], resources, verbs: read })),
      {
        apiGroups: [REPORTS_GROUP],
        resources: ["reports", "clusterreports"],
        verbs: ["get", "list", "watch", "create", "update", "patch"],
      },
    ],
  };
}
