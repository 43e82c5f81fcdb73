import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { findingsOf, pathsOf } from "../../testing/rule-fixtures.ts";

const podTemplate = { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "x.io/a:1" }] } };

function job(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j", namespace: "shop", ...metadata },
    spec: { template: podTemplate, ...spec },
  };
}

function cronJob(jobSpec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "c", namespace: "shop" },
    spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: podTemplate, ...jobSpec } } },
  };
}

describe("job-ttl", () => {
  it("reports a Job without ttlSecondsAfterFinished", () => {
    const found = findingsOf("job-ttl", job({}));
    assert.deepEqual(
      found.map((finding) => finding.path),
      [["spec", "ttlSecondsAfterFinished"]],
    );
    assert.match(found[0]?.message ?? "", /not set/);
  });

  it("passes a Job with a TTL, including 0", () => {
    assert.deepEqual(pathsOf("job-ttl", job({ ttlSecondsAfterFinished: 3600 })), []);
    assert.deepEqual(pathsOf("job-ttl", job({ ttlSecondsAfterFinished: 0 })), []);
  });

  it("reports an invalid TTL", () => {
    assert.deepEqual(pathsOf("job-ttl", job({ ttlSecondsAfterFinished: "1h" })), [
      ["spec", "ttlSecondsAfterFinished"],
    ]);
  });

  it("checks the CronJob job template", () => {
    assert.deepEqual(pathsOf("job-ttl", cronJob({})), [
      ["spec", "jobTemplate", "spec", "ttlSecondsAfterFinished"],
    ]);
    assert.deepEqual(pathsOf("job-ttl", cronJob({ ttlSecondsAfterFinished: 600 })), []);
  });

  it("leaves Jobs created by a CronJob to the CronJob", () => {
    const owned = job(
      {},
      { ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "c", uid: "1" }] },
    );
    assert.deepEqual(pathsOf("job-ttl", owned), []);
  });
});
