/**
 * The control catalog's vocabulary: frameworks (standards, laws, regulations) and the
 * controls they number. Titles and summaries are vakt's own paraphrases, never the text of
 * the standard; see docs/controls.md.
 */

export interface Framework {
  /** Short id used as the prefix of every control id: "iso27001", "gdpr", "pdl", "nis2", "hipaa". */
  readonly id: string;
  /** Human name of the standard or law. */
  readonly name: string;
  /** Edition or date of the text the catalog follows: "2022", "2016/679". */
  readonly version: string;
  /** One or two sentences, in our words, on what the framework is and what part of it we list. */
  readonly description: string;
  /** Where to read the real text. */
  readonly url?: string;
}

export interface Control {
  /** Globally unique: "<framework>:<ref>", e.g. "iso27001:A.8.9", "gdpr:32", "nis2:21.2.d". */
  readonly id: string;
  /** Id of the framework this control belongs to. */
  readonly framework: string;
  /** The number the standard itself gives it: "A.8.9", "32", "21.2.d", "164.312(b)". */
  readonly ref: string;
  /** Our short title. */
  readonly title: string;
  /** One sentence, in our words, of what the control asks for. */
  readonly summary: string;
  /** Theme, chapter or family inside the framework: "technological", "transfers", "chapter 3". */
  readonly group?: string;
  /** Id of the enclosing control when this one is a sub-point ("gdpr:32.1.a" → "gdpr:32"). */
  readonly parent?: string;
  /** A caveat about the entry itself, e.g. a section number we could not verify against the source. */
  readonly note?: string;
}

/** Anything that claims to evidence controls: a rule, or later a platform fact. */
export interface EvidenceSource {
  readonly id: string;
  readonly controls: readonly string[];
}

/** Coverage of one control: which rules (and other evidence sources) evidence it. */
export interface ControlCoverage {
  readonly control: Control;
  /** Ids of rules that name this control, in input order. */
  readonly rules: readonly string[];
  /** Ids of other evidence sources (platform facts) that name this control, in input order. */
  readonly evidence: readonly string[];
}

export interface FrameworkCoverage {
  readonly framework: Framework;
  /** Every control of the framework, in catalog order. */
  readonly controls: readonly ControlCoverage[];
  /** Number of controls with at least one rule or evidence source. */
  readonly covered: number;
  /** Number of controls in the framework. */
  readonly total: number;
}

export interface CoverageResult {
  /** Frameworks included (all, or the one asked for), in catalog order. */
  readonly frameworks: readonly FrameworkCoverage[];
  /** Controls of the included frameworks that nothing evidences, in catalog order. */
  readonly uncovered: readonly Control[];
}

/** A rule (or evidence source) naming a control id that the catalog does not define. */
export interface UnknownControlReference {
  readonly rule: string;
  readonly control: string;
}
