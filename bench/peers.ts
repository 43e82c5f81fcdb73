/**
 * The peers bench/check.ts runs next to `vakt check`: finding their binaries, the one-rule
 * Kyverno policy, and the object-by-object comparison of Kyverno's Pod Security verdicts with
 * vakt's pss-restricted set.
 *
 * Both tools judge the restricted Pod Security Standard as k8s.io/pod-security-admission states
 * it (Kyverno by calling that library, through its fork), so every object with a pod template
 * must get the same pass/fail from both; a disagreement is a bug on one side.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { CorpusWorkload } from "./corpus.ts";

export interface Peer {
  readonly path: string;
  readonly version: string;
}

/**
 * The binary of `name` from $ENV, else built (when missing) by scripts/build-peers.sh; its
 * version from `versionArgs` (the first line of what it prints).
 */
export function findPeer(
  root: string,
  name: "kube-score" | "kyverno",
  env: string,
  versionArgs: readonly string[],
): Peer | { error: string } {
  let path = process.env[env];
  if (path === undefined) {
    const built = spawnSync("bash", [join(root, "scripts", "build-peers.sh"), name], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (built.status !== 0) {
      return { error: `scripts/build-peers.sh ${name} exited ${String(built.status)} (or set $${env})` };
    }
    path = built.stdout.trim().split("\n").pop() ?? "";
  }
  const version = spawnSync(path, versionArgs, { encoding: "utf8" });
  if (version.status !== 0) return { error: `${path} ${versionArgs.join(" ")} failed: ${version.stderr}` };
  return { path, version: version.stdout.trim().split("\n")[0] ?? "" };
}

/** The rule name in the policy below; Kyverno's autogen rules for controllers are derived from it. */
const KYVERNO_RULE = "restricted";

/**
 * A ClusterPolicy with one rule: the restricted Pod Security Standard at the latest version, on
 * Pods and (through Kyverno's autogen) on every pod controller. Written by the bench into its
 * temp dir; Kyverno's own sample policies are not copied.
 */
export const KYVERNO_POLICY = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: pss-restricted
spec:
  background: true
  rules:
    - name: ${KYVERNO_RULE}
      match:
        any:
          - resources:
              kinds: [Pod]
      validate:
        failureAction: Enforce
        podSecurity:
          level: restricted
          version: latest
`;

/** `kyverno apply POLICY --resource F ... --policy-report --output-format json`. */
export function kyvernoApply(kyverno: string, policy: string, files: readonly string[]): string[] {
  return [
    kyverno,
    "apply",
    policy,
    ...files.flatMap((file) => ["--resource", file]),
    "--policy-report",
    "--output-format",
    "json",
  ];
}

/** Pass or fail, and the upstream ids of the failed checks. */
interface Verdict {
  readonly fail: boolean;
  readonly checks: readonly string[];
}

/** Objects are keyed like the API server would store them: no namespace means "default". */
function key(kind: string, namespace: string | null | undefined, name: string): string {
  return `${kind} ${namespace === undefined || namespace === null || namespace === "" ? "default" : namespace}/${name}`;
}

interface KyvernoResult {
  readonly policy?: string;
  readonly rule?: string;
  readonly result?: string;
  readonly message?: string;
  readonly resources?: readonly { kind?: string; namespace?: string; name?: string }[];
  readonly properties?: Readonly<Record<string, string>>;
}

/**
 * Kyverno's verdict per object from its policy report (`--policy-report --output-format json`:
 * a ClusterReport as one JSON line, after any warnings). Results other than pass and fail
 * (skip, error, warn) are returned apart, by object.
 */
export function kyvernoVerdicts(text: string): {
  verdicts: Map<string, Verdict>;
  other: Map<string, string>;
} {
  const reports = text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { kind?: string; results?: readonly KyvernoResult[] });
  if (reports.length === 0) {
    throw new Error(`no policy report in Kyverno's output:\n${text.slice(0, 2000)}`);
  }
  const verdicts = new Map<string, Verdict>();
  const other = new Map<string, string>();
  for (const result of reports.flatMap((report) => report.results ?? [])) {
    for (const resource of result.resources ?? []) {
      const id = key(resource.kind ?? "?", resource.namespace, resource.name ?? "?");
      if (result.result === "pass" || result.result === "fail") {
        const checks = (result.properties?.["controls"] ?? "").split(",").filter((check) => check !== "");
        verdicts.set(id, { fail: result.result === "fail", checks: checks.sort() });
      } else {
        other.set(id, `${result.result ?? "?"} (${result.rule ?? "?"}): ${result.message ?? ""}`);
      }
    }
  }
  return { verdicts, other };
}

interface VaktFinding {
  readonly rule: string;
  readonly kind: string | null;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly suppressed: boolean;
}

/**
 * vakt's verdict per object from `vakt check --select pss-restricted -o json`: fail when an
 * unsuppressed finding names it, with the upstream ids of the checks its rules mirror.
 */
