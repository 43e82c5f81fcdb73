/**
 * The background audit as a part of `vakt run` (`--parts audit`): every live object of every
 * kind the rules judge, judged with the same rule set, exceptions and inventory as admission
 * (the shared judging inputs), and one OpenReports report per namespace (report.ts).
 *
 * - A full pass lists every kind through the Reflector (objects created before vakt ran are
 *   judged there), keeps a small verdict per object (verdict.ts), never the object, and writes
 *   the reports that changed. It runs at start, every `intervalMs` (default 1 h), and soon after
 *   exceptions, configuration or the inventory change (at most one pass per ten pass durations).
 * - Between passes the watches judge each change; a namespace whose verdicts changed is
 *   reconciled after `debounceMs`, so a burst of changes writes its report once.
 * - Reports are watched: one that someone edits or deletes is written again; one whose content
 *   is what vakt would write is left alone, so a restart or a new leader rewrites nothing.
 * - Leader-only: the manager starts it on the replica holding the Lease; every write checks.
 */
import type { Logger } from "pino";
import { ALL_RULES } from "../engine/rules/index.ts";
import type { KubeObject, Rule } from "../engine/types.ts";
import { isDict } from "../engine/workloads.ts";
import { exportEvidenceMetrics } from "../evidence/metrics.ts";
import type { EvidenceStore } from "../evidence/types.ts";
import type { ApiResource, Json, KubeClient } from "../kube/client.ts";
import { errorMessage, resourcePath } from "../kube/client.ts";
import type { Part, PartContext } from "../kube/part.ts";
import { Reflector } from "../kube/reflector.ts";
import { TENANT_LABEL } from "../tenant/render.ts";
import { Controller } from "../controllers/controller.ts";
import { EvidenceWriter } from "./evidence.ts";
import { resolveKinds } from "./kinds.ts";
import { AuditMetrics } from "./metrics.ts";
import type { AuditGauges } from "./metrics.ts";
import { DEFAULT_REPORT_LIMITS } from "./report.ts";
import type { ReportLimits } from "./report.ts";
import { ReportSync } from "./reports.ts";
import { judge } from "./verdict.ts";
import type { Judging, Verdict } from "./verdict.ts";

/** The live judging inputs (manager/judging-inputs.ts), as the audit uses them. */
export interface JudgingSource {
  acquire(client: KubeClient, logger: Logger): void;
  release(): Promise<void>;
  readonly synced: boolean;
  readonly state: {
    snapshot(): Judging & { readonly generation: number };
    readonly exceptionObjects: readonly KubeObject[];
  };
  onChange(listener: (change: string) => void): () => void;
}

export interface AuditPartOptions {
  readonly inputs: JudgingSource;
  /** Full pass interval (default 1 h). */
  readonly intervalMs?: number;
  /** A namespace is reconciled this long after the first change in it (default 2 s). */
  readonly debounceMs?: number;
  /** Earliest re-judging pass after exceptions, configuration or inventory change (default 5 s). */
  readonly rejudgeDelayMs?: number;
  /** Namespaces never judged (as admission: vakt's own, kube-system). */
  readonly excludedNamespaces?: readonly string[];
  /** Judge only these namespaces, and no cluster-scoped object (tests, benchmarks; default: all). */
  readonly namespaces?: readonly string[];
  readonly limits?: Partial<ReportLimits>;
  /** Parallel report writes (default 2). */
  readonly workers?: number;
  readonly rules?: readonly Rule[];
  /**
   * The evidence history (evidence/): opened at every start of the part, closed at its stop.
   * Without it the audit writes reports only.
   */
  readonly evidence?: { readonly open: () => Promise<EvidenceStore>; readonly cluster: string };
}

/** Kinds listed at once in a full pass, and objects per list page. */
const LIST_CONCURRENCY = 3;
const LIST_PAGE_SIZE = 100;

/** What a pass did, for logs, tests and the bench. */
export interface PassInfo {
  readonly full: boolean;
  readonly durationMs: number;
  readonly objects: number;
  readonly unjudgeable: number;
  readonly namespaces: number;
}

