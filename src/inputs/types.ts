/** What reading manifests yields besides objects: source positions and problems with the input. */

/** A position in a source file, 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A problem with the input itself (unparseable file, unreadable path), not with an object. */
export interface InputProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
  /** "error": the file (or document) could not be checked; "note": informational (a skipped non-Kubernetes document). */
  readonly level: "error" | "note";
}
