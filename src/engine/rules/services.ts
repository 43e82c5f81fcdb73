import type { Rule, Violation } from "../types.ts";
import { arrayAt, stringAt } from "../workloads.ts";
import { annotationOf } from "./util/objects.ts";

export const EXPOSURE_JUSTIFICATION = "vakt.dev/exposure-justification";

/** Provider annotations that make a LoadBalancer Service internal, with the value test for each. */
const INTERNAL_LOAD_BALANCER: readonly {
  readonly key: string;
  readonly internal: (value: string) => boolean;
}[] = [
  // AWS (legacy in-tree provider): any value other than "false" makes the ELB internal.
  {
    key: "service.beta.kubernetes.io/aws-load-balancer-internal",
    internal: (v) => v !== "" && v.toLowerCase() !== "false",
  },
  // AWS Load Balancer Controller.
  {
    key: "service.beta.kubernetes.io/aws-load-balancer-scheme",
    internal: (v) => v.toLowerCase() === "internal",
  },
  {
    key: "service.beta.kubernetes.io/azure-load-balancer-internal",
    internal: (v) => v.toLowerCase() === "true",
  },
  { key: "networking.gke.io/load-balancer-type", internal: (v) => v.toLowerCase() === "internal" },
  { key: "cloud.google.com/load-balancer-type", internal: (v) => v.toLowerCase() === "internal" },
  {
    key: "service.beta.kubernetes.io/openstack-internal-load-balancer",
    internal: (v) => v.toLowerCase() === "true",
  },
  {
    key: "service.beta.kubernetes.io/oci-load-balancer-internal",
    internal: (v) => v.toLowerCase() === "true",
  },
  {
    key: "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
    internal: (v) => v.toLowerCase() === "private",
  },
  {
    key: "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
    internal: (v) => v.toLowerCase() === "intranet",
  },
  { key: "load-balancer.hetzner.cloud/disable-public-network", internal: (v) => v.toLowerCase() === "true" },
];

function isInternalLoadBalancer(service: unknown): boolean {
  for (const { key, internal } of INTERNAL_LOAD_BALANCER) {
    const value = annotationOf(service, key);
    if (value !== undefined && internal(value.trim())) return true;
  }
  return false;
}

export const serviceExposure: Rule = {
  id: "service-exposure",
  title: "Services are not exposed outside the cluster without justification",
  severity: "medium",
  defaultAction: "warn",
  kinds: ["Service"],
  sets: ["platform", "platform-network"],
  rationale:
    "LoadBalancer and NodePort Services (and externalIPs) open a workload to networks outside the cluster, " +
    "usually bypassing the ingress layer's TLS, authentication and logging. Such exposure should be a " +
    "deliberate, recorded decision. Internal load balancers (provider annotations) are not reported.",
  fix:
    "Use a ClusterIP Service behind an Ingress or Gateway; for a private load balancer add the provider's " +
    "internal annotation (e.g. `networking.gke.io/load-balancer-type: Internal`, " +
    "`service.beta.kubernetes.io/aws-load-balancer-scheme: internal`); if public exposure is intended, " +
    `annotate \`${EXPOSURE_JUSTIFICATION}: "<why, who approved>"\`.`,
  controls: ["iso27001:A.8.20", "iso27001:A.8.22", "nis2:21.2.i", "gdpr:25"],
  evidenceBoundary:
    "A pass shows the Service is not of an exposed type, is marked internal, or carries a justification; " +
    "vakt does not verify the justification, what the cloud provider actually provisions, firewall rules, " +
    "or exposure through Ingress, Gateway or hostPort.",
  reference:
    "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
  check(object) {
    const justification = annotationOf(object, EXPOSURE_JUSTIFICATION);
    if (justification !== undefined && justification.trim() !== "") return [];
    const violations: Violation[] = [];
    const type = stringAt(object, ["spec", "type"]);
    if (type === "NodePort") {
      violations.push({
        path: ["spec", "type"],
        message: `Service type NodePort exposes it on every node's address; annotate ${EXPOSURE_JUSTIFICATION} if intended`,
      });
    } else if (type === "LoadBalancer" && !isInternalLoadBalancer(object)) {
      violations.push({
        path: ["spec", "type"],
        message: `Service type LoadBalancer without an internal load-balancer annotation is exposed outside the cluster; annotate ${EXPOSURE_JUSTIFICATION} if intended`,
      });
    }
    if (arrayAt(object, ["spec", "externalIPs"]).length > 0) {
      violations.push({
        path: ["spec", "externalIPs"],
        message: `Service sets spec.externalIPs, exposing it on those addresses; annotate ${EXPOSURE_JUSTIFICATION} if intended`,
      });
    }
    return violations;
  },
};

export const SERVICE_RULES: readonly Rule[] = [serviceExposure];
