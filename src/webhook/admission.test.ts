import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CONFIG } from "../config/vakt-config.ts";
import type { VaktConfig } from "../config/vakt-config.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { KubeObject, Rule } from "../engine/types.ts";
import { AdmissionState, MAX_MESSAGE_CHARS, annotationKey, mutateReview, review } from "./admission.ts";
import type { AdmissionResponse, ReviewInfo, ReviewOutcome } from "./admission.ts";
import { admissionReview, applyPatch, compliantPod } from "../testing/admission-fixtures.ts";
import type { JsonPatchOperation } from "./mutate.ts";

type Json = Record<string, unknown>;

/** A Pod whose only deny finding is image-tag (no tag). */
function untaggedPod(): Json {
  return compliantPod({ image: "registry.example.com/acme/app" });
}

function answered(outcome: ReviewOutcome): { response: AdmissionResponse; info: ReviewInfo } {
  assert.equal(outcome.type, "review", outcome.type === "invalid" ? outcome.message : "");
  assert.equal(outcome.body.apiVersion, "admission.k8s.io/v1");
  assert.equal(outcome.body.kind, "AdmissionReview");
  assert.equal(outcome.body.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  return { response: outcome.body.response, info: outcome.info };
}

function invalid(outcome: ReviewOutcome): string {
  assert.equal(outcome.type, "invalid");
  return outcome.message;
}

function exception(overrides: Json = {}): KubeObject {
  return {
    apiVersion: "vakt.dev/v1alpha1",
    kind: "PolicyException",
    metadata: { name: "legacy-web", namespace: "team-a" },
    spec: {
      rules: ["image-tag"],
      match: { namespaces: ["team-a"], names: ["web"] },
      justification: "legacy build pipeline; images are scanned weekly and pinned by the registry",
      approvedBy: "ciso@example.com",
      expires: "2030-01-31T12:00:00Z",
      ...overrides,
    },
  };
}

const config = (rules: Record<string, "deny" | "warn" | "audit" | "off">): VaktConfig => ({
  ...DEFAULT_CONFIG,
  rules: new Map(Object.entries(rules)),
});

describe("review: decisions", () => {
  const state = new AdmissionState();

  it("admits a compliant Pod", () => {
    const { response, info } = answered(review(admissionReview(compliantPod()), state));
    assert.equal(response.allowed, true);
    assert.equal(response.status, undefined);
    assert.equal(info.reason, "evaluated");
  });

  it("denies with a message naming the rule, the object, the field path, the fix and the controls", () => {
    const { response, info } = answered(review(admissionReview(untaggedPod()), state));
    assert.equal(response.allowed, false);
    assert.equal(response.status?.code, 403);
    assert.equal(response.status.reason, "Forbidden");
    const message = response.status.message;
    const rule = ALL_RULES.find((candidate) => candidate.id === "image-tag");
    assert.ok(rule !== undefined);
    assert.ok(message.startsWith("[image-tag] Pod/team-a/web: "), message);
    assert.match(message, /\(field spec\.containers\[0\]\.image\)/);
    assert.ok(message.includes(`Fix: ${rule.fix}`), message);
    assert.ok(message.includes(`Controls: ${rule.controls.join(", ")}`), message);
    assert.deepEqual(
      info.findings.filter((finding) => finding.action === "deny").map((finding) => finding.rule),
      ["image-tag"],
    );
  });

  it("lists every deny finding, one per line, within the size limit", () => {
    const containers = Array.from({ length: 60 }, (_, index) => ({
      name: `c${index}`,
      image: "nginx",
      securityContext: { privileged: true },
    }));
    const pod = compliantPod();
    (pod["spec"] as Json)["containers"] = containers;
    const { response } = answered(review(admissionReview(pod), state));
    const message = response.status?.message ?? "";
    assert.ok(message.length <= MAX_MESSAGE_CHARS, `${message.length} chars`);
    assert.match(message, /^\[pss-privileged\] Pod\/team-a\/web: /);
    assert.match(message, /\n\.\.\. and \d+ more \(run `vakt check`/);
    for (const line of message.split("\n").slice(0, -1))
      assert.match(line, /^\[[a-z0-9-]+\] Pod\/team-a\/web: /);
  });

  it("turns warn findings into short warnings", () => {
    const pod = compliantPod({ livenessProbe: undefined });
    const { response } = answered(review(admissionReview(pod), state));
    assert.equal(response.allowed, true);
    const warning = response.warnings?.find((text) => text.startsWith("[probes]"));
    assert.equal(
      warning,
      '[probes] container "app" has no livenessProbe (field spec.containers[0].livenessProbe)',
    );
    for (const text of response.warnings ?? []) assert.ok(text.length <= 256 && !text.includes("\n"));
  });

  it("turns audit findings into audit annotations keyed by rule id", () => {
    const audited = new AdmissionState({ config: config({ "image-tag": "audit" }) });
    const { response } = answered(review(admissionReview(untaggedPod()), audited));
    assert.equal(response.allowed, true);
    const value = response.auditAnnotations?.["image-tag"];
    assert.ok(value?.includes("(field spec.containers[0].image)"), value);
    for (const key of Object.keys(response.auditAnnotations ?? {}))
      assert.match(
        key,
        /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
        "the API server prefixes keys with the webhook name",
      );
  });

  it("makes annotation keys valid qualified-name parts", () => {
    assert.equal(annotationKey("image-tag"), "image-tag");
    assert.equal(annotationKey("-weird/key:"), "weird-key");
    assert.equal(annotationKey("x".repeat(100)).length, 63);
  });

  it("judges dry-run requests the same way", () => {
    const { response, info } = answered(review(admissionReview(untaggedPod(), { dryRun: true }), state));
    assert.equal(response.allowed, false);
    assert.equal(info.dryRun, true);
  });

  it("admits DELETE and CONNECT without judging", () => {
    for (const operation of ["DELETE", "CONNECT"]) {
      const { response, info } = answered(
        review(admissionReview(null, { operation, oldObject: untaggedPod() }), state),
      );
      assert.equal(response.allowed, true);
      assert.equal(info.reason, "operation-not-judged");
    }
  });

  it("admits irrelevant subresources (status, scale, binding) but judges ephemeralcontainers and resize", () => {
    for (const subResource of ["status", "scale", "binding", "eviction"]) {
      const { response } = answered(
        review(admissionReview(untaggedPod(), { operation: "UPDATE", subResource }), state),
      );
      assert.equal(response.allowed, true, subResource);
    }
    for (const subResource of ["ephemeralcontainers", "resize"]) {
      const { response } = answered(
        review(admissionReview(untaggedPod(), { operation: "UPDATE", subResource }), state),
      );
      assert.equal(response.allowed, false, subResource);
    }
  });

  it("judges UPDATE on the new object", () => {
    const fixed = answered(
      review(admissionReview(compliantPod(), { operation: "UPDATE", oldObject: untaggedPod() }), state),
    );
    assert.equal(fixed.response.allowed, true);
    const broken = answered(
      review(admissionReview(untaggedPod(), { operation: "UPDATE", oldObject: compliantPod() }), state),
    );
    assert.equal(broken.response.allowed, false);
  });

  it("admits UPDATE of an object being deleted (finalizer removal)", () => {
    const pod = untaggedPod();
    (pod["metadata"] as Json)["deletionTimestamp"] = "2026-01-01T00:00:00Z";
    const { response, info } = answered(review(admissionReview(pod, { operation: "UPDATE" }), state));
    assert.equal(response.allowed, true);
    assert.equal(info.reason, "being-deleted");
  });

  it("fills the namespace from the request when the object has none", () => {
    const inDefault = answered(review(admissionReview(compliantPod(), { namespace: "default" }), state));
    assert.equal(inDefault.response.allowed, false);
    assert.match(inDefault.response.status?.message ?? "", /^\[default-namespace\] Pod\/default\/web: /);
    const { info } = answered(review(admissionReview(compliantPod()), state));
    assert.equal(info.namespace, "team-a");
  });

  it("names generateName objects by their prefix", () => {
    const pod = untaggedPod();
    (pod["metadata"] as Json) = { generateName: "web-" };
    const { response } = answered(review(admissionReview(pod), state));
    assert.match(response.status?.message ?? "", /^\[image-tag\] Pod\/team-a\/web-\*: /);
  });

  it("judges workloads on their pod template", () => {
    const pod = untaggedPod();
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: pod["metadata"], spec: pod["spec"] },
      },
    };
    const { response } = answered(
      review(
        admissionReview(deployment, { kind: { group: "apps", version: "v1", kind: "Deployment" } }),
        state,
      ),
    );
    assert.equal(response.allowed, false);
    assert.match(
      response.status?.message ?? "",
      /\[image-tag\] Deployment\/team-a\/web: .*\(field spec\.template\.spec\.containers\[0\]\.image\)/,
    );
  });
});

