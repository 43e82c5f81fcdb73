/**
 * The Kubernetes Pod Security Standards (baseline and restricted) as vakt rules: one rule per
 * check of k8s.io/pod-security-admission, version-aware from v1.0 to v1.37 through
 * settings.pssVersion.
 */
import type { Rule } from "../types.ts";
import { BASELINE_RULES } from "./baseline.ts";
import type { PssRule } from "./define.ts";
import { RESTRICTED_RULES } from "./restricted.ts";

export type { PssRule } from "./define.ts";
export { PSS_REFERENCE } from "./define.ts";
export { PSS_LATEST_MINOR, pssMinor } from "./version.ts";

/** Every Pod Security Standards rule: baseline checks first, then restricted-only checks. */
export const PSS_RULES: readonly Rule[] = Object.freeze<PssRule[]>([...BASELINE_RULES, ...RESTRICTED_RULES]);
