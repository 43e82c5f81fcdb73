/**
 * What the audit appends to the evidence history (evidence/types.ts): a finding opened when a
 * rule starts failing on an object, resolved when it stops (fixed, deleted, excepted), an
 * exception applied once per exception, object and rule, and a record per full pass. Findings
 * are (object, rule) pairs, as the history pairs them (findingKey).
 *
 * The open findings are read back from the history when the audit starts, so a restart or a new
 * leader opens nothing twice; a full pass ends by resolving every open finding it did not see
 * failing (fixed or deleted while vakt was not looking). Records wait in an outbox, in order,
 * while the store's buffer is full; nothing is dropped.
 */
import type { Logger } from "pino";
import type { Rule } from "../engine/types.ts";
import { isDict } from "../engine/workloads.ts";
import { errorMessage } from "../kube/client.ts";
import type { EvidenceEvent, EvidenceStore, Scope, Subject } from "../evidence/types.ts";
import type { Verdict, VerdictResult } from "./verdict.ts";

interface Open {
  readonly since: string;
  lastSeen: string;
  readonly severity: Rule["severity"];
  readonly controls: readonly string[];
  readonly message: string;
  readonly subject: Subject;
  readonly rule: string;
  readonly scope: Scope;
  /** Objects failing the rule behind the subject now (0 for one read back, until seen). */
  objects: number;
}

export interface EvidenceWriterOptions {
  readonly store: EvidenceStore;
  readonly cluster: string;
  readonly logger: Logger;
  /** Counts each append (accepted, or refused at the store's bound and kept). */
  readonly appended?: (accepted: boolean) => void;
}

/** The PolicyException objects, to say who approved an exception, why and until when. */
export type ExceptionLookup = (
  name: string,
  namespace: string | undefined,
) => Record<string, unknown> | undefined;

function subjectOf(verdict: Verdict): Subject {
  const s = verdict.subject;
  return s.namespace === undefined
    ? { apiVersion: s.apiVersion, kind: s.kind, name: s.name }
    : { apiVersion: s.apiVersion, kind: s.kind, namespace: s.namespace, name: s.name };
}

/** Whom a finding names: the object, or for a replica its controlling owner. */
function namedOf(verdict: Verdict): Subject {
  const s = verdict.owner ?? verdict.subject;
  return s.namespace === undefined
    ? { apiVersion: s.apiVersion, kind: s.kind, name: s.name }
    : { apiVersion: s.apiVersion, kind: s.kind, namespace: s.namespace, name: s.name };
}

function objectKey(subject: Subject): string {
  return `${subject.apiVersion}\u0000${subject.kind}\u0000${subject.namespace ?? ""}\u0000${subject.name}`;
}

export class EvidenceWriter {
  readonly #options: EvidenceWriterOptions;
  /** objectKey \0 rule -> the open finding. */
  readonly #open = new Map<string, Open>();
  /** exception \0 objectKey \0 rule, recorded already. */
  readonly #applied = new Set<string>();
  readonly #outbox: EvidenceEvent[] = [];
  #draining = false;
  #tenants: ReadonlyMap<string, string> = new Map();
  opened = 0;
  resolved = 0;

  constructor(options: EvidenceWriterOptions) {
    this.#options = options;
  }

  get openFindings(): number {
    return this.#open.size;
  }

  /** Namespace -> owning Tenant, for the records' scope. */
  setTenants(tenants: ReadonlyMap<string, string>): void {
    this.#tenants = tenants;
  }