describe("review: exceptions", () => {
  it("an exception suppresses the finding, and the audit annotation names it", () => {
    const state = new AdmissionState({
      exceptions: [exception()],
      clock: () => new Date("2029-06-01T00:00:00Z"),
    });
    const { response, info } = answered(review(admissionReview(untaggedPod()), state));
    assert.equal(response.allowed, true);
    assert.match(response.auditAnnotations?.["exception-image-tag"] ?? "", /^legacy-web: /);
    assert.equal(info.findings.find((finding) => finding.rule === "image-tag")?.suppressedBy, "legacy-web");
  });

  it("a new exception applies at once; a removed one stops applying", () => {
    const state = new AdmissionState({ clock: () => new Date("2029-06-01T00:00:00Z") });
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
    state.upsertException(exception());
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, true);
    state.removeException(exception());
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
    state.setExceptions([exception()]);
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, true);
  });

  it("an exception stops applying when it expires, without any update", () => {
    let now = new Date("2030-01-31T11:59:59Z");
    const state = new AdmissionState({ exceptions: [exception()], clock: () => now });
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, true);
    now = new Date("2030-01-31T12:00:01Z");
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
  });

  it("an exception for another namespace does not apply", () => {
    const state = new AdmissionState({
      exceptions: [exception({ match: { namespaces: ["team-b"] } })],
      clock: () => new Date("2029-06-01T00:00:00Z"),
    });
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
  });

  it("setConfig changes actions live", () => {
    const state = new AdmissionState();
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
    state.setConfig(config({ "image-tag": "warn" }));
    const { response } = answered(review(admissionReview(untaggedPod()), state));
    assert.equal(response.allowed, true);
    assert.ok(response.warnings?.some((text) => text.startsWith("[image-tag]")));
  });
});