export async function vaktVerdicts(json: string): Promise<{
  failing: Map<string, Verdict>;
  problems: readonly unknown[];
  /** Baseline check id -> the restricted check that replaces it at the restricted level. */
  overridden: ReadonlyMap<string, string>;
}> {
  const { ALL_RULES } = await import("../src/engine/rules/index.ts");
  const upstream = new Map<string, string>();
  for (const rule of ALL_RULES) {
    if ("upstreamId" in rule && typeof rule.upstreamId === "string") upstream.set(rule.id, rule.upstreamId);
  }
  const overridden = new Map<string, string>();
  for (const rule of ALL_RULES) {
    const by = rule.supersededBy === undefined ? undefined : upstream.get(rule.supersededBy.rule);
    const id = upstream.get(rule.id);
    if (by !== undefined && id !== undefined) overridden.set(id, by);
  }
  const report = JSON.parse(json) as {
    findings: readonly VaktFinding[];
    problems?: readonly unknown[];
  };
  const checks = new Map<string, Set<string>>();
  for (const finding of report.findings) {
    if (finding.suppressed || finding.kind === null || finding.name === null) continue;
    const id = key(finding.kind, finding.namespace, finding.name);
    const set = checks.get(id) ?? new Set<string>();
    set.add(upstream.get(finding.rule) ?? finding.rule);
    checks.set(id, set);
  }
  const failing = new Map<string, Verdict>();
  for (const [id, set] of checks) failing.set(id, { fail: true, checks: [...set].sort() });
  return { failing, problems: report.problems ?? [], overridden };
}

export interface Comparison {
  /** Lines of Markdown to print. */
  readonly lines: readonly string[];
  readonly compared: number;
  readonly disagreements: number;
}

/**
 * Both verdicts for every object of the corpus with a pod template. Kyverno must have judged
 * each of them (pass or fail); one it did not judge is listed, not counted as either verdict.
 */
export function compareVerdicts(
  workloads: readonly CorpusWorkload[],
  kyverno: ReturnType<typeof kyvernoVerdicts>,
  vakt: Awaited<ReturnType<typeof vaktVerdicts>>,
): Comparison {
  const kinds = new Map<string, number>();
  const table = { passPass: 0, passFail: 0, failPass: 0, failFail: 0 };
  const disagreements: string[] = [];
  const unjudged: string[] = [];
  const differentChecks: string[] = [];
  let onlyOverridden = 0;
  const expected = new Set<string>();
  const list = (checks: readonly string[]): string => (checks.length === 0 ? "-" : checks.join(", "));
  for (const workload of workloads) {
    const id = key(workload.kind, workload.namespace, workload.name);
    expected.add(id);
    kinds.set(workload.kind, (kinds.get(workload.kind) ?? 0) + 1);
    const theirs = kyverno.verdicts.get(id);
    const ours = vakt.failing.get(id) ?? { fail: false, checks: [] };
    if (theirs === undefined) {
      unjudged.push(
        `- ${id}: Kyverno ${kyverno.other.get(id) ?? "reported nothing"}; vakt ${ours.fail ? "fail" : "pass"}`,
      );
      continue;
    }
    if (theirs.fail) {
      if (ours.fail) table.failFail++;
      else table.failPass++;
    } else if (ours.fail) table.passFail++;
    else table.passPass++;
    const line = `- ${id}: Kyverno ${theirs.fail ? "fail" : "pass"} [${list(theirs.checks)}], vakt ${ours.fail ? "fail" : "pass"} [${list(ours.checks)}]`;
    if (theirs.fail !== ours.fail) disagreements.push(line);
    else if (list(theirs.checks) !== list(ours.checks)) {
      // Kyverno runs every check of the level (pkg/pss evaluatePSS), also the baseline checks
      // that upstream's evaluator skips at restricted because a restricted check replaces them.
      const replaced = (check: string): boolean => theirs.checks.includes(vakt.overridden.get(check) ?? "");
      if (list(theirs.checks.filter((check) => !replaced(check))) === list(ours.checks)) onlyOverridden++;
      else differentChecks.push(line);
    }
  }
  // Objects either side judged that are not pod-template objects of the corpus: a sign the two
  // sides did not cover the same kinds.
  const strays = [...new Set([...kyverno.verdicts.keys(), ...kyverno.other.keys(), ...vakt.failing.keys()])]
    .filter((id) => !expected.has(id))
    .sort();
  const compared = workloads.length - unjudged.length;
  const n = (value: number): string => value.toLocaleString("en");
  const lines: string[] = [
    `Covers the ${n(workloads.length)} objects of the corpus with a pod template (${[...kinds]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, count]) => `${kind} ${n(count)}`)
      .join(
        ", ",
      )}): Kyverno's rule on Pods and its autogen rules on the controllers, vakt's pss-restricted rules on the same objects. Check ids are k8s.io/pod-security-admission's.`,
    "",
    "| | Kyverno pass | Kyverno fail |",
    "|---|---:|---:|",
    `| vakt pass | ${n(table.passPass)} | ${n(table.failPass)} |`,
    `| vakt fail | ${n(table.passFail)} | ${n(table.failFail)} |`,
    "",
  ];
  if (disagreements.length === 0) lines.push(`**${n(0)} disagreements of ${n(compared)}.**`);
  else lines.push(`**${n(disagreements.length)} disagreements of ${n(compared)}:**`, "", ...disagreements);
  if (onlyOverridden > 0) {
    lines.push(
      "",
      `Same verdict, failed checks differing only by baseline checks that Kyverno lists next to the restricted check replacing them upstream (${[
        ...vakt.overridden,
      ]
        .map(([baseline, restricted]) => `${baseline} by ${restricted}`)
        .join(", ")}), which fails too: ${n(onlyOverridden)}`,
    );
  }
  if (differentChecks.length > 0) {
    lines.push(
      "",
      `Same verdict, other differences in failed checks: ${n(differentChecks.length)}`,
      "",
      ...differentChecks,
    );
  }
  if (unjudged.length > 0) {
    lines.push("", `Not judged pass or fail by Kyverno: ${n(unjudged.length)}`, "", ...unjudged);
  }
  if (strays.length > 0) {
    lines.push(
      "",
      `Judged but not a pod-template object of the corpus: ${n(strays.length)}`,
      "",
      ...strays.map((id) => `- ${id}`),
    );
  }
  if (vakt.problems.length > 0) {
    lines.push(
      "",
      `vakt reported ${n(vakt.problems.length)} input problems: ${JSON.stringify(vakt.problems.slice(0, 3))}`,
    );
  }
  return { lines, compared, disagreements: disagreements.length };
}

