import type { KubeObject, Rule, Violation } from "../types.ts";
import { arrayAt, get, isDict, WORKLOAD_KINDS } from "../workloads.ts";
import { effectiveNamespace } from "./util/inventory.ts";
import { nameOf } from "./util/objects.ts";
import { objectsSelecting } from "./util/index.ts";
import { parseLabelSelector, type LabelSelector } from "./util/selector.ts";

const SETS = ["platform", "platform-network"] as const;

/** spec.podSelector is a non-pointer field: missing means {} (every pod in the namespace). */
function policySelector(policy: KubeObject): LabelSelector {
  return parseLabelSelector(get(policy, ["spec", "podSelector"]), "everything");
}

export const networkPolicyCoverage: Rule = {
  id: "network-policy-coverage",
  title: "Workloads are selected by a NetworkPolicy",
  severity: "medium",
  defaultAction: "warn",
  kinds: WORKLOAD_KINDS,
  sets: SETS,
  rationale:
    "Pods that no NetworkPolicy selects accept traffic from, and send traffic to, anything in the cluster: " +
    "one compromised pod can reach every other. Selecting every pod with a policy is the basis of network " +
    "segmentation (default deny, then explicit allows).",
  fix:
    "Add a NetworkPolicy in the workload's namespace whose `spec.podSelector` selects its pod labels, e.g. a " +
    "namespace default deny: `kind: NetworkPolicy, spec: {podSelector: {}, policyTypes: [Ingress, Egress]}` " +
    "plus policies allowing the traffic the workload needs.",
  controls: ["iso27001:A.8.22", "iso27001:A.8.20", "nis2:21.2.i", "gdpr:32", "hipaa:164.312(a)(1)"],
  evidenceBoundary:
    "A pass shows some NetworkPolicy in the input set selects the pods; it does not judge what the policy " +
    "allows (an allow-all policy passes), that the cluster's network plugin enforces NetworkPolicy, or that " +
    "pods with hostNetwork (which policies do not cover) are isolated. Policies applied outside the checked " +
    "files are not seen.",
  reference: "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
  inventoryKinds: ["NetworkPolicy"],
  check(object, context) {
    const view = context.view.pod;
    if (view === undefined) return [];
    const template = view.template;
    const labels = template.metadata["labels"];
    const namespace = effectiveNamespace(object);
    const policies = context.inventory.byKind("NetworkPolicy", namespace);
    if (objectsSelecting(context.memo, policies, policySelector, labels).length > 0) return [];
    const where = context.inventory.complete ? `in namespace "${namespace}"` : "in the checked files";
    return [
      {
        path: [...template.path, "metadata", "labels"],
        message: `no NetworkPolicy ${where} selects the pods of ${String(object.kind)} "${nameOf(object)}"`,
      },
    ];
  },
};

/** Whether a TLS host entry covers a rule host: equal (case-insensitive), or "*.x" for exactly one label. */
export function tlsHostCovers(tlsHost: string, host: string): boolean {
  const pattern = tlsHost.toLowerCase();
  const name = host.toLowerCase();
  if (pattern === name) return true;
  if (!pattern.startsWith("*.")) return false;
  const dot = name.indexOf(".");
  return dot > 0 && !name.startsWith("*") && name.slice(dot) === pattern.slice(1);
}

export const ingressTls: Rule = {
  id: "ingress-tls",
  title: "Ingress hosts are served over TLS",
  severity: "high",
  defaultAction: "deny",
  kinds: ["Ingress"],
  sets: SETS,
  rationale:
    "Traffic to a host that has no TLS entry travels in clear text, exposing credentials and personal data " +
    "to anyone on the path.",
  fix:
    "List every rule host under `spec.tls`, e.g. `tls: [{hosts: [app.example.com], secretName: app-tls}]` " +
    "(a wildcard `*.example.com` covers one label), with a certificate in the Secret (cert-manager can " +
    "issue it).",
  controls: ["iso27001:A.8.24", "iso27001:A.8.20", "gdpr:32", "hipaa:164.312(e)(1)", "nis2:21.2.h"],
  evidenceBoundary:
    "A pass shows every host is listed under spec.tls. It does not prove the certificate exists, is valid " +
    "or strong, that plain HTTP is redirected, or that traffic behind the ingress controller is encrypted.",
  reference: "https://kubernetes.io/docs/concepts/services-networking/ingress/#tls",
  check(object) {
    const tlsHosts: string[] = [];
    const tls = arrayAt(object, ["spec", "tls"]);
    for (const entry of tls) {
      for (const host of arrayAt(entry, ["hosts"])) if (typeof host === "string") tlsHosts.push(host);
    }
    const violations: Violation[] = [];
    let hostless = false;
    for (const [index, rule] of arrayAt(object, ["spec", "rules"]).entries()) {
      const host = isDict(rule) ? rule["host"] : undefined;
      if (typeof host !== "string" || host === "") {
        hostless = true;
        continue;
      }
      if (tlsHosts.some((tlsHost) => tlsHostCovers(tlsHost, host))) continue;
      violations.push({
        path: ["spec", "rules", index, "host"],
        message: `Ingress host ${JSON.stringify(host)} is not covered by any spec.tls hosts entry, so it is served over plain HTTP`,
      });
    }
    const catchAll = hostless || get(object, ["spec", "defaultBackend"]) !== undefined;
    if (catchAll && tls.length === 0) {
      violations.push({
        path: ["spec", "tls"],
        message:
          "Ingress serves requests for any host (a rule without host or a defaultBackend) and has no spec.tls",
      });
    }
    return violations;
  },
};

export const NETWORK_RULES: readonly Rule[] = [networkPolicyCoverage, ingressTls];
