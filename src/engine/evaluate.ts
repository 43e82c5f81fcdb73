import type { Action, EngineSettings, Finding, Inventory, KubeObject, Rule } from "./types.ts";

/** Decides whether a finding is covered by a governed exception; returns the exception's name. */
export type ExceptionMatcher = (ruleId: string, object: KubeObject) => string | undefined;

export interface EvaluationOptions {
  readonly rules: readonly Rule[];
  /** Per-rule action overrides from configuration; rules not listed use their default action. */
  readonly actions?: ReadonlyMap<string, Action>;
  readonly settings: EngineSettings;
  readonly inventory: Inventory;
  readonly exceptions?: ExceptionMatcher;
}

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
 * silently admitted.
 */
export function evaluateObject(
  object: KubeObject,
  ruleSet: RuleSet,
  options: Pick<EvaluationOptions, "settings" | "inventory" | "exceptions">,
): Finding[] {
  if (typeof object.kind !== "string") return [];
  const findings: Finding[] = [];
  const context = { settings: options.settings, inventory: options.inventory };
  for (const { rule, action, superseded } of ruleSet.forKind(object.kind)) {
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
    for (const violation of violations) {
      findings.push({
        rule: rule.id,
        action,
        severity: rule.severity,
        message: violation.message,
        path: violation.path,
        controls: rule.controls,
        ...(suppressedBy === undefined ? {} : { suppressedBy }),
      });
    }
  }
  return findings;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
