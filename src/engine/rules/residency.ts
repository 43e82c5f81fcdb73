import type { FieldPath, Rule, Violation } from "../types.ts";
import { arrayAt, dictAt, isDict, WORKLOAD_KINDS } from "../workloads.ts";
import { metadataOf } from "./util/objects.ts";

/** Node/topology label keys that name a region. */
export const REGION_KEYS: ReadonlySet<string> = new Set([
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/region",
]);

/** The allowed regions as a set (derived once per settings array: context.memo). */
function allowedSet(regions: readonly string[]): ReadonlySet<string> {
  return new Set(regions);
}

interface Judge {
  readonly allowed: ReadonlySet<string>;
  readonly list: string;
  readonly violations: Violation[];
}

function outside(judge: Judge, region: string, where: string, path: FieldPath): void {
  judge.violations.push({
    path,
    message: `${where} region ${JSON.stringify(region)}, which is outside the allowed regions (${judge.list})`,
  });
}

/**
 * Checks `In` expressions on region keys in a list of node selector terms
 * (nodeSelectorTerms[].matchExpressions[]); other operators do not pin a region and are ignored.
 */
function checkNodeSelectorTerms(
  judge: Judge,
  terms: readonly unknown[],
  termsPath: FieldPath,
  where: string,
): void {
  terms.forEach((term, termIndex) => {
    arrayAt(term, ["matchExpressions"]).forEach((expression, expressionIndex) => {
      if (!isDict(expression) || typeof expression["key"] !== "string") return;
      if (!REGION_KEYS.has(expression["key"]) || expression["operator"] !== "In") return;
      arrayAt(expression, ["values"]).forEach((value, valueIndex) => {
        if (typeof value !== "string" || judge.allowed.has(value)) return;
        outside(judge, value, where, [
          ...termsPath,
          termIndex,
          "matchExpressions",
          expressionIndex,
          "values",
          valueIndex,
        ]);
      });
    });
  });
}

function checkRegionLabels(judge: Judge, labels: unknown, labelsPath: FieldPath, where: string): void {
  if (!isDict(labels)) return;
  for (const key of REGION_KEYS) {
    if (!Object.hasOwn(labels, key)) continue;
    const value = labels[key];
    if (typeof value === "string" && !judge.allowed.has(value))
      outside(judge, value, where, [...labelsPath, key]);
  }
}

function checkStorageClass(judge: Judge, object: Readonly<Record<string, unknown>>): void {
  const topologies = arrayAt(object, ["allowedTopologies"]);
  if (topologies.length === 0) {
    judge.violations.push({
      path: ["allowedTopologies"],
      message: `StorageClass has no allowedTopologies restricting volumes to the allowed regions (${judge.list}); volumes may be provisioned in any region`,
    });
    return;
  }
  for (const [termIndex, term] of topologies.entries()) {
    let constrained = false;
    for (const [expressionIndex, expression] of arrayAt(term, ["matchLabelExpressions"]).entries()) {
      if (!isDict(expression) || typeof expression["key"] !== "string") continue;
      if (!REGION_KEYS.has(expression["key"])) continue;
      constrained = true;
      arrayAt(expression, ["values"]).forEach((value, valueIndex) => {
        if (typeof value !== "string" || judge.allowed.has(value)) return;
        outside(judge, value, "StorageClass allows", [
          "allowedTopologies",
          termIndex,
          "matchLabelExpressions",
          expressionIndex,
          "values",
          valueIndex,
        ]);
      });
    }
    if (!constrained) {
      judge.violations.push({
        path: ["allowedTopologies", termIndex],
        message: `StorageClass allowedTopologies[${termIndex}] has no region expression (topology.kubernetes.io/region), so it allows any region; allowed: ${judge.list}`,
      });
    }
  }
}

export const dataResidency: Rule = {
  id: "data-residency",
  title: "Data and workloads stay within the allowed regions",
  severity: "high",
  defaultAction: "deny",
  kinds: ["StorageClass", "PersistentVolume", ...WORKLOAD_KINDS],
  sets: ["platform", "platform-residency"],
  rationale:
    "Personal data may only be stored and processed in regions the organisation has approved (e.g. within " +
    "the EU/EEA). Region pins in StorageClasses, PersistentVolumes and pod scheduling must name only allowed " +
    "regions, and StorageClasses must pin a region at all. Only enforced when allowedRegions is configured.",
  fix:
    "Pin StorageClasses with `allowedTopologies: [{matchLabelExpressions: [{key: topology.kubernetes.io/region, " +
    "values: [<allowed region>]}]}]`, and use only allowed regions in PersistentVolume nodeAffinity, pod " +
    "`nodeSelector` and required node affinity.",
  controls: ["gdpr:44", "iso27001:A.5.34", "iso27001:A.5.23"],
  evidenceBoundary:
    "A pass shows that declared region constraints name allowed regions; it does not prove where a cluster's " +
    "nodes, control plane, backups, logs or managed services actually run, nor that data does not leave " +
    "the region over the network. Workloads without a region constraint are not reported (the cluster's " +
    "location decides), and zone-only constraints are not mapped to regions.",
  reference: "https://kubernetes.io/docs/concepts/storage/storage-classes/#allowed-topologies",
  check(object, context) {
    const regions = context.settings.allowedRegions;
    if (regions.length === 0) return [];
    const judge: Judge = {
      allowed: context.memo.of(allowedSet, regions),
      list: regions.join(", "),
      violations: [],
    };
    if (object.kind === "StorageClass") {
      checkStorageClass(judge, object);
      return judge.violations;
    }
    if (object.kind === "PersistentVolume") {
      checkRegionLabels(
        judge,
        metadataOf(object)["labels"],
        ["metadata", "labels"],
        "PersistentVolume is labelled with",
      );
      const terms = arrayAt(object, ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]);
      checkNodeSelectorTerms(
        judge,
        terms,
        ["spec", "nodeAffinity", "required", "nodeSelectorTerms"],
        "PersistentVolume node affinity requires",
      );
      return judge.violations;
    }
    const view = context.view.pod;
    if (view === undefined) return [];
    const template = view.template;
    const specPath: FieldPath = [...template.path, "spec"];
    checkRegionLabels(
      judge,
      dictAt(template.spec, ["nodeSelector"]),
      [...specPath, "nodeSelector"],
      "nodeSelector pins",
    );
    const termsPath = [
      "affinity",
      "nodeAffinity",
      "requiredDuringSchedulingIgnoredDuringExecution",
      "nodeSelectorTerms",
    ];
    checkNodeSelectorTerms(
      judge,
      arrayAt(template.spec, termsPath),
      [...specPath, ...termsPath],
      "required node affinity allows",
    );
    return judge.violations;
  },
};

export const RESIDENCY_RULES: readonly Rule[] = [dataResidency];
