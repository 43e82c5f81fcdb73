// The background audit on the real control plane: pods created before it starts are judged and
// appear in their namespace's OpenReports Report; fixing one clears its result (and the evidence
// history has it opened and resolved); a deleted report comes back and an edited one is written
// again; a namespace with more problems than the cap gets a capped report that says how many it
// left out; a hostile pod (hundreds of containers, a huge annotation) is reported as unjudgeable
// without stopping the pass; a restart rewrites no report whose content is unchanged.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NOT_LISTED_ANNOTATION, REPORT_NAME } from "../../src/audit/report.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import type { RunningManager } from "../../src/manager/run.ts";
import { compliantPod } from "../../src/testing/admission-fixtures.ts";
import { eventually, kubectl, testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";
import { startAuditRun } from "../../src/testing/audit.ts";
import { getText } from "../../src/testing/http.ts";

const client = makeKubeClient(testKubeConfig());

interface Result {
  rule: string;
  result: string;
  message: string;
  resources?: { kind: string; name: string }[];
}

interface Report {
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
  summary: { pass: number; fail: number; warn: number; error: number; skip: number };
  results?: Result[];
}

async function report(namespace: string): Promise<Report | undefined> {
  try {
    const { body } = await client.request(
      "GET",
      `/apis/openreports.io/v1alpha1/namespaces/${namespace}/reports/${REPORT_NAME}`,
    );
    return body as unknown as Report;
  } catch {
    return undefined;
  }
}

function pod(namespace: string, name: string, image: string, extra: Json = {}): Json {
  const base = compliantPod({ image });
  return { ...base, metadata: { name, namespace, labels: { app: name } }, ...extra };
}

async function create(objects: Json[]): Promise<void> {
  await kubectl(
    ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
    objects.map((o) => JSON.stringify(o)).join("\n"),
  );
}

function names(results: readonly Result[] | undefined, rule: string): string[] {
  return (results ?? [])
    .filter((r) => r.rule === rule)
    .flatMap((r) => (r.resources ?? []).map((ref) => `${ref.kind}/${ref.name}`))
    .sort();
}

function startAudit(namespaces: string[], lease: string, evidenceUrl = "memory://"): Promise<RunningManager> {
  return startAuditRun({
    kubeconfig: testKubeConfig(),
    leaseNamespace: lease,
    audit: { namespaces, debounceMs: 200, limits: { maxResults: 5 } },
    evidence: { url: evidenceUrl, cluster: "audit-test" },
  });
}

describe("background audit (real control plane)", () => {
  it("reports pods created before it ran, clears fixed ones, rewrites deleted reports, caps large ones, survives hostile pods", async (t) => {
    const ns = await withNamespace(t, "audit");
    const crowded = await withNamespace(t, "audit-cap");
    // Pods need their namespace's default ServiceAccount, which kube-controller-manager creates.
    for (const namespace of [ns, crowded])
      await eventually(`the default ServiceAccount of ${namespace}`, 30_000, () =>
        client
          .request("GET", `/api/v1/namespaces/${namespace}/serviceaccounts/default`)
          .then(() => true as const),
      );
    // Before vakt runs: one untagged image, one compliant pod, one hostile pod.
    const containers = Array.from({ length: 300 }, (_, i) => ({
      name: `c${i}`,
      image: "registry.example.com/x:1",
    }));
    await create([
      pod(ns, "untagged", "registry.example.com/acme/app"),
      pod(ns, "good", "registry.example.com/acme/app:1.2.3"),
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: "hostile",
          namespace: ns,
          annotations: { "example.com/blob": "x".repeat(200_000) },
        },
        spec: { containers },
      },
      // Ten problems that differ (each pod's image), more than the cap of five results.
      ...Array.from({ length: 10 }, (_, i) => pod(crowded, `p${i}`, `registry.example.com/acme/app${i}`)),
    ]);

    let run = await startAudit([ns, crowded], ns);
    t.after(() => run.close());

    const first = await eventually(`the report of ${ns} naming the untagged pod`, 60_000, async () => {
      const current = await report(ns);
      return names(current?.results, "image-tag").includes("Pod/untagged") ? current : undefined;
    });
    assert.deepEqual(names(first.results, "image-tag"), ["Pod/untagged"]);
    // The hostile pod is reported as unjudgeable, and the others were judged all the same.
    assert.equal(first.summary.error, 1);
    assert.deepEqual(names(first.results, "unjudgeable"), ["Pod/hostile"]);
    assert.ok(first.summary.pass > 0);

    const capped = await eventually(`the capped report of ${crowded}`, 30_000, () => report(crowded));
    assert.equal(capped.results?.length, 5);
    // Ten image-tag results and a network-policy warning per pod: at least fifteen left out.
    assert.ok(Number(capped.metadata.annotations?.[NOT_LISTED_ANNOTATION]) >= 15);

    // Fixing the pod (an image is one of the few mutable fields of a Pod) clears its result.
    await kubectl([
      "-n",
      ns,
      "set",
      "image",
      "pod/untagged",
      "app=registry.example.com/acme/app:2.0.0",
      "--field-manager=vakt-test",
    ]);
    await eventually(`the image-tag result of ${ns} gone`, 30_000, async () => {
      const current = await report(ns);
      return current !== undefined && names(current.results, "image-tag").length === 0 ? true : undefined;
    });

    // The evidence history has the finding opened, then resolved as fixed.
    const store = run.audit?.evidence;
    assert.ok(store !== undefined);
    const history = await eventually(
      "the image-tag finding resolved in the evidence history",
      30_000,
      async () => {
        await store.flush();
        const kinds: string[] = [];
        for await (const record of store.query({ kinds: ["finding.opened", "finding.resolved"] })) {
          if (record.kind !== "finding.opened" && record.kind !== "finding.resolved") continue;
          if (record.rule === "image-tag" && record.subject.name === "untagged")
            kinds.push(record.kind === "finding.resolved" ? `resolved:${record.data.reason}` : record.kind);
        }
        return kinds.length === 2 ? kinds : undefined;
      },
    );
    assert.deepEqual(history, ["finding.opened", "resolved:fixed"]);

    // A deleted report comes back.
    await kubectl(["-n", ns, "delete", "reports.openreports.io", REPORT_NAME]);
    const back = await eventually(`the report of ${ns} written again`, 30_000, () => report(ns));
    assert.equal(back.summary.error, 1);

    // A report someone edits is written again.
    await kubectl([
      "-n",
      ns,
      "patch",
      "reports.openreports.io",
      REPORT_NAME,
      "--type=merge",
      "-p",
      JSON.stringify({ summary: { error: 0 }, results: [] }),
    ]);
    const restored = await eventually(`the edited report of ${ns} written again`, 30_000, async () => {
      const current = await report(ns);
      return current?.summary.error === 1 ? current : undefined;
    });
    assert.deepEqual(names(restored.results, "unjudgeable"), ["Pod/hostile"]);

    // The metrics say what the audit did.
    const probeUrl = run.manager.probeUrl;
    assert.ok(probeUrl !== undefined);
    const { body: metrics } = await getText(`${probeUrl}/metrics`);
    assert.match(metrics, /vakt_audit_pass_duration_seconds_count\{full="true"\} [1-9]/);
    assert.match(metrics, /vakt_audit_unjudgeable_objects 1/);
    assert.match(metrics, /vakt_audit_report_writes_total\{result="written"\} [1-9]/);

    // A restart (a new leader) rewrites nothing whose content is unchanged.
    const before = await eventually(`the report of ${crowded}`, 10_000, () => report(crowded));
    await run.close();
    run = await startAudit([ns, crowded], ns);
    const audit = run.audit;
    assert.ok(audit !== undefined);
    await eventually("a full pass after the restart", 60_000, () =>
      Promise.resolve(audit.passes.length > 0 ? true : undefined),
    );
    const after = await report(crowded);
    assert.equal(after?.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  it("stays ready while its evidence database is down, and /readyz says what waits", async (t) => {
    const ns = await withNamespace(t, "audit-db-down");
    // Nothing listens on port 1: every write fails, the records of each pass wait in the buffer.
    const run = await startAudit([ns], ns, "postgres://vakt@127.0.0.1:1/evidence");
    t.after(() => run.close());
    const probeUrl = run.manager.probeUrl ?? assert.fail("no probe port");
    const answer = await eventually("/readyz to name the waiting evidence", 60_000, async () => {
      const current = await getText(`${probeUrl}/readyz`);
      return current.body.includes("evidence history") ? current : undefined;
    });
    assert.equal(answer.status, 200);
    assert.match(
      answer.body,
      /^ok\naudit: evidence history buffering \(postgres\): \d+ of \d+ records waiting, oldest \d+ s; last error: .+\n$/,
    );
  });
});
