import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { exportEvidenceMetrics } from "./metrics.ts";
import type { StoreHealth } from "./types.ts";

const base: StoreHealth = {
  state: "ok",
  backend: "postgres",
  backlog: 0,
  capacity: 100,
  lagMs: 0,
  written: 0,
  failures: 0,
  refused: 0,
};

function value(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} not in:\n${text}`);
  return Number(line.split(" ")[1]);
}

test("evidence metrics follow the store's health, and carry on counting with the next store", async () => {
  const registry = new Registry();
  let health: StoreHealth = { ...base, written: 7 };
  exportEvidenceMetrics(registry, () => health);
  let text = await registry.metrics();
  assert.equal(value(text, "vakt_evidence_records_written_total"), 7);
  assert.equal(value(text, 'vakt_evidence_state{state="ok"}'), 1);

  health = { ...base, state: "full", backlog: 100, lagMs: 2500, written: 9, failures: 3, refused: 2 };
  text = await registry.metrics();
  assert.equal(value(text, 'vakt_evidence_state{state="ok"}'), 0);
  assert.equal(value(text, 'vakt_evidence_state{state="full"}'), 1);
  assert.equal(value(text, "vakt_evidence_backlog"), 100);
  assert.equal(value(text, "vakt_evidence_buffer_capacity"), 100);
  assert.equal(value(text, "vakt_evidence_write_lag_seconds"), 2.5);
  assert.equal(value(text, "vakt_evidence_records_written_total"), 9);
  assert.equal(value(text, "vakt_evidence_write_failures_total"), 3);
  assert.equal(value(text, "vakt_evidence_appends_refused_total"), 2);

  // A new store (the part started again) counts from zero; the counters keep their totals.
  exportEvidenceMetrics(registry, () => ({ ...base, written: 4 }));
  text = await registry.metrics();
  assert.equal(value(text, "vakt_evidence_records_written_total"), 13);
  assert.equal(value(text, 'vakt_evidence_state{state="ok"}'), 1);
});
