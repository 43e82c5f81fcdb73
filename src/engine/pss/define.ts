import type { EngineSettings, KubeObject, Rule, RuleContext, Severity, Violation } from "../types.ts";
import { WORKLOAD_KINDS } from "../workloads.ts";
import { NO_VIOLATIONS } from "./pod.ts";
import type { PodView } from "./pod.ts";
import { pssMinor } from "./version.ts";

const PSS_REFERENCE = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

const BASELINE_SETS: readonly string[] = Object.freeze(["pss-baseline", "pss-restricted"]);
const RESTRICTED_SETS: readonly string[] = Object.freeze(["pss-restricted"]);

/** A Pod Security Standards check as vakt states it: metadata plus a version-aware evaluation. */
export interface PssCheck {
  /** vakt rule id, "pss-…". */
  readonly id: string;
  /** The check id in k8s.io/pod-security-admission (policy/check_*.go). */
  readonly upstreamId: string;
  readonly level: "baseline" | "restricted";
  /** First policy minor version (v1.N) the check exists at. */
  readonly since: number;
  readonly title: string;
  readonly rationale: string;
  readonly fix: string;
  readonly controls: readonly string[];
  readonly evidenceBoundary: string;
  /**
   * The restricted check that upstream evaluates instead of this baseline one at the restricted
   * level, from policy version v1.`since` (OverrideCheckIDs in k8s.io/pod-security-admission).
   */
  readonly overriddenBy?: { readonly id: string; readonly since: number };
  /** Violations of the pod at policy version v1.`minor` (minor >= since). */
  readonly evaluate: (view: PodView, minor: number) => readonly Violation[];
}

/** A vakt rule that carries the upstream check id it mirrors. */
export interface PssRule extends Rule {
  readonly upstreamId: string;
  readonly level: "baseline" | "restricted";
  readonly since: number;
}

const SEVERITY: Readonly<Record<PssCheck["level"], Severity>> = { baseline: "high", restricted: "medium" };

export function pssRule(check: PssCheck): PssRule {
  const { evaluate, since, overriddenBy } = check;
  return Object.freeze({
    ...(overriddenBy === undefined
      ? {}
      : {
          supersededBy: {
            rule: overriddenBy.id,
            applies: (settings: EngineSettings) => pssMinor(settings.pssVersion) >= overriddenBy.since,
          },
        }),
    id: check.id,
    upstreamId: check.upstreamId,
    level: check.level,
    since,
    title: check.title,
    severity: SEVERITY[check.level],
    defaultAction: "deny",
    kinds: WORKLOAD_KINDS,
    sets: check.level === "baseline" ? BASELINE_SETS : RESTRICTED_SETS,
    rationale: check.rationale,
    fix: check.fix,
    controls: Object.freeze([...check.controls]),
    evidenceBoundary: check.evidenceBoundary,
    reference: PSS_REFERENCE,
    check(_object: KubeObject, context: RuleContext): readonly Violation[] {
      const minor = pssMinor(context.settings.pssVersion);
      if (minor < since) return NO_VIOLATIONS;
      const view = context.view.pod;
      if (view === undefined) return NO_VIOLATIONS;
      return evaluate(view, minor);
    },
  });
}
