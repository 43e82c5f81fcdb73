import type { ExceptionMatcher } from "./evaluate.ts";
import { parseLabelSelector, selectorMatches } from "./rules/util/selector.ts";
import type { LabelSelector } from "./rules/util/selector.ts";
import type { KubeObject, Rule, RuleContext, Violation } from "./types.ts";
import { arrayAt, dictAt, get, isDict, metaOf, stringAt } from "./workloads.ts";

/**
 * Governed exceptions: a `PolicyException` (vakt.dev/v1alpha1) names rules (ids or sets), the
 * objects it covers, a justification, who approved it and when it expires. Findings it covers
 * stay visible as suppressed. An expired exception stops applying and is itself reported; an
 * incomplete one never applies and is reported as invalid.
 *
 * spec:
 *   rules: [image-tag, pss-restricted]     # rule ids or set names
 *   match:                                  # all given criteria must hold
 *     kinds: [Deployment]
 *     namespaces: [team-a, "lab-*"]         # "*" globs
 *     names: ["legacy-*"]
 *     selector: { matchLabels: {...}, matchExpressions: [...] }
 *   justification: "why this is acceptable, and the compensating control"
 *   approvedBy: "ciso@example.com"
 *   expires: "2027-01-31"                   # date or RFC 3339 timestamp
 */
export const EXCEPTION_KIND = "PolicyException";
export const EXCEPTION_API_VERSION = "vakt.dev/v1alpha1";

export interface PolicyException {
  readonly name: string;
  /** The exception's own namespace ("" when it has none, as in a file checked by `vakt check`). */
  readonly namespace: string;
  readonly rules: readonly string[];
  readonly kinds: readonly string[];
  readonly namespaces: readonly RegExp[];
  readonly names: readonly RegExp[];
  readonly selector: LabelSelector | undefined;
  readonly justification: string;
  readonly approvedBy: string;
  readonly expires: Date;
}

interface Parsed {
  readonly exception?: PolicyException;
  readonly problems: readonly Violation[];
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Parses an expiry: a date (end of that day, UTC) or an RFC 3339 timestamp. */
export function parseExpiry(value: string): Date | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const date = new Date(`${value}T23:59:59.999Z`);
    return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? undefined : date;
  }
  const match = TIMESTAMP.exec(value);
  if (match !== null) {
    // Date() rolls impossible fields over (2026-02-30T10:00:00Z becomes March 2nd, 24:00 the next
    // day), so every field is range-checked before trusting it.
    const [year, month, day, hour, minute, second, offsetHour = 0, offsetMinute = 0] = match
      .slice(1)
      .map((group: string | undefined) => (group === undefined ? undefined : Number(group)));
    if (
      year === undefined ||
      month === undefined ||
      day === undefined ||
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > daysInMonth(year, month) ||
      (hour ?? 0) > 23 ||
      (minute ?? 0) > 59 ||
      (second ?? 0) > 59 ||
      offsetHour > 23 ||
      offsetMinute > 59
    )
      return undefined;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

function stringList(object: KubeObject, path: readonly string[], problems: Violation[]): string[] {
  const value = get(object, path);
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: `${path.join(".")} must be a list of strings` });
    return [];
  }
  const result: string[] = [];
  value.forEach((item, index) => {
    if (typeof item === "string" && item !== "") result.push(item);
    else
      problems.push({
        path: [...path, index],
        message: `${path.join(".")}[${index}] must be a non-empty string`,
      });
  });
  return result;
}

