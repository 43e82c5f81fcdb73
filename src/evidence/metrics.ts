/**
 * The evidence store on /metrics, read from its health() at scrape time: whether records are
 * being written, how many wait and for how long, failed writes and refused appends. Families are
 * registered once per registry; a part started again (Lease won back) points them at its new
 * store and the counters carry on.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { StoreHealth } from "./types.ts";

const STATES: readonly StoreHealth["state"][] = ["ok", "buffering", "full", "closed"];

interface Source {
  health: (() => StoreHealth) | undefined;
  /** The counts already added to the counters from the current store. */
  seen: { written: number; failures: number; refused: number };
}

const sources = new WeakMap<Registry, Source>();

function register(registry: Registry): Source {
  const source: Source = { health: undefined, seen: { written: 0, failures: 0, refused: 0 } };
  const registers = [registry];
  const read = (): StoreHealth | undefined => source.health?.();
  const counter = (name: string, help: string, field: keyof Source["seen"]): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read()?.[field] ?? 0;
        if (now > source.seen[field]) this.inc(now - source.seen[field]);
        source.seen[field] = now;
      },
    });
  };
  const gauge = (name: string, help: string, value: (health: StoreHealth) => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const health = read();
        this.set(health === undefined ? 0 : value(health));
      },
    });
  };
  new Gauge({
    name: "vakt_evidence_state",
    help: "The evidence store's state, 1 for the current one: ok (writing), buffering (database unreachable, records held in memory), full (buffer at its bound: the audit backs off), closed.",
    labelNames: ["state"],
    registers,
    collect() {
      const state = read()?.state;
      for (const each of STATES) this.set({ state: each }, each === state ? 1 : 0);
    },
  });
  gauge(
    "vakt_evidence_backlog",
    "Evidence records accepted and not yet written to the database.",
    (h) => h.backlog,
  );
  gauge("vakt_evidence_buffer_capacity", "The bound of the evidence buffer.", (h) => h.capacity);
  gauge(
    "vakt_evidence_write_lag_seconds",
    "Age of the oldest evidence record not yet written (0 when none wait).",
    (h) => h.lagMs / 1000,
  );
  counter("vakt_evidence_records_written_total", "Evidence records written to the database.", "written");
  counter("vakt_evidence_write_failures_total", "Failed evidence writes (each is retried).", "failures");
  counter(
    "vakt_evidence_appends_refused_total",
    "Evidence appends refused because the buffer was full (the caller keeps them and retries).",
    "refused",
  );
  return source;
}

/** Exports `health` (a store's health method) on `registry`; called again with the next store after a restart. */
export function exportEvidenceMetrics(registry: Registry, health: () => StoreHealth): void {
  let source = sources.get(registry);
  if (source === undefined) {
    source = register(registry);
    sources.set(registry, source);
  }
  source.health = health;
  source.seen = { written: 0, failures: 0, refused: 0 };
}
