/**
 * The model as OSCAL 1.1.3 assessment results (NIST's JSON schema, the "assessment-results"
 * model). One result for the period: the frameworks' controls as reviewed controls, each open
 * finding as an observation of the background audit (method TEST, subject the object, kept as an
 * inventory item), one observation for the audit passes, a finding per evidenced control with
 * satisfied / not-satisfied, and each PolicyException as a risk (statement: its justification,
 * deadline: its expiry). Pure.
 *
 * OSCAL is strict about a few strings: control ids are tokens (no ":"), property values have no
 * line breaks and no spaces at the ends, uuids are version 4 or 5. Ids here are version 5 uuids
 * derived from what they name, so the same history gives the same document.
 */
import { createHash } from "node:crypto";
import { VERSION } from "../version.ts";
import type { Subject } from "../evidence/types.ts";
import type { ControlPosture, ExceptionEntry, FindingEntry, ReportModel } from "./model.ts";
import { clean, cleanLine, MAX_NAME } from "./text.ts";

export const OSCAL_VERSION = "1.1.3";

/** Namespace of vakt's own OSCAL properties. */
export const VAKT_NS = "https://vakt.dev/ns/oscal";

/** Namespace of vakt's version 5 uuids (itself a random uuid, fixed forever). */
const UUID_NAMESPACE = "6f1c2b8e-3d4a-4c5e-9f70-1a2b3c4d5e6f";

