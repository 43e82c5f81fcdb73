import { DEFAULT_CONFIG, engineSettings } from "../config/vakt-config.ts";
import type { VaktConfig } from "../config/vakt-config.ts";
import { describeError, evaluateObject, RuleSet } from "../engine/evaluate.ts";
import type { ExceptionMatcher } from "../engine/evaluate.ts";
import { EXCEPTION_KIND, exceptionMatcher, exceptionsChangeAt } from "../engine/exceptions.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { ENVIRONMENT_RULES } from "../environment/rules.ts";
import { EMPTY_INVENTORY } from "../engine/rules/util/inventory.ts";
import type { EngineSettings, Finding, Inventory, KubeObject, Rule } from "../engine/types.ts";
import { isDict, metaOf } from "../engine/workloads.ts";
import type { Dict } from "../engine/workloads.ts";
import { formatPath } from "../outputs/report.ts";
import { planMutations } from "./mutate.ts";

/**
 * AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out. PURE: no I/O, no clock except
 * the state's. The same engine, rule ids and configuration as `vakt check`:
 *
 * - deny findings (not covered by a PolicyException) refuse the request (403) with a message
 *   naming, per finding, the rule, the object, the field path, the fix and the controls;
 * - warn findings become AdmissionReview warnings (kubectl prints them);
 * - audit findings become audit annotations (keys are rule ids; the API server prefixes them
 *   with the webhook name, so a key must not contain "/");
 * - DELETE, CONNECT and subresources other than ephemeralcontainers and resize are admitted
 *   unjudged (the webhook configuration registers exactly those two, see registration.ts);
 *   UPDATE judges the new object (an object already being deleted is admitted, so finalizers
 *   can be removed); dry-run requests are judged the same way (nothing here has side effects).
 *
 * A malformed envelope (no uid to answer to) is an "invalid" outcome the server turns into
 * HTTP 400; a malformed request with a uid is refused with status code 400. Anything that
 * throws while judging fails closed when a deny rule applies to the kind.
 */

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** Every rule admission runs: the engine's, and those of vakt's own kinds (the fleet's Environment). */
export const ADMISSION_RULES: readonly Rule[] = Object.freeze([...ALL_RULES, ...ENVIRONMENT_RULES]);
export const ADMISSION_KIND = "AdmissionReview";

/** Longest status message (kubectl prints all of it; etcd events and audit logs keep it too). */
export const MAX_MESSAGE_CHARS = 4000;
/** Kubernetes recommends short warnings (120 characters), may truncate beyond 256 and keeps about 4 KiB in all; a warning stays readable first. */
export const MAX_WARNING_CHARS = 200;
export const MAX_WARNINGS = 20;
export const MAX_ANNOTATION_VALUE_CHARS = 1024;

export interface AdmissionStatus {
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly patch?: string;
  readonly patchType?: "JSONPatch";
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: typeof ADMISSION_KIND;
  readonly response: AdmissionResponse;
}

export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: readonly string[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/** Why a request got its answer; for metrics and logs. */
export type DecisionReason =
  | "evaluated"
  | "operation-not-judged"
  | "subresource-not-judged"
  | "being-deleted"
  | "bad-request"
  | "evaluation-error"
  | "mutated"
  | "no-mutation";

/** What the server needs to log and count about one answered review. */
export interface ReviewInfo {
  readonly uid: string;
  readonly operation: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly subResource: string;
  readonly dryRun: boolean;
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** All findings, suppressed ones included. */
  readonly findings: readonly Finding[];
  /** Names of the mutations applied (mutate only). */
  readonly mutations: readonly string[];
  /** The error, when reason is evaluation-error or bad-request. */
  readonly error?: string;
}

export type ReviewOutcome =
  /** The envelope cannot be answered (no uid, wrong API version): HTTP 400 with this message. */
  | { readonly type: "invalid"; readonly message: string }
  | { readonly type: "review"; readonly body: AdmissionReviewResponse; readonly info: ReviewInfo };

export interface AdmissionStateOptions {
  /** Rules evaluated (default: every rule). */
  readonly rules?: readonly Rule[];
  /** Every known rule, for validating the rule names in exceptions (default: every rule). */
  readonly allRules?: readonly Rule[];
  readonly config?: VaktConfig;
  /** PolicyException objects (others are ignored). */
  readonly exceptions?: readonly KubeObject[];
  /**
   * Objects that relational rules look at (NetworkPolicies, PodDisruptionBudgets, autoscalers,
   * ServiceAccounts); default none. `vakt run` keeps it live (src/manager/inventory.ts).
   */
  readonly inventory?: Inventory;
  /** The clock (default: Date). */
  readonly clock?: () => Date;
}

/** Everything one evaluation needs, consistent with itself. */
export interface AdmissionSnapshot {
  readonly config: VaktConfig;
  readonly ruleSet: RuleSet;
  readonly rulesById: ReadonlyMap<string, Rule>;
  readonly settings: EngineSettings;
  readonly inventory: Inventory;
  readonly exceptions: ExceptionMatcher;
  /** Number of changes applied to the state so far (config, rules, exceptions, inventory). */
  readonly generation: number;
}

function exceptionKey(object: KubeObject): string {
  const meta = metaOf(object);
  return `${meta.namespace ?? ""}/${meta.name ?? ""}`;
}

/**
 * The live state behind the webhook: rules, configuration, PolicyExceptions and inventory, each
 * replaceable while the server runs (an informer calls setExceptions/upsertException/
 * removeException; a configuration watch calls setConfig). Exceptions that expire stop applying
 * at their expiry without any call: the matcher is rebuilt when the earliest expiry passes (or
 * when an expiry that was too far ahead comes within the configured maximum).
 */
export class AdmissionState {
  #rules: readonly Rule[];
  #allRules: readonly Rule[];
  #config: VaktConfig;
  #ruleSet: RuleSet;
  #rulesById: ReadonlyMap<string, Rule>;
  readonly #exceptions = new Map<string, KubeObject>();
  #inventory: Inventory;
  readonly #clock: () => Date;
  #generation = 0;
  #matcher: ExceptionMatcher | undefined;
  /** When the current matcher stops being right (an active exception expires), in ms. */
  #matcherValidUntil = -Infinity;

  constructor(options: AdmissionStateOptions = {}) {
    this.#rules = options.rules ?? ADMISSION_RULES;
    this.#allRules = options.allRules ?? ADMISSION_RULES;
    this.#config = options.config ?? DEFAULT_CONFIG;
    this.#ruleSet = new RuleSet(this.#rules, this.#config.rules);
    this.#rulesById = new Map(this.#allRules.map((rule) => [rule.id, rule]));
    this.#inventory = options.inventory ?? EMPTY_INVENTORY;
    this.#clock = options.clock ?? ((): Date => new Date());
    for (const object of options.exceptions ?? []) this.#putException(object);
  }

  get config(): VaktConfig {
    return this.#config;
  }

  get rules(): readonly Rule[] {
    return this.#rules;
  }

  get generation(): number {
    return this.#generation;
  }

  /** The PolicyException objects currently known. */
  get exceptionObjects(): readonly KubeObject[] {
    return [...this.#exceptions.values()];
  }

  now(): Date {
    return this.#clock();
  }

  setConfig(config: VaktConfig): void {
    this.#config = config;
    this.#ruleSet = new RuleSet(this.#rules, config.rules);
    this.#changed();
  }

  setRules(rules: readonly Rule[]): void {
    this.#rules = rules;
    this.#ruleSet = new RuleSet(rules, this.#config.rules);
    this.#changed();
  }

  /** Replaces the inventory (the live one publishes often: the exception matcher is kept). */
  setInventory(inventory: Inventory): void {
    this.#inventory = inventory;
    this.#generation++;
  }

  /** Replaces every exception (an informer's full list). */
  setExceptions(objects: readonly KubeObject[]): void {
    this.#exceptions.clear();
    for (const object of objects) this.#putException(object);
    this.#changed();
  }

  /** Adds or replaces one exception (informer add/update), keyed by namespace/name. */
  upsertException(object: KubeObject): void {
    this.#putException(object);
    this.#changed();
  }

  /** Removes one exception (informer delete). */
  removeException(object: KubeObject): void {
    this.#exceptions.delete(exceptionKey(object));
    this.#changed();
  }

  #putException(object: KubeObject): void {
    if (object.kind === EXCEPTION_KIND) this.#exceptions.set(exceptionKey(object), object);
  }

  #changed(): void {
    this.#generation++;
    this.#matcher = undefined;
  }

  #matcherAt(now: Date): ExceptionMatcher {
    if (this.#matcher !== undefined && now.getTime() < this.#matcherValidUntil) return this.#matcher;
    const objects = [...this.#exceptions.values()];
    const policy = this.#config.exceptions;
    this.#matcher = exceptionMatcher(objects, this.#allRules, now, policy);
    this.#matcherValidUntil = exceptionsChangeAt(objects, this.#allRules, now, policy);
    return this.#matcher;
  }

  snapshot(now: Date = this.#clock()): AdmissionSnapshot {
    return {
      config: this.#config,
      ruleSet: this.#ruleSet,
      rulesById: this.#rulesById,
      settings: engineSettings(this.#config, now),
      inventory: this.#inventory,
      exceptions: this.#matcherAt(now),
      generation: this.#generation,
    };
  }
}

interface ParsedRequest {
  readonly uid: string;
  readonly operation: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly subResource: string;
  readonly dryRun: boolean;
  readonly object: unknown;
}

type Parsed =
  | { readonly type: "invalid"; readonly message: string }
  | { readonly type: "request"; readonly request: ParsedRequest };

function parseEnvelope(body: unknown): Parsed {
  if (!isDict(body))
    return { type: "invalid", message: "the request body must be a JSON object (an AdmissionReview)" };
  if (body["apiVersion"] !== ADMISSION_API_VERSION)
    return {
      type: "invalid",
      message: `apiVersion must be "${ADMISSION_API_VERSION}" (got ${describe(body["apiVersion"])}); register the webhook with admissionReviewVersions: ["v1"]`,
    };
  if (body["kind"] !== ADMISSION_KIND)
    return { type: "invalid", message: `kind must be "${ADMISSION_KIND}" (got ${describe(body["kind"])})` };
  const request = body["request"];
  if (!isDict(request))
    return { type: "invalid", message: "request is missing: an AdmissionReview must carry a request object" };
  const uid = request["uid"];
  if (typeof uid !== "string" || uid === "" || uid.length > 256)
    return { type: "invalid", message: "request.uid must be a non-empty string" };
  const kindValue = dictAtKey(request, "kind")?.["kind"];
  const object = request["object"];
  const objectKind = isDict(object) && typeof object["kind"] === "string" ? object["kind"] : undefined;
  return {
    type: "request",
    request: {
      uid,
      operation: typeof request["operation"] === "string" ? request["operation"] : "",
      kind: objectKind ?? (typeof kindValue === "string" ? kindValue : ""),
      namespace: typeof request["namespace"] === "string" ? request["namespace"] : "",
      name: typeof request["name"] === "string" ? request["name"] : "",
      subResource: typeof request["subResource"] === "string" ? request["subResource"] : "",
      dryRun: request["dryRun"] === true,
      object,
    },
  };
}

function dictAtKey(value: Dict, key: string): Dict | undefined {
  const found = value[key];
  return isDict(found) ? found : undefined;
}

/** A short description of a value from the request; never walks into objects (they may be hostile). */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  const text =
    typeof value === "string"
      ? JSON.stringify(value)
      : typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : typeof value;
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/**
 * Pod subresources whose writes change what a pod runs, so they are judged (the request carries
 * the whole Pod): `kubectl debug` adds containers through pods/ephemeralcontainers, pods/resize
 * changes the resources of running containers. The webhook configuration registers exactly
 * these; other subresources (status, binding, eviction, scale) do not change a pod's containers.
 */
export const JUDGED_POD_SUBRESOURCES: readonly string[] = ["ephemeralcontainers", "resize"];
const JUDGED_SUBRESOURCES: ReadonlySet<string> = new Set(["", ...JUDGED_POD_SUBRESOURCES]);

function envelope(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response };
}

function infoOf(
  request: ParsedRequest,
  object: Dict | undefined,
  fields: Pick<ReviewInfo, "allowed" | "reason"> & Partial<ReviewInfo>,
): ReviewInfo {
  const meta = object === undefined ? undefined : metaOf(object);
  return {
    uid: request.uid,
    operation: request.operation,
    kind: request.kind,
    namespace: meta?.namespace ?? request.namespace,
    name: nameFor(object, request),
    subResource: request.subResource,
    dryRun: request.dryRun,
    findings: [],
    mutations: [],
    ...fields,
  };
}

function nameFor(object: Dict | undefined, request: ParsedRequest): string {
  const meta = object === undefined ? undefined : metaOf(object);
  if (meta?.name !== undefined && meta.name !== "") return meta.name;
  if (request.name !== "") return request.name;
  const metadata = object === undefined ? undefined : dictAtKey(object, "metadata");
  const generateName = metadata?.["generateName"];
  if (typeof generateName === "string" && generateName !== "") return `${generateName}*`;
  return "(unnamed)";
}

type Preflight =
  | { readonly type: "done"; readonly outcome: ReviewOutcome }
  | { readonly type: "judge"; readonly request: ParsedRequest; readonly object: Dict };

/** Envelope checks and the requests that are answered without judging the object. */
function preflight(body: unknown, judgeUpdates: boolean): Preflight {
  const parsed = parseEnvelope(body);
  if (parsed.type === "invalid") return { type: "done", outcome: parsed };
  const { request } = parsed;
  const answer = (
    response: Omit<AdmissionResponse, "uid">,
    reason: DecisionReason,
    extra: Partial<ReviewInfo> = {},
  ): Preflight => ({
    type: "done",
    outcome: {
      type: "review",
      body: envelope({ uid: request.uid, ...response }),
      info: infoOf(request, isDict(request.object) ? request.object : undefined, {
        allowed: response.allowed,
        reason,
        ...extra,
      }),
    },
  });
  const badRequest = (message: string): Preflight =>
    answer({ allowed: false, status: { code: 400, reason: "BadRequest", message } }, "bad-request", {
      error: message,
    });

  if (!OPERATIONS.includes(request.operation))
    return badRequest(
      `request.operation must be one of ${OPERATIONS.join(", ")} (got ${describe(request.operation)})`,
    );
  if (request.operation === "DELETE" || request.operation === "CONNECT")
    return answer({ allowed: true }, "operation-not-judged");
  if (request.operation === "UPDATE" && !judgeUpdates) return answer({ allowed: true }, "no-mutation");
  if (!JUDGED_SUBRESOURCES.has(request.subResource))
    return answer({ allowed: true }, "subresource-not-judged");
  const object = request.object;
  if (!isDict(object))
    return badRequest(
      `request.object must be the ${request.kind === "" ? "object" : request.kind} being ${request.operation === "CREATE" ? "created" : "updated"} (got ${object === undefined ? "nothing" : Array.isArray(object) ? "a list" : typeof object})`,
    );
  if (request.kind === "") return badRequest("request.kind.kind and request.object.kind are both missing");
  if (request.operation === "UPDATE" && metaOf(object).name !== undefined) {
    const metadata = dictAtKey(object, "metadata");
    if (metadata?.["deletionTimestamp"] !== undefined && metadata["deletionTimestamp"] !== null)
      return answer({ allowed: true }, "being-deleted");
  }
  return { type: "judge", request, object };
}

/** The object as the engine should see it: kind and namespace filled in from the request. */
function subjectOf(object: Dict, request: ParsedRequest): KubeObject {
  const needsKind = typeof object["kind"] !== "string";
  const metadata = dictAtKey(object, "metadata");
  const namespace = metadata?.["namespace"];
  const needsNamespace = request.namespace !== "" && (typeof namespace !== "string" || namespace === "");
  if (!needsKind && !needsNamespace) return object;
  return {
    ...object,
    ...(needsKind ? { kind: request.kind } : {}),
    ...(needsNamespace ? { metadata: { ...(metadata ?? {}), namespace: request.namespace } } : {}),
  };
}

/** Control characters and line breaks out: warnings and annotations are single printable lines. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function identityOf(request: ParsedRequest, subject: KubeObject): string {
  const namespace = metaOf(subject).namespace ?? "";
  const name = nameFor(subject, request);
  return namespace === "" ? `${request.kind}/${name}` : `${request.kind}/${namespace}/${name}`;
}

function fieldOf(finding: Finding): string {
  const path = formatPath(finding.path);
  return path === "" ? "" : ` (field ${path})`;
}

/** The deny message: one line per finding, whole lines only, within MAX_MESSAGE_CHARS. */
export function denyMessage(
  findings: readonly Finding[],
  identity: string,
  rulesById: ReadonlyMap<string, Rule>,
): string {
  const lines = findings.map((finding) => {
    const fix = rulesById.get(finding.rule)?.fix ?? "";
    const controls = finding.controls.length > 0 ? ` Controls: ${finding.controls.join(", ")}` : "";
    const line = `[${finding.rule}] ${identity}: ${finding.message}${fieldOf(finding)}.${fix === "" ? "" : ` Fix: ${fix}`}${controls}`;
    return truncate(oneLine(line), 1200);
  });
  const reserve = 80;
  const kept: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > MAX_MESSAGE_CHARS - reserve) break;
    kept.push(line);
    size += line.length + 1;
  }
  // A record of findings cut by the evaluation limits stands for `cut` findings, not one.
  let more = 0;
  for (const finding of findings.slice(kept.length)) more += finding.cut ?? 1;
  if (more > 0) kept.push(`... and ${more} more (run \`vakt check\` on the manifest for the full list)`);
  return kept.join("\n");
}

