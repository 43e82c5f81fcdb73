import { isDict } from "../../workloads.ts";

/**
 * Kubernetes label selector semantics (metav1.LabelSelector):
 * - matchLabels and matchExpressions are ANDed;
 * - In: the label is present and its value is one of `values` (values must be non-empty);
 * - NotIn: the label is absent or its value is not one of `values` (values must be non-empty);
 * - Exists / DoesNotExist: the label is present / absent (values must be empty);
 * - an empty selector ({}) selects everything; a missing (null) selector selects nothing, unless
 *   the caller says otherwise (NetworkPolicy.spec.podSelector is a non-pointer field, so a missing
 *   one is the empty selector);
 * - an invalid selector (unknown operator, wrong value types) selects nothing: the API server
 *   would reject the object, so it protects nothing.
 */
export interface LabelSelector {
  /** True for the empty selector {} (selects everything). */
  readonly empty: boolean;
  /** True for a null or invalid selector (selects nothing). */
  readonly nothing: boolean;
  readonly labels: readonly (readonly [string, string])[];
  readonly requirements: readonly Requirement[];
}

type Operator = "In" | "NotIn" | "Exists" | "DoesNotExist";

interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

export const SELECT_NOTHING: LabelSelector = Object.freeze({
  empty: false,
  nothing: true,
  labels: [],
  requirements: [],
});
export const SELECT_EVERYTHING: LabelSelector = Object.freeze({
  empty: true,
  nothing: false,
  labels: [],
  requirements: [],
});

/** Parses a selector value; `missing` says what an absent (undefined/null) selector means. */
export function parseLabelSelector(value: unknown, missing: "nothing" | "everything"): LabelSelector {
  if (value === undefined || value === null)
    return missing === "nothing" ? SELECT_NOTHING : SELECT_EVERYTHING;
  if (!isDict(value)) return SELECT_NOTHING;
  const labels: (readonly [string, string])[] = [];
  const requirements: Requirement[] = [];
  const matchLabels = value["matchLabels"];
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isDict(matchLabels)) return SELECT_NOTHING;
    for (const key of Object.keys(matchLabels)) {
      const item = matchLabels[key];
      if (typeof item !== "string") return SELECT_NOTHING;
      labels.push([key, item]);
    }
  }
  const matchExpressions = value["matchExpressions"];
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) return SELECT_NOTHING;
    for (const expression of matchExpressions as readonly unknown[]) {
      const requirement = parseRequirement(expression);
      if (requirement === undefined) return SELECT_NOTHING;
      requirements.push(requirement);
    }
  }
  return { empty: labels.length === 0 && requirements.length === 0, nothing: false, labels, requirements };
}

function parseRequirement(expression: unknown): Requirement | undefined {
  if (!isDict(expression)) return undefined;
  const key = expression["key"];
  const operator = expression["operator"];
  const rawValues = expression["values"];
  if (typeof key !== "string" || key === "") return undefined;
  const values: string[] = [];
  if (rawValues !== undefined && rawValues !== null) {
    if (!Array.isArray(rawValues)) return undefined;
    for (const item of rawValues as readonly unknown[]) {
      if (typeof item !== "string") return undefined;
      values.push(item);
    }
  }
  switch (operator) {
    case "In":
    case "NotIn":
      return values.length === 0 ? undefined : { key, operator, values };
    case "Exists":
    case "DoesNotExist":
      return values.length === 0 ? { key, operator, values } : undefined;
    default:
      return undefined;
  }
}

/** The label value for `key`, or undefined; tolerant of non-dict labels and non-string values. */
function labelValue(labels: unknown, key: string): string | undefined {
  if (!isDict(labels) || !Object.hasOwn(labels, key)) return undefined;
  const value = labels[key];
  return typeof value === "string" ? value : undefined;
}

/** Whether `selector` selects an object with `labels` (a metadata.labels value, any shape). */
export function selectorMatches(selector: LabelSelector, labels: unknown): boolean {
  if (selector.nothing) return false;
  for (const [key, expected] of selector.labels) if (labelValue(labels, key) !== expected) return false;
  for (const { key, operator, values } of selector.requirements) {
    const actual = labelValue(labels, key);
    switch (operator) {
      case "In":
        if (actual === undefined || !values.includes(actual)) return false;
        break;
      case "NotIn":
        if (actual !== undefined && values.includes(actual)) return false;
        break;
      case "Exists":
        if (actual === undefined) return false;
        break;
      case "DoesNotExist":
        if (actual !== undefined) return false;
        break;
    }
  }
  return true;
}
