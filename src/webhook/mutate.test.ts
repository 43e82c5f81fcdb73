import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, DEFAULT_MUTATIONS, parseConfig } from "../config/vakt-config.ts";
import type { MutationConfig } from "../config/vakt-config.ts";
import type { KubeObject } from "../engine/types.ts";
import { jsonPointer, mutations, planMutations } from "./mutate.ts";
import { applyPatch } from "../testing/admission-fixtures.ts";

type Json = Record<string, unknown>;

function pod(spec: Json, metadata: Json = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "web", ...metadata }, spec };
}

const NON_ROOT = { runAsNonRoot: true };
const ALL_OFF: MutationConfig = {
  seccompRuntimeDefault: false,
  disallowPrivilegeEscalation: false,
  dropAllCapabilities: false,
  jobTtlSeconds: null,
  disableServiceAccountToken: false,
};
const only = (overrides: Partial<MutationConfig>): MutationConfig => ({ ...ALL_OFF, ...overrides });

function assertIdempotent(object: KubeObject, config: MutationConfig = DEFAULT_MUTATIONS): KubeObject {
  const patched = applyPatch(object, mutations(object, config));
  assert.deepEqual(mutations(patched, config), [], "a second pass adds nothing");
  return patched;
}

describe("jsonPointer", () => {
  it("escapes ~ and / (RFC 6901)", () => {
    assert.equal(jsonPointer(["metadata", "annotations", "a/b~c", 0]), "/metadata/annotations/a~1b~0c/0");
  });
});

describe("mutations: seccomp RuntimeDefault", () => {
  const config = only({ seccompRuntimeDefault: true });
  it("adds a pod securityContext when there is none", () => {
    assert.deepEqual(mutations(pod({ containers: [{ name: "a", image: "x" }] }), config), [
      { op: "add", path: "/spec/securityContext", value: { seccompProfile: { type: "RuntimeDefault" } } },
    ]);
  });
  it("adds only the profile to an existing pod securityContext", () => {
    assert.deepEqual(mutations(pod({ securityContext: NON_ROOT, containers: [] }), config), [
      { op: "add", path: "/spec/securityContext/seccompProfile", value: { type: "RuntimeDefault" } },
    ]);
  });
  it("never overrides a declared profile, on the pod or any container", () => {
    assert.deepEqual(
      mutations(pod({ securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [] }), config),
      [],
    );
    assert.deepEqual(
      mutations(
        pod({ containers: [{ name: "a", securityContext: { seccompProfile: { type: "Localhost" } } }] }),
        config,
      ),
      [],
    );
    assert.deepEqual(
      mutations(
        pod(
          { containers: [] },
          { annotations: { "seccomp.security.alpha.kubernetes.io/pod": "unconfined" } },
        ),
        config,
      ),
      [],
    );
  });
  it("skips Windows pods", () => {
    assert.deepEqual(mutations(pod({ os: { name: "windows" }, containers: [] }), config), []);
  });
});

