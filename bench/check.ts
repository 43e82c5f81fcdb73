/**
 * Benchmark of `vakt check` against its peers, kube-score and the Kyverno CLI, on the same
 * generated corpus, in the same run.
 *
 *   node bench/check.ts [--objects N] [--files N] [--runs N] [--cpu N] [--built] [--no-peer] [--keep]
 *
 * (Node >= 24: `node_modules/.bin/node bench/check.ts` when the system node is older.)
 *
 * Every measured command runs in a fresh child process pinned to one core (`taskset -c CPU`,
 * default core 1), wrapped in `/usr/bin/time -f "%e %M"` for peak RSS; wall time is taken around
 * the child. Reports the median of --runs (default 3). vakt's exit code 1 means findings and is
 * not a failure; kube-score exits 1 on critical findings, and Kyverno on policy violations, likewise.
 *
 * Kyverno runs one ClusterPolicy with one rule (validate.podSecurity, restricted, latest; see
 * bench/peers.ts), next to `vakt check --select pss-restricted` (the same standard) and vakt's
 * full rule set. Their verdicts are then compared object by object: every object with a pod
 * template must pass or fail alike, and every disagreement is printed.
 *
 * Also measured, in a pinned child as well: the phases of `vakt check` in-process (parse,
 * engine over pre-parsed objects, source positions for the findings, rendering), and the start
 * of the CLI on a single tiny file.
 *
 * The peers are built from their Go modules by scripts/build-peers.sh (run here when missing),
 * or taken from $KUBE_SCORE and $KYVERNO.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeCorpus, writeCorpus } from "./corpus.ts";
import {
  compareVerdicts,
  findPeer,
  judgeFixtures,
  KYVERNO_POLICY,
  kyvernoApply,
  kyvernoVerdicts,
  vaktVerdicts,
} from "./peers.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);

interface Options {
  readonly objects: number;
  readonly files: number;
  readonly runs: number;
  readonly cpu: number;
  readonly built: boolean;
  readonly peer: boolean;
  readonly keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const args = [...argv];
  const number = (name: string, fallback: number, min: number): number => {
    const at = args.indexOf(name);
    if (at === -1) return fallback;
    const value = Number(args[at + 1]);
    args.splice(at, 2);
    if (!Number.isInteger(value) || value < min) throw new Error(`${name} needs an integer >= ${min}`);
    return value;
  };
  const flag = (name: string): boolean => {
    const at = args.indexOf(name);
    if (at !== -1) args.splice(at, 1);
    return at !== -1;
  };
  const options: Options = {
    objects: number("--objects", 10_000, 1),
    files: number("--files", 20, 1),
    runs: number("--runs", 3, 1),
    cpu: number("--cpu", Number(process.env["VAKT_BENCH_CPU"] ?? 1), 0),
    built: flag("--built"),
    peer: !flag("--no-peer"),
    keep: flag("--keep"),
  };
  if (args.length > 0) throw new Error(`unknown arguments: ${args.join(" ")}`);
  return options;
}

// ---------------------------------------------------------------------------------------------
// Child-process measurements

interface Sample {
  readonly seconds: number;
  /** User + system CPU seconds: less sensitive than wall time to other load on the machine. */
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

interface Measured {
  readonly samples: readonly Sample[];
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] ?? NaN;
  return ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

