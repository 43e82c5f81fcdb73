/**
 * End-to-end tests of the `vakt check` contract: exit codes, output formats, configuration
 * discovery, exceptions and input handling, running the real CLI as a child process.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import {
  PRIVILEGED_POD,
  parseJsonReport,
  removeDir,
  rulesOf,
  runVakt,
  IN_A_MONTH,
  tempDir,
  writeFiles,
} from "./helpers.ts";
import type { JsonReport } from "./helpers.ts";

const CONFIG = `apiVersion: vakt.dev/v1alpha1
kind: VaktConfiguration
spec:
  registries: [registry.example.com]
`;

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
`;

/** A Deployment that passes every rule (with registry.example.com trusted). */
function deployment(options: { image?: string; probes?: boolean } = {}): string {
  const probes =
    options.probes === false
      ? ""
      : `          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: ${options.image ?? "registry.example.com/acme/app:1.2.3"}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
${probes}`;
}

const PDB_AND_POLICY = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      app: web
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`;

function compliantSet(options: { image?: string; probes?: boolean } = {}): string {
  return `${NAMESPACE}---\n${deployment(options)}---\n${PDB_AND_POLICY}`;
}

const PRIVILEGED_LINE = 12;

function exception(name: string, spec: string): string {
  return `apiVersion: vakt.dev/v1alpha1
kind: PolicyException
metadata:
  name: ${name}
  namespace: shop
spec:
${spec}`;
}

const EXCEPTION_SPEC = (expires: string, justification = true): string =>
  `  rules: [pss-privileged]
  match:
    kinds: [Pod]
    namespaces: ["sh*"]
    names: [debug]
${justification ? '  justification: "debug pod on an isolated node pool, reviewed weekly"\n' : ""}  approvedBy: ciso@example.com
  expires: "${expires}"
