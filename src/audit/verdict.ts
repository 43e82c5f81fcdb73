/**
 * One live object judged, kept small: the audit holds a verdict per object (tens of thousands),
 * never the object. A verdict keeps what the namespace's report and the next comparison need:
 * who it is (and its controlling owner, which the report names instead of each replica), the
 * failing and warning results, how many rules passed or were excepted, or why it could not be
 * judged; and a hash of all that, so an event that changes nothing judged writes nothing.
 */
import type { ExceptionMatcher, RuleSet } from "../engine/evaluate.ts";
import { LIMITS_RULE, describeError, evaluateObject } from "../engine/evaluate.ts";
import type { EngineSettings, Inventory, KubeObject, Rule, Severity } from "../engine/types.ts";
import { isDict } from "../engine/workloads.ts";

/** What a judgement reads: the admission state's snapshot satisfies it. */
export interface Judging {
  readonly ruleSet: RuleSet;
  readonly rulesById: ReadonlyMap<string, Rule>;
  readonly settings: EngineSettings;
  readonly inventory: Inventory;
  readonly exceptions: ExceptionMatcher;
}

/** An object as the report names it. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export interface VerdictResult {
  readonly rule: string;
  /** deny: fail; warn and audit: warn (an audit-only rule is reported, never enforced). */
  readonly result: "fail" | "warn";
  readonly severity: Severity;
  readonly message: string;
}

export interface Verdict {
  readonly subject: ObjectRef;
  /** The controlling owner (a ReplicaSet, a Job, a Deployment), named in reports in place of its replicas. */
  readonly owner?: ObjectRef;
  readonly results: readonly VerdictResult[];
  /** Rules that applied and found nothing. */
  readonly passed: number;
  /** Findings a PolicyException covers: rule -> exception name. */
  readonly excepted: readonly {
    readonly rule: string;
    readonly exception: string;
    readonly message: string;
  }[];
  /** Why the object could not be judged (too large, malformed, the evaluator failed). */
  readonly unjudgeable?: string;
  /** Of everything above: equal hashes, equal verdicts. */
  readonly hash: number;
}

/** Shared by every verdict without excepted findings (most): one empty list, not one each. */
const NONE: Verdict["excepted"] = [];

/** Longest message kept per result (rule messages are a line; a hostile object's value is not). */
export const MAX_MESSAGE_CHARS = 500;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function refOf(apiVersion: unknown, kind: unknown, name: unknown, namespace: unknown): ObjectRef | undefined {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string" || name === "")
    return undefined;
  return typeof namespace === "string" && namespace !== ""
    ? { apiVersion, kind, name: cut(name, 253), namespace }
    : { apiVersion, kind, name: cut(name, 253) };
}

/** The reference of the owner with `controller: true`, if any. */
function controllerOf(metadata: Record<string, unknown>, namespace: unknown): ObjectRef | undefined {
  const owners = metadata["ownerReferences"];
  if (!Array.isArray(owners)) return undefined;
  for (const owner of owners as unknown[])
    if (isDict(owner) && owner["controller"] === true)
      return refOf(owner["apiVersion"], owner["kind"], owner["name"], namespace);
  return undefined;
}

/**
 * A replica's message as its owner's: `Pod "web-5d8f-x2x9q"` becomes `ReplicaSet "web-5d8f"`,
 * so the same problem on every replica is one result naming the owner, not one per pod.
 */
function asOwner(message: string, subject: ObjectRef, owner: ObjectRef | undefined): string {
  if (owner === undefined || !message.includes(subject.name)) return message;
  return message
    .replaceAll(`${subject.kind} "${subject.name}"`, `${owner.kind} "${owner.name}"`)
    .replaceAll(`"${subject.name}"`, `"${owner.name}"`);
}

/** FNV-1a over a string: a cheap 32-bit fingerprint (a changed verdict is found, not proven). */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Judges one live object with the same rule set, exceptions and inventory as admission. Never
 * throws: an object the evaluator cannot judge gets a verdict saying why. Undefined for an
 * object without a name, kind or apiVersion (nothing a report could name). `intern` may return
 * one copy of equal messages (replicas repeat each other's), so verdicts share them.
 */
export function judge(
  object: KubeObject,
  judging: Judging,
  intern: (text: string) => string = (text) => text,
): Verdict | undefined {
  const metadata = isDict(object.metadata) ? object.metadata : {};
  const subject = refOf(object.apiVersion, object.kind, metadata["name"], metadata["namespace"]);
  if (subject === undefined) return undefined;
  const owner = controllerOf(metadata, metadata["namespace"]);
  const results: VerdictResult[] = [];
  let excepted: { rule: string; exception: string; message: string }[] | undefined;
  let unjudgeable: string | undefined;
  const failing = new Set<string>();
  let applicable = 0;
  try {
    applicable = judging.ruleSet.forKind(subject.kind).length;
    const findings = evaluateObject(object, judging.ruleSet, judging);
    for (const finding of findings) {
      failing.add(finding.rule);
      if (finding.rule === LIMITS_RULE) {
        unjudgeable = cut(finding.message, MAX_MESSAGE_CHARS);
        continue;
      }
      const message = intern(cut(asOwner(finding.message, subject, owner), MAX_MESSAGE_CHARS));
      if (finding.suppressedBy !== undefined) {
        (excepted ??= []).push({ rule: finding.rule, exception: finding.suppressedBy, message });
        continue;
      }
      results.push({
        rule: finding.rule,
        result: finding.action === "deny" ? "fail" : "warn",
        severity: finding.severity,
        message,
      });
    }
  } catch (error) {
    // Not a rule throwing (the evaluator reports that as a finding) but the machinery around it.
    unjudgeable = cut(`vakt failed to evaluate it: ${describeError(error)}`, MAX_MESSAGE_CHARS);
  }
  const passed = unjudgeable === undefined ? Math.max(0, applicable - failing.size) : 0;
  let hash = fnv1a(`${owner?.kind ?? ""}/${owner?.name ?? ""}|${passed}|${unjudgeable ?? ""}`);
  for (const r of results) hash = fnv1a(`${r.rule}|${r.result}|${r.severity}|${r.message}`, hash);
  for (const e of excepted ?? []) hash = fnv1a(`${e.rule}|${e.exception}|${e.message}`, hash);
  return {
    subject,
    ...(owner === undefined ? {} : { owner }),
    results,
    passed,
    excepted: excepted ?? NONE,
    ...(unjudgeable === undefined ? {} : { unjudgeable }),
    hash,
  };
}
