import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Registry } from "prom-client";
import { NotLeaderError } from "../controllers/controller.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import type { KubeObject } from "../engine/types.ts";
import { KubeError } from "../kube/client.ts";
import type { KubeClient, KubeResponse, RequestOptions } from "../kube/client.ts";
import { AdmissionState } from "../webhook/admission.ts";
import { AuditMetrics } from "./metrics.ts";
import { DEFAULT_REPORT_LIMITS } from "./report.ts";
import { ReportSync } from "./reports.ts";
import { judge } from "./verdict.ts";
import type { Verdict } from "./verdict.ts";

const rulesById = new Map(ALL_RULES.map((rule) => [rule.id, rule]));

/** Records the applies; refuses bodies over `limit` bytes as the API server refuses large requests. */
function recordingClient(limit: number): { client: KubeClient; sizes: number[]; refused: number[] } {
  const sizes: number[] = [];
  const refused: number[] = [];
  const client: KubeClient = {
    requests: 0,
    request(method: string, _path: string, options?: RequestOptions): Promise<KubeResponse> {
      assert.equal(method, "PATCH");
      const size = Buffer.byteLength(JSON.stringify(options?.body));
      if (size > limit) {
        refused.push(size);
        return Promise.reject(
          new KubeError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"),
        );
      }
      sizes.push(size);
      return Promise.resolve({ status: 200, body: {} });
    },
    watch: () => Promise.resolve(),
  };
  return { client, sizes, refused };
}

function verdicts(count: number): Verdict[] {
  const snapshot = new AdmissionState().snapshot();
  return Array.from({ length: count }, (_, i) => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `p${i}`, namespace: "team-a" },
      spec: { containers: [{ name: "app", image: `registry.example.com/app-${i}` }] },
    };
    const verdict = judge(pod, snapshot);
    assert.ok(verdict !== undefined);
    return verdict;
  });
}

describe("audit report sync", () => {
  it("answers a refusal as too large with half the size, never the same request again", async () => {
    const { client, sizes, refused } = recordingClient(20_000);
    const registry = new Registry();
    const sync = new ReportSync({
      client,
      logger: pino({ level: "silent" }),
      metrics: new AuditMetrics(registry),
      limits: DEFAULT_REPORT_LIMITS,
      enqueue: () => undefined,
      mayWrite: () => true,
    });
    const many = verdicts(100);
    const attempts: number[] = [];
    for (let i = 0; i < 10 && sizes.length === 0; i++)
      await sync.write("team-a", many, rulesById).catch((error: unknown) => {
        assert.ok(error instanceof KubeError && error.code === 413);
        attempts.push(refused.at(-1) ?? 0);
      });
    assert.equal(sizes.length, 1, "written in the end");
    assert.ok(attempts.length >= 1);
    // Each attempt at most half the previous one.
    const all = [...attempts, ...sizes];
    for (let i = 1; i < all.length; i++) assert.ok((all[i] ?? 0) <= (all[i - 1] ?? 0) / 2, all.join(" > "));
    assert.match(await registry.metrics(), /vakt_audit_report_writes_total\{result="too_large"\} [1-9]/);
    // Written, so the same content is not written again.
    await sync.write("team-a", many, rulesById);
    assert.equal(sizes.length, 1);
  });

  it("writes nothing without the Lease", async () => {
    const { client, sizes } = recordingClient(1 << 20);
    const sync = new ReportSync({
      client,
      logger: pino({ level: "silent" }),
      metrics: new AuditMetrics(new Registry()),
      limits: DEFAULT_REPORT_LIMITS,
      enqueue: () => undefined,
      mayWrite: () => false,
    });
    await assert.rejects(sync.write("team-a", verdicts(2), rulesById), NotLeaderError);
    assert.equal(sizes.length, 0);
  });
});