function warningOf(finding: Finding): string {
  const field = fieldOf(finding);
  const head = `[${finding.rule}] `;
  const room = Math.max(40, MAX_WARNING_CHARS - head.length - field.length);
  return truncate(oneLine(`${head}${truncate(finding.message, room)}${field}`), 256);
}

/** An annotation key: the name part of a qualified name ([A-Za-z0-9][-A-Za-z0-9_.]*, ≤ 63 chars). */
export function annotationKey(text: string): string {
  const cleaned = text
    .replace(/[^-A-Za-z0-9_.]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 63)
    .replace(/[^A-Za-z0-9]+$/, "");
  return cleaned === "" ? "vakt" : cleaned;
}

function addAnnotation(annotations: Record<string, string>, key: string, value: string): void {
  const previous = annotations[key];
  const joined = previous === undefined ? value : `${previous}; ${value}`;
  annotations[key] = truncate(oneLine(joined), MAX_ANNOTATION_VALUE_CHARS);
}

/** Answers a validating AdmissionReview (see the module comment). */
export function review(body: unknown, state: AdmissionState): ReviewOutcome {
  const pre = preflight(body, true);
  if (pre.type === "done") return pre.outcome;
  const { request, object } = pre;
  const subject = subjectOf(object, request);
  const identity = identityOf(request, subject);
  const info = (fields: Pick<ReviewInfo, "allowed" | "reason"> & Partial<ReviewInfo>): ReviewInfo =>
    infoOf(request, subject, fields);

  let snapshot: AdmissionSnapshot | undefined;
  let findings: Finding[];
  try {
    snapshot = state.snapshot();
    findings = evaluateObject(subject, snapshot.ruleSet, snapshot);
  } catch (error) {
    // Not a rule throwing (the evaluator turns that into a finding) but the machinery around it.
    const reason = describeError(error);
    let denyApplies: boolean;
    try {
      denyApplies = (snapshot ?? state.snapshot()).ruleSet
        .forKind(request.kind)
        .some((entry) => entry.action === "deny");
    } catch {
      denyApplies = true;
    }
    const message = `vakt failed to evaluate ${identity} (${oneLine(reason)})`;
    if (denyApplies)
      return {
        type: "review",
        body: envelope({
          uid: request.uid,
          allowed: false,
          status: {
            code: 500,
            reason: "InternalError",
            message: `${message}; deny rules apply to ${request.kind}, so vakt refuses it rather than admit it unchecked (fail closed). Retry; if it persists, see the vakt logs.`,
          },
        }),
        info: info({ allowed: false, reason: "evaluation-error", error: reason }),
      };
    return {
      type: "review",
      body: envelope({
        uid: request.uid,
        allowed: true,
        warnings: [truncate(`[vakt] ${message}; admitted: no deny rule applies`, 256)],
      }),
      info: info({ allowed: true, reason: "evaluation-error", error: reason }),
    };
  }

  const denied: Finding[] = [];
  const warned: Finding[] = [];
  const annotations: Record<string, string> = {};
  for (const finding of findings) {
    if (finding.suppressedBy !== undefined) {
      addAnnotation(
        annotations,
        annotationKey(`exception-${finding.rule}`),
        `${finding.suppressedBy}: ${finding.message}${fieldOf(finding)}`,
      );
      continue;
    }
    if (finding.action === "deny") denied.push(finding);
    else if (finding.action === "warn") warned.push(finding);
    else addAnnotation(annotations, annotationKey(finding.rule), `${finding.message}${fieldOf(finding)}`);
  }

  const warnings = warned.slice(0, MAX_WARNINGS).map(warningOf);
  if (warned.length > MAX_WARNINGS)
    warnings.push(`[vakt] and ${warned.length - MAX_WARNINGS} more warnings (run \`vakt check\`)`);
  const allowed = denied.length === 0;
  const response: AdmissionResponse = {
    uid: request.uid,
    allowed,
    ...(allowed
      ? {}
      : {
          status: {
            code: 403,
            reason: "Forbidden",
            message: denyMessage(denied, identity, snapshot.rulesById),
          },
        }),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(Object.keys(annotations).length > 0 ? { auditAnnotations: annotations } : {}),
  };
  return { type: "review", body: envelope(response), info: info({ allowed, reason: "evaluated", findings }) };
}

