import type { Rule, Violation } from "../types.ts";
import { dictAt, WORKLOAD_KINDS, type Dict } from "../workloads.ts";

/** A quantity is set when it is a non-empty string or a number. */
function isSet(resources: Dict | undefined, section: "requests" | "limits", resource: string): boolean {
  const value = resources === undefined ? undefined : dictAt(resources, [section])?.[resource];
  return (typeof value === "string" && value.trim() !== "") || typeof value === "number";
}

const REQUIRED = [
  { section: "requests", resource: "cpu", defaultedFromLimit: true },
  { section: "requests", resource: "memory", defaultedFromLimit: true },
  { section: "limits", resource: "memory", defaultedFromLimit: false },
] as const;

export const resourceRequests: Rule = {
  id: "resource-requests",
  title: "Containers declare CPU and memory requests and a memory limit",
  severity: "medium",
  defaultAction: "warn",
  kinds: WORKLOAD_KINDS,
  sets: ["platform", "platform-resources"],
  rationale:
    "Requests let the scheduler place pods where capacity exists and protect them from noisy neighbours; a " +
    "memory limit keeps one container from exhausting a node's memory and taking other workloads down.",
  fix:
    "Add to every container and init container: `resources: {requests: {cpu: 100m, memory: 128Mi}, " +
    "limits: {memory: 256Mi}}`, sized from observed usage.",
  controls: ["iso27001:A.8.6", "nis2:21.2.c", "gdpr:32"],
  evidenceBoundary:
    "A pass shows the values are declared, not that they are sized correctly. A request left out but implied " +
    "by a limit (Kubernetes defaults requests to limits) counts as declared; LimitRange defaults in the " +
    "namespace are not taken into account, and ephemeral containers (which cannot declare resources) are " +
    "not checked.",
  reference: "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
  check(_object, context) {
    const view = context.view.pod;
    if (view === undefined) return [];
    const violations: Violation[] = [];
    for (const { kind, name, container, path } of view.containers) {
      if (kind === "ephemeralContainers") continue;
      const resources = dictAt(container, ["resources"]);
      for (const { section, resource, defaultedFromLimit } of REQUIRED) {
        if (isSet(resources, section, resource)) continue;
        if (defaultedFromLimit && isSet(resources, "limits", resource)) continue;
        const what = section === "requests" ? `${resource} request` : `${resource} limit`;
        violations.push({
          path: [...path, "resources", section, resource],
          message: `container "${name}" has no ${what} (resources.${section}.${resource})`,
        });
      }
    }
    return violations;
  },
};

export const RESOURCE_RULES: readonly Rule[] = [resourceRequests];