describe("review: failing closed", () => {
  const throwing = (action: "deny" | "warn"): Rule => ({
    id: `broken-${action}`,
    title: "a rule that throws",
    severity: "high",
    defaultAction: action,
    kinds: ["Pod"],
    sets: ["test"],
    rationale: "tests",
    fix: "fix the rule",
    controls: ["iso27001:A.8.9"],
    evidenceBoundary: "none",
    check: () => {
      throw new Error("boom");
    },
  });

  it("a deny rule that throws refuses the object, saying so", () => {
    const state = new AdmissionState({ rules: [throwing("deny")], allRules: [throwing("deny")] });
    const { response } = answered(review(admissionReview(compliantPod()), state));
    assert.equal(response.allowed, false);
    assert.match(
      response.status?.message ?? "",
      /\[broken-deny\] .*failed to evaluate \(boom\).*never admits/,
    );
  });

  it("a warn rule that throws only warns", () => {
    const state = new AdmissionState({ rules: [throwing("warn")], allRules: [throwing("warn")] });
    const { response } = answered(review(admissionReview(compliantPod()), state));
    assert.equal(response.allowed, true);
    assert.match(response.warnings?.[0] ?? "", /^\[broken-warn\] rule broken-warn failed to evaluate/);
  });

  it("a failure around the rules refuses when deny rules apply (fail closed)", () => {
    const real = new AdmissionState();
    let calls = 0;
    const broken = {
      snapshot: () => {
        calls++;
        if (calls === 1) throw new Error("exception cache corrupt");
        return real.snapshot();
      },
    } as unknown as AdmissionState;
    const { response, info } = answered(review(admissionReview(compliantPod()), broken));
    assert.equal(response.allowed, false);
    assert.equal(response.status?.code, 500);
    assert.match(
      response.status.message,
      /vakt failed to evaluate Pod\/team-a\/web \(exception cache corrupt\).*fail closed/,
    );
    assert.equal(info.reason, "evaluation-error");
  });

  it("a failure around the rules admits with a warning when no deny rule applies to the kind", () => {
    const broken = {
      snapshot: () => {
        throw new Error("nope");
      },
    } as unknown as AdmissionState;
    // The second snapshot() also throws, so vakt cannot tell: it refuses.
    assert.equal(answered(review(admissionReview(compliantPod()), broken)).response.allowed, false);
    const real = new AdmissionState({ rules: [] });
    let first = true;
    const noDeny = {
      snapshot: () => {
        if (first) {
          first = false;
          throw new Error("nope");
        }
        return real.snapshot();
      },
    } as unknown as AdmissionState;
    const { response } = answered(review(admissionReview(compliantPod()), noDeny));
    assert.equal(response.allowed, true);
    assert.match(response.warnings?.[0] ?? "", /^\[vakt\] vakt failed to evaluate/);
  });
});