/** One run, from winning the Lease to losing it (or stopping): rebuilt from the API server. */
class AuditRun {
  readonly #options: AuditPartOptions;
  readonly #context: PartContext;
  readonly #logger: Logger;
  readonly #metrics: AuditMetrics;
  readonly #rules: readonly Rule[];
  readonly #excluded: ReadonlySet<string>;
  readonly #only: ReadonlySet<string> | undefined;
  readonly controller: Controller;
  /** namespace ("" for cluster-scoped) -> "Kind/name" -> verdict. */
  readonly verdicts = new Map<string, Map<string, Verdict>>();
  readonly #reports: ReportSync;
  readonly #objectReflectors = new Map<string, Reflector<Verdict>>();
  readonly #unsubscribe: () => void;
  readonly #evidence: EvidenceWriter | undefined;
  /** Namespace -> the Tenant that owns it (its label), from the Namespace objects judged. */
  readonly #tenants = new Map<string, string>();
  #judging: { at: number; value: Judging & { readonly generation: number } } | undefined;
  #passTimer: NodeJS.Timeout | undefined;
  #passAt = Infinity;
  #passRunning = false;
  #passAgain = false;
  #passGeneration = -1;
  #lastPassMs = 0;
  /** Namespaces a full pass waits for (each reconciled once, written or not). */
  #pending: Set<string> | undefined;
  #pendingDone: (() => void) | undefined;
  #listing = false;
  #stopped = false;
  #loggedKinds = false;
  readonly passes: PassInfo[] = [];
  /** One copy of each message (replicas say the same); cleared when it grows past its bound. */
  readonly #messages = new Map<string, string>();
  readonly #intern = (text: string): string => {
    const known = this.#messages.get(text);
    if (known !== undefined) return known;
    if (this.#messages.size >= 50_000) this.#messages.clear();
    this.#messages.set(text, text);
    return text;
  };

