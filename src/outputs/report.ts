import type { Action, FieldPath, Rule, Severity } from "../engine/types.ts";
import type { InputProblem } from "../inputs/types.ts";

export type { InputProblem, SourcePosition } from "../inputs/types.ts";

/** One finding of `vakt check`, located in a file. This is the stable JSON contract. */
export interface ReportFinding {
  readonly rule: string;
  readonly action: Exclude<Action, "off">;
  readonly severity: Severity;
  /** File path as given on the command line ("-" for stdin). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Field path in dotted form: spec.template.spec.containers[0].image */
  readonly field: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly message: string;
  readonly fix: string;
  readonly controls: readonly string[];
  readonly suppressed: boolean;
  /** Name of the PolicyException that suppresses it, when suppressed. */
  readonly exception?: string;
  /** That PolicyException's spec.justification (SARIF's suppression justification). */
  readonly justification?: string;
}

export interface CheckReport {
  readonly findings: readonly ReportFinding[];
  readonly problems: readonly InputProblem[];
  /** Rules that were evaluated (after --select and actions), for SARIF/JUnit metadata. */
  readonly rules: readonly Rule[];
  /** Files read, in order. */
  readonly files: readonly string[];
  /** Number of Kubernetes objects checked. */
  readonly objects: number;
  /**
   * The objects checked, per file in reading order, including those without findings. Optional:
   * renderers that list every object (JUnit: one testcase per object) fall back to the objects
   * named by findings when it is absent.
   */
  readonly objectsByFile?: readonly FileObjects[];
}

/** A Kubernetes object as located in an input file, for renderers that list every object. */
export interface ReportObject {
  readonly kind: string;
  /** "" for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  /** 1-based line where the object's document starts. */
  readonly line: number;
}

export interface FileObjects {
  /** File path as given on the command line ("-" for stdin), as in ReportFinding.file. */
  readonly file: string;
  readonly objects: readonly ReportObject[];
}

export function formatPath(path: FieldPath): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === "" ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}