describe("review: malformed and hostile requests", () => {
  const state = new AdmissionState();
  const base = admissionReview(compliantPod());

  it("rejects envelopes it cannot answer", () => {
    assert.match(invalid(review("not an object", state)), /must be a JSON object/);
    assert.match(invalid(review(null, state)), /must be a JSON object/);
    assert.match(invalid(review([], state)), /must be a JSON object/);
    assert.match(
      invalid(review({ ...base, apiVersion: "admission.k8s.io/v1beta1" }, state)),
      /apiVersion must be "admission\.k8s\.io\/v1" \(got "admission\.k8s\.io\/v1beta1"\)/,
    );
    assert.match(invalid(review({ ...base, kind: "Pod" }, state)), /kind must be "AdmissionReview"/);
    assert.match(
      invalid(review({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, state)),
      /request is missing/,
    );
    assert.match(invalid(review(admissionReview(compliantPod(), { uid: undefined }), state)), /request\.uid/);
    assert.match(invalid(review(admissionReview(compliantPod(), { uid: 42 }), state)), /request\.uid/);
    assert.match(invalid(review({ ...base, apiVersion: { deep: [[[1]]] } }, state)), /got an object/);
  });

  it("refuses a request with a uid but a bad object with status 400", () => {
    for (const object of ["a string", 42, [], undefined]) {
      const { response, info } = answered(review(admissionReview(object), state));
      assert.equal(response.allowed, false);
      assert.equal(response.status?.code, 400);
      assert.equal(response.status.reason, "BadRequest");
      assert.match(response.status.message, /request\.object must be the Pod being created/);
      assert.equal(info.reason, "bad-request");
    }
    const { response } = answered(review(admissionReview(compliantPod(), { operation: "PATCH" }), state));
    assert.equal(response.status?.code, 400);
    assert.match(
      response.status.message,
      /request\.operation must be one of CREATE, UPDATE, DELETE, CONNECT/,
    );
  });

  it("survives deeply nested JSON and odd shapes inside the object", () => {
    const nested = (depth: number): Json => {
      const deep: unknown = JSON.parse("[".repeat(depth) + "]".repeat(depth));
      const pod = compliantPod();
      (pod["spec"] as Json)["affinity"] = deep;
      (pod["metadata"] as Json)["labels"] = deep;
      return pod;
    };
    // Within the evaluation limits (20,000 list items and keys) the rules run on it; beyond,
    // it is refused unjudged.
    assert.equal(answered(review(admissionReview(nested(9_900)), state)).response.allowed, true);
    const beyond = answered(review(admissionReview(nested(50_000)), state)).response;
    assert.equal(beyond.allowed, false);
    assert.match(beyond.status?.message ?? "", /^\[evaluation-limits\] /);
    const weird = { apiVersion: "v1", kind: "Pod", metadata: "x", spec: { containers: "nope" } };
    answered(review(admissionReview(weird), state));
    const noKind = answered(review(admissionReview({ metadata: { name: "x" } }, { kind: undefined }), state));
    assert.equal(noKind.response.status?.code, 400);
  });

  it("strips control characters from warnings and keeps them short", () => {
    const pod = compliantPod({ name: "a\u0007b\nc".padEnd(300, "x"), livenessProbe: undefined });
    const { response } = answered(review(admissionReview(pod), state));
    for (const text of response.warnings ?? []) {
      assert.ok(text.length <= 256, text);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(text, /[\u0000-\u001f]/);
    }
  });
});

describe("mutateReview", () => {
  const state = new AdmissionState();

  it("returns a base64 JSON Patch of the safe defaults on CREATE", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [{ name: "app", image: "x:1" }] },
    };
    const { response, info } = answered(mutateReview(admissionReview(pod), state));
    assert.equal(response.allowed, true);
    assert.equal(response.patchType, "JSONPatch");
    const operations = JSON.parse(
      Buffer.from(response.patch ?? "", "base64").toString("utf8"),
    ) as JsonPatchOperation[];
    const patched = applyPatch(pod, operations);
    assert.deepEqual(patched.spec, {
      containers: [{ name: "app", image: "x:1", securityContext: { allowPrivilegeEscalation: false } }],
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      automountServiceAccountToken: false,
    });
    assert.deepEqual(info.mutations, [
      "seccompRuntimeDefault",
      "disallowPrivilegeEscalation",
      "disableServiceAccountToken",
    ]);
    // Idempotent through the webhook too: the patched object needs nothing more.
    const again = answered(mutateReview(admissionReview(patched), state));
    assert.equal(again.response.patch, undefined);
  });

  it("does not patch on UPDATE, DELETE or subresources, and never denies", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [{ name: "app" }] },
    };
    for (const request of [{ operation: "UPDATE" }, { operation: "DELETE" }, { subResource: "status" }]) {
      const { response } = answered(mutateReview(admissionReview(pod, request), state));
      assert.equal(response.allowed, true);
      assert.equal(response.patch, undefined);
    }
    assert.equal(answered(mutateReview(admissionReview(untaggedPod()), state)).response.allowed, true);
  });

  it("follows the configured mutations", () => {
    const off = new AdmissionState({
      config: {
        ...DEFAULT_CONFIG,
        mutations: {
          seccompRuntimeDefault: false,
          disallowPrivilegeEscalation: false,
          dropAllCapabilities: false,
          jobTtlSeconds: null,
          disableServiceAccountToken: false,
        },
      },
    });
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: { containers: [{ name: "app" }] },
    };
    assert.equal(answered(mutateReview(admissionReview(pod), off)).response.patch, undefined);
  });
});

