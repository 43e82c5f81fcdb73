import { POLICY_EXCEPTION } from "../api/registry.ts";
import type { ExceptionMatcher } from "./evaluate.ts";
import { CLUSTER_SCOPED_KINDS } from "./rules/namespaces.ts";
import { parseLabelSelector, selectorMatches } from "./rules/util/selector.ts";
import type { LabelSelector } from "./rules/util/selector.ts";
import type { ExceptionPolicy, KubeObject, Rule, RuleContext, Violation } from "./types.ts";
import { arrayAt, dictAt, get, isDict, metaOf, stringAt } from "./workloads.ts";
import type { ObjectMeta } from "./workloads.ts";

/**
 * Governed exceptions: a `PolicyException` (vakt.dev/v1alpha1) names rules (ids or sets), the
 * objects it covers, a justification, who approved it and when it expires. Findings it covers
 * stay visible as suppressed. An expired exception stops applying and is itself reported; an
 * incomplete one never applies and is reported as invalid; one wider or longer-lived than the
 * configuration allows (ExceptionPolicy) never applies and is reported as exception-scope.
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
export const EXCEPTION_KIND = POLICY_EXCEPTION.kind;

export interface PolicyException {
  readonly name: string;
  /** The exception's own namespace ("" when it has none, as in a file checked by `vakt check`). */
  readonly namespace: string;
  readonly rules: readonly string[];
  readonly kinds: readonly string[];
  readonly namespaces: readonly RegExp[];
  /** spec.match.namespaces as written. */
  readonly namespacePatterns: readonly string[];
  readonly names: readonly RegExp[];
  readonly selector: LabelSelector | undefined;
  readonly justification: string;
  readonly approvedBy: string;
  readonly expires: Date;
  /** spec.expires as written (a date or timestamp), for messages. */
  readonly expiresText: string;
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
  const namespacePatterns = stringList(object, ["spec", "match", "namespaces"], problems);
  const namespaces = namespacePatterns.map(glob);
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
      namespacePatterns,
      names,
      selector,
      justification,
      approvedBy,
      expires,
      expiresText: typeof expiresRaw === "string" ? expiresRaw : expires.toISOString(),
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

/** Whether `exception` (which names the rule) covers `object`, whose metadata is `meta`. */
function covers(
  exception: PolicyException,
  object: KubeObject,
  meta: ObjectMeta,
  platformNamespace: string,
): boolean {
  if (
    exception.namespace !== "" &&
    exception.namespace !== platformNamespace &&
    meta.namespace !== exception.namespace
  )
    return false;
  if (
    exception.kinds.length > 0 &&
    (typeof object.kind !== "string" || !exception.kinds.includes(object.kind))
  )
    return false;
  if (exception.namespaces.length > 0 && !exception.namespaces.some((re) => re.test(meta.namespace ?? "")))
    return false;
  if (exception.names.length > 0 && !exception.names.some((re) => re.test(meta.name ?? ""))) return false;
  if (exception.selector !== undefined && !selectorMatches(exception.selector, meta.labels)) return false;
  return true;
}

/** The bounds when the configuration sets none: one namespace, rule ids, at most a year. */
export const DEFAULT_EXCEPTION_POLICY: ExceptionPolicy = {
  allowWide: { namespaces: false, ruleSets: false },
  maxExpiryDays: 365,
};

/** The largest maxExpiryDays the configuration accepts: an exception is temporary by design. */
export const MAX_EXPIRY_DAYS_LIMIT = 3650;

const DAY_MS = 86_400_000;