/** A version 5 uuid (RFC 4122: sha-1 of namespace and name) for `name`. */
export function uuid5(name: string): string {
  const namespace = Buffer.from(UUID_NAMESPACE.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(namespace).update(name, "utf8").digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A catalog control id as an OSCAL token: "iso27001:A.8.9" → "iso27001_A.8.9". */
export function controlToken(id: string): string {
  const token = id.replace(/[^\p{L}\p{N}._-]/gu, "_");
  return /^[\p{L}_]/u.test(token) ? token : `_${token}`;
}

/** A property value: one line, no spaces at the ends, never empty. */
function value(text: string, max: number = MAX_NAME): string {
  const line = cleanLine(text, max);
  return line === "" ? "(empty)" : line;
}

function prop(name: string, text: string): { name: string; ns: string; value: string } {
  return { name, ns: VAKT_NS, value: value(text) };
}

function subjectKey(subject: Subject, cluster: string): string {
  return [cluster, subject.apiVersion, subject.kind, subject.namespace ?? "", subject.name].join("\u0000");
}

function subjectTitle(subject: Subject): string {
  const where = subject.namespace === undefined ? "" : `${subject.namespace}/`;
  return cleanLine(`${subject.kind} ${where}${subject.name}`, MAX_NAME);
}

export function toOscal(model: ReportModel): object {
  const { request } = model;
  const seed = JSON.stringify([
    request.from,
    request.to,
    request.scope,
    request.frameworks,
    request.generatedAt,
  ]);
  const inventory = new Map<string, object>();
  const inventoryRef = (subject: Subject, cluster: string, tenant?: string): object => {
    const key = subjectKey(subject, cluster);
    const id = uuid5(`subject\u0000${key}`);
    if (!inventory.has(key)) {
      inventory.set(key, {
        uuid: id,
        description: `Kubernetes ${subjectTitle(subject)} in cluster ${cleanLine(cluster, MAX_NAME)}`,
        props: [
          prop("cluster", cluster),
          prop("api-version", subject.apiVersion),
          prop("kind", subject.kind),
          ...(subject.namespace === undefined ? [] : [prop("namespace", subject.namespace)]),
          prop("name", subject.name),
          ...(tenant === undefined ? [] : [prop("tenant", tenant)]),
        ],
      });
    }
    return { "subject-uuid": id, type: "inventory-item", title: subjectTitle(subject) };
  };

  const passObservation = {
    uuid: uuid5(`passes\u0000${seed}`),
    title: "Background audit passes",
    description:
      `vakt's background audit judged the cluster's live objects with its rule set: ${model.passes.full} full passes ` +
      `and ${model.passes.partial} event-driven ones in the period; the last full pass judged ${model.passes.objects} objects ` +
      `(${model.passes.unjudgeable} could not be judged).`,
    methods: ["TEST"],
    types: ["historic"],
    collected: model.passes.last ?? request.to,
  };

  const findingObservations = new Map<string, string[]>();
  const observations: object[] = [passObservation];
  for (const finding of model.open) {
    const id = uuid5(`finding\u0000${subjectKey(finding.subject, finding.cluster)}\u0000${finding.rule}`);
    observations.push(
      findingObservation(finding, id, inventoryRef(finding.subject, finding.cluster, finding.tenant)),
    );
    for (const control of finding.controls) {
      const list = findingObservations.get(control);
      if (list === undefined) findingObservations.set(control, [id]);
      else list.push(id);
    }
  }

  const risksByControl = new Map<string, string[]>();
  const risks = model.exceptions.map((exception) => {
    const id = uuid5(`exception\u0000${exception.name}`);
    const observationId = uuid5(`exception-observation\u0000${exception.name}`);
    observations.push(exceptionObservation(exception, observationId, (s) => inventoryRef(s, "")));
    for (const control of exception.controls) {
      const list = risksByControl.get(control);
      if (list === undefined) risksByControl.set(control, [id]);
      else list.push(id);
    }
    return exceptionRisk(exception, id, observationId);
  });

  const postures = model.frameworks.flatMap((framework) => framework.controls);
  const findings = postures
    .filter((posture) => posture.status !== "not-evidenced")
    .map((posture) =>
      controlFinding(
        posture,
        findingObservations.get(posture.control.id) ?? [passObservation.uuid],
        risksByControl.get(posture.control.id) ?? [],
      ),
    );
  const notEvidenced = postures.filter((posture) => posture.status === "not-evidenced").length;

  const result = {
    uuid: uuid5(`result\u0000${seed}`),
    title: `vakt background audit, ${request.from} to ${request.to}`,
    description:
      `Continuous assessment of ${scopeWords(request.scope)} by vakt's background audit, from its evidence history. ` +
      `Controls of ${request.frameworks.join(", ")}: ${findings.length} judged from live checks, ${notEvidenced} not evidenced by vakt ` +
      `(reviewed, with no finding: their evidence has to come from outside the cluster).`,
    start: request.from,
    end: request.to,
    props: [
      prop("scope", scopeWords(request.scope)),
      prop("open-findings", String(model.openTotal)),
      prop("opened-in-period", String(model.openedTotal)),
      prop("resolved-in-period", String(model.resolvedTotal)),
      prop("evidence-chain", chainWords(model)),
    ],
    "reviewed-controls": {
      "control-selections": [
        {
          description: `Every control of ${request.frameworks.join(", ")} in vakt's catalog.`,
          "include-controls": postures.map((posture) => ({ "control-id": controlToken(posture.control.id) })),
        },
      ],
    },
    ...(inventory.size === 0 ? {} : { "local-definitions": { "inventory-items": [...inventory.values()] } }),
    observations,
    ...(risks.length === 0 ? {} : { risks }),
    ...(findings.length === 0 ? {} : { findings }),
    ...(model.openTotal > model.open.length
      ? { remarks: `${model.openTotal - model.open.length} more open findings are left out (raise --limit).` }
      : {}),
  };

  return {
    "assessment-results": {
      uuid: uuid5(`document\u0000${seed}`),
      metadata: {
        title: `vakt assessment results: ${scopeWords(request.scope)}, ${request.from} to ${request.to}`,
        "last-modified": request.generatedAt,
        version: request.generatedAt,
        "oscal-version": OSCAL_VERSION,
        props: [prop("generator", `vakt ${VERSION}`), prop("source", request.source)],
      },
      "import-ap": {
        href: "#vakt-background-audit",
        remarks:
          "vakt has no separate assessment plan: its plan is its rule set, applied by the background audit to every live object it reads, at each full pass and on every change.",
      },
      results: [result],
    },
  };
}

function findingObservation(finding: FindingEntry, id: string, subject: object): object {
  return {
    uuid: id,
    title: `${cleanLine(finding.rule, MAX_NAME)} on ${subjectTitle(finding.subject)}`,
    description: clean(finding.message),
    props: [
      prop("rule", finding.rule),
      prop("severity", finding.severity),
      prop("first-seen", finding.firstSeen),
      ...finding.controls.map((control) => prop("control", control)),
    ],
    methods: ["TEST"],
    types: ["finding"],
    subjects: [subject],
    collected: instant(finding.lastSeen) ?? instant(finding.firstSeen) ?? new Date(0).toISOString(),
  };
}

function exceptionObservation(
  exception: ExceptionEntry,
  id: string,
  ref: (subject: Subject) => object,
): object {
  return {
    uuid: id,
    title: `Objects covered by PolicyException ${cleanLine(exception.name, MAX_NAME)}`,
    description: `The rules ${exception.rules.map((r) => cleanLine(r, MAX_NAME)).join(", ")} failed on ${exception.subjectCount} objects and the exception covered them.`,
    methods: ["TEST"],
    types: ["mitigation"],
    ...(exception.subjects.length === 0 ? {} : { subjects: exception.subjects.map(ref) }),
    collected: instant(exception.firstApplied) ?? new Date(0).toISOString(),
  };
}

function exceptionRisk(exception: ExceptionEntry, id: string, observationId: string): object {
  return {
    uuid: id,
    title: `Exception ${cleanLine(exception.name, MAX_NAME)}`,
    description:
      `PolicyException ${cleanLine(exception.name, MAX_NAME)} lets ${exception.rules.map((r) => cleanLine(r, MAX_NAME)).join(", ")} fail on ` +
      `${exception.subjectCount} objects, approved by ${cleanLine(exception.approver, MAX_NAME)}, ` +
      (exception.expires === null
        ? "with no expiry."
        : `${exception.expired ? "expired" : "expiring"} ${exception.expires}.`),
    statement: clean(exception.justification),
    props: [
      prop("exception", exception.name),
      prop("approver", exception.approver),
      prop("expires", exception.expires ?? "never"),
      ...exception.controls.map((control) => prop("control", control)),
    ],
    status: exception.expired ? "closed" : "deviation-approved",
    ...(instant(exception.expires) === undefined ? {} : { deadline: instant(exception.expires) }),
    "related-observations": [{ "observation-uuid": observationId }],
  };
}

function controlFinding(
  posture: ControlPosture,
  observationIds: readonly string[],
  riskIds: readonly string[],
): object {
  const satisfied = posture.status === "satisfied";
  return {
    uuid: uuid5(`control\u0000${posture.control.id}`),
    title: `${posture.control.id} ${posture.control.title}`,
    description:
      (satisfied
        ? `No open finding of the ${posture.rules.length} rules that evidence this control at the period's end.`
        : `${posture.open} open findings and ${posture.exceptions} exceptions in force at the period's end.`) +
      ` In the period: ${posture.opened} opened, ${posture.resolved} resolved. ${posture.boundary}`,
    props: [prop("control", posture.control.id), ...posture.rules.map((rule) => prop("rule", rule))],
    target: {
      type: "objective-id",
      "target-id": controlToken(posture.control.id),
      status: { state: satisfied ? "satisfied" : "not-satisfied", reason: satisfied ? "pass" : "fail" },
    },
    "related-observations": observationIds.map((id) => ({ "observation-uuid": id })),
    ...(riskIds.length === 0 ? {} : { "related-risks": riskIds.map((id) => ({ "risk-uuid": id })) }),
  };
}

/** A recorded time as OSCAL's date-time, or undefined when it is none (the store keeps ISO 8601, but the record may be old or odd). */
function instant(text: string | null): string | undefined {
  if (text === null) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

export function scopeWords(scope: ReportModel["request"]["scope"]): string {
  const cluster = scope.cluster === undefined ? "every cluster" : `cluster ${scope.cluster}`;
  if (scope.namespace !== undefined) return `namespace ${scope.namespace} of ${cluster}`;
  if (scope.tenant !== undefined) return `tenant ${scope.tenant} of ${cluster}`;
  return cluster;
}

export function chainWords(model: ReportModel): string {
  const chain = model.chain;
  if (chain === undefined) return "not verified";
  if (chain.ok)
    return `verified: ${chain.records} records, hash chain intact${chain.head === null ? "" : ` (head ${chain.head.seq}:${chain.head.hash})`}`;
  return `BROKEN at record ${chain.firstBad.seq} (${chain.firstBad.problem}: ${chain.firstBad.detail}); ${chain.records} records before it are good`;
}

export function renderOscal(model: ReportModel): string {
  return JSON.stringify(toOscal(model), null, 2) + "\n";
}