function requireTool(path: string, hint: string): void {
  const found = spawnSync("sh", ["-c", `command -v ${path}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${path} is needed (${hint})`);
}

/**
 * Runs `argv` pinned to one core under /usr/bin/time, `runs` times; stdout goes to /dev/null, or
 * to `stdoutFile` (rewritten by each run) when the output is read afterwards.
 */
function measure(
  argv: readonly string[],
  options: Options,
  cwd: string,
  runs = options.runs,
  stdoutFile?: string,
): Measured {
  const [command, ...rest] = argv;
  if (command === undefined) throw new Error("empty command");
  const timeFile = join(cwd, ".time");
  const samples: Sample[] = [];
  for (let run = 0; run < runs; run++) {
    const out = stdoutFile === undefined ? "ignore" : openSync(stdoutFile, "w");
    const start = performance.now();
    const child = spawnSync(
      "/usr/bin/time",
      ["-o", timeFile, "-f", "%e %M %U %S", "taskset", "-c", String(options.cpu), command, ...rest],
      { cwd, stdio: ["ignore", out, "pipe"], maxBuffer: 64 * 1024 * 1024 },
    );
    const seconds = (performance.now() - start) / 1000;
    if (typeof out === "number") closeSync(out);
    // /usr/bin/time writes "Command exited with non-zero status N" before the format line.
    const lines = readFileSync(timeFile, "utf8").trim().split("\n");
    const [, rssKb, user, system] = (lines[lines.length - 1] ?? "").split(" ");
    if (child.status !== 0 && child.status !== 1) {
      throw new Error(
        `${argv.join(" ")} exited ${String(child.status)}:\n${child.stderr.toString().slice(0, 2000)}`,
      );
    }
    samples.push({ seconds, cpuSeconds: Number(user) + Number(system), rssMb: Number(rssKb) / 1024 });
  }
  rmSync(timeFile, { force: true });
  return {
    samples,
    seconds: median(samples.map((sample) => sample.seconds)),
    cpuSeconds: median(samples.map((sample) => sample.cpuSeconds)),
    rssMb: median(samples.map((sample) => sample.rssMb)),
  };
}

// ---------------------------------------------------------------------------------------------
// In-process phases (run in a pinned child: `node bench/check.ts --phases CONFIG FILE...`)

interface Phases {
  readonly rules: number;
  readonly objects: number;
  readonly findings: number;
  readonly documentsWithFindings: number;
  readonly parseSeconds: number;
  readonly contextSeconds: number;
  readonly engineSeconds: number;
  readonly locateSeconds: number;
  readonly runCheckSeconds: number;
  readonly renderJsonSeconds: number;
  readonly renderTextSeconds: number;
}

async function phases(config: string, files: readonly string[]): Promise<Phases> {
  const { loadManifests } = await import("../src/inputs/manifests.ts");
  const { exceptionMatcher } = await import("../src/engine/exceptions.ts");
  const { RuleSet, evaluateObject } = await import("../src/engine/evaluate.ts");
  const { listInventory } = await import("../src/engine/rules/util/inventory.ts");
  const { ALL_RULES } = await import("../src/engine/rules/index.ts");
  const { parseConfig, engineSettings } = await import("../src/config/vakt-config.ts");
  const { runCheck } = await import("../src/check/run.ts");
  const { render } = await import("../src/outputs/index.ts");
  type LoadedObject = import("../src/inputs/manifests.ts").LoadedObject;
  type Finding = import("../src/engine/types.ts").Finding;

  const vaktConfig = parseConfig(
    readFileSync(config, "utf8"),
    config,
    new Set(ALL_RULES.map((rule) => rule.id)),
  );
  const settings = engineSettings(vaktConfig, new Date());

  // Parse: read, split and parse every document (fast path recording positions, js-yaml fallback).
  let start = performance.now();
  const loaded: LoadedObject[] = [];
  for await (const event of loadManifests(files, {})) {
    if (event.type === "object") loaded.push(event);
    else if (event.type === "problem") throw new Error(`input problem: ${event.problem.message}`);
  }
  const parseSeconds = (performance.now() - start) / 1000;

  start = performance.now();
  const objects = loaded.map((entry) => entry.object);
  const now = new Date();
  const context = {
    settings: { ...settings, now },
    inventory: listInventory(objects, false),
    exceptions: exceptionMatcher(objects, ALL_RULES, now),
  };
  const ruleSet = new RuleSet(ALL_RULES, vaktConfig.rules);
  const contextSeconds = (performance.now() - start) / 1000;

  // Engine: every rule on every pre-parsed object; the first pass warms up, then the median of 3.
  const engineTimes: number[] = [];
  let found: { entry: LoadedObject; findings: Finding[] }[] = [];
  for (let pass = 0; pass < 4; pass++) {
    start = performance.now();
    const results: { entry: LoadedObject; findings: Finding[] }[] = [];
    for (const entry of loaded) {
      const findings = evaluateObject(entry.object, ruleSet, context);
      if (findings.length > 0) results.push({ entry, findings });
    }
    if (pass > 0) engineTimes.push((performance.now() - start) / 1000);
    found = results;
  }

  // Positions: locate every finding (against the index recorded while parsing, where there is one).
  start = performance.now();
  let findings = 0;
  const documents = new Set<string>();
  for (const { entry, findings: list } of found) {
    documents.add(`${entry.file}#${String(entry.documentIndex)}`);
    for (const finding of list) {
      entry.locate(finding.path);
      findings++;
    }
  }
  const locateSeconds = (performance.now() - start) / 1000;
  loaded.length = 0;

  // The whole of runCheck as the CLI calls it, then the renderers on its report.
  start = performance.now();
  const report = await runCheck(files, {
    rules: ALL_RULES,
    allRules: ALL_RULES,
    actions: vaktConfig.rules,
    settings,
  });
  const runCheckSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  render(report, "json");
  const renderJsonSeconds = (performance.now() - start) / 1000;
  start = performance.now();
  render(report, "text", { color: false });
  const renderTextSeconds = (performance.now() - start) / 1000;

  return {
    rules: ALL_RULES.length,
    objects: objects.length,
    findings,
    documentsWithFindings: documents.size,
    parseSeconds,
    contextSeconds,
    engineSeconds: median(engineTimes),
    locateSeconds,
    runCheckSeconds,
    renderJsonSeconds,
    renderTextSeconds,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const TINY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: tiny
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: tiny}
  template:
    metadata:
      labels: {app: tiny}
    spec:
      containers:
        - name: app
          image: registry.example.com/shop/tiny:1.0.0
`;

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return match?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  } catch {
    return cpus()[0]?.model ?? "unknown";
  }
}

const rate = (objects: number, seconds: number): string => Math.round(objects / seconds).toLocaleString("en");
const s = (seconds: number, digits = 2): string => seconds.toFixed(digits);
const mb = (value: number): string => value.toFixed(0);
const runsOf = (measured: Measured): string =>
  measured.samples.map((sample) => s(sample.seconds)).join(" / ");

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  requireTool("taskset", "util-linux");
  requireTool("/usr/bin/time", "GNU time: apt-get install time");
  const began = performance.now();
  const load = loadavg();

  const dir = mkdtempSync(join(tmpdir(), "vakt-bench-"));
  try {
    const corpus = writeCorpus(dir, { objects: options.objects, files: options.files });
    const tiny = join(dir, "tiny.yaml");
    writeFileSync(tiny, TINY);
    const node = process.execPath;
    const entry = options.built ? join(ROOT, "bin", "vakt.js") : join(ROOT, "src", "cli", "main.ts");
    if (options.built && !existsSync(join(ROOT, "dist", "cli", "main.js"))) {
      throw new Error("--built needs `npm run build` first");
    }
    const vakt = [node, entry, "check", "-c", corpus.config];

    console.log(`# vakt check benchmark`);
    console.log(
      `machine: ${String(cpus().length)} cores, ${cpuModel()}; node ${process.version}; pinned to core ${String(options.cpu)}; load average before: ${load.map((value) => value.toFixed(2)).join(", ")}`,
    );
    console.log(`corpus: ${describeCorpus(corpus)}`);
    console.log(`vakt entry: ${entry.slice(ROOT.length + 1)}`);
    const skipped = { error: "skipped (--no-peer)" };
    const peer = options.peer ? findPeer(ROOT, "kube-score", "KUBE_SCORE", ["version"]) : skipped;
    console.log(`peer: ${"path" in peer ? `${peer.version} (${peer.path})` : peer.error}`);
    const kyverno = options.peer ? findPeer(ROOT, "kyverno", "KYVERNO", ["version"]) : skipped;
    console.log(
      `peer: Kyverno CLI ${"path" in kyverno ? `${kyverno.version} (${kyverno.path})` : kyverno.error}`,
    );
    console.log("");

    const n = corpus.objects;
    const json = measure([...vakt, "-o", "json", ...corpus.files], options, dir);
    const text = measure([...vakt, "-o", "text", ...corpus.files], options, dir, 1);
    const peerRun =
      "path" in peer
        ? measure([peer.path, "score", "--output-format", "ci", ...corpus.files], options, dir)
        : undefined;
    // The restricted Pod Security Standard alone, in both tools; their outputs are kept for the
    // comparison of verdicts (written to a file by every run, the same for both).
    const policy = join(dir, "kyverno-pss-restricted.yaml");
    writeFileSync(policy, KYVERNO_POLICY);
    const vaktPssOut = join(dir, "vakt-pss-restricted.json");
    const pss = measure(
      [...vakt, "--select", "pss-restricted", "-o", "json", ...corpus.files],
      options,
      dir,
      options.runs,
      vaktPssOut,
    );
    const kyvernoOut = join(dir, "kyverno-report.json");
    const kyvernoRun =
      "path" in kyverno
        ? measure(kyvernoApply(kyverno.path, policy, corpus.files), options, dir, options.runs, kyvernoOut)
        : undefined;

    const phaseRun = spawnSync(
      "taskset",
      ["-c", String(options.cpu), node, SELF, "--phases", corpus.config, ...corpus.files],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * 1024 * 1024 },
    );
    if (phaseRun.status !== 0) throw new Error(`phases child exited ${String(phaseRun.status)}`);
    const p = JSON.parse(phaseRun.stdout) as Phases;

    const startupRuns = Math.max(options.runs, 5);
    const startVakt = measure([...vakt, "-o", "json", tiny], options, dir, startupRuns);
    const builtEntry = join(ROOT, "bin", "vakt.js");
    const startBuilt =
      !options.built && existsSync(join(ROOT, "dist", "cli", "main.js"))
        ? measure(
            [node, builtEntry, "check", "-c", corpus.config, "-o", "json", tiny],
            options,
            dir,
            startupRuns,
          )
        : undefined;
    const startNode = measure([node, "-e", "0"], options, dir, startupRuns);
    const startPeer =
      "path" in peer
        ? measure([peer.path, "score", "--output-format", "ci", tiny], options, dir, startupRuns)
        : undefined;
    const startKyverno =
      "path" in kyverno
        ? measure(kyvernoApply(kyverno.path, policy, [tiny]), options, dir, startupRuns)
        : undefined;

    const lines: string[] = [];
    lines.push(`## Whole command, ${n.toLocaleString("en")} objects (median of ${String(options.runs)})`, "");
    lines.push(
      "| command | wall s | objects/s | CPU s (user+sys) | peak RSS MB | wall of each run (s) |",
      "|---|---:|---:|---:|---:|---|",
    );
    lines.push(
      `| vakt check -o json (all ${String(p.rules)} rules) | ${s(json.seconds)} | ${rate(n, json.seconds)} | ${s(json.cpuSeconds)} | ${mb(json.rssMb)} | ${runsOf(json)} |`,
    );
    lines.push(
      `| vakt check -o text (1 run) | ${s(text.seconds)} | ${rate(n, text.seconds)} | ${s(text.cpuSeconds)} | ${mb(text.rssMb)} | ${runsOf(text)} |`,
    );
    if (peerRun !== undefined) {
      lines.push(
        `| kube-score score --output-format ci | ${s(peerRun.seconds)} | ${rate(n, peerRun.seconds)} | ${s(peerRun.cpuSeconds)} | ${mb(peerRun.rssMb)} | ${runsOf(peerRun)} |`,
      );
      lines.push(
        `| **ratio vakt/kube-score** | time ×${(json.seconds / peerRun.seconds).toFixed(2)} | throughput ×${(peerRun.seconds / json.seconds).toFixed(2)} | CPU ×${(json.cpuSeconds / peerRun.cpuSeconds).toFixed(2)} | RSS ×${(json.rssMb / peerRun.rssMb).toFixed(2)} | |`,
      );
    }
    lines.push(
      `| vakt check --select pss-restricted -o json | ${s(pss.seconds)} | ${rate(n, pss.seconds)} | ${s(pss.cpuSeconds)} | ${mb(pss.rssMb)} | ${runsOf(pss)} |`,
    );
    if (kyvernoRun !== undefined) {
      lines.push(
        `| kyverno apply (podSecurity restricted, latest) --policy-report | ${s(kyvernoRun.seconds)} | ${rate(n, kyvernoRun.seconds)} | ${s(kyvernoRun.cpuSeconds)} | ${mb(kyvernoRun.rssMb)} | ${runsOf(kyvernoRun)} |`,
      );
      lines.push(
        `| **ratio vakt pss-restricted/Kyverno** | time ×${(pss.seconds / kyvernoRun.seconds).toFixed(2)} | throughput ×${(kyvernoRun.seconds / pss.seconds).toFixed(2)} | CPU ×${(pss.cpuSeconds / kyvernoRun.cpuSeconds).toFixed(2)} | RSS ×${(pss.rssMb / kyvernoRun.rssMb).toFixed(2)} | |`,
      );
    }
    lines.push("", `## Where vakt's time goes (in-process, one pinned process)`, "");
    lines.push("| phase | seconds | objects/s |", "|---|---:|---:|");
    lines.push(
      `| parse: read + split + fast YAML path, recording each document's positions index (js-yaml for what it declines) | ${s(p.parseSeconds, 3)} | ${rate(p.objects, p.parseSeconds)} |`,
    );
    lines.push(`| inventory + exceptions index | ${s(p.contextSeconds, 3)} | |`);
    lines.push(
      `| engine: evaluateObject, all rules, pre-parsed (median of 3 warm passes) | ${s(p.engineSeconds, 3)} | ${rate(p.objects, p.engineSeconds)} |`,
    );
    lines.push(
      `| positions: locate ${p.findings.toLocaleString("en")} findings in ${p.documentsWithFindings.toLocaleString("en")} documents (recorded index; \`yaml\` re-parse for documents without one) | ${s(p.locateSeconds, 3)} | ${rate(p.objects, p.locateSeconds)} |`,
    );
    lines.push(
      `| runCheck end to end (second time in the process) | ${s(p.runCheckSeconds, 3)} | ${rate(p.objects, p.runCheckSeconds)} |`,
    );
    lines.push(`| render json | ${s(p.renderJsonSeconds, 3)} | |`);
    lines.push(`| render text | ${s(p.renderTextSeconds, 3)} | |`);
    lines.push("", `## Start-up: one tiny file (median of ${String(startupRuns)})`, "");
    lines.push("| command | seconds | peak RSS MB |", "|---|---:|---:|");
    lines.push(
      `| vakt check -o json tiny.yaml (${entry.slice(ROOT.length + 1)}) | ${s(startVakt.seconds, 3)} | ${mb(startVakt.rssMb)} |`,
    );
    if (startBuilt !== undefined) {
      lines.push(
        `| vakt check -o json tiny.yaml (bin/vakt.js, compiled dist/) | ${s(startBuilt.seconds, 3)} | ${mb(startBuilt.rssMb)} |`,
      );
    }
    if (startPeer !== undefined)
      lines.push(`| kube-score score tiny.yaml | ${s(startPeer.seconds, 3)} | ${mb(startPeer.rssMb)} |`);
    if (startKyverno !== undefined)
      lines.push(
        `| kyverno apply (one rule) tiny.yaml | ${s(startKyverno.seconds, 3)} | ${mb(startKyverno.rssMb)} |`,
      );
    lines.push(`| node -e 0 (floor) | ${s(startNode.seconds, 3)} | ${mb(startNode.rssMb)} |`);
    if ("path" in kyverno) {
      const verdicts = compareVerdicts(
        corpus.workloads,
        kyvernoVerdicts(readFileSync(kyvernoOut, "utf8")),
        await vaktVerdicts(readFileSync(vaktPssOut, "utf8")),
      );
      lines.push(
        "",
        `## Verdicts: Kyverno podSecurity (restricted, latest) vs vakt --select pss-restricted`,
        "",
      );
      lines.push(...verdicts.lines);
      lines.push("", `## The judge: upstream's restricted fixtures`, "");
      lines.push(...(await judgeFixtures(kyverno.path, policy, vakt, dir)));
    }
    console.log(lines.join("\n"));
    console.log(
      `\nbenchmark took ${s((performance.now() - began) / 1000, 0)} s; load average after: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(", ")}${options.keep ? `; corpus kept in ${dir}` : ""}`,
    );
  } finally {
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--phases") {
  const [, , , config, ...files] = process.argv;
  if (config === undefined) throw new Error("--phases CONFIG FILE...");
  process.stdout.write(JSON.stringify(await phases(config, files)));
} else {
  await main();
}