  /** Reads the open findings and applied exceptions of this cluster back from the history. */
  async load(): Promise<void> {
    const { store, cluster } = this.#options;
    for await (const record of store.query({
      scope: { cluster },
      kinds: ["finding.opened", "finding.resolved", "exception.applied"],
    })) {
      if (record.kind === "exception.applied") {
        this.#applied.add(`${record.data.exception}\u0000${objectKey(record.subject)}\u0000${record.rule}`);
        continue;
      }
      if (record.kind !== "finding.opened" && record.kind !== "finding.resolved") continue;
      const key = `${objectKey(record.subject)}\u0000${record.rule}`;
      if (record.kind === "finding.resolved") this.#open.delete(key);
      else
        this.#open.set(key, {
          since: record.time,
          lastSeen: record.time,
          severity: record.severity,
          controls: record.controls,
          message: record.message,
          subject: record.subject,
          rule: record.rule,
          scope: record.scope,
          objects: 0,
        });
    }
  }

  #scope(namespace: string | undefined): Scope {
    if (namespace === undefined) return { cluster: this.#options.cluster };
    const tenant = this.#tenants.get(namespace);
    return tenant === undefined
      ? { cluster: this.#options.cluster, namespace }
      : { cluster: this.#options.cluster, tenant, namespace };
  }

  /** The rules failing on a verdict, each with its first message. */
  static #failing(verdict: Verdict | undefined): Map<string, VerdictResult> {
    const failing = new Map<string, VerdictResult>();
    for (const r of verdict?.results ?? []) if (!failing.has(r.rule)) failing.set(r.rule, r);
    return failing;
  }

  /**
   * An object judged again (`previous` undefined: first seen) or gone (`next` undefined). A
   * finding's subject is the object, or for a replica its controlling owner (as in reports): it
   * opens when the first object behind it fails the rule and resolves when the last one stops
   * (fixed, excepted, deleted). Also records the exceptions that newly apply.
   */
  changed(
    previous: Verdict | undefined,
    next: Verdict | undefined,
    rulesById: ReadonlyMap<string, Rule>,
    exception: ExceptionLookup,
  ): void {
    const now = new Date().toISOString();
    const seen = next ?? previous;
    if (seen === undefined) return;
    const before = EvidenceWriter.#failing(previous);
    const after = EvidenceWriter.#failing(next);
    const beforeBase = previous === undefined ? "" : objectKey(namedOf(previous));
    const afterBase = next === undefined ? "" : objectKey(namedOf(next));
    for (const [rule, result] of after) {
      if (next === undefined || (beforeBase === afterBase && before.has(rule))) continue;
      this.#count(`${afterBase}\u0000${rule}`, namedOf(next), rule, result, rulesById, now);
    }
    const excepted = new Set((next?.excepted ?? []).map((e) => e.rule));
    for (const rule of before.keys()) {
      if (previous === undefined || (beforeBase === afterBase && after.has(rule))) continue;
      const reason = next === undefined ? "deleted" : excepted.has(rule) ? "excepted" : "fixed";
      this.#uncount(`${beforeBase}\u0000${rule}`, now, reason);
    }
    if (next !== undefined)
      for (const rule of after.keys()) {
        const open = this.#open.get(`${afterBase}\u0000${rule}`);
        if (open !== undefined) open.lastSeen = now;
      }
    const subject = subjectOf(seen);
    const base = objectKey(subject);
    for (const e of next?.excepted ?? []) {
      const key = `${e.exception}\u0000${base}\u0000${e.rule}`;
      if (this.#applied.has(key)) continue;
      this.#applied.add(key);
      const object = exception(e.exception, subject.namespace);
      const spec = isDict(object?.["spec"]) ? object["spec"] : {};
      const objectNamespace = isDict(object?.["metadata"]) ? object["metadata"]["namespace"] : undefined;
      const known = rulesById.get(e.rule);
      this.#append({
        kind: "exception.applied",
        time: now,
        scope: this.#scope(subject.namespace),
        subject,
        rule: e.rule,
        controls: known?.controls ?? [],
        severity: known?.severity ?? "high",
        message: e.message,
        data: {
          exception: typeof objectNamespace === "string" ? `${objectNamespace}/${e.exception}` : e.exception,
          approver: typeof spec["approvedBy"] === "string" ? spec["approvedBy"] : "",
          justification: typeof spec["justification"] === "string" ? spec["justification"] : "",
          expires: typeof spec["expires"] === "string" ? spec["expires"] : null,
        },
      });
    }
  }

  /** One more object fails `rule` behind `subject`; the first opens the finding. */
  #count(
    key: string,
    subject: Subject,
    rule: string,
    result: VerdictResult,
    rulesById: ReadonlyMap<string, Rule>,
    now: string,
  ): void {
    const open = this.#open.get(key);
    if (open !== undefined) {
      open.objects++;
      return;
    }
    const known = rulesById.get(rule);
    const scope = this.#scope(subject.namespace);
    const entry: Open = {
      since: now,
      lastSeen: now,
      severity: known?.severity ?? result.severity,
      controls: known?.controls ?? [],
      message: result.message,
      subject,
      rule,
      scope,
      objects: 1,
    };
    this.#open.set(key, entry);
    this.opened++;
    this.#append({
      kind: "finding.opened",
      time: now,
      scope,
      subject,
      rule,
      controls: entry.controls,
      severity: entry.severity,
      message: entry.message,
      data: { action: result.result === "fail" ? "deny" : "warn" },
    });
  }

  /** One object fewer fails it; the last one resolves the finding. */
  #uncount(key: string, now: string, reason: "fixed" | "deleted" | "excepted"): void {
    const open = this.#open.get(key);
    if (open === undefined) return;
    open.objects = Math.max(0, open.objects - 1);
    if (open.objects === 0) this.#resolve(key, now, reason);
  }

  #resolve(key: string, now: string, reason: "fixed" | "deleted" | "excepted" | "rule-removed"): void {
    const open = this.#open.get(key);
    if (open === undefined) return;
    this.#open.delete(key);
    this.resolved++;
    this.#append({
      kind: "finding.resolved",
      time: now,
      scope: open.scope,
      subject: open.subject,
      rule: open.rule,
      controls: open.controls,
      severity: open.severity,
      message: open.message,
      data: { reason, firstSeen: open.since, lastSeen: open.lastSeen },
    });
  }

  /**
   * The end of a full pass: every open finding not among `verdicts` failing is resolved (its
   * object is gone, or it stopped failing while no event said so), then the pass record.
   */
  passEnded(
    verdicts: Iterable<Verdict>,
    pass: { started: string; durationMs: number; objects: number; unjudgeable: number },
    knownRules: ReadonlySet<string>,
  ): void {
    const now = new Date().toISOString();
    const present = new Set<string>();
    for (const verdict of verdicts) present.add(objectKey(namedOf(verdict)));
    for (const [key, open] of [...this.#open]) {
      if (open.objects > 0) {
        open.lastSeen = now;
        continue;
      }
      const base = objectKey(open.subject);
      this.#resolve(
        key,
        now,
        !knownRules.has(open.rule) ? "rule-removed" : present.has(base) ? "fixed" : "deleted",
      );
    }
    this.#append({
      kind: "audit.pass",
      time: now,
      scope: { cluster: this.#options.cluster },
      data: {
        full: true,
        started: pass.started,
        durationMs: Math.round(pass.durationMs),
        objects: pass.objects,
        unjudgeable: pass.unjudgeable,
        findingsOpen: this.#open.size,
        opened: this.opened,
        resolved: this.resolved,
      },
    });
    this.opened = 0;
    this.resolved = 0;
  }

  /** Resolves when everything appended so far was accepted by the store. */
  async drained(): Promise<void> {
    while (this.#outbox.length > 0 || this.#draining) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  #append(event: EvidenceEvent): void {
    this.#outbox.push(event);
    if (!this.#draining) void this.#drain();
  }

  /** Appends in order; waits for the store when its buffer is full. */
  async #drain(): Promise<void> {
    this.#draining = true;
    const { store, logger, appended } = this.#options;
    try {
      while (this.#outbox.length > 0) {
        const event = this.#outbox[0];
        if (event === undefined) break;
        let accepted: boolean;
        try {
          accepted = store.append(event);
        } catch (error) {
          // A programming error (a value the contract refuses): logged, and the record skipped.
          logger.error({ error: errorMessage(error), kind: event.kind }, "evidence record refused");
          this.#outbox.shift();
          continue;
        }
        appended?.(accepted);
        if (accepted) this.#outbox.shift();
        else await store.writable();
      }
    } catch (error) {
      logger.warn({ error: errorMessage(error) }, "evidence store closed; records left unwritten");
    } finally {
      this.#draining = false;
    }
  }
}