/** The latest expiry allowed at `now`: the end of the UTC day maxExpiryDays after now's day. */
function latestExpiry(now: Date, policy: ExceptionPolicy): number {
  return Math.floor(now.getTime() / DAY_MS) * DAY_MS + (policy.maxExpiryDays + 1) * DAY_MS - 1;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether the exception can reach namespaced objects in more than one namespace (docs/adr/0011). */
function coversManyNamespaces(exception: PolicyException, platformNamespace: string): boolean {
  // RBAC confines an exception in a team namespace to that namespace (see covers()).
  if (exception.namespace !== "" && exception.namespace !== platformNamespace) return false;
  if (exception.kinds.length > 0 && exception.kinds.every((kind) => CLUSTER_SCOPED_KINDS.has(kind)))
    return false;
  const patterns = new Set(exception.namespacePatterns);
  return patterns.size !== 1 || [...patterns].some((pattern) => pattern.includes("*"));
}

const ALLOWANCE = "in the VaktConfiguration (vakt.yaml)";

/**
 * Where a well-formed exception goes beyond `policy` at `now`, one violation per field; empty
 * when it stays within. `ruleIds` are the ids of every known rule (the other known names are sets).
 */
export function exceptionOverreach(
  exception: PolicyException,
  ruleIds: ReadonlySet<string>,
  policy: ExceptionPolicy,
  now: Date,
  platformNamespace: string = DEFAULT_PLATFORM_NAMESPACE,
): Violation[] {
  const problems: Violation[] = [];
  const suffix = "; until then it suppresses nothing";
  if (!policy.allowWide.namespaces && coversManyNamespaces(exception, platformNamespace)) {
    const where = exception.namespace === "" ? "has no namespace" : `lives in ${exception.namespace}`;
    const reach =
      exception.namespacePatterns.length === 0
        ? `spec.match.namespaces is not set, so PolicyException ${exception.name} (which ${where}) covers every namespace`
        : `spec.match.namespaces ${JSON.stringify(exception.namespacePatterns)} covers more than one namespace`;
    problems.push({
      path: ["spec", "match", "namespaces"],
      message: `${reach}; name the one namespace it is for (or create the exception in that namespace), or set spec.exceptions.allowWide.namespaces: true ${ALLOWANCE}${suffix}`,
    });
  }
  const sets = exception.rules.flatMap((rule, index) => (ruleIds.has(rule) ? [] : [index]));
  const [firstSet] = sets;
  if (!policy.allowWide.ruleSets && firstSet !== undefined) {
    // One finding for all of them: an exception naming every set would otherwise flood the denial.
    const named = sets.map((index) => `"${exception.rules[index] ?? ""}"`).join(", ");
    problems.push({
      path: sets.length === 1 ? ["spec", "rules", firstSet] : ["spec", "rules"],
      message: `${sets.length === 1 ? `spec.rules[${firstSet}] ${named} is a rule set` : `spec.rules names the rule sets ${named}`}, which cover every rule in them now and later; name the rule ids (\`vakt rules\`), or set spec.exceptions.allowWide.ruleSets: true ${ALLOWANCE}${suffix}`,
    });
  }
  const latest = latestExpiry(now, policy);
  if (exception.expires.getTime() > latest)
    problems.push({
      path: ["spec", "expires"],
      message: `spec.expires ${exception.expiresText} is more than ${policy.maxExpiryDays} days after ${isoDay(now.getTime())}; write ${isoDay(latest)} or earlier, or raise spec.exceptions.maxExpiryDays ${ALLOWANCE}${suffix}`,
    });
  return problems;
}

function inForce(
  exception: PolicyException | undefined,
  ruleIds: ReadonlySet<string>,
  policy: ExceptionPolicy,
  now: Date,
  platformNamespace: string,
): exception is PolicyException {
  return (
    exception !== undefined &&
    exception.expires.getTime() > now.getTime() &&
    exceptionOverreach(exception, ruleIds, policy, now, platformNamespace).length === 0
  );
}

function wellFormed(objects: readonly KubeObject[], rules: readonly Rule[]): (PolicyException | undefined)[] {
  const known = knownRuleNames(rules);
  return objects
    .filter((object) => object.kind === EXCEPTION_KIND)
    .map((object) => parseException(object, known).exception);
}

/**
 * A matcher over the exceptions that are valid, within `policy` and in force at `now`. A rule is
 * covered when the exception names its id or one of its sets.
 */
export function exceptionMatcher(
  objects: readonly KubeObject[],
  rules: readonly Rule[],
  now: Date,
  policy: ExceptionPolicy = DEFAULT_EXCEPTION_POLICY,
  platformNamespace: string = DEFAULT_PLATFORM_NAMESPACE,
): ExceptionMatcher {
  const ruleIds = new Set(rules.map((rule) => rule.id));
  const active = wellFormed(objects, rules).filter((exception) =>
    inForce(exception, ruleIds, policy, now, platformNamespace),
  );
  if (active.length === 0) return () => undefined;
  const namesByRule = new Map(rules.map((rule) => [rule.id, new Set([rule.id, ...rule.sets])]));
  return (ruleId, object) => {
    const ids = namesByRule.get(ruleId) ?? new Set([ruleId]);
    let meta: ObjectMeta | undefined; // read once per call, only when an exception names the rule
    for (const exception of active) {
      if (!exception.rules.some((rule) => ids.has(rule))) continue;
      meta ??= metaOf(object);
      if (covers(exception, object, meta, platformNamespace)) return exception.name;
    }
    return undefined;
  };
}

/**
 * The next instant after `now` at which the exceptions in force may change without any object
 * changing: an expiry, or the day a too-distant expiry comes within policy.maxExpiryDays.
 * Infinity when none.
 */
export function exceptionsChangeAt(
  objects: readonly KubeObject[],
  rules: readonly Rule[],
  now: Date,
  policy: ExceptionPolicy = DEFAULT_EXCEPTION_POLICY,
): number {
  let next = Infinity;
  for (const exception of wellFormed(objects, rules)) {
    if (exception === undefined) continue;
    const expires = exception.expires.getTime();
    // latestExpiry(t) >= expires from the start of the day maxExpiryDays before expiry's day.
    const withinBounds = Math.floor(expires / DAY_MS) * DAY_MS - policy.maxExpiryDays * DAY_MS;
    for (const at of [expires, withinBounds]) if (at > now.getTime()) next = Math.min(next, at);
  }
  return next;
}

export function knownRuleNames(rules: readonly Rule[]): Set<string> {
  return new Set(rules.flatMap((rule) => [rule.id, ...rule.sets]));
}

function idsOf(rules: readonly Rule[]): ReadonlySet<string> {
  return new Set(rules.map((rule) => rule.id));
}

const EXCEPTION_CONTROLS = ["iso27001:A.5.36", "iso27001:A.8.9", "nis2:21.2.a"];

/** Rules about exceptions themselves; they need the full rule list to validate rule references. */
export function exceptionRules(allRules: () => readonly Rule[]): Rule[] {
  const knownNames = (context: RuleContext): ReadonlySet<string> =>
    context.memo.of(knownRuleNames, allRules());
  const ruleIds = (context: RuleContext): ReadonlySet<string> => context.memo.of(idsOf, allRules());
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
      check: (object: KubeObject, context: RuleContext) =>
        parseException(object, knownNames(context)).problems,
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
        if (expires === undefined || expires.getTime() > context.settings.now.getTime()) return [];
        return [
          {
            path: ["spec", "expires"],
            message: `PolicyException ${context.view.meta.name ?? ""} expired on ${raw ?? ""}; it no longer suppresses findings (rules: ${arrayAt(object, ["spec", "rules"]).join(", ")})`,
          },
        ];
      },
    },
    {
      id: "exception-scope",
      title: "PolicyException stays within the allowed scope and lifetime",
      severity: "high",
      defaultAction: "deny",
      kinds: [EXCEPTION_KIND],
      sets: ["governance"],
      rationale:
        "An exception across namespaces, over whole rule sets or for years switches safeguards off wholesale; such an exception needs an allowance in the cluster configuration, and it suppresses nothing without one.",
      fix: "Name one namespace in spec.match.namespaces (or create the exception in that namespace), list rule ids instead of sets in spec.rules, and set spec.expires within spec.exceptions.maxExpiryDays (default 365); or allow wider exceptions in the VaktConfiguration's spec.exceptions.",
      controls: EXCEPTION_CONTROLS,
      evidenceBoundary:
        "Bounds the reach of each exception, not how many exceptions there are or whether together they cover more than intended.",
      check: (object: KubeObject, context: RuleContext) => {
        // A malformed exception is exception-invalid's business; it applies to nothing anyway.
        const { exception } = parseException(object, knownNames(context));
        if (exception === undefined) return [];
        const policy = context.settings.exceptions ?? DEFAULT_EXCEPTION_POLICY;
        return exceptionOverreach(exception, ruleIds(context), policy, context.settings.now);
      },
    },
  ];
}
