/**
 * The engine's vocabulary. Everything here is plain data: the engine is pure and imports
 * nothing from the CLI, HTTP or Kubernetes client layers. Only the edges (outputs/) turn
 * outcomes into text, SARIF, AdmissionReview responses or PolicyReports.
 */

import type { ObjectMeta, PodView } from "./workloads.ts";

/** What happens when a rule fails. `off` disables the rule. */
export type Action = "deny" | "warn" | "audit" | "off";
export const ACTIONS: readonly Action[] = ["deny", "warn", "audit", "off"];

export type Severity = "critical" | "high" | "medium" | "low" | "info";
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

/** A path to a field inside an object: keys and array indices, e.g. ["spec", "containers", 0, "image"]. */
export type FieldPath = readonly (string | number)[];

/** A Kubernetes object as parsed from YAML/JSON or received in an AdmissionReview. */
export interface KubeObject {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly metadata?: unknown;
  readonly [key: string]: unknown;
}

/** One thing a rule found wrong with one object. */
export interface Violation {
  /** Where the offending field is (or where it is missing: the closest existing parent plus the missing key). */
  readonly path: FieldPath;
  /** What is wrong, naming the concrete value or container: "container \"app\" runs privileged". */
  readonly message: string;
}

/** Settings that change how rules judge objects (from vakt.yaml or the in-cluster configuration). */
export interface EngineSettings {
  /** Pod Security Standards version, "v1.0".."v1.37" or "latest". */
  readonly pssVersion: string;
  /** Image registries allowed (host[/path] prefixes). Empty: the trusted-registry rule passes nothing. */
  readonly registries: readonly string[];
  /** Regions (topology.kubernetes.io/region values) data may live in. Empty: residency not enforced. */
  readonly allowedRegions: readonly string[];
  /**
   * The instant the evaluation judges at (exception expiry and lifetime). The caller reads the
   * clock once and passes it: `vakt check` at its start, the webhook per review, tests a fixed time.
   */
  readonly now: Date;
  /** How far a PolicyException may reach (`spec.exceptions`). Default: DEFAULT_EXCEPTION_POLICY (exceptions.ts). */
  readonly exceptions?: ExceptionPolicy;
}

/**
 * Bounds on PolicyExceptions. An exception beyond them suppresses nothing and is itself a finding
 * (rule exception-scope); docs/adr/0011.
 */
export interface ExceptionPolicy {
  readonly allowWide: {
    /** An exception may cover more than one namespace (several, a pattern, or every namespace). */
    readonly namespaces: boolean;
    /** An exception may name rule sets (which grow as rules are added) instead of rule ids. */
    readonly ruleSets: boolean;
  };
  /** The latest expiry allowed: this many days after the evaluation's day (UTC). */
  readonly maxExpiryDays: number;
}

/**
 * Other objects from the same input set (the same files in `vakt check`, the live cluster in
 * audit). Rules that relate objects (a PodDisruptionBudget selecting a Deployment, a
 * NetworkPolicy covering a workload) look here.
 */
export interface Inventory {
  /** Objects of a kind, optionally limited to one namespace. */
  byKind(kind: string, namespace?: string): readonly KubeObject[];
  /** True when the inventory is the whole world (live cluster), false when it is a partial set of files. */
  readonly complete: boolean;
}

/**
 * What rules read of the object being checked, built by the evaluator once per object and shared
 * by every rule (the engine never edits what it judges).
 */
export interface ObjectView {
  /** metadata.name / namespace / labels / annotations (read on first use). */
  readonly meta: ObjectMeta;
  /** The pod template and its containers; undefined for kinds without one. */
  readonly pod: PodView | undefined;
}

/**
 * Values derived from what outlives one object (an index over the inventory's NetworkPolicies,
 * the normalised registry allow-list), built on first use and kept for an evaluation run. Keys
 * are compared by identity: a list replaced is derived afresh. RuleSet holds one (evaluate.ts).
 */
export interface Memo {
  /** `derive(...keys)`, computed once per `derive` (a module-level function) and keys. */
  of<K extends readonly [object, ...object[]], V>(derive: (...keys: K) => V, ...keys: K): V;
}

export interface RuleContext {
  readonly settings: EngineSettings;
  readonly inventory: Inventory;
  /** The view of the object being checked. */
  readonly view: ObjectView;
  readonly memo: Memo;
}

/**
 * A rule: metadata plus a small pure check. Adding a rule touches one file (its family) and
 * the registry list in rules/index.ts.
 */
export interface Rule {
  /** Stable id, kebab-case, never reused: "pss-privileged", "image-tag". */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly defaultAction: Action;
  /** Kinds the rule applies to. Rules on workload kinds read the pod template in `context.view.pod`. */
  readonly kinds: readonly string[];
  /** Named sets the rule belongs to, selectable with --select: "pss-baseline", "pss-restricted", "platform". */
  readonly sets: readonly string[];
  /** Why the rule exists, in one or two sentences. */
  readonly rationale: string;
  /** How to fix a violation, concretely. */
  readonly fix: string;
  /** Control ids this rule evidences, e.g. "iso27001:A.8.9", "gdpr:32", "nis2:21.2.d". */
  readonly controls: readonly string[];
  /** What a pass does NOT prove. */
  readonly evidenceBoundary: string;
  /** Reference URL or document for the rule, if any. */
  readonly reference?: string;
  /**
   * Another rule that replaces this one where `applies(settings)` holds, when both run in the same
   * rule set and the other's action is at least as strong. Pod Security Standards: at the
   * restricted level upstream evaluates a restricted check INSTEAD of its baseline counterpart
   * (OverrideCheckIDs), which matters where the restricted check exempts a pod the baseline one
   * would refuse (Windows pods, from v1.25).
   */
  readonly supersededBy?: { readonly rule: string; readonly applies: (settings: EngineSettings) => boolean };
  /**
   * Kinds the check looks up in `context.inventory`, if any. A rule that reads other objects must
   * name their kinds here: `vakt check` evaluates objects as they are read and keeps back only
   * those some inventory rule applies to, until every object of these kinds has been read, and
   * the admission inventory must watch them (a test holds every rule to this).
   */
  readonly inventoryKinds?: readonly string[];
  check(object: KubeObject, context: RuleContext): readonly Violation[];
}

/** Outcome of one rule on one object, data that the edges render. */
export type Outcome = "pass" | "fail" | "skip" | "error";

export interface Finding {
  readonly rule: string;
  readonly action: Exclude<Action, "off">;
  readonly severity: Severity;
  readonly message: string;
  readonly path: FieldPath;
  readonly controls: readonly string[];
  /** Set when a PolicyException covers this finding. */
  readonly suppressedBy?: string;
  /**
   * Set on the record that stands for findings of this rule not kept (evaluation limits): how
   * many. The record has the rule's action, so a deny stays a deny.
   */
  readonly cut?: number;
}