describe("mutations: containers", () => {
  const escalation = only({ disallowPrivilegeEscalation: true });
  const drop = only({ dropAllCapabilities: true });
  it("sets allowPrivilegeEscalation: false where unset, on containers and init containers", () => {
    const object = pod({
      initContainers: [{ name: "init" }],
      containers: [{ name: "a", securityContext: { runAsUser: 1000 } }, { name: "b" }],
    });
    assert.deepEqual(mutations(object, escalation), [
      {
        op: "add",
        path: "/spec/initContainers/0/securityContext",
        value: { allowPrivilegeEscalation: false },
      },
      { op: "add", path: "/spec/containers/0/securityContext/allowPrivilegeEscalation", value: false },
      { op: "add", path: "/spec/containers/1/securityContext", value: { allowPrivilegeEscalation: false } },
    ]);
    assertIdempotent(object, escalation);
  });
  it("leaves privileged containers, CAP_SYS_ADMIN and declared values alone", () => {
    const object = pod({
      containers: [
        { name: "a", securityContext: { privileged: true } },
        { name: "b", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } },
        { name: "c", securityContext: { allowPrivilegeEscalation: true } },
      ],
    });
    assert.deepEqual(mutations(object, escalation), []);
  });
  it("drops ALL capabilities only for non-root containers that declare none", () => {
    const object = pod({
      securityContext: NON_ROOT,
      containers: [
        { name: "a" },
        { name: "b", securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } },
        { name: "c", securityContext: { capabilities: { drop: ["NET_RAW"] } } },
        { name: "d", securityContext: { runAsUser: 0 } },
        { name: "e", securityContext: { capabilities: { add: [] } } },
      ],
    });
    assert.deepEqual(mutations(object, drop), [
      { op: "add", path: "/spec/containers/0/securityContext", value: { capabilities: { drop: ["ALL"] } } },
      { op: "add", path: "/spec/containers/4/securityContext/capabilities/drop", value: ["ALL"] },
    ]);
    assertIdempotent(object, drop);
  });
  it("leaves root containers' capabilities alone (a root entrypoint may need the default set)", () => {
    assert.deepEqual(mutations(pod({ containers: [{ name: "a" }] }), drop), []);
  });
  it("puts both defaults in one securityContext and names both mutations", () => {
    const object = pod({ containers: [{ name: "a" }], securityContext: NON_ROOT });
    const plan = planMutations(
      object,
      only({ disallowPrivilegeEscalation: true, dropAllCapabilities: true }),
    );
    assert.deepEqual(plan.operations, [
      {
        op: "add",
        path: "/spec/containers/0/securityContext",
        value: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ]);
    assert.deepEqual(plan.applied, ["disallowPrivilegeEscalation", "dropAllCapabilities"]);
  });
  it("replaces a null securityContext and skips one of the wrong shape", () => {
    assert.deepEqual(mutations(pod({ containers: [{ name: "a", securityContext: null }] }), escalation), [
      { op: "add", path: "/spec/containers/0/securityContext", value: { allowPrivilegeEscalation: false } },
    ]);
    assert.deepEqual(
      mutations(pod({ containers: [{ name: "a", securityContext: "weird" }] }), escalation),
      [],
    );
  });
});

describe("mutations: Job TTL", () => {
  const config = only({ jobTtlSeconds: 3600 });
  const job = (spec: Json, metadata: Json = {}): KubeObject => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j", ...metadata },
    spec: { template: { spec: { containers: [] } }, ...spec },
  });
  it("sets ttlSecondsAfterFinished where unset", () => {
    assert.deepEqual(mutations(job({}), config), [
      { op: "add", path: "/spec/ttlSecondsAfterFinished", value: 3600 },
    ]);
    assertIdempotent(job({}), config);
  });
  it("keeps a declared TTL (even 0) and leaves CronJob-owned Jobs to the CronJob's history limits", () => {
    assert.deepEqual(mutations(job({ ttlSecondsAfterFinished: 0 }), config), []);
    assert.deepEqual(
      mutations(
        job({}, { ownerReferences: [{ kind: "CronJob", name: "c", apiVersion: "batch/v1" }] }),
        config,
      ),
      [],
    );
  });
  it("is off with jobTtlSeconds: null", () => {
    assert.deepEqual(mutations(job({}), only({})), []);
  });
});

describe("mutations: service-account token", () => {
  const config = only({ disableServiceAccountToken: true });
  it("sets automountServiceAccountToken: false for pods on the default account", () => {
    assert.deepEqual(mutations(pod({ containers: [] }), config), [
      { op: "add", path: "/spec/automountServiceAccountToken", value: false },
    ]);
    assert.equal(mutations(pod({ serviceAccountName: "default", containers: [] }), config).length, 1);
  });
  it("leaves declared values, named service accounts and annotated workloads alone", () => {
    assert.deepEqual(mutations(pod({ automountServiceAccountToken: true, containers: [] }), config), []);
    assert.deepEqual(mutations(pod({ serviceAccountName: "operator", containers: [] }), config), []);
    assert.deepEqual(
      mutations(
        pod({ containers: [] }, { annotations: { "vakt.dev/needs-service-account-token": "true" } }),
        config,
      ),
      [],
    );
  });
});

