import type { FieldPath, KubeObject, Rule, RuleContext, Violation } from "../types.ts";
import { dictAt, get, stringAt, type PodTemplate } from "../workloads.ts";
import { effectiveNamespace } from "./util/inventory.ts";
import { integerOf, isOwnedBy, nameOf, quoteList } from "./util/objects.ts";
import { objectsSelecting, objectsWithKey } from "./util/index.ts";
import { parseLabelSelector, SELECT_NOTHING, type LabelSelector } from "./util/selector.ts";

const SETS = ["platform", "platform-availability"] as const;
const AVAILABILITY_CONTROLS = ["iso27001:A.8.14", "iso27001:A.5.30", "nis2:21.2.c", "gdpr:32"] as const;

const LONG_RUNNING_KINDS = [
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Pod",
] as const;

/** A Pod that runs to completion: created by a Job, or with a restart policy other than Always. */
function isRunToCompletionPod(object: KubeObject): boolean {
  if (object.kind !== "Pod") return false;
  if (isOwnedBy(object, "Job")) return true;
  const restartPolicy = stringAt(object, ["spec", "restartPolicy"]);
  return restartPolicy === "Never" || restartPolicy === "OnFailure";
}

export const probes: Rule = {
  id: "probes",
  title: "Long-running containers have readiness and liveness probes",
  severity: "low",
  defaultAction: "warn",
  kinds: LONG_RUNNING_KINDS,
  sets: SETS,
  rationale:
    "Without a readiness probe traffic reaches containers that cannot serve yet, and rollouts proceed past " +
    "broken versions; without a liveness probe a hung process is never restarted.",
  fix:
    "Add to each container, e.g. `readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5}` " +
    "and `livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 10, failureThreshold: 3}`.",
  controls: ["iso27001:A.8.16", "iso27001:A.8.14", "nis2:21.2.c"],
  evidenceBoundary:
    "A pass shows the probes are declared, not that they test anything meaningful. Jobs, CronJobs, Pods " +
    "created by Jobs or with restartPolicy Never/OnFailure, init containers and ephemeral containers are " +
    "not checked.",
  reference: "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/",
  check(object, context) {
    if (isRunToCompletionPod(object)) return [];
    const view = context.view.pod;
    if (view === undefined) return [];
    const violations: Violation[] = [];
    for (const { kind, name, container, path } of view.containers) {
      if (kind !== "containers") continue;
      for (const probe of ["readinessProbe", "livenessProbe"] as const) {
        if (dictAt(container, [probe]) !== undefined) continue;
        violations.push({
          path: [...path, probe],
          message: `container "${name}" has no ${probe}`,
        });
      }
    }
    return violations;
  },
};

/** "Kind/name" of an autoscaler's apps/* scale target. */
function scaleTargetKey(hpa: KubeObject): string | undefined {
  const target = dictAt(hpa, ["spec", "scaleTargetRef"]);
  if (target === undefined) return undefined;
  const { apiVersion, kind, name } = target;
  if (typeof apiVersion === "string" && !apiVersion.startsWith("apps/")) return undefined;
  return typeof kind === "string" && typeof name === "string" ? `${kind}/${name}` : undefined;
}

/** HorizontalPodAutoscalers in the inventory whose scaleTargetRef is this workload. */
function autoscalersOf(object: KubeObject, context: RuleContext): readonly KubeObject[] {
  const autoscalers = context.inventory.byKind("HorizontalPodAutoscaler", effectiveNamespace(object));
  if (autoscalers.length === 0) return autoscalers;
  const key = `${String(object.kind)}/${nameOf(object)}`;
  return objectsWithKey(context.memo, autoscalers, scaleTargetKey, key);
}

/** The smallest minReplicas among the autoscalers (minReplicas defaults to 1), or undefined. */
function autoscaledMinimum(
  autoscalers: readonly KubeObject[],
): { count: number; hpa: KubeObject } | undefined {
  let lowest: { count: number; hpa: KubeObject } | undefined;
  for (const hpa of autoscalers) {
    const count = integerOf(get(hpa, ["spec", "minReplicas"])) ?? 1;
    if (lowest === undefined || count < lowest.count) lowest = { count, hpa };
  }
  return lowest;
}