describe("review: the inventory", () => {
  const deployment = (namespace: string): Json => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: compliantPod()["spec"] },
    },
  });
  const warningsFor = (state: AdmissionState, namespace: string): readonly string[] =>
    answered(
      review(
        admissionReview(deployment(namespace), {
          kind: { group: "apps", version: "v1", kind: "Deployment" },
          namespace,
        }),
        state,
      ),
    ).response.warnings ?? [];
  const live = listInventory(
    [
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace: "team-a" },
        spec: { podSelector: {} },
      },
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "web", namespace: "team-a" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 3 },
      },
    ],
    true,
  );

  it("judges relational rules by the live inventory and names the namespace searched", () => {
    const state = new AdmissionState();
    state.setInventory(live);
    const covered = warningsFor(state, "team-a");
    assert.ok(!covered.some((text) => text.startsWith("[network-policy-coverage]")), covered.join("\n"));
    assert.ok(!covered.some((text) => text.startsWith("[replicas]")), "the autoscaler's minimum counts");
    const uncovered = warningsFor(state, "team-b");
    const warning = uncovered.find((text) => text.startsWith("[network-policy-coverage]"));
    assert.match(warning ?? "", /no NetworkPolicy in namespace "team-b" selects the pods/);
    assert.ok(uncovered.some((text) => text.startsWith("[replicas]")));
  });

  it("keeps the exception matcher when only the inventory changes", () => {
    const state = new AdmissionState({ exceptions: [exception()] });
    const before = state.snapshot(new Date("2029-01-01T00:00:00Z"));
    state.setInventory(live);
    const after = state.snapshot(new Date("2029-01-01T00:00:00Z"));
    assert.equal(after.exceptions, before.exceptions);
    assert.equal(after.inventory, live);
    assert.equal(after.generation, before.generation + 1);
  });
});

