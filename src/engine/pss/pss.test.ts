import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateObject, RuleSet } from "../evaluate.ts";
import type { Finding, Inventory, KubeObject } from "../types.ts";
import { WORKLOAD_KINDS } from "../workloads.ts";
import { PSS_LATEST_MINOR, PSS_RULES, pssMinor } from "./index.ts";
import type { PssRule } from "./index.ts";

const inventory: Inventory = { byKind: () => [], complete: false };
const NOW = new Date("2026-06-15T12:00:00Z");
const baseline = new RuleSet(PSS_RULES.filter((rule) => rule.sets.includes("pss-baseline")));
const restricted = new RuleSet(PSS_RULES.filter((rule) => rule.sets.includes("pss-restricted")));

function run(object: KubeObject, ruleSet: RuleSet, pssVersion = "latest"): Finding[] {
  return evaluateObject(object, ruleSet, {
    settings: { pssVersion, registries: [], allowedRegions: [], now: NOW },
    inventory,
  });
}

function ruleIds(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((finding) => finding.rule))].sort();
}

/** A pod that passes restricted at every version. */
function restrictedPod(
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", ...metadata },
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "registry.example/app:1",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
      ...spec,
    },
  };
}

const CONTROL_IDS: ReadonlySet<string> = new Set([
  "iso27001:A.8.9",
  "iso27001:A.8.2",
  "iso27001:A.8.22",
  "iso27001:A.8.27",
  "iso27001:A.5.15",
  "nis2:21.2.e",
  "nis2:21.2.i",
  "gdpr:32",
  "gdpr:25",
  "hipaa:164.312(a)(1)",
  "pdl:3.2",
]);

test("rule metadata: one rule per upstream check, exact sets, workload kinds, known controls", () => {
  const rules = PSS_RULES as readonly PssRule[];
  assert.equal(new Set(rules.map((rule) => rule.id)).size, rules.length, "rule ids are unique");
  assert.deepEqual(rules.map((rule) => rule.upstreamId).sort(), [
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities_baseline",
    "capabilities_restricted",
    "hostNamespaces",
    "hostPathVolumes",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "privileged",
    "procMount",
    "procMount_restricted",
    "restrictedVolumes",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxOptions",
    "seccompProfile_baseline",
    "seccompProfile_restricted",
    "sysctls",
    "windowsHostProcess",
  ]);
  for (const rule of rules) {
    assert.match(rule.id, /^pss-[a-z-]+$/);
    assert.deepEqual(
      rule.sets,
      rule.level === "baseline" ? ["pss-baseline", "pss-restricted"] : ["pss-restricted"],
      rule.id,
    );
    assert.deepEqual(rule.kinds, WORKLOAD_KINDS, rule.id);
    assert.equal(rule.defaultAction, "deny", rule.id);
    assert.ok(rule.controls.length > 0, `${rule.id} names controls`);
    for (const control of rule.controls)
      assert.ok(CONTROL_IDS.has(control), `${rule.id}: unknown control ${control}`);
    for (const text of [rule.title, rule.rationale, rule.fix, rule.evidenceBoundary])
      assert.ok(text.length > 10);
    assert.equal(rule.reference, "https://kubernetes.io/docs/concepts/security/pod-security-standards/");
  }
});

test("a privileged container in a Deployment is reported at its field inside the template", () => {
  const deployment: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "app", image: "x", securityContext: { privileged: true } }] },
      },
    },
  };
  const findings = run(deployment, baseline).filter((finding) => finding.rule === "pss-privileged");
  assert.equal(findings.length, 1);
  const [finding] = findings;
  assert.ok(finding !== undefined);
  assert.match(finding.message, /container "app"/);
  assert.equal(finding.action, "deny");
  assert.deepEqual(finding.path, [
    "spec",
    "template",
    "spec",
    "containers",
    0,
    "securityContext",
    "privileged",
  ]);
});

test("a CronJob's init container is reported under jobTemplate", () => {
  const cronJob: KubeObject = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "nightly" },
    spec: {
      jobTemplate: {
        spec: {
          template: {
            spec: {
              initContainers: [{ name: "setup", image: "x", ports: [{ containerPort: 80, hostPort: 8080 }] }],
              containers: [{ name: "job", image: "x" }],
            },
          },
        },
      },
    },
  };
  const findings = run(cronJob, baseline);
  assert.deepEqual(ruleIds(findings), ["pss-host-ports"]);
  assert.match(findings[0]?.message ?? "", /init container "setup".*8080/);
  assert.deepEqual(findings[0]?.path, [
    "spec",
    "jobTemplate",
    "spec",
    "template",
    "spec",
    "initContainers",
    0,
    "ports",
    0,
    "hostPort",
  ]);
});