/**
 * The judge of both: the Kubernetes project's restricted fixtures (k8s.io/pod-security-admission
 * test/testdata, from the Go module cache, as vakt's conformance test reads them) at their newest
 * policy version: Kyverno with `policy` (version latest: its podSecurity accepts v1.19 to v1.32
 * or latest, and applies nothing at all, silently, for another version), vakt at that version.
 * Every file under pass/ must pass and every one under fail/ must fail; prints each verdict
 * that does not.
 */
export async function judgeFixtures(
  kyverno: string,
  policy: string,
  vakt: readonly string[],
  cwd: string,
): Promise<string[]> {
  const { podSecurityFixturesDir } = await import("../src/devcluster/go-modules.ts");
  let root: string;
  try {
    root = join(await podSecurityFixturesDir(), "restricted");
  } catch (error) {
    return [
      `Upstream's fixtures are not available: ${error instanceof Error ? error.message : String(error)}`,
    ];
  }
  const minor = (dir: string): number => Number(/^v1\.(\d+)$/.exec(dir)?.[1] ?? -1);
  const version = readdirSync(root)
    .filter((dir) => minor(dir) >= 0)
    .sort((a, b) => minor(b) - minor(a))[0];
  if (version === undefined) return [`No restricted/v1.N fixtures in ${root}`];
  const wrong: string[] = [];
  let total = 0;
  let kyvernoWrong = 0;
  let vaktWrong = 0;
  for (const expected of ["pass", "fail"] as const) {
    const dir = join(root, version, expected);
    const files = readdirSync(dir)
      .filter((file) => file.endsWith(".yaml"))
      .sort()
      .map((file) => join(dir, file));
    const run = (argv: readonly string[]): string => {
      const [command, ...rest] = argv;
      const child = spawnSync(command ?? "", rest, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      if (child.status !== 0 && child.status !== 1) {
        throw new Error(
          `${argv.slice(0, 3).join(" ")} ... exited ${String(child.status)}: ${child.stderr.slice(0, 2000)}`,
        );
      }
      return child.stdout;
    };
    const theirs = kyvernoVerdicts(run(kyvernoApply(kyverno, policy, files)));
    const ours = await vaktVerdicts(
      run([...vakt, "--select", "pss-restricted", "--pss-version", version, "-o", "json", ...files]),
    );
    for (const file of files) {
      // Each fixture is one Pod named after its file.
      const name = /([^/]+)\.yaml$/.exec(file)?.[1] ?? file;
      const id = key("Pod", undefined, name);
      const k = theirs.verdicts.get(id);
      const v = ours.failing.get(id) ?? { fail: false, checks: [] };
      const kOk = k !== undefined && k.fail === (expected === "fail");
      const vOk = v.fail === (expected === "fail");
      total++;
      if (!kOk) kyvernoWrong++;
      if (!vOk) vaktWrong++;
      if (!kOk || !vOk) {
        const kyvernoSays =
          k === undefined
            ? (theirs.other.get(id) ?? "nothing")
            : `${k.fail ? "fail" : "pass"} [${k.checks.join(", ")}]`;
        wrong.push(
          `- ${version}/${expected}/${name}.yaml: expected ${expected}; Kyverno ${kyvernoSays}; vakt ${v.fail ? "fail" : "pass"} [${v.checks.join(", ")}]`,
        );
      }
    }
  }
  return [
    `${String(total)} fixtures of ${root}/${version} (pass/ and fail/), Kyverno at latest, vakt at ${version}: Kyverno ${String(kyvernoWrong)} wrong, vakt ${String(vaktWrong)} wrong.`,
    ...(wrong.length === 0 ? [] : ["", ...wrong]),
  ];
}
