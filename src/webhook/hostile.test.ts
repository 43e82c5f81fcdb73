/**
 * Generated hostile AdmissionReviews: objects built to make the webhook work hard (huge container
 * counts, huge maps, many findings), sent through the judged subresources and the others. Every
 * answer is bounded in size and in the findings produced, and a refusal stays a refusal.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_EVALUATION_LIMITS, LIMITS_RULE, RuleSet, evaluateObject } from "../engine/evaluate.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { AdmissionState, MAX_MESSAGE_CHARS, review } from "./admission.ts";
import type { AdmissionReviewResponse, ReviewInfo } from "./admission.ts";
import { admissionReview, compliantPod } from "../testing/admission-fixtures.ts";

type Json = Record<string, unknown>;

/** The largest answer any of these gets: a deny message, 21 warnings, annotations, the envelope. */
const MAX_ANSWER_CHARS = 16 * 1024;
/** Findings one object can produce: the per-object cap plus one `cut` record per rule. */
const MAX_FINDINGS = DEFAULT_EVALUATION_LIMITS.maxFindingsPerObject + ALL_RULES.length;

const state = new AdmissionState();

function answer(body: Json): {
  response: AdmissionReviewResponse["response"];
  info: ReviewInfo;
  size: number;
} {
  const outcome = review(JSON.parse(JSON.stringify(body)), state);
  assert.equal(outcome.type, "review");
  return { response: outcome.body.response, info: outcome.info, size: JSON.stringify(outcome.body).length };
}

/** A pod of `count` containers that each break several rules. */
function hostilePod(count: number, list = "containers"): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "hostile" },
    spec: { [list]: Array.from({ length: count }, (_, i) => ({ name: `c${i}`, image: "x" })) },
  };
}

describe("hostile admission reviews", () => {
  it("refuses a pod of 20,000 containers with one finding and a short message naming the count", () => {
    const { response, info, size } = answer(admissionReview(hostilePod(20_000)));
    assert.equal(response.allowed, false);
    assert.equal(response.status?.code, 403);
    assert.match(
      response.status.message,
      /^\[evaluation-limits\] Pod\/team-a\/hostile: the pod has 20000 containers/,
    );
    assert.ok(size < MAX_ANSWER_CHARS, `answer of ${size} characters`);
    assert.deepEqual(
      info.findings.map((finding) => finding.rule),
      [LIMITS_RULE],
    );
  });

  it("judges kubectl debug's ephemeral containers the same way; unjudged subresources stay unjudged", () => {
    const debug = answer(
      admissionReview(hostilePod(20_000, "ephemeralContainers"), {
        operation: "UPDATE",
        subResource: "ephemeralcontainers",
      }),
    );
    assert.equal(debug.response.allowed, false);
    assert.match(debug.response.status?.message ?? "", /20000 containers/);
    assert.equal(debug.info.findings.length, 1);

    const status = answer(
      admissionReview(hostilePod(20_000), { operation: "UPDATE", subResource: "status" }),
    );
    assert.equal(status.response.allowed, true);
    assert.equal(status.info.reason, "subresource-not-judged");
  });

  it("refuses huge label and annotation maps unjudged", () => {
    for (const field of ["labels", "annotations"]) {
      const pod = compliantPod();
      (pod["metadata"] as Json)[field] = Object.fromEntries(
        Array.from({ length: 30_000 }, (_, i) => [
          `container.apparmor.security.beta.kubernetes.io/c${i}`,
          "unconfined",
        ]),
      );
      const { response, info, size } = answer(admissionReview(pod));
      assert.equal(response.allowed, false, field);
      assert.match(response.status?.message ?? "", /more than 20000 list items and keys/);
      assert.equal(info.findings.length, 1);
      assert.ok(size < MAX_ANSWER_CHARS);
    }
  });

  it("within the limits, keeps findings to the caps and says how many more there are", () => {
    const pod = hostilePod(DEFAULT_EVALUATION_LIMITS.maxContainers);
    const { response, info, size } = answer(admissionReview(pod, { namespace: "team-a" }));
    assert.equal(response.allowed, false);
    assert.ok(info.findings.length <= MAX_FINDINGS, `${info.findings.length} findings`);
    assert.ok(info.findings.some((finding) => finding.action === "deny" && (finding.cut ?? 0) > 0));
    const message = response.status?.message ?? "";
    assert.ok(message.length <= MAX_MESSAGE_CHARS);
    assert.ok(size < MAX_ANSWER_CHARS, `answer of ${size} characters`);

    // "... and N more" counts every deny finding not shown, those cut included.
    const unbounded = {
      maxFindingsPerRule: Infinity,
      maxFindingsPerObject: Infinity,
      maxContainers: Infinity,
      maxEntries: Infinity,
    };
    const subject = { ...pod, metadata: { name: "hostile", namespace: "team-a" } };
    const snapshot = state.snapshot();
    const all = evaluateObject(subject, new RuleSet(ALL_RULES), { ...snapshot, limits: unbounded });
    const denied = all.filter((finding) => finding.action === "deny").length;
    const shown = message.split("\n").length - 1;
    assert.equal(
      message.split("\n").at(-1),
      `... and ${denied - shown} more (run \`vakt check\` on the manifest for the full list)`,
    );
  });

  it("keeps warnings and audit annotations bounded when every finding is a warning", () => {
    const pod = compliantPod();
    const spec = pod["spec"] as Json;
    spec["containers"] = Array.from({ length: DEFAULT_EVALUATION_LIMITS.maxContainers }, (_, i) => ({
      ...((spec["containers"] as Json[])[0] ?? {}),
      name: `c${i}`,
      readinessProbe: undefined,
      livenessProbe: undefined,
    }));
    const { response, info, size } = answer(admissionReview(pod));
    const probes = info.findings.filter((finding) => finding.rule === "probes");
    assert.equal(probes.length, DEFAULT_EVALUATION_LIMITS.maxFindingsPerRule + 1);
    assert.equal(
      probes.at(-1)?.cut,
      2 * DEFAULT_EVALUATION_LIMITS.maxContainers - DEFAULT_EVALUATION_LIMITS.maxFindingsPerRule,
    );
    assert.ok((response.warnings ?? []).length <= 21);
    assert.ok(size < MAX_ANSWER_CHARS, `answer of ${size} characters`);
  });
});