describe("mutations: workload kinds", () => {
  it("patches a Deployment's pod template, idempotently", () => {
    const deployment: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { securityContext: NON_ROOT, containers: [{ name: "app", image: "x:1" }] },
        },
      },
    };
    const operations = mutations(deployment, DEFAULT_MUTATIONS);
    assert.deepEqual(
      operations.map((operation) => operation.path),
      [
        "/spec/template/spec/securityContext/seccompProfile",
        "/spec/template/spec/containers/0/securityContext",
        "/spec/template/spec/automountServiceAccountToken",
      ],
    );
    const patched = assertIdempotent(deployment);
    assert.deepEqual((patched as Json)["metadata"], deployment.metadata, "metadata untouched");
  });
  it("patches a CronJob's job template but sets no Job TTL on it", () => {
    const cronJob: KubeObject = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly" },
      spec: {
        schedule: "0 1 * * *",
        jobTemplate: { spec: { template: { spec: { containers: [{ name: "run" }] } } } },
      },
    };
    const operations = mutations(cronJob, DEFAULT_MUTATIONS);
    assert.deepEqual(
      operations.map((operation) => operation.path),
      [
        "/spec/jobTemplate/spec/template/spec/securityContext",
        "/spec/jobTemplate/spec/template/spec/containers/0/securityContext",
        "/spec/jobTemplate/spec/template/spec/automountServiceAccountToken",
      ],
    );
    assertIdempotent(cronJob);
  });
  it("yields nothing for other kinds, templates without a spec, and mirror pods", () => {
    assert.deepEqual(
      mutations({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }, DEFAULT_MUTATIONS),
      [],
    );
    assert.deepEqual(
      mutations(
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: {} },
        DEFAULT_MUTATIONS,
      ),
      [],
    );
    assert.deepEqual(
      mutations(
        pod({ containers: [] }, { annotations: { "kubernetes.io/config.mirror": "abc" } }),
        DEFAULT_MUTATIONS,
      ),
      [],
    );
  });
  it("does nothing when every mutation is off", () => {
    assert.deepEqual(mutations(pod({ containers: [{ name: "a" }] }), ALL_OFF), []);
  });
});

describe("configuration: spec.mutations", () => {
  const known = new Set(["image-tag"]);
  const text = (mutationsYaml: string): string =>
    `apiVersion: vakt.dev/v1alpha1\nkind: VaktConfiguration\nspec:\n  mutations:\n${mutationsYaml}`;
  it("defaults every mutation on, Job TTL one day", () => {
    assert.deepEqual(parseConfig("", "vakt.yaml", known).mutations, DEFAULT_MUTATIONS);
    assert.equal(DEFAULT_MUTATIONS.jobTtlSeconds, 86_400);
  });
  it("reads booleans and the TTL (null turns it off)", () => {
    const config = parseConfig(
      text("    dropAllCapabilities: false\n    jobTtlSeconds: null\n"),
      "vakt.yaml",
      known,
    );
    assert.deepEqual(config.mutations, {
      ...DEFAULT_MUTATIONS,
      dropAllCapabilities: false,
      jobTtlSeconds: null,
    });
    assert.equal(
      parseConfig(text("    jobTtlSeconds: 600\n"), "vakt.yaml", known).mutations.jobTtlSeconds,
      600,
    );
  });
  it("reports bad values and unknown mutations with their line", () => {
    assert.throws(
      () =>
        parseConfig(
          text("    seccompRuntimeDefault: yes\n    jobTtlSeconds: -5\n    dropAllCapabilites: true\n"),
          "vakt.yaml",
          known,
        ),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /vakt\.yaml:5:\d+: spec\.mutations\.seccompRuntimeDefault must be true or false/,
        );
        assert.match(
          error.message,
          /vakt\.yaml:6:\d+: spec\.mutations\.jobTtlSeconds must be a whole number/,
        );
        assert.match(
          error.message,
          /spec\.mutations\.dropAllCapabilites is not a mutation; did you mean "dropAllCapabilities"/,
        );
        return true;
      },
    );
    assert.throws(
      () => parseConfig(text("    - x\n"), "vakt.yaml", known),
      /spec\.mutations must be a mapping/,
    );
  });
});