describe("review: bounded exceptions", () => {
  const now = new Date("2026-06-15T12:00:00Z");
  /** In vakt's namespace, for every namespace and every rule set, until 9999. */
  const everything = (expires = "9999-01-01"): KubeObject => ({
    apiVersion: "vakt.dev/v1alpha1",
    kind: "PolicyException",
    metadata: { name: "everything", namespace: "vakt-system" },
    spec: {
      rules: [...new Set(ALL_RULES.flatMap((rule) => rule.sets))],
      match: { namespaces: ["*"] },
      justification: "switch vakt off while we migrate, approved in a hurry",
      approvedBy: "ciso@example.com",
      expires,
    },
  });
  const creating = (object: KubeObject): Json =>
    admissionReview(object, {
      kind: { group: "vakt.dev", version: "v1alpha1", kind: "PolicyException" },
      resource: { group: "vakt.dev", version: "v1alpha1", resource: "policyexceptions" },
      namespace: "vakt-system",
    });
  const wideAllowed: VaktConfig = {
    ...DEFAULT_CONFIG,
    exceptions: { allowWide: { namespaces: true, ruleSets: true }, maxExpiryDays: 365 },
  };

  it("the exception for everything suppresses nothing, and creating it is refused with each field and fix", () => {
    const state = new AdmissionState({ exceptions: [everything()], clock: () => now });
    const { response, info } = answered(review(admissionReview(untaggedPod()), state));
    assert.equal(response.allowed, false);
    assert.deepEqual(
      info.findings.filter((finding) => finding.suppressedBy !== undefined),
      [],
    );

    const created = answered(review(creating(everything()), state)).response;
    assert.equal(created.allowed, false);
    const lines = (created.status?.message ?? "").split("\n");
    assert.equal(lines.length, 3, created.status?.message);
    assert.ok(
      lines.every((line) => line.startsWith("[exception-scope] PolicyException/vakt-system/everything: ")),
      lines.join("\n"),
    );
    assert.match(lines[0] ?? "", /covers more than one namespace; .*\(field spec\.match\.namespaces\)/);
    assert.match(lines[1] ?? "", /names the rule sets "pss-baseline", .*\(field spec\.rules\)/);
    assert.match(
      lines.at(-1) ?? "",
      /spec\.expires 9999-01-01 is more than 365 days after 2026-06-15; write 2027-06-15 or earlier, .*\(field spec\.expires\)/,
    );
  });

  it("a wide exception applies, and may be created, where the configuration allows it; setConfig withdraws it live", () => {
    const wide = everything("2027-06-15");
    const state = new AdmissionState({ config: wideAllowed, exceptions: [wide], clock: () => now });
    const pod = answered(review(admissionReview(untaggedPod()), state));
    assert.equal(pod.response.allowed, true);
    assert.equal(
      pod.info.findings.find((finding) => finding.rule === "image-tag")?.suppressedBy,
      "everything",
    );
    const created = answered(review(creating(wide), state));
    assert.equal(created.response.allowed, true, created.response.status?.message);
    assert.ok(!created.info.findings.some((finding) => finding.rule === "exception-scope"));

    state.setConfig(DEFAULT_CONFIG);
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
  });

  it("an exception expiring too far ahead starts to apply once its expiry is within the maximum, without any update", () => {
    let clock = new Date("2026-06-19T23:59:59Z");
    const state = new AdmissionState({
      config: wideAllowed,
      exceptions: [everything("2027-06-20")],
      clock: () => clock,
    });
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, false);
    clock = new Date("2026-06-20T00:00:00Z");
    assert.equal(answered(review(admissionReview(untaggedPod()), state)).response.allowed, true);
  });
});