  constructor(
    options: AuditPartOptions,
    context: PartContext,
    metrics: AuditMetrics,
    evidence: EvidenceStore | undefined,
  ) {
    this.#options = options;
    this.#context = context;
    this.#metrics = metrics;
    this.#rules = options.rules ?? ALL_RULES;
    this.#excluded = new Set(options.excludedNamespaces ?? []);
    this.#only = options.namespaces === undefined ? undefined : new Set(options.namespaces);
    this.controller = new Controller({
      name: "audit",
      keyField: "namespace",
      reconciler: { reconcile: (key) => this.#reconcile(key) },
      logger: context.logger,
      registry: context.registry,
      workers: options.workers ?? 2,
    });
    this.#logger = this.controller.logger;
    this.#reports = new ReportSync({
      client: context.client,
      logger: this.#logger,
      metrics,
      limits: { ...DEFAULT_REPORT_LIMITS, ...options.limits },
      enqueue: (namespace) => {
        this.controller.queue.add(namespace);
      },
      mayWrite: () => !this.#stopped && context.isLeader(),
    });
    if (evidence !== undefined && options.evidence !== undefined) {
      this.#evidence = new EvidenceWriter({
        store: evidence,
        cluster: options.evidence.cluster,
        logger: this.#logger,
        appended: (accepted) => {
          metrics.evidenceAppended(accepted);
        },
      });
      this.#evidence.setTenants(this.#tenants);
    }
    this.#unsubscribe = options.inputs.onChange((change) => {
      this.#schedule(Math.max(options.rejudgeDelayMs ?? 5_000, this.#lastPassMs * 10), `${change} changed`);
    });
  }

  start(): void {
    this.controller.start();
    this.#reports.start();
    void this.#firstPass();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    if (this.#passTimer !== undefined) clearTimeout(this.#passTimer);
    for (const reflector of this.#objectReflectors.values()) reflector.stop();
    this.#reports.stop();
    this.#pendingDone?.();
    await this.controller.stop();
  }

  /** Waits until the evidence records queued so far are accepted by the store. */
  evidenceDrained(): Promise<void> {
    return this.#evidence?.drained() ?? Promise.resolve();
  }

  get objects(): number {
    let count = 0;
    for (const map of this.verdicts.values()) count += map.size;
    return count;
  }

  get unjudgeable(): number {
    let count = 0;
    for (const map of this.verdicts.values())
      for (const verdict of map.values()) if (verdict.unjudgeable !== undefined) count++;
    return count;
  }

  /** The state the metrics read. */
  gauges(): AuditGauges {
    const verdicts = this.verdicts;
    const reports = this.#reports;
    const objects = (): number => this.objects;
    const unjudgeable = (): number => this.unjudgeable;
    return {
      *findings() {
        const counts = new Map<string, { rule: string; severity: string; result: string; count: number }>();
        for (const map of verdicts.values())
          for (const verdict of map.values())
            for (const r of verdict.results) {
              const key = `${r.rule}|${r.severity}|${r.result}`;
              const entry = counts.get(key);
              if (entry === undefined)
                counts.set(key, { rule: r.rule, severity: r.severity, result: r.result, count: 1 });
              else entry.count++;
            }
        yield* counts.values();
      },
      get objects() {
        return objects();
      },
      get unjudgeable() {
        return unjudgeable();
      },
      get reportBytes() {
        return reports.stats().bytes;
      },
      get largestReportBytes() {
        return reports.stats().largest;
      },
      get resultsNotListed() {
        return reports.stats().notListed;
      },
    };
  }

  /** The judging snapshot, taken at most once a second (settings carry the clock). */
  #judge(): Judging & { readonly generation: number } {
    const now = Date.now();
    const cached = this.#judging;
    if (cached !== undefined && now - cached.at < 1_000) return cached.value;
    const value = this.#options.inputs.state.snapshot();
    this.#judging = { at: now, value };
    return value;
  }

  /** Waits for the judging inputs' first lists (exceptions above all) and the reports' list. */
  async #firstPass(): Promise<void> {
    const waitUntil = Date.now() + 60_000;
    while (!this.#stopped && !this.#options.inputs.synced && Date.now() < waitUntil) await sleep(100);
    // Reports already in the cluster are compared before anything is written (no restart storm).
    await this.#reports.waitForSync(10_000);
    if (this.#evidence !== undefined)
      try {
        await this.#evidence.load();
      } catch (error) {
        this.#logger.warn(
          { error: errorMessage(error) },
          "cannot read the open findings back from the evidence history; findings open before this start may be recorded again",
        );
      }
    if (this.#stopped) return;
    if (!this.#options.inputs.synced)
      this.#logger.warn("judging inputs not synced after 60 s; auditing with what has arrived");
    await this.#fullPass();
  }

  #schedule(delayMs: number, why: string): void {
    if (this.#stopped) return;
    const at = Date.now() + delayMs;
    if (at >= this.#passAt) return;
    if (this.#passTimer !== undefined) clearTimeout(this.#passTimer);
    this.#passAt = at;
    this.#passTimer = setTimeout(() => {
      this.#passTimer = undefined;
      this.#passAt = Infinity;
      // Re-judging is only needed when what judges changed since the last pass began.
      const rejudge = why === "again" || why.endsWith(" changed");
      if (rejudge && this.#judge().generation === this.#passGeneration) {
        this.#schedule(this.#options.intervalMs ?? 3_600_000, "interval");
        return;
      }
      void this.#fullPass();
    }, delayMs);
    this.#passTimer.unref();
  }

  /**
   * Lists every kind afresh, judges every object, reconciles every namespace; resolves when done.
   * Never rejects: a pass that fails (the API server unreachable) is logged and tried again soon.
   */
  async #fullPass(): Promise<PassInfo | undefined> {
    if (this.#passRunning) {
      this.#passAgain = true;
      return undefined;
    }
    this.#passRunning = true;
    let failed = false;
    try {
      return await this.#runPass();
    } catch (error) {
      failed = true;
      this.#logger.error({ error: errorMessage(error) }, "audit pass failed; trying again in 10 s");
      return undefined;
    } finally {
      this.#listing = false;
      this.#passRunning = false;
      if (!this.#stopped) {
        this.#schedule(
          failed ? 10_000 : (this.#options.intervalMs ?? 3_600_000),
          failed ? "retry" : "interval",
        );
        if (this.#passAgain) {
          this.#passAgain = false;
          this.#schedule(Math.max(this.#options.rejudgeDelayMs ?? 5_000, this.#lastPassMs * 10), "again");
        }
      }
    }
  }

  async #runPass(): Promise<PassInfo | undefined> {
    const started = performance.now();
    const startedAt = new Date().toISOString();
    this.#judging = undefined;
    this.#passGeneration = this.#judge().generation;
    const kinds = await resolveKinds(this.#context.client, this.#rules);
    if (!this.#loggedKinds) {
      this.#loggedKinds = true;
      this.#logger.info(
        { kinds: kinds.resources.length, notServed: kinds.notServed, unknown: kinds.unknown },
        "audit judges these kinds",
      );
    }
    this.#listing = true;
    for (const kind of [...this.#objectReflectors.keys()])
      if (!kinds.resources.some((r) => r.kind === kind)) this.#dropKind(kind);
    // A few kinds at a time: each list holds a page of whole objects while it is judged, and
    // thirty lists at once would hold thirty (the audit's peak memory, not its speed).
    let next = 0;
    const lister = async (): Promise<void> => {
      for (let resource = kinds.resources[next++]; resource !== undefined; resource = kinds.resources[next++])
        if (!this.#stopped) await waitSynced(this.#watchKind(resource), () => this.#stopped);
    };
    await Promise.all(Array.from({ length: LIST_CONCURRENCY }, lister));
    this.#listing = false;
    if (this.#stopped) return undefined;
    const namespaces = new Set([...this.verdicts.keys(), ...this.#reports.namespaces()]);
    await this.#reconcileAll(namespaces);
    const durationMs = performance.now() - started;
    this.#lastPassMs = durationMs;
    this.#evidence?.passEnded(
      this.#allVerdicts(),
      { started: startedAt, durationMs, objects: this.objects, unjudgeable: this.unjudgeable },
      new Set(this.#rules.map((rule) => rule.id)),
    );
    this.#metrics.passFinished(true, durationMs / 1000);
    const info: PassInfo = {
      full: true,
      durationMs,
      objects: this.objects,
      unjudgeable: this.unjudgeable,
      namespaces: namespaces.size,
    };
    this.passes.push(info);
    if (this.passes.length > 20) this.passes.shift();
    this.#logger.info(
      { ...info, durationMs: Math.round(durationMs), reportBytes: this.gauges().reportBytes },
      "audit pass done",
    );
    return info;
  }

  /** Queues each namespace once and waits until each was reconciled (written, unchanged or failed). */
  #reconcileAll(namespaces: ReadonlySet<string>): Promise<void> {
    if (namespaces.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#pending = new Set(namespaces);
      this.#pendingDone = () => {
        this.#pending = undefined;
        this.#pendingDone = undefined;
        resolve();
      };
      for (const namespace of namespaces) this.controller.queue.add(namespace);
    });
  }

  #settle(namespace: string): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    pending.delete(namespace);
    if (pending.size === 0) this.#pendingDone?.();
  }

  /** A fresh list-then-watch of one kind, replacing the previous one; judges as objects arrive. */
  #watchKind(resource: ApiResource): Reflector<Verdict> {
    const { kind } = resource;
    this.#objectReflectors.get(kind)?.stop();
    const reflector = new Reflector<Verdict>({
      client: this.#context.client,
      path: resourcePath(resource),
      logger: this.#logger.child({ kind }),
      // Small pages: each is whole objects until judged, and large pages of running pods left
      // the most garbage behind (bench/audit.ts --kwok).
      pageSize: LIST_PAGE_SIZE,
      transform: (object) => this.#judgeObject(object),
      onList: (items) => {
        this.#replaceKind(kind, items);
      },
      onEvent: (type, verdict) => {
        this.#changed(type === "DELETED" ? undefined : verdict, verdict);
      },
    });
    this.#objectReflectors.set(kind, reflector);
    reflector.start();
    return reflector;
  }

  #judgeObject(object: Json): Verdict | undefined {
    const metadata = object["metadata"] as { namespace?: unknown; name?: unknown } | undefined;
    const namespace = typeof metadata?.namespace === "string" ? metadata.namespace : "";
    if (!this.#judges(namespace)) return undefined;
    if (object["kind"] === "Namespace") this.#noteTenant(object);
    if (
      object["kind"] === "Namespace" &&
      typeof metadata?.name === "string" &&
      this.#excluded.has(metadata.name)
    )
      return undefined;
    // The evaluator never edits what it judges; the object is dropped once judged.
    const verdict = judge(object, this.#judge(), this.#intern);
    if (verdict !== undefined) this.#metrics.judged(verdict.subject.kind);
    return verdict;
  }

  #noteTenant(object: Json): void {
    const metadata = isDict(object["metadata"]) ? object["metadata"] : {};
    const labels = isDict(metadata["labels"]) ? metadata["labels"] : {};
    const name = metadata["name"];
    const tenant = labels[TENANT_LABEL];
    if (typeof name !== "string") return;
    if (typeof tenant === "string") this.#tenants.set(name, tenant);
    else this.#tenants.delete(name);
  }

  *#allVerdicts(): Generator<Verdict> {
    for (const map of this.verdicts.values()) yield* map.values();
  }

  #record(previous: Verdict | undefined, next: Verdict | undefined): void {
    const evidence = this.#evidence;
    if (evidence === undefined) return;
    const exceptions = this.#options.inputs.state.exceptionObjects;
    evidence.changed(previous, next, this.#judge().rulesById, (name, namespace) => {
      const named = exceptions.filter((e) => isDict(e.metadata) && e.metadata["name"] === name);
      return named.find((e) => isDict(e.metadata) && e.metadata["namespace"] === namespace) ?? named[0];
    });
  }

  /** Whether objects of this namespace ("" for cluster-scoped ones) are judged and reported. */
  #judges(namespace: string): boolean {
    return !this.#excluded.has(namespace) && (this.#only === undefined || this.#only.has(namespace));
  }

  #dropKind(kind: string): void {
    this.#objectReflectors.get(kind)?.stop();
    this.#objectReflectors.delete(kind);
    this.#replaceKind(kind, []);
  }

  /** A (re)list of a kind: its verdicts replace the previous ones. */
  #replaceKind(kind: string, items: readonly Verdict[]): void {
    const fresh = new Set<string>();
    for (const verdict of items) {
      fresh.add(`${verdict.subject.namespace ?? ""}\u0000${verdict.subject.name}`);
      this.#put(verdict);
    }
    for (const [namespace, map] of this.verdicts) {
      for (const [key, verdict] of map)
        if (verdict.subject.kind === kind && !fresh.has(`${namespace}\u0000${verdict.subject.name}`)) {
          map.delete(key);
          this.#record(verdict, undefined);
          this.#dirty(namespace);
        }
      if (map.size === 0) this.verdicts.delete(namespace);
    }
  }

  /** A watch event: `next` undefined when the object is gone. */
  #changed(next: Verdict | undefined, seen: Verdict): void {
    if (next !== undefined) {
      this.#put(next);
      return;
    }
    const namespace = seen.subject.namespace ?? "";
    const map = this.verdicts.get(namespace);
    const key = `${seen.subject.kind}/${seen.subject.name}`;
    const gone = map?.get(key);
    if (map !== undefined && gone !== undefined) {
      map.delete(key);
      this.#record(gone, undefined);
      if (map.size === 0) this.verdicts.delete(namespace);
      this.#dirty(namespace);
    }
  }

  #put(verdict: Verdict): void {
    const namespace = verdict.subject.namespace ?? "";
    let map = this.verdicts.get(namespace);
    if (map === undefined) this.verdicts.set(namespace, (map = new Map<string, Verdict>()));
    const key = `${verdict.subject.kind}/${verdict.subject.name}`;
    const previous = map.get(key);
    map.set(key, verdict);
    if (previous?.hash === verdict.hash) return;
    this.#record(previous, verdict);
    this.#dirty(namespace);
  }

  /** A namespace's verdicts changed: reconcile it after the debounce (a pass reconciles all anyway). */
  #dirty(namespace: string): void {
    if (this.#listing || this.#stopped) return;
    this.controller.queue.addAfter(namespace, this.#options.debounceMs ?? 2_000);
  }

  async #reconcile(namespace: string): Promise<{ requeueAfterMs?: number }> {
    try {
      return await this.#writeReport(namespace);
    } finally {
      this.#settle(namespace);
    }
  }

  async #writeReport(namespace: string): Promise<{ requeueAfterMs?: number }> {
    if (!this.#judges(namespace)) return {};
    const map = this.verdicts.get(namespace);
    await this.#reports.write(namespace, map === undefined ? [] : [...map.values()], this.#judge().rulesById);
    return {};
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first; leaves no timer behind. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitSynced(
  reflector: { readonly synced: boolean; waitForSync(ms: number): Promise<void> },
  stopped: () => boolean,
): Promise<void> {
  while (!reflector.synced && !stopped()) await reflector.waitForSync(1_000);
}

export class AuditPart implements Part {
  readonly name = "audit";
  readonly leaderElection = true;
  readonly #options: AuditPartOptions;
  #run: AuditRun | undefined;
  #metrics: AuditMetrics | undefined;
  #store: EvidenceStore | undefined;
  #evidenceError: string | undefined;

  constructor(options: AuditPartOptions) {
    this.#options = options;
  }

  /** The passes of the current run (newest last), for tests and the bench. */
  get passes(): readonly PassInfo[] {
    return this.#run?.passes ?? [];
  }

  /** The evidence store while the part runs with one. */
  get evidence(): EvidenceStore | undefined {
    return this.#store;
  }

  /** Objects the current run holds a verdict for. */
  get objects(): number {
    return this.#run?.objects ?? 0;
  }

  async start(context: PartContext): Promise<void> {
    if (this.#run !== undefined) throw new Error("the audit is already running");
    this.#metrics ??= new AuditMetrics(context.registry);
    const evidence = this.#options.evidence;
    this.#evidenceError = undefined;
    if (evidence !== undefined) {
      // With connect "background" a database that is down buffers; one that cannot be opened at
      // all (a PGlite directory another process holds) leaves the audit writing reports only.
      try {
        const store = await evidence.open();
        this.#store = store;
        exportEvidenceMetrics(context.registry, () => store.health());
      } catch (error) {
        this.#evidenceError = errorMessage(error);
        context.logger.error(
          { error: this.#evidenceError },
          "cannot open the evidence history; the audit writes reports only until it starts again",
        );
      }
    }
    this.#options.inputs.acquire(context.client, context.logger);
    const run = new AuditRun(this.#options, context, this.#metrics, this.#store);
    this.#run = run;
    this.#metrics.running(run.gauges());
    run.start();
  }

  ready(): boolean {
    return this.#run !== undefined;
  }

  /** The evidence history when it is not writing: /readyz says so, the audit stays ready. */
  conditions(): string[] {
    if (this.#run === undefined) return [];
    if (this.#evidenceError !== undefined)
      return [`evidence history unavailable, writing reports only: ${this.#evidenceError}`];
    const health = this.#store?.health();
    if (health === undefined || health.state === "ok") return [];
    const waiting = `${health.backlog} of ${health.capacity} records waiting, oldest ${Math.round(health.lagMs / 1000)} s`;
    const error = health.lastError === undefined ? "" : `; last error: ${health.lastError}`;
    return [`evidence history ${health.state} (${health.backend}): ${waiting}${error}`];
  }

  async stop(): Promise<void> {
    const run = this.#run;
    this.#run = undefined;
    if (run === undefined) return;
    this.#metrics?.running(undefined);
    await run.stop();
    await this.#options.inputs.release();
    const store = this.#store;
    this.#store = undefined;
    if (store !== undefined) {
      // Records still waiting for room in a full buffer are given a few seconds, not forever.
      await within(run.evidenceDrained(), 5_000);
      await store.close();
    }
  }
}