/** Validates one PolicyException object; `knownRules` are rule ids and set names. */
export function parseException(object: KubeObject, knownRules: ReadonlySet<string>): Parsed {
  const problems: Violation[] = [];
  const name = metaOf(object).name ?? "(unnamed)";
  if (!isDict(object["spec"]))
    return { problems: [{ path: ["spec"], message: `PolicyException ${name} has no spec` }] };

  const rules = stringList(object, ["spec", "rules"], problems);
  const rulesValue = get(object, ["spec", "rules"]);
  if (rulesValue === undefined || (Array.isArray(rulesValue) && rulesValue.length === 0)) {
    // An empty list is as incomplete as a missing one: such an exception covers nothing.
    problems.push({
      path: ["spec", "rules"],
      message: "spec.rules is required: list the rule ids or sets this exception covers",
    });
  }
  rules.forEach((rule, index) => {
    if (!knownRules.has(rule))
      problems.push({
        path: ["spec", "rules", index],
        message: `spec.rules[${index}] "${rule}" is not a known rule id or set (see \`vakt rules\`)`,
      });
  });

  const justification = stringAt(object, ["spec", "justification"])?.trim() ?? "";
  if (justification.length < 10) {
    problems.push({
      path: ["spec", "justification"],
      message:
        "spec.justification is required: say why the exception is acceptable and what compensates for it (at least 10 characters)",
    });
  }
  const approvedBy = stringAt(object, ["spec", "approvedBy"])?.trim() ?? "";
  if (approvedBy === "")
    problems.push({
      path: ["spec", "approvedBy"],
      message: "spec.approvedBy is required: who approved this exception",
    });

  const expiresRaw = get(object, ["spec", "expires"]);
  const expires =
    typeof expiresRaw === "string"
      ? parseExpiry(expiresRaw)
      : expiresRaw instanceof Date
        ? expiresRaw
        : undefined;
  if (expires === undefined) {
    problems.push({
      path: ["spec", "expires"],
      message: `spec.expires is ${expiresRaw === undefined ? "required" : `not a valid date (${JSON.stringify(expiresRaw)})`}: write a date like "2027-01-31" or an RFC 3339 timestamp`,
    });
  }

  const match = dictAt(object, ["spec", "match"]);
  const kinds = stringList(object, ["spec", "match", "kinds"], problems);
  const namespaces = stringList(object, ["spec", "match", "namespaces"], problems).map(glob);
  const names = stringList(object, ["spec", "match", "names"], problems).map(glob);
  const selectorValue = match?.["selector"];
  const selector = selectorValue === undefined ? undefined : parseLabelSelector(selectorValue, "nothing");
  if (selector?.nothing === true)
    problems.push({
      path: ["spec", "match", "selector"],
      message: "spec.match.selector is not a valid label selector",
    });
  if (
    match === undefined ||
    // The empty selector {} selects every object, so it does not narrow anything on its own.
    (kinds.length === 0 &&
      namespaces.length === 0 &&
      names.length === 0 &&
      (selector === undefined || selector.empty))
  ) {
    problems.push({
      path: ["spec", "match"],
      message:
        "spec.match must name what the exception covers (kinds, namespaces, names or selector); an exception for everything is not allowed",
    });
  }

  if (problems.length > 0 || expires === undefined) return { problems };
  return {
    exception: {
      name,
      namespace: metaOf(object).namespace ?? "",
      rules,
      kinds,
      namespaces,
      names,
      selector,
      justification,
      approvedBy,
      expires,
    },
    problems,
  };
}

/**
 * Namespace scope: an exception that lives in a namespace covers only objects of that namespace,
 * so RBAC on PolicyExceptions decides who may exempt what. Exceptions in the platform namespace
 * (vakt's own), and those without a namespace (files in `vakt check`), may cover any namespace
 * and cluster-scoped objects through spec.match.
 */
export const DEFAULT_PLATFORM_NAMESPACE = "vakt-system";

function covers(
  exception: PolicyException,
  ruleIds: ReadonlySet<string>,
  object: KubeObject,
  platformNamespace: string,
): boolean {
  if (!exception.rules.some((rule) => ruleIds.has(rule))) return false;
  if (
    exception.namespace !== "" &&
    exception.namespace !== platformNamespace &&
    metaOf(object).namespace !== exception.namespace
  )
    return false;
  if (
    exception.kinds.length > 0 &&
    (typeof object.kind !== "string" || !exception.kinds.includes(object.kind))
  )
    return false;
  const meta = metaOf(object);
  if (exception.namespaces.length > 0 && !exception.namespaces.some((re) => re.test(meta.namespace ?? "")))
    return false;
  if (exception.names.length > 0 && !exception.names.some((re) => re.test(meta.name ?? ""))) return false;
  if (exception.selector !== undefined && !selectorMatches(exception.selector, meta.labels)) return false;
  return true;
}

