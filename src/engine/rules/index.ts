import type { Rule } from "../types.ts";

/**
 * Every rule vakt knows, in a stable order. Families register here; ids are unique (a test
 * checks) and each rule names controls that exist in the catalog (a test checks).
 */
export const ALL_RULES: readonly Rule[] = [];