export const replicas: Rule = {
  id: "replicas",
  title: "Deployments and StatefulSets run at least two replicas",
  severity: "medium",
  defaultAction: "warn",
  kinds: ["Deployment", "StatefulSet"],
  sets: SETS,
  rationale:
    "A single replica makes every node drain, eviction, crash or rollout an outage. A workload scaled by a " +
    "HorizontalPodAutoscaler is judged by the autoscaler's minReplicas instead of spec.replicas.",
  fix:
    "Set `spec.replicas: 2` (or more), or, when a HorizontalPodAutoscaler scales the workload, set its " +
    "`spec.minReplicas: 2`. Spread the replicas with `topologySpreadConstraints` or pod anti-affinity.",
  controls: AVAILABILITY_CONTROLS,
  evidenceBoundary:
    "A pass shows two or more replicas are requested, not that they run on different nodes or zones, that " +
    "the application tolerates losing one, or that the cluster has room for them. Autoscalers are only " +
    "seen when they are in the same input set.",
  reference: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/",
  inventoryKinds: ["HorizontalPodAutoscaler"],
  check(object, context) {
    const autoscaled = autoscaledMinimum(autoscalersOf(object, context));
    if (autoscaled !== undefined) {
      if (autoscaled.count >= 2) return [];
      return [
        {
          path: ["spec", "replicas"],
          message: `HorizontalPodAutoscaler "${nameOf(autoscaled.hpa)}" scales ${String(object.kind)} "${nameOf(object)}" down to ${autoscaled.count} replica; set its spec.minReplicas to 2 or more`,
        },
      ];
    }
    const value = get(object, ["spec", "replicas"]);
    if (value === undefined || value === null) {
      return [
        {
          path: ["spec", "replicas"],
          message: "spec.replicas is not set, so 1 replica runs; set it to 2 or more",
        },
      ];
    }
    const count = integerOf(value);
    if (count === undefined) {
      return [
        { path: ["spec", "replicas"], message: `spec.replicas ${JSON.stringify(value)} is not an integer` },
      ];
    }
    if (count >= 2) return [];
    return [{ path: ["spec", "replicas"], message: `spec.replicas is ${count}; run 2 or more replicas` }];
  },
};

/**
 * An IntOrString scaled against `total` the way the disruption controller does it
 * (intstr.GetScaledValueFromIntOrPercent with rounding up). Undefined when invalid: negative,
 * a fraction, or a string that is not "<integer>%".
 */
const PERCENT = /^(\d+)%$/;
export function scaledIntOrPercent(value: unknown, total: number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== "string") return undefined;
  const match = PERCENT.exec(value);
  if (match?.[1] === undefined) return undefined;
  return Math.ceil((Number(match[1]) * total) / 100);
}

type Allowance = { readonly allowed: number; readonly setting: string } | { readonly invalid: string };

/** How many pods the budget lets be evicted when all `expected` pods are healthy. */
export function disruptionsAllowed(pdb: KubeObject, expected: number): Allowance {
  const spec = dictAt(pdb, ["spec"]) ?? {};
  const maxUnavailable = spec["maxUnavailable"];
  const minAvailable = spec["minAvailable"];
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const scaled = scaledIntOrPercent(maxUnavailable, expected);
    if (scaled === undefined)
      return { invalid: `maxUnavailable ${JSON.stringify(maxUnavailable)} is not valid` };
    return {
      allowed: Math.min(scaled, expected),
      setting: `maxUnavailable ${JSON.stringify(maxUnavailable)}`,
    };
  }
  if (minAvailable !== undefined && minAvailable !== null) {
    const scaled = scaledIntOrPercent(minAvailable, expected);
    if (scaled === undefined) return { invalid: `minAvailable ${JSON.stringify(minAvailable)} is not valid` };
    return {
      allowed: Math.max(expected - scaled, 0),
      setting: `minAvailable ${JSON.stringify(minAvailable)}`,
    };
  }
  return { invalid: "sets neither minAvailable nor maxUnavailable, so it protects nothing" };
}

