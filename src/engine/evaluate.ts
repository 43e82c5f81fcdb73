import { WeakMemo } from "./memo.ts";
import type {
  Action,
  EngineSettings,
  Finding,
  Inventory,
  KubeObject,
  Memo,
  Rule,
  RuleContext,
} from "./types.ts";
import { isDict, objectView, podTemplateOf } from "./workloads.ts";
import type { PodTemplate } from "./workloads.ts";

/** Decides whether a finding is covered by a governed exception; returns the exception's name. */
export type ExceptionMatcher = (ruleId: string, object: KubeObject) => string | undefined;

export interface EvaluationOptions {
  readonly rules: readonly Rule[];
  /** Per-rule action overrides from configuration; rules not listed use their default action. */
  readonly actions?: ReadonlyMap<string, Action>;
  readonly settings: EngineSettings;
  readonly inventory: Inventory;
  readonly exceptions?: ExceptionMatcher;
  /** Bounds on the work and the findings of one object (default DEFAULT_EVALUATION_LIMITS). */
  readonly limits?: EvaluationLimits;
}

/**
 * Bounds on what one object may cost (docs/adr/0015). Rules do work and allocate in proportion to
 * what they find, so an object built to be expensive (a 1.4 MB Pod of 50,000 tiny containers
 * yields 500,000 findings) is refused before any rule runs; within the bounds, findings beyond
 * the caps are counted, not kept.
 */
export interface EvaluationLimits {
  /** Findings kept per rule and object; the rest become one record with `cut` set. */
  readonly maxFindingsPerRule: number;
  /** Findings kept per object; each later rule with findings leaves only its `cut` record. */
  readonly maxFindingsPerObject: number;
  /** Containers (init, regular and ephemeral) of a pod template judged at all. */
  readonly maxContainers: number;
  /** Array elements plus object keys of a workload (managedFields aside) judged at all. */
  readonly maxEntries: number;
}

export const DEFAULT_EVALUATION_LIMITS: EvaluationLimits = {
  maxFindingsPerRule: 100,
  maxFindingsPerObject: 1000,
  // More containers than a node runs pods by default (110), twice over.
  maxContainers: 250,
  // About ten times a large real Pod (10 containers with 100 variables, volumes and probes each).
  maxEntries: 20_000,
};

/**
 * The id of the finding that refuses a workload beyond the limits. Not a registered rule: it
 * cannot be switched off or covered by a PolicyException, because it protects the evaluator.
 */
export const LIMITS_RULE = "evaluation-limits";

/** Rules indexed by kind, so each object only meets the rules that apply to it. */
/** How strong an action is: a rule only replaces another whose action is not stronger. */
const STRENGTH: Readonly<Record<Exclude<Action, "off">, number>> = { audit: 0, warn: 1, deny: 2 };

export interface RuleEntry {
  readonly rule: Rule;
  readonly action: Exclude<Action, "off">;
  /** Set when another rule of the set replaces this one wherever it returns true (Rule.supersededBy). */
  readonly superseded?: (settings: EngineSettings) => boolean;
}

export class RuleSet {
  readonly #byKind = new Map<string, RuleEntry[]>();
  /**
   * What the rules derive from lists that outlive one object (inventory indexes, normalised
   * settings). A RuleSet serves a whole run (`vakt check`) or every review until the
   * configuration changes (webhook), so that is how long they are kept; replaced lists are
   * derived afresh and dropped (WeakMemo).
   */
  readonly memo: Memo = new WeakMemo();

  /**
   * `include`: which rules to index (default all). Actions and replacements between rules are
   * still decided over all of `rules`, so a rule left out keeps replacing the ones it replaces.
   */
  constructor(
    rules: readonly Rule[],
    actions: ReadonlyMap<string, Action> = new Map(),
    include: (rule: Rule) => boolean = () => true,
  ) {
    const active = new Map<string, Exclude<Action, "off">>();
    for (const rule of rules) {
      const action = actions.get(rule.id) ?? rule.defaultAction;
      if (action !== "off") active.set(rule.id, action);
    }
    for (const rule of rules) {
      const action = active.get(rule.id);
      if (action === undefined || !include(rule)) continue;
      const replacement = rule.supersededBy === undefined ? undefined : active.get(rule.supersededBy.rule);
      const entry: RuleEntry =
        replacement !== undefined &&
        rule.supersededBy !== undefined &&
        STRENGTH[replacement] >= STRENGTH[action]
          ? { rule, action, superseded: rule.supersededBy.applies }
          : { rule, action };
      for (const kind of rule.kinds) {
        let list = this.#byKind.get(kind);
        if (list === undefined) this.#byKind.set(kind, (list = []));
        list.push(entry);
      }
    }
  }

  forKind(kind: string): readonly RuleEntry[] {
    return this.#byKind.get(kind) ?? [];
  }
}

