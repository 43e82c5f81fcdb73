/**
 * The Kubernetes Pod Security Standards (baseline and restricted) as vakt rules: one rule per
 * check of k8s.io/pod-security-admission, version-aware from v1.0 to v1.37 through
 * settings.pssVersion.
 *
 * Levels work as upstream's: the restricted set is the baseline checks plus the restricted ones,
 * except that where a restricted check overrides a baseline one (OverrideCheckIDs upstream:
 * capabilities, seccomp, hostPath volumes, procMount) only the restricted check runs from the
 * version the override starts (Rule.supersededBy, applied by RuleSet). This is visible for
 * Windows pods, which the restricted checks exempt from v1.25 while the baseline ones do not.
 */
import type { Rule } from "../types.ts";
import { BASELINE_RULES } from "./baseline.ts";
import type { PssRule } from "./define.ts";
import { RESTRICTED_RULES } from "./restricted.ts";

export type { PssRule } from "./define.ts";
export { PSS_LATEST_MINOR, pssMinor } from "./version.ts";

/** Every Pod Security Standards rule: baseline checks first, then restricted-only checks. */
export const PSS_RULES: readonly Rule[] = Object.freeze<PssRule[]>([...BASELINE_RULES, ...RESTRICTED_RULES]);