/**
 * Answers a mutating AdmissionReview: always admits, with a JSON Patch of the configured safe
 * defaults on CREATE (never on UPDATE: a Pod's or Job's template cannot change, and a changed
 * Deployment template would roll out pods nobody asked to restart). A failure to compute the
 * patch admits unpatched with a warning; the validating webhook still judges the object.
 */
export function mutateReview(body: unknown, state: AdmissionState): ReviewOutcome {
  const pre = preflight(body, false);
  if (pre.type === "done") return pre.outcome;
  const { request, object } = pre;
  const subject = subjectOf(object, request);
  const info = (fields: Pick<ReviewInfo, "allowed" | "reason"> & Partial<ReviewInfo>): ReviewInfo =>
    infoOf(request, subject, fields);
  try {
    const plan = planMutations(object, state.config.mutations);
    if (plan.operations.length === 0)
      return {
        type: "review",
        body: envelope({ uid: request.uid, allowed: true }),
        info: info({ allowed: true, reason: "no-mutation" }),
      };
    return {
      type: "review",
      body: envelope({
        uid: request.uid,
        allowed: true,
        patchType: "JSONPatch",
        patch: Buffer.from(JSON.stringify(plan.operations)).toString("base64"),
        auditAnnotations: { mutations: plan.applied.join(",") },
      }),
      info: info({ allowed: true, reason: "mutated", mutations: plan.applied }),
    };
  } catch (error) {
    const reason = describeError(error);
    return {
      type: "review",
      body: envelope({
        uid: request.uid,
        allowed: true,
        warnings: [truncate(`[vakt] safe defaults not applied: ${oneLine(reason)}`, 256)],
      }),
      info: info({ allowed: true, reason: "evaluation-error", error: reason }),
    };
  }
}