/**
 * Runs every applicable rule on one object. A rule that throws yields a finding of its own
 * action saying so: for deny rules that means the object is refused (fail closed), never
 * silently admitted. A workload beyond `limits` gets one deny finding and no rule runs; findings
 * beyond the caps leave a record per rule with the number cut and the rule's action, so a cap
 * never turns a refusal into an admission.
 */
export function evaluateObject(
  object: KubeObject,
  ruleSet: RuleSet,
  options: Pick<EvaluationOptions, "settings" | "inventory" | "exceptions" | "limits">,
): Finding[] {
  if (typeof object.kind !== "string") return [];
  const limits = options.limits ?? DEFAULT_EVALUATION_LIMITS;
  const entries = ruleSet.forKind(object.kind);
  if (entries.length === 0) return [];
  const template = podTemplateOf(object);
  const beyond = beyondLimits(object, template, limits);
  if (beyond !== undefined) return [beyond];
  const findings: Finding[] = [];
  const context: RuleContext = {
    settings: options.settings,
    inventory: options.inventory,
    view: objectView(object, template),
    memo: ruleSet.memo,
  };
  for (const { rule, action, superseded } of entries) {
    if (superseded?.(options.settings) === true) continue;
    let violations;
    try {
      violations = rule.check(object, context);
    } catch (error) {
      violations = [
        {
          path: [],
          message: `rule ${rule.id} failed to evaluate (${describeError(error)}); treated as a violation so that a broken rule never admits an object`,
        },
      ];
    }
    if (violations.length === 0) continue;
    const suppressedBy = options.exceptions?.(rule.id, object);
    const finding = (message: string, path: Finding["path"]): Finding => ({
      rule: rule.id,
      action,
      severity: rule.severity,
      message,
      path,
      controls: rule.controls,
      ...(suppressedBy === undefined ? {} : { suppressedBy }),
    });
    const room = Math.max(0, limits.maxFindingsPerObject - findings.length);
    const keep = Math.min(violations.length, limits.maxFindingsPerRule, room);
    for (let i = 0; i < keep; i++) {
      const violation = violations[i];
      if (violation !== undefined) findings.push(finding(violation.message, violation.path));
    }
    const cut = violations.length - keep;
    if (cut > 0)
      findings.push({
        ...finding(
          `${cut} more ${cut === 1 ? "finding" : "findings"} of this rule not listed (vakt keeps ${limits.maxFindingsPerRule} per rule and ${limits.maxFindingsPerObject} per object)`,
          [],
        ),
        cut,
      });
  }
  return findings;
}

/** The deny finding for a workload vakt will not judge, found with work bounded by the limits. */
function beyondLimits(
  object: KubeObject,
  template: PodTemplate | undefined,
  limits: EvaluationLimits,
): Finding | undefined {
  if (template === undefined) return undefined;
  const refuse = (what: string, path: Finding["path"]): Finding => ({
    rule: LIMITS_RULE,
    action: "deny",
    severity: "high",
    message: `${what}, so vakt refuses it unjudged rather than admit it unchecked; split the workload into smaller ones`,
    path,
    controls: [],
  });
  let containers = 0;
  for (const kind of ["initContainers", "containers", "ephemeralContainers"]) {
    const list = template.spec[kind];
    if (Array.isArray(list)) containers += list.length;
  }
  if (containers > limits.maxContainers)
    return refuse(
      `the pod has ${containers} containers (init, regular and ephemeral together), more than the ${limits.maxContainers} vakt judges`,
      [...template.path, "spec"],
    );
  if (exceedsEntries(object, limits.maxEntries))
    return refuse(
      `the object has more than ${limits.maxEntries} list items and keys (metadata.managedFields aside), more than vakt judges`,
      [],
    );
  return undefined;
}

/** Whether `root` holds more than `max` array elements and object keys; stops counting there. */
function exceedsEntries(root: KubeObject, max: number): boolean {
  const metadata = root.metadata;
  let count = 0;
  const stack: unknown[] = [root];
  for (let value = stack.pop(); value !== undefined; value = stack.pop()) {
    if (Array.isArray(value)) {
      count += value.length;
      if (count > max) return true;
      for (const item of value as unknown[]) if (typeof item === "object" && item !== null) stack.push(item);
    } else if (isDict(value)) {
      for (const key in value) {
        if (++count > max) return true;
        const item = value[key];
        if (typeof item === "object" && item !== null && !(key === "managedFields" && value === metadata))
          stack.push(item);
      }
    }
  }
  return false;
}

/**
 * The context evaluateObject gives a rule checking `object`, for calling one rule on its own
 * (tests). `memo`: share one across calls to keep what the rules derive, as a RuleSet does.
 */
export function ruleContext(
  object: KubeObject,
  options: Pick<EvaluationOptions, "settings" | "inventory">,
  memo: Memo = new WeakMemo(),
): RuleContext {
  return { settings: options.settings, inventory: options.inventory, view: objectView(object), memo };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