/**
 * A matcher over the exceptions that are valid and in force at `now`. A rule is covered when the
 * exception names its id or one of its sets.
 */
export function exceptionMatcher(
  objects: readonly KubeObject[],
  rules: readonly Rule[],
  now: Date,
  platformNamespace: string = DEFAULT_PLATFORM_NAMESPACE,
): ExceptionMatcher {
  const known = knownRuleNames(rules);
  const active = objects
    .filter((object) => object.kind === EXCEPTION_KIND)
    .map((object) => parseException(object, known).exception)
    .filter(
      (exception): exception is PolicyException =>
        exception !== undefined && exception.expires.getTime() > now.getTime(),
    );
  if (active.length === 0) return () => undefined;
  const namesByRule = new Map(rules.map((rule) => [rule.id, new Set([rule.id, ...rule.sets])]));
  return (ruleId, object) => {
    const ids = namesByRule.get(ruleId) ?? new Set([ruleId]);
    return active.find((exception) => covers(exception, ids, object, platformNamespace))?.name;
  };
}

export function knownRuleNames(rules: readonly Rule[]): Set<string> {
  return new Set(rules.flatMap((rule) => [rule.id, ...rule.sets]));
}

const EXCEPTION_CONTROLS = ["iso27001:A.5.36", "iso27001:A.8.9", "nis2:21.2.a"];

/** Rules about exceptions themselves; they need the full rule list to validate rule references. */
export function exceptionRules(allRules: () => readonly Rule[]): Rule[] {
  let known: Set<string> | undefined;
  const knownNames = (): Set<string> => (known ??= knownRuleNames(allRules()));
  return [
    {
      id: "exception-invalid",
      title: "PolicyException is complete and well-formed",
      severity: "high",
      defaultAction: "deny",
      kinds: [EXCEPTION_KIND],
      sets: ["governance"],
      rationale:
        "An exception without a justification, an approver, an expiry or a precise scope is an ungoverned hole in the safeguards.",
      fix: "Give the PolicyException spec.rules, spec.match, spec.justification, spec.approvedBy and spec.expires (a date).",
      controls: EXCEPTION_CONTROLS,
      evidenceBoundary:
        "A well-formed exception is not proof that the approval really happened or that the compensating control exists.",
      check: (object: KubeObject) => parseException(object, knownNames()).problems,
    },
    {
      id: "exception-expired",
      title: "PolicyException has not expired",
      severity: "medium",
      defaultAction: "warn",
      kinds: [EXCEPTION_KIND],
      sets: ["governance"],
      rationale:
        "Exceptions are temporary by design; an expired one no longer suppresses findings and should be renewed or removed.",
      fix: "Fix the findings it covered and delete the PolicyException, or renew it with a new approval and a later spec.expires.",
      controls: EXCEPTION_CONTROLS,
      evidenceBoundary: "Only the expiry date is checked, not whether the covered risk changed.",
      check: (object: KubeObject, context: RuleContext) => {
        const raw = stringAt(object, ["spec", "expires"]);
        const expires = raw === undefined ? undefined : parseExpiry(raw);
        const now = context.settings.now ?? new Date();
        if (expires === undefined || expires.getTime() > now.getTime()) return [];
        return [
          {
            path: ["spec", "expires"],
            message: `PolicyException ${metaOf(object).name ?? ""} expired on ${raw ?? ""}; it no longer suppresses findings (rules: ${arrayAt(object, ["spec", "rules"]).join(", ")})`,
          },
        ];
      },
    },
  ];
}
