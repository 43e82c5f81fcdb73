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
import type { Verdict } from "./verdict.ts";

interface Open {
  readonly since: string;
  lastSeen: string;
  readonly severity: Rule["severity"];
  readonly controls: readonly string[];
  readonly message: string;
  readonly subject: Subject;
  readonly rule: string;
  readonly scope: Scope;
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

  /**
   * An object judged again (`previous` undefined: first seen) or gone (`next` undefined): opens,
   * resolves and records applied exceptions accordingly.
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
    const subject = subjectOf(seen);
    const base = objectKey(subject);
    const failing = new Map<string, string>();
    for (const r of next?.results ?? []) if (!failing.has(r.rule)) failing.set(r.rule, r.message);
    const excepted = new Set((next?.excepted ?? []).map((e) => e.rule));
    for (const [rule, message] of failing) {
      const key = `${base}\u0000${rule}`;
      const open = this.#open.get(key);
      if (open !== undefined) {
        open.lastSeen = now;
        continue;
      }
      const known = rulesById.get(rule);
      const result = next?.results.find((r) => r.rule === rule)?.result;
      const scope = this.#scope(subject.namespace);
      const entry: Open = {
        since: now,
        lastSeen: now,
        severity: known?.severity ?? "high",
        controls: known?.controls ?? [],
        message,
        subject,
        rule,
        scope,
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
        message,
        data: { action: result === "fail" ? "deny" : "warn" },
      });
    }
    // Open findings of this object that no longer fail.
    if (previous !== undefined || next === undefined)
      for (const r of previous?.results ?? []) {
        if (failing.has(r.rule)) continue;
        this.#resolve(
          `${base}\u0000${r.rule}`,
          now,
          next === undefined ? "deleted" : excepted.has(r.rule) ? "excepted" : "fixed",
        );
      }
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
    const failing = new Set<string>();
    const present = new Set<string>();
    for (const verdict of verdicts) {
      const base = objectKey(subjectOf(verdict));
      present.add(base);
      for (const r of verdict.results) failing.add(`${base}\u0000${r.rule}`);
    }
    for (const [key, open] of [...this.#open]) {
      if (failing.has(key)) {
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