test("pod-level runAsNonRoot covers containers that do not set it; an explicit false does not", () => {
  assert.deepEqual(run(restrictedPod(), restricted), []);

  const noPodLevel = restrictedPod({ securityContext: { seccompProfile: { type: "RuntimeDefault" } } });
  const missing = run(noPodLevel, restricted);
  assert.deepEqual(ruleIds(missing), ["pss-run-as-non-root"]);
  assert.deepEqual(missing[0]?.path, ["spec", "containers", 0, "securityContext", "runAsNonRoot"]);

  const optedOut = restrictedPod({
    containers: [
      {
        name: "app",
        image: "x",
        securityContext: {
          runAsNonRoot: false,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        },
      },
    ],
  });
  const findings = run(optedOut, restricted);
  assert.deepEqual(ruleIds(findings), ["pss-run-as-non-root"]);
  assert.match(findings[0]?.message ?? "", /container "app" must not set securityContext.runAsNonRoot=false/);
});

test("checks do not exist before their policy version", () => {
  const probeHost = restrictedPod({
    containers: [
      {
        name: "app",
        image: "x",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        livenessProbe: { httpGet: { host: "169.254.169.254", port: 80 } },
      },
    ],
  });
  assert.deepEqual(run(probeHost, baseline, "v1.33"), []);
  const found = run(probeHost, baseline, "v1.34");
  assert.deepEqual(ruleIds(found), ["pss-host-probes-lifecycle"]);
  assert.deepEqual(found[0]?.path, ["spec", "containers", 0, "livenessProbe", "httpGet", "host"]);

  const rootUser = restrictedPod({
    securityContext: { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
  });
  assert.deepEqual(run(rootUser, restricted, "v1.22"), []);
  assert.deepEqual(ruleIds(run(rootUser, restricted, "v1.23")), ["pss-run-as-user"]);

  const noSeccomp = restrictedPod({ securityContext: { runAsNonRoot: true } });
  assert.deepEqual(run(noSeccomp, restricted, "v1.18"), []);
  assert.deepEqual(ruleIds(run(noSeccomp, restricted, "v1.19")), ["pss-seccomp-restricted"]);
});

test("the safe sysctl list follows the version", () => {
  const pod = (name: string): KubeObject => ({
    kind: "Pod",
    spec: { securityContext: { sysctls: [{ name, value: "1" }] }, containers: [{ name: "c", image: "x" }] },
  });
  assert.deepEqual(ruleIds(run(pod("net.ipv4.tcp_rmem"), baseline, "v1.31")), ["pss-sysctls"]);
  assert.deepEqual(run(pod("net.ipv4.tcp_rmem"), baseline, "v1.32"), []);
  assert.deepEqual(ruleIds(run(pod("net.ipv4.tcp_notsent_lowat"), baseline, "v1.36")), ["pss-sysctls"]);
  assert.deepEqual(run(pod("net.ipv4.tcp_notsent_lowat"), baseline, "v1.37"), []);
  assert.deepEqual(ruleIds(run(pod("net.ipv4.ip_local_reserved_ports"), baseline, "v1.26")), ["pss-sysctls"]);
  assert.deepEqual(run(pod("net.ipv4.ip_local_reserved_ports"), baseline, "v1.27"), []);
  assert.deepEqual(ruleIds(run(pod("kernel.msgmax"), baseline, "latest")), ["pss-sysctls"]);
});

test("hostUsers: false relaxes procMount (baseline) and runAsNonRoot/runAsUser from v1.35 only", () => {
  const unmasked = (hostUsers: boolean): KubeObject =>
    restrictedPod({
      hostUsers,
      securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "x",
          securityContext: {
            procMount: "Unmasked",
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    });
  assert.deepEqual(run(unmasked(false), baseline, "v1.35"), []);
  assert.deepEqual(ruleIds(run(unmasked(false), baseline, "v1.34")), ["pss-proc-mount"]);
  assert.deepEqual(ruleIds(run(unmasked(true), baseline, "v1.35")), ["pss-proc-mount"]);
  assert.deepEqual(ruleIds(run(unmasked(false), restricted, "v1.35")), ["pss-proc-mount-restricted"]);
  assert.deepEqual(ruleIds(run(unmasked(false), restricted, "v1.34")), [
    "pss-proc-mount",
    "pss-run-as-non-root",
    "pss-run-as-user",
  ]);
});

test("Windows pods are exempt from Linux-only restricted checks from v1.25", () => {
  const windows: KubeObject = {
    kind: "Pod",
    spec: {
      os: { name: "windows" },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: "app", image: "x" }],
    },
  };
  assert.deepEqual(run(windows, restricted, "v1.25"), []);
  assert.deepEqual(ruleIds(run(windows, restricted, "v1.24")), [
    "pss-allow-privilege-escalation",
    "pss-capabilities-restricted",
    "pss-seccomp-restricted",
  ]);
});