`;

const FINDING_KEYS: Readonly<Record<string, string>> = {
  rule: "string",
  action: "string",
  file: "string",
  line: "number",
  kind: "string",
  name: "string",
  namespace: "string",
  message: "string",
  suppressed: "boolean",
};

/** Checks every finding against the JSON contract; returns the report. */
function assertContract(report: JsonReport): JsonReport {
  for (const finding of report.findings) {
    for (const [key, type] of Object.entries(FINDING_KEYS)) {
      assert.equal(typeof finding[key], type, `finding.${key} in ${JSON.stringify(finding)}`);
    }
    assert.ok(
      ["deny", "warn", "audit"].includes(String(finding["action"])),
      `action ${String(finding["action"])}`,
    );
    const controls = finding["controls"];
    assert.ok(Array.isArray(controls), "controls is an array");
    assert.ok(
      controls.every((control) => typeof control === "string"),
      "controls are strings",
    );
    const line = finding["line"];
    assert.ok(typeof line === "number" && Number.isInteger(line) && line >= 1, `line ${String(line)}`);
    assert.equal(
      finding["exception"] !== undefined,
      finding["suppressed"] === true,
      "exception iff suppressed",
    );
  }
  return report;
}

function findingsOf(report: JsonReport, rule: string): Record<string, unknown>[] {
  return report.findings.filter((finding) => finding["rule"] === rule);
}

/** Rule ids per set, from `vakt rules -o json`. */
async function ruleSets(): Promise<Map<string, Set<string>>> {
  const result = await runVakt(["rules", "-o", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const rules = JSON.parse(result.stdout) as { id: string; sets: string[] }[];
  const sets = new Map<string, Set<string>>();
  for (const rule of rules) {
    for (const set of rule.sets) {
      let ids = sets.get(set);
      if (ids === undefined) sets.set(set, (ids = new Set()));
      ids.add(rule.id);
    }
  }
  return sets;
}

describe("vakt check", { concurrency: true }, () => {
  let dir = "";
  let files: Record<string, string> = {};
  const file = (name: string): string => {
    const path = files[name];
    if (path === undefined) throw new Error(`no fixture ${name}`);
    return path;
  };

  before(async () => {
    dir = await tempDir();
    files = await writeFiles(dir, {
      "vakt.yaml": CONFIG,
      "compliant.yaml": compliantSet(),
      "warn-only.yaml": compliantSet({ probes: false }),
      "latest.yaml": compliantSet({ image: "registry.example.com/acme/app:latest" }),
      "privileged.yaml": PRIVILEGED_POD,
      "exception.yaml": exception("allow-debug", EXCEPTION_SPEC(IN_A_MONTH)),
      "expired.yaml": exception("old-debug", EXCEPTION_SPEC("2020-01-31")),
      "unjustified.yaml": exception("lazy-debug", EXCEPTION_SPEC(IN_A_MONTH, false)),
      "broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n  namespace: shop\n",
      "notes.yaml": "# just some settings\nfoo: bar\nlist: [1, 2]\n",
      "image-tag-off.yaml": `${CONFIG}  rules:\n    image-tag: off\n`,
      "bad-config.yaml": `${CONFIG}  colour: red\n  failOn: never\n  rules:\n    image-tg: warn\n`,
    });
  });

  after(async () => {
    await removeDir(dir);
  });

  it("exits 0 on a compliant set, with ./vakt.yaml discovered from the working directory", async () => {
    // A directory whose vakt.yaml trusts another registry only: discovered, it fails the set.
    const strict = join(dir, "strict");
    await mkdir(strict);
    await writeFiles(strict, { "vakt.yaml": CONFIG.replace("registry.example.com", "other.example.com") });
    const [withConfig, explicit, discovered] = await Promise.all([
      runVakt(["check", "compliant.yaml"], { cwd: dir }),
      runVakt(["check", file("compliant.yaml"), "-c", file("vakt.yaml"), "-o", "json", "--fail-on", "audit"]),
      runVakt(["check", file("compliant.yaml"), "-o", "json"], { cwd: strict }),
    ]);
    assert.equal(withConfig.code, 0, withConfig.stdout + withConfig.stderr);
    assert.match(withConfig.stdout, /Checked 4 objects in 1 file .*: 0 deny, 0 warn, 0 audit/);
    assert.equal(withConfig.stderr, "");

    assert.equal(explicit.code, 0, explicit.stdout + explicit.stderr);
    const clean = assertContract(parseJsonReport(explicit.stdout));
    assert.deepEqual(clean.findings, []);
    assert.deepEqual(clean.problems, []);
    assert.equal(clean.summary["objects"], 4);

    assert.equal(discovered.code, 1, discovered.stderr);
    const [untrusted, ...others] = assertContract(parseJsonReport(discovered.stdout)).findings;
    assert.deepEqual(others, []);
    assert.equal(untrusted?.["rule"], "trusted-registry");
    assert.match(String(untrusted["message"]), /allowed: other\.example\.com/);
  });

  it("exits 1 on a privileged pod and names file:line of the privileged field", async () => {
    const result = await runVakt(["check", "privileged.yaml"], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    const line = result.stdout.split("\n").find((text) => text.includes(" pss-privileged "));
    assert.ok(line !== undefined, result.stdout);
    assert.match(
      line,
      new RegExp(`^privileged\\.yaml:${PRIVILEGED_LINE}:9\\s+DENY\\s+pss-privileged\\s+Pod/shop/debug`),
    );
    assert.match(result.stdout, /field: spec\.containers\[0\]\.securityContext\.privileged/);
  });

  it("exits 2 on a file that does not exist, naming it, and still checks the other inputs", async () => {
    const missing = join(dir, "no-such-dir", "missing.yaml");
    const result = await runVakt(["check", missing, file("privileged.yaml")]);
    assert.equal(result.code, 2);
    const problemLine = result.stdout.split("\n").find((line) => line.includes(" ERROR "));
    assert.equal(
      problemLine,
      `${missing}  ERROR  cannot read ${missing}: no such file or directory (ENOENT)`,
    );
    assert.match(result.stdout, /privileged\.yaml:\d+:\d+\s+DENY\s+pss-privileged/);
    assert.match(result.stdout, /1 input error/);
  });

  it("exits 2 on usage errors, with a message on stderr and nothing on stdout", async () => {
    const cases: [string[], RegExp][] = [
      [["--output", "bogus"], /--output must be one of text, json, sarif, junit, got "bogus"/],
      [
        ["--select", "unknown-rule"],
        /unknown rule or set "unknown-rule"; list rules with `vakt rules`, sets are .*pss-baseline/,
      ],
      [["--fail-on", "bogus"], /--fail-on must be deny, warn or audit, got "bogus"/],
      [["--pss-version", "v9.9"], /--pss-version must be "latest" or v1\.0 \.\. v1\.37, got "v9\.9"/],
      [["--no-such-flag"], /unknown option '--no-such-flag'/],
    ];
    const results = await Promise.all(
      cases.map(([flags]) => runVakt(["check", file("privileged.yaml"), ...flags])),
    );
    results.forEach((result, index) => {
      const [flags, message] = cases[index] ?? [[], /^$/];
      assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message, flags.join(" "));
      assert.equal(result.stdout, "", flags.join(" "));
    });
    const noInput = await runVakt(["check"]);
    assert.equal(noInput.code, 2);
    assert.match(noInput.stderr, /missing required argument 'inputs'/);
  });

  it("reads YAML and JSON from stdin with -", async () => {
    const podJson = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "from-json", namespace: "shop" },
      spec: {
        containers: [{ name: "c", image: "registry.example.com/x:1", securityContext: { privileged: true } }],
      },
    });
    const [yaml, json] = await Promise.all([
      runVakt(["check", "-", "-o", "json"], { input: PRIVILEGED_POD }),
      runVakt(["check", "-", "-o", "json", "--select", "pss-privileged"], { input: podJson }),
    ]);
    assert.equal(yaml.code, 1, yaml.stderr);
    const [privileged] = findingsOf(assertContract(parseJsonReport(yaml.stdout)), "pss-privileged");
    assert.equal(privileged?.["file"], "-");
    assert.equal(privileged["line"], PRIVILEGED_LINE);
    assert.equal(privileged["name"], "debug");

    assert.equal(json.code, 1, json.stderr);
    const [fromJson, ...others] = assertContract(parseJsonReport(json.stdout)).findings;
    assert.deepEqual(others, []);
    assert.equal(fromJson?.["name"], "from-json");
    assert.equal(fromJson["line"], 1);
  });

  it("writes the JSON contract: every finding located and attributed", async () => {
    const result = await runVakt(["check", file("privileged.yaml"), file("latest.yaml"), "-o", "json"], {
      cwd: dir,
    });
    assert.equal(result.code, 1, result.stderr);
    const report = assertContract(parseJsonReport(result.stdout));
    assert.equal(report.version, 1);
    assert.ok(report.findings.length >= 2);
    const [privileged] = findingsOf(report, "pss-privileged");
    assert.deepEqual(
      {
        action: privileged?.["action"],
        file: privileged?.["file"],
        line: privileged?.["line"],
        kind: privileged?.["kind"],
        name: privileged?.["name"],
        namespace: privileged?.["namespace"],
        suppressed: privileged?.["suppressed"],
      },
      {
        action: "deny",
        file: file("privileged.yaml"),
        line: PRIVILEGED_LINE,
        kind: "Pod",
        name: "debug",
        namespace: "shop",
        suppressed: false,
      },
    );
    assert.match(String(privileged?.["message"]), /privileged/);
    assert.ok((privileged?.["controls"] as unknown[]).length > 0);
    const [tag] = findingsOf(report, "image-tag");
    assert.equal(tag?.["file"], file("latest.yaml"));
    assert.equal(tag["kind"], "Deployment");
    assert.equal(tag["line"], 30, "the image line of the Deployment (document 2)");
    assert.deepEqual(
      rulesOf(report, (finding) => finding["file"] === file("latest.yaml")),
      ["image-tag"],
    );
  });

  it("--select pss-baseline and pss-restricted run exactly the PSS rules of those sets", async () => {
    const [sets, baseline, restricted] = await Promise.all([
      ruleSets(),
      // --select before the inputs must not swallow them.
      runVakt(["check", "--select", "pss-baseline", file("privileged.yaml"), "-o", "json"]),
      runVakt(["check", file("privileged.yaml"), "-o", "json", "--select", "pss-restricted"]),
    ]);
    const baselineIds = sets.get("pss-baseline") ?? new Set<string>();
    const restrictedIds = sets.get("pss-restricted") ?? new Set<string>();
    const pssIds = new Set([...sets].flatMap(([, ids]) => [...ids]).filter((id) => id.startsWith("pss-")));
    assert.deepEqual([...restrictedIds].sort(), [...pssIds].sort(), "pss-restricted holds every PSS rule");
    assert.ok(
      [...baselineIds].every((id) => restrictedIds.has(id)),
      "pss-baseline ⊂ pss-restricted",
    );
    assert.ok(baselineIds.size > 0 && baselineIds.size < restrictedIds.size);
    for (const platform of sets.get("platform") ?? []) {
      assert.ok(!restrictedIds.has(platform), `platform rule ${platform} is not in pss-restricted`);
    }

    assert.equal(baseline.code, 1, baseline.stderr);
    const baselineReport = assertContract(parseJsonReport(baseline.stdout));
    assert.equal(baselineReport.summary["rules"], baselineIds.size);
    assert.deepEqual(rulesOf(baselineReport), ["pss-privileged"]);

    assert.equal(restricted.code, 1, restricted.stderr);
    const restrictedReport = assertContract(parseJsonReport(restricted.stdout));
    assert.equal(restrictedReport.summary["rules"], restrictedIds.size);
    const restrictedRules = rulesOf(restrictedReport);
    assert.ok(
      restrictedRules.every((id) => restrictedIds.has(id)),
      restrictedRules.join(", "),
    );
    assert.ok(
      restrictedRules.some((id) => !baselineIds.has(id)),
      "restricted-only checks run",
    );
  });

  it("--fail-on warn turns a warn-only input into exit 1", async () => {
    const [byDefault, failOnWarn] = await Promise.all([
      runVakt(["check", "warn-only.yaml", "-o", "json"], { cwd: dir }),
      runVakt(["check", "warn-only.yaml", "--fail-on", "warn"], { cwd: dir }),
    ]);
    assert.equal(byDefault.code, 0, byDefault.stderr);
    const report = assertContract(parseJsonReport(byDefault.stdout));
    assert.ok(report.findings.length > 0);
    assert.deepEqual([...new Set(report.findings.map((finding) => finding["action"]))], ["warn"]);
    assert.equal(failOnWarn.code, 1, failOnWarn.stderr);
  });

  it("writes SARIF with located results and JUnit XML", async () => {
    const [sarif, junit] = await Promise.all([
      runVakt(["check", "privileged.yaml", "-o", "sarif"], { cwd: dir }),
      runVakt(["check", "privileged.yaml", "compliant.yaml", "-o", "junit"], { cwd: dir }),
    ]);
    assert.equal(sarif.code, 1, sarif.stderr);
    const log = JSON.parse(sarif.stdout) as {
      version: string;
      runs: {
        results: {
          ruleId: string;
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
          }[];
        }[];
      }[];
    };
    assert.equal(log.version, "2.1.0");
    const results = log.runs[0]?.results ?? [];
    assert.ok(results.length > 0);
    for (const result of results) {
      const location = result.locations[0]?.physicalLocation;
      assert.equal(location?.artifactLocation.uri, "privileged.yaml");
      assert.ok(Number.isInteger(location.region.startLine) && location.region.startLine >= 1);
    }
    const privileged = results.find((result) => result.ruleId === "pss-privileged");
    assert.equal(privileged?.locations[0]?.physicalLocation.region.startLine, PRIVILEGED_LINE);

    assert.equal(junit.code, 1, junit.stderr);
    assert.ok(junit.stdout.startsWith("<?xml"), junit.stdout.slice(0, 100));
    assert.match(junit.stdout, /<testsuites[^>]* failures="[1-9]/);
    assert.match(junit.stdout, /<testcase[^>]*name="Deployment\/shop\/web"/, "clean objects are listed too");
    assert.match(junit.stdout, /pss-privileged/);
  });

  it("a PolicyException suppresses the finding it covers; an expired one does not and is reported", async () => {
    const args = (exceptionFile: string): string[] => [
      "check",
      "privileged.yaml",
      exceptionFile,
      "-o",
      "json",
      "--select",
      "pss-baseline",
      "--select",
      "governance",
    ];
    const [active, expired, unjustified] = await Promise.all([
      runVakt(args("exception.yaml"), { cwd: dir }),
      runVakt(args("expired.yaml"), { cwd: dir }),
      runVakt(args("unjustified.yaml"), { cwd: dir }),
    ]);
    assert.equal(active.code, 0, active.stdout + active.stderr);
    const activeReport = assertContract(parseJsonReport(active.stdout));
    const [suppressed, ...others] = activeReport.findings;
    assert.deepEqual(others, []);
    assert.equal(suppressed?.["rule"], "pss-privileged");
    assert.equal(suppressed["suppressed"], true);
    assert.equal(suppressed["exception"], "allow-debug");
    assert.equal(activeReport.summary["suppressed"], 1);

    assert.equal(expired.code, 1, expired.stderr);
    const expiredReport = assertContract(parseJsonReport(expired.stdout));
    assert.deepEqual(rulesOf(expiredReport), ["exception-expired", "pss-privileged"]);
    assert.equal(findingsOf(expiredReport, "pss-privileged")[0]?.["suppressed"], false);
    const [expiry] = findingsOf(expiredReport, "exception-expired");
    assert.equal(expiry?.["name"], "old-debug");
    assert.equal(expiry["line"], 14, "the spec.expires line");
    assert.match(String(expiry["message"]), /expired on 2020-01-31/);

    assert.equal(unjustified.code, 1, unjustified.stderr);
    const unjustifiedReport = assertContract(parseJsonReport(unjustified.stdout));
    assert.deepEqual(rulesOf(unjustifiedReport), ["exception-invalid", "pss-privileged"]);
    assert.equal(findingsOf(unjustifiedReport, "pss-privileged")[0]?.["suppressed"], false);
    assert.match(
      String(findingsOf(unjustifiedReport, "exception-invalid")[0]?.["message"]),
      /justification is required/,
    );
  });

  it("a vakt.yaml rule set to off removes that rule's findings", async () => {
    const [on, off] = await Promise.all([
      runVakt(["check", "latest.yaml", "-o", "json"], { cwd: dir }),
      runVakt(["check", "latest.yaml", "-o", "json", "-c", "image-tag-off.yaml"], { cwd: dir }),
    ]);
    assert.equal(on.code, 1);
    assert.deepEqual(rulesOf(assertContract(parseJsonReport(on.stdout))), ["image-tag"]);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(assertContract(parseJsonReport(off.stdout)).findings, []);
  });

  it("rejects an invalid vakt.yaml with exit 2, naming file:line and suggesting the rule id", async () => {
    const badDir = join(dir, "bad-config");
    await mkdir(badDir);
    await writeFiles(badDir, {
      "vakt.yaml": `${CONFIG}  colour: red\n  failOn: never\n  rules:\n    image-tg: warn\n`,
    });
    const [explicit, discovered] = await Promise.all([
      runVakt(["check", "compliant.yaml", "-c", "bad-config.yaml"], { cwd: dir }),
      runVakt(["check", file("compliant.yaml")], { cwd: badDir }),
    ]);
    assert.equal(explicit.code, 2);
    assert.equal(explicit.stdout, "");
    assert.match(explicit.stderr, /bad-config\.yaml:5:3: spec\.colour is not a configuration field/);
    assert.match(explicit.stderr, /bad-config\.yaml:6:11: spec\.failOn must be one of deny, warn, audit/);
    assert.match(
      explicit.stderr,
      /bad-config\.yaml:8:5: spec\.rules\.image-tg is not a known rule; did you mean "image-tag"\?/,
    );
    assert.equal(discovered.code, 2);
    assert.match(discovered.stderr, /^vakt: invalid configuration:\nvakt\.yaml:5:3: /);

    const missing = await runVakt(["check", "compliant.yaml", "-c", "nope.yaml"], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the configuration nope\.yaml/);
  });

  it("reports a parse error with its position and still checks the other file", async () => {
    const result = await runVakt(["check", "broken.yaml", "privileged.yaml", "-o", "json"], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    const report = assertContract(parseJsonReport(result.stdout));
    const [problem, ...more] = report.problems;
    assert.deepEqual(more, []);
    assert.equal(problem?.["file"], "broken.yaml");
    assert.equal(problem["level"], "error");
    assert.equal(typeof problem["line"], "number");
    assert.ok(Number(problem["line"]) >= 4, `line ${String(problem["line"])}`);
    assert.equal(findingsOf(report, "pss-privileged")[0]?.["file"], "privileged.yaml");
    assert.ok(report.findings.every((finding) => finding["file"] === "privileged.yaml"));
  });

  it("checks the items of a kind: List and every document of helm-template output", async () => {
    const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: listed, namespace: shop}
    spec:
      containers:
        - name: c
          image: registry.example.com/x:1
          securityContext: {privileged: true}
`;
    const helm = `---
# Source: chart/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: templated
  namespace: shop
spec:
  hostNetwork: true
  containers:
    - name: c
      image: registry.example.com/x:1
---
# Source: chart/templates/empty.yaml
---
# Source: chart/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  key: value
`;
    const paths = await writeFiles(dir, { "list.yaml": list, "helm.yaml": helm });
    const result = await runVakt([
      "check",
      paths["list.yaml"] ?? "",
      paths["helm.yaml"] ?? "",
      "-o",
      "json",
      "--select",
      "pss-baseline,default-namespace",
    ]);
    assert.equal(result.code, 1, result.stderr);
    const report = assertContract(parseJsonReport(result.stdout));
    assert.deepEqual(report.problems, []);
    assert.equal(report.summary["objects"], 3);
    const located = report.findings.map((finding) => [finding["rule"], finding["name"], finding["line"]]);
    assert.deepEqual(located, [
      ["pss-privileged", "listed", 11],
      ["pss-host-namespaces", "templated", 9],
      ["default-namespace", "settings", 21],
    ]);
  });

  it("notes a non-Kubernetes YAML document without failing", async () => {
    const result = await runVakt(["check", "notes.yaml", "compliant.yaml", "-o", "json"], { cwd: dir });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = assertContract(parseJsonReport(result.stdout));
    assert.deepEqual(
      report.problems.map((problem) => [problem["file"], problem["level"], problem["line"]]),
      [["notes.yaml", "note", 2]],
    );
    assert.match(
      String(report.problems[0]?.["message"]),
      /document 1 has no apiVersion\/kind; not a Kubernetes object/,
    );
    assert.equal(report.summary["objects"], 4);
  });
});
