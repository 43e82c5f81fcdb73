import { exceptionRules } from "../exceptions.ts";
import { PSS_RULES } from "../pss/index.ts";
import type { Rule } from "../types.ts";
import { PLATFORM_RULES } from "./platform.ts";

/**
 * Every rule vakt knows, in a stable order. Families register here; ids are unique (a test
 * checks) and each rule names controls that exist in the catalog (a test checks).
 */
export const ALL_RULES: readonly Rule[] = Object.freeze([
  ...PSS_RULES,
  ...PLATFORM_RULES,
  ...exceptionRules(() => ALL_RULES),
]);

/** Every set name used by a rule, sorted. */
export const RULE_SETS: readonly string[] = [...new Set(ALL_RULES.flatMap((rule) => rule.sets))].sort();

export function ruleById(id: string): Rule | undefined {
  return ALL_RULES.find((rule) => rule.id === id);
}

/**
 * Resolves `--select` entries (rule ids and set names) to rules, in registry order. Unknown
 * entries are returned so the caller can say which and suggest the nearest.
 */
export function selectRules(entries: readonly string[]): { rules: Rule[]; unknown: string[] } {
  if (entries.length === 0) return { rules: [...ALL_RULES], unknown: [] };
  const wanted = new Set(entries);
  const unknown = entries.filter((entry) => ruleById(entry) === undefined && !RULE_SETS.includes(entry));
  const rules = ALL_RULES.filter((rule) => wanted.has(rule.id) || rule.sets.some((set) => wanted.has(set)));
  return { rules, unknown };
}