test("at restricted, a restricted check replaces its baseline counterpart as upstream does (Windows pods)", () => {
  // Upstream quirk, kept exactly: a Windows pod that adds SYS_ADMIN and sets seccomp Unconfined
  // fails baseline, but passes restricted from v1.25, because there the restricted checks (which
  // exempt Windows pods) are evaluated instead of the baseline ones.
  const windows: KubeObject = {
    kind: "Pod",
    spec: {
      os: { name: "windows" },
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } },
      containers: [{ name: "app", image: "x", securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }],
    },
  };
  assert.deepEqual(ruleIds(run(windows, baseline, "v1.25")), [
    "pss-capabilities-baseline",
    "pss-seccomp-baseline",
  ]);
  assert.deepEqual(run(windows, restricted, "v1.25"), []);
  assert.deepEqual(ruleIds(run(windows, restricted, "v1.24")), [
    "pss-allow-privilege-escalation",
    "pss-capabilities-restricted",
    "pss-seccomp-restricted",
  ]);
  // Before the restricted checks exist (v1.18: no seccomp field check, v1.21: old capabilities
  // check), the baseline ones still run at restricted.
  assert.ok(ruleIds(run(windows, restricted, "v1.21")).includes("pss-capabilities-baseline"));
  // The replacement only happens when the restricted rule is at least as strong.
  const weakRestricted = new RuleSet(
    PSS_RULES.filter((rule) => rule.sets.includes("pss-restricted")),
    new Map([["pss-seccomp-restricted", "warn"]]),
  );
  const linux: KubeObject = restrictedPod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } },
  });
  const findings = run(linux, weakRestricted);
  assert.deepEqual([...new Set(findings.map((finding) => `${finding.rule}:${finding.action}`))].sort(), [
    "pss-seccomp-baseline:deny",
    "pss-seccomp-restricted:warn",
  ]);
});

test("restricted volumes: image volumes allowed, hostPath and volumes of unknown type refused", () => {
  const withVolumes = (volumes: unknown[]): KubeObject => restrictedPod({ volumes });
  assert.deepEqual(run(withVolumes([{ name: "i", image: { reference: "r/x:1" } }]), restricted, "v1.0"), []);
  const hostPath = run(withVolumes([{ name: "h", hostPath: { path: "/" } }]), restricted);
  // At restricted, upstream evaluates restrictedVolumes INSTEAD of hostPathVolumes (OverrideCheckIDs).
  assert.deepEqual(ruleIds(hostPath), ["pss-restricted-volumes"]);
  assert.deepEqual(ruleIds(run(withVolumes([{ name: "h", hostPath: { path: "/" } }]), baseline)), [
    "pss-host-path-volumes",
  ]);
  assert.ok(hostPath.every((finding) => finding.path.join("/") === "spec/volumes/0/hostPath"));
  // A field vakt does not know may be a newer source type: refused like upstream's "unknown".
  const unknown = run(withVolumes([{ name: "u", futureSource: {} }]), restricted);
  assert.deepEqual(ruleIds(unknown), ["pss-restricted-volumes"]);
  assert.deepEqual(unknown[0]?.path, ["spec", "volumes", 0]);
});

