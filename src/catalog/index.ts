/**
 * The control catalog: frameworks, their controls, lookups and a pure coverage computation
 * (which rules evidence which controls). Data only; no file or network access.
 */
import { GDPR, GDPR_CONTROLS } from "./frameworks/gdpr.ts";
import { HIPAA, HIPAA_CONTROLS } from "./frameworks/hipaa.ts";
import { ISO27001, ISO27001_CONTROLS } from "./frameworks/iso27001.ts";
import { NIS2, NIS2_CONTROLS } from "./frameworks/nis2.ts";
import { PDL, PDL_CONTROLS } from "./frameworks/pdl.ts";
import type {
  Control,
  ControlCoverage,
  CoverageResult,
  EvidenceSource,
  Framework,
  FrameworkCoverage,
  UnknownControlReference,
} from "./types.ts";

export type { Control, CoverageResult, EvidenceSource, Framework, UnknownControlReference } from "./types.ts";

/** Every framework, in display order. */
export const FRAMEWORKS: readonly Framework[] = [ISO27001, GDPR, NIS2, PDL, HIPAA];

/** Every control of every framework, grouped by framework in FRAMEWORKS order. */
export const CONTROLS: readonly Control[] = [
  ...ISO27001_CONTROLS,
  ...GDPR_CONTROLS,
  ...NIS2_CONTROLS,
  ...PDL_CONTROLS,
  ...HIPAA_CONTROLS,
];

const BY_ID: ReadonlyMap<string, Control> = new Map(CONTROLS.map((control) => [control.id, control]));

export function frameworkById(id: string): Framework | undefined {
  return FRAMEWORKS.find((framework) => framework.id === id);
}

export function controlById(id: string): Control | undefined {
  return BY_ID.get(id);
}

/** Controls of one framework in catalog order; empty for an unknown framework id. */
export function controlsOf(framework: string): readonly Control[] {
  return CONTROLS.filter((control) => control.framework === framework);
}

/**
 * Which rules (and optionally other evidence sources, such as platform facts) evidence each
 * control. Limited to one framework when `framework` is given; throws for an unknown one.
 * Control ids the catalog does not define are ignored here; see unknownControlIds.
 */
export function coverage(
  rules: readonly EvidenceSource[],
  framework?: string,
  evidencedBy: readonly EvidenceSource[] = [],
): CoverageResult {
  let frameworks = FRAMEWORKS;
  if (framework !== undefined) {
    const found = frameworkById(framework);
    if (found === undefined) {
      const known = FRAMEWORKS.map((f) => f.id).join(", ");
      throw new Error(`unknown framework "${framework}" (known: ${known})`);
    }
    frameworks = [found];
  }

  const ruleIndex = indexByControl(rules);
  const evidenceIndex = indexByControl(evidencedBy);
  const result: FrameworkCoverage[] = [];
  const uncovered: Control[] = [];

  for (const fw of frameworks) {
    const controls: ControlCoverage[] = controlsOf(fw.id).map((control) => ({
      control,
      rules: ruleIndex.get(control.id) ?? [],
      evidence: evidenceIndex.get(control.id) ?? [],
    }));
    let covered = 0;
    for (const entry of controls) {
      if (entry.rules.length > 0 || entry.evidence.length > 0) covered++;
      else uncovered.push(entry.control);
    }
    result.push({ framework: fw, controls, covered, total: controls.length });
  }
  return { frameworks: result, uncovered };
}

/** Rule/control pairs where the rule names a control id the catalog does not define. */
export function unknownControlIds(rules: readonly EvidenceSource[]): UnknownControlReference[] {
  const unknown: UnknownControlReference[] = [];
  for (const rule of rules) {
    for (const control of rule.controls) {
      if (!BY_ID.has(control)) unknown.push({ rule: rule.id, control });
    }
  }
  return unknown;
}

/** Control id → ids of the sources naming it, each source once, in input order. */
function indexByControl(sources: readonly EvidenceSource[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const source of sources) {
    for (const control of new Set(source.controls)) {
      const ids = index.get(control);
      if (ids === undefined) index.set(control, [source.id]);
      else ids.push(source.id);
    }
  }
  return index;
}
