// `vakt report` over the history the background audit wrote on the real control plane: a pod
// created before the audit ran opens a finding, fixing it resolves it, and the report shows both
// times; a PolicyException covering another pod shows as a risk in OSCAL (valid against NIST's
// schema, which lives only in ../shared/schemas/oscal/) and in the HTML with its justification
// and expiry. The history is an embedded database (PGlite) on a directory, read by the real CLI,
// once while vakt run still holds it (the report reads a copy) and then after it stopped.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPORT_NAME } from "../../src/audit/report.ts";
import { POLICY_EXCEPTION_CRD } from "../../src/crds/vakt.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { startAuditRun } from "../../src/testing/audit.ts";
import { compliantPod } from "../../src/testing/admission-fixtures.ts";
import { eventually, kubectl, testKubeConfig, withNamespace } from "../../src/testing/cluster.ts";
import { runVakt } from "../cli/helpers.ts";
import { oscalValidator } from "../../src/testing/oscal.ts";

const client = makeKubeClient(testKubeConfig());
const JUSTIFICATION = "Vendor image only published as latest; tracked in RISK-42 <until Q3>";

interface Result {
  rule: string;
  resources?: { kind: string; name: string }[];
}

async function imageTagResults(namespace: string): Promise<string[] | undefined> {
  try {
    const { body } = await client.request(
      "GET",
      `/apis/openreports.io/v1alpha1/namespaces/${namespace}/reports/${REPORT_NAME}`,
    );
    return ((body as { results?: Result[] }).results ?? [])
      .filter((r) => r.rule === "image-tag")
      .flatMap((r) => (r.resources ?? []).map((ref) => `${ref.kind}/${ref.name}`))
      .sort();
  } catch {
    return undefined;
  }
}

function pod(namespace: string, name: string, image: string): Json {
  return { ...compliantPod({ image }), metadata: { name, namespace, labels: { app: name } } };
}

describe("vakt report over the audit's history (real control plane)", () => {
  it("shows a finding opened and resolved, and an exception as a risk in OSCAL and HTML", async (t) => {
    const ns = await withNamespace(t, "report");
    await eventually(`the default ServiceAccount of ${ns}`, 30_000, () =>
      client.request("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`).then(() => true as const),
    );
    const expires = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const exception = {
      apiVersion: "vakt.dev/v1alpha1",
      kind: "PolicyException",
      metadata: { name: "legacy-tag", namespace: ns },
      spec: {
        rules: ["image-tag"],
        match: { kinds: ["Pod"], namespaces: [ns], names: ["legacy-*"] },
        justification: JUSTIFICATION,
        approvedBy: "ciso@example.com",
        expires,
      },
    };
    // Before the audit runs: the PolicyException CRD (the manager installs it too, later), an
    // untagged image, and a vendor image the exception covers.
    await kubectl(
      ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify(POLICY_EXCEPTION_CRD),
    );
    await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=30s",
      `crd/${(POLICY_EXCEPTION_CRD.metadata as { name: string }).name}`,
    ]);
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      [
        exception,
        pod(ns, "untagged", "registry.example.com/acme/app"),
        pod(ns, "legacy-0", "registry.example.com/vendor:latest"),
      ]
        .map((o) => JSON.stringify(o))
        .join("\n"),
    );

    const root = await mkdtemp(join(tmpdir(), "vakt-report-it-"));
    t.after(() => rm(root, { recursive: true, force: true }));
    const database = join(root, "evidence");
    const run = await startAuditRun({
      kubeconfig: testKubeConfig(),
      leaseNamespace: ns,
      audit: { namespaces: [ns], debounceMs: 200 },
      evidence: { url: database, cluster: "report-it" },
    });
    let running = true;
    t.after(() => (running ? run.close() : undefined));

    await eventually(`the report of ${ns} naming the untagged pod`, 60_000, async () =>
      (await imageTagResults(ns))?.includes("Pod/untagged") ? true : undefined,
    );
    await kubectl(["-n", ns, "set", "image", "pod/untagged", "app=registry.example.com/acme/app:2.0.0"]);
    await eventually(`the image-tag result of ${ns} gone`, 30_000, async () =>
      (await imageTagResults(ns))?.length === 0 ? true : undefined,
    );
    // Everything written, then the embedded database released: the report reads it afterwards.
    const store = run.audit?.evidence;
    assert.ok(store !== undefined);
    await eventually("the finding resolved in the evidence history", 30_000, async () => {
      await store.flush();
      for await (const record of store.query({ kinds: ["finding.resolved"] }))
        if (
          record.kind === "finding.resolved" &&
          record.rule === "image-tag" &&
          record.subject.name === "untagged"
        )
          return true;
      return undefined;
    });
    // While vakt run holds the embedded database, the report reads a copy of it.
    const live = await runVakt(
      [
        "report",
        "-o",
        "json",
        "--database",
        database,
        "--cluster",
        "report-it",
        "--namespace",
        ns,
        "--period",
        "1d",
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(live.code, 0, live.stderr);
    assert.ok((JSON.parse(live.stdout) as { passes: { full: number } }).passes.full >= 1);
    running = false;
    await run.close();

    const scope = ["--database", database, "--cluster", "report-it", "--namespace", ns, "--period", "1d"];
    const json = await runVakt(["report", "-o", "json", ...scope, "--framework", "iso27001"], {
      timeoutMs: 60_000,
    });
    assert.equal(json.code, 0, json.stderr);
    const model = JSON.parse(json.stdout) as {
      resolved: {
        rule: string;
        subject: { name: string };
        firstSeen: string;
        resolved: { time: string; reason: string };
      }[];
      exceptions: { name: string; justification: string; approver: string; expires: string }[];
      chain: { ok: boolean };
    };
    const fixed = model.resolved.find((f) => f.rule === "image-tag" && f.subject.name === "untagged");
    assert.ok(fixed !== undefined, JSON.stringify({ ...model, frameworks: undefined }).slice(0, 3000));
    assert.equal(fixed.resolved.reason, "fixed");
    assert.ok(fixed.firstSeen < fixed.resolved.time);
    assert.deepEqual(
      model.exceptions.map((e) => [e.name, e.approver, e.justification, e.expires.slice(0, 10)]),
      [[`${ns}/legacy-tag`, "ciso@example.com", JUSTIFICATION, expires]],
    );
    assert.equal(model.chain.ok, true);

    const oscalErrors = oscalValidator();
    const oscal = await runVakt(["report", "-o", "oscal", ...scope], { timeoutMs: 60_000 });
    assert.equal(oscal.code, 0, oscal.stderr);
    const document = JSON.parse(oscal.stdout) as {
      "assessment-results": {
        results: { risks?: { statement: string; status: string; deadline?: string }[] }[];
      };
    };
    assert.deepEqual(oscalErrors(document).slice(0, 5), []);
    const risks = document["assessment-results"].results[0]?.risks ?? [];
    assert.deepEqual(
      risks.map((r) => [r.statement, r.status, r.deadline?.slice(0, 10)]),
      [[JUSTIFICATION, "deviation-approved", expires]],
    );

    const html = await runVakt(["report", ...scope], { timeoutMs: 60_000 });
    assert.equal(html.code, 0, html.stderr);
    assert.ok(html.stdout.includes(`${ns}/legacy-tag`));
    assert.ok(
      html.stdout.includes("Vendor image only published as latest; tracked in RISK-42 &lt;until Q3&gt;"),
    );
    assert.match(html.stdout, /<td>image-tag<\/td><td>1<\/td><td>1<\/td>/);
    assert.match(html.stdout, /Pod [^<]*\/untagged<\/td>/);
  });
});