test("a volume with no source is the emptyDir the API server defaults it to, at every level and version", () => {
  const sourceless = [{ name: "scratch" }, { name: "nulls", hostPath: null, nfs: null }];
  for (const ruleSet of [baseline, restricted]) {
    for (let minor = 0; minor <= PSS_LATEST_MINOR; minor++) {
      const findings = run(restrictedPod({ volumes: sourceless }), ruleSet, `v1.${minor}`);
      assert.deepEqual(findings, [], `v1.${minor}`);
    }
  }
  // Not a volume the API server could default: still refused, the rule fails closed.
  assert.deepEqual(ruleIds(run(restrictedPod({ volumes: ["scratch"] }), restricted)), [
    "pss-restricted-volumes",
  ]);
});

test("AppArmor: the field and the annotation are both checked, at every version", () => {
  const field = restrictedPod({
    securityContext: {
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
      appArmorProfile: { type: "Unconfined" },
    },
  });
  assert.deepEqual(ruleIds(run(field, baseline, "v1.0")), ["pss-apparmor"]);
  const annotation = restrictedPod(
    {},
    { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } },
  );
  const found = run(annotation, baseline, "v1.30");
  assert.deepEqual(ruleIds(found), ["pss-apparmor"]);
  assert.deepEqual(found[0]?.path, [
    "metadata",
    "annotations",
    "container.apparmor.security.beta.kubernetes.io/app",
  ]);
  const allowed = restrictedPod(
    {},
    { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "localhost/p" } },
  );
  assert.deepEqual(run(allowed, baseline, "v1.30"), []);
});

test("seccomp baseline reads annotations before v1.19 and fields from v1.19", () => {
  const annotated = restrictedPod(
    {},
    { annotations: { "seccomp.security.alpha.kubernetes.io/pod": "unconfined" } },
  );
  assert.deepEqual(ruleIds(run(annotated, baseline, "v1.18")), ["pss-seccomp-baseline"]);
  assert.deepEqual(run(annotated, baseline, "v1.19"), []);
  const unconfined = restrictedPod({
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "Unconfined" } },
  });
  assert.deepEqual(run(unconfined, baseline, "v1.18"), []);
  assert.deepEqual(ruleIds(run(unconfined, baseline, "v1.19")), ["pss-seccomp-baseline"]);
});

test("SELinux container_engine_t is allowed from v1.31", () => {
  const pod = restrictedPod({
    securityContext: {
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
      seLinuxOptions: { type: "container_engine_t" },
    },
  });
  assert.deepEqual(ruleIds(run(pod, baseline, "v1.30")), ["pss-selinux"]);
  assert.deepEqual(run(pod, baseline, "v1.31"), []);
});

test("versions: latest is v1.37, later versions clamp, unparseable settings read as latest", () => {
  assert.equal(pssMinor("latest"), 37);
  assert.equal(pssMinor("v1.0"), 0);
  assert.equal(pssMinor("v1.25"), 25);
  assert.equal(pssMinor("v1.99"), 37);
  assert.equal(pssMinor("1.25"), 37);
  assert.equal(pssMinor("v1.025"), 37);
});

test("objects without a pod template are not judged", () => {
  assert.deepEqual(run({ kind: "ConfigMap", metadata: { name: "c" }, data: {} }, restricted), []);
  assert.deepEqual(run({ kind: "Deployment", metadata: { name: "d" }, spec: {} }, restricted), []);
});

test("an object edited in place between evaluations is judged as it is now", () => {
  const pod = restrictedPod();
  assert.deepEqual(run(pod, restricted), []);
  const spec = pod["spec"] as { containers: Record<string, unknown>[]; ephemeralContainers?: unknown[] };
  spec.ephemeralContainers = [{ name: "debug", image: "x", securityContext: { privileged: true } }];
  const findings = run(pod, restricted);
  assert.ok(findings.some((finding) => finding.rule === "pss-privileged"));
  assert.ok(
    findings.some(
      (finding) =>
        finding.rule === "pss-allow-privilege-escalation" &&
        finding.path.join("/") === "spec/ephemeralContainers/0/securityContext/allowPrivilegeEscalation" &&
        finding.message.includes('ephemeral container "debug"'),
    ),
  );
  spec.ephemeralContainers = [];
  spec.containers[0] = { name: "app", image: "x", securityContext: { allowPrivilegeEscalation: true } };
  assert.deepEqual(ruleIds(run(pod, restricted)), [
    "pss-allow-privilege-escalation",
    "pss-capabilities-restricted",
  ]);
});