function budgetSelector(pdb: KubeObject): LabelSelector {
  const selector = parseLabelSelector(get(pdb, ["spec", "selector"]), "nothing");
  // policy/v1beta1: an empty selector selected nothing; policy/v1: it selects every pod.
  return selector.empty && pdb.apiVersion === "policy/v1beta1" ? SELECT_NOTHING : selector;
}

/** PodDisruptionBudgets in the workload's namespace whose selector selects its pod template. */
function budgetsSelecting(object: KubeObject, template: PodTemplate, context: RuleContext): KubeObject[] {
  const budgets = context.inventory.byKind("PodDisruptionBudget", effectiveNamespace(object));
  return objectsSelecting(context.memo, budgets, budgetSelector, template.metadata["labels"]);
}

/** Replicas the budget is computed against: the autoscaler minimum when autoscaled, else spec.replicas. */
function expectedReplicas(object: KubeObject, context: RuleContext): number {
  const autoscaled = autoscaledMinimum(autoscalersOf(object, context));
  if (autoscaled !== undefined) return autoscaled.count;
  return integerOf(get(object, ["spec", "replicas"])) ?? 1;
}

export const podDisruptionBudget: Rule = {
  id: "pod-disruption-budget",
  title: "Deployments and StatefulSets have a PodDisruptionBudget that allows disruption",
  severity: "low",
  defaultAction: "warn",
  kinds: ["Deployment", "StatefulSet"],
  sets: SETS,
  rationale:
    "A PodDisruptionBudget keeps node drains and cluster upgrades from taking down all replicas at once. It " +
    "must still allow at least one eviction, or drains block and maintenance (including security patching) " +
    "stalls.",
  fix:
    "Add a PodDisruptionBudget next to the workload: `apiVersion: policy/v1, kind: PodDisruptionBudget, " +
    "spec: {maxUnavailable: 1, selector: {matchLabels: <the pod template labels>}}` in the same namespace, " +
    "and run at least two replicas.",
  controls: AVAILABILITY_CONTROLS,
  evidenceBoundary:
    "A pass shows a budget in the input set selects the pods and would allow an eviction when all replicas " +
    "are healthy. It does not prove that pods are spread across nodes or zones, nor covers involuntary " +
    "disruptions (node failure). For a partial set of files, a budget applied separately is not seen.",
  reference: "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/",
  inventoryKinds: ["PodDisruptionBudget", "HorizontalPodAutoscaler"],
  check(object, context) {
    const view = context.view.pod;
    if (view === undefined) return [];
    const template = view.template;
    const path: FieldPath = [...template.path, "metadata", "labels"];
    const budgets = budgetsSelecting(object, template, context);
    const first = budgets[0];
    if (first === undefined) {
      const where = context.inventory.complete
        ? `in namespace "${effectiveNamespace(object)}"`
        : "in the checked files";
      return [
        {
          path,
          message: `no PodDisruptionBudget selecting the pods of ${String(object.kind)} "${nameOf(object)}" was found ${where}`,
        },
      ];
    }
    if (budgets.length > 1) {
      return [
        {
          path,
          message: `the pods are selected by more than one PodDisruptionBudget (${quoteList(budgets.map(nameOf))}); the eviction API refuses to evict such pods`,
        },
      ];
    }
    const expected = expectedReplicas(object, context);
    if (expected === 0) return [];
    const allowance = disruptionsAllowed(first, expected);
    if ("invalid" in allowance) {
      return [{ path, message: `PodDisruptionBudget "${nameOf(first)}" ${allowance.invalid}` }];
    }
    if (allowance.allowed >= 1) return [];
    return [
      {
        path,
        message: `PodDisruptionBudget "${nameOf(first)}" allows no voluntary disruption with ${expected} replica(s) (${allowance.setting}); node drains will block`,
      },
    ];
  },
};

export const AVAILABILITY_RULES: readonly Rule[] = [probes, replicas, podDisruptionBudget];
