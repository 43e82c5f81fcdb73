// Benchmark (a script, not a test): the background audit's first full pass on a real local
// control plane.
//
//   node bench/audit.ts [--pods 10000] [--namespaces 100] [--deployments 10] [--kwok] [--evidence]
//
// Starts its own control plane in a temp dir, creates N pods owned by Deployments (pods created
// directly with ownerReferences to their Deployment, as a ReplicaSet would; `--kwok` also starts
// kube-controller-manager, kube-scheduler and a kwok node per 100 pods, and waits until every
// pod is bound and Running, which costs the shared machine much more), then runs `vakt run --parts audit` as it ships
// (the manager, the OpenReports CRDs installed, vakt's Node flags) in a CHILD process so its
// memory is its own, and prints: the first full pass (list, judge, write every report), the
// audit's peak RSS (the kernel's high-water mark), and the reports as the API server stores
// them (read back, their JSON summed: custom objects are stored in etcd as JSON, managedFields
// included). `--evidence` also writes the evidence history to the embedded database (PGlite in a
// directory, in a process the audit starts: evidence/pglite-host.ts), as `vakt run` does by default.
import { fork, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { RUN_NODE_FLAGS } from "../src/config/runtime.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { createFakeNodes } from "../src/devcluster/nodes.ts";
import { KubeError, METADATA_LIST_ONLY, makeKubeClient } from "../src/kube/client.ts";
import type { Json, KubeClient } from "../src/kube/client.ts";
import { startAuditRun } from "../src/testing/audit.ts";

const INFRA = "bench-infra";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

interface ChildReport {
  readonly firstPassMs: number;
  readonly sinceStartMs: number;
  readonly objects: number;
  readonly unjudgeable: number;
  readonly peakRss: number;
  /** The embedded database's own process (evidence/pglite-host.ts), its peak RSS; 0 without one. */
  readonly hostPeakRss: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly heapAfterGc: number;
  readonly cpuSeconds: number;
  readonly requests: number;
}

// ---- child: the audit, as `vakt run --parts audit` runs it ------------------------------------
if (process.argv[2] === "audit") {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(process.argv[3] ?? "");
  let peakRss = 0;
  const sample = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const started = performance.now();
  const run = await startAuditRun({
    kubeconfig,
    leaseNamespace: INFRA,
    identity: "bench",
    alsoExcluded: [INFRA],
    ...(process.argv[4] === undefined || process.argv[4] === ""
      ? {}
      : { evidence: { url: process.argv[4], cluster: "bench" } }),
  });
  const audit = run.audit;
  if (audit === undefined) throw new Error("the audit part did not start");
  while (audit.passes.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
  const sinceStartMs = performance.now() - started;
  const pass = audit.passes[0];
  // What the audit keeps, garbage aside (--expose-gc is the bench's only flag beyond vakt's).
  const gc = (globalThis as { gc?: () => void }).gc;
  const beforeGc = process.memoryUsage();
  gc?.();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  const cpu = process.cpuUsage();
  let hostPeakRss = 0;
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent !== process.pid || !readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("pglite-host"))
        continue;
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      hostPeakRss += Number(kb ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  const report: ChildReport = {
    hostPeakRss,
    firstPassMs: pass?.durationMs ?? Number.NaN,
    sinceStartMs,
    objects: pass?.objects ?? 0,
    unjudgeable: pass?.unjudgeable ?? 0,
    peakRss: Math.max(peakRss, process.memoryUsage().rss, hwm === undefined ? 0 : Number(hwm) * 1024),
    rss: beforeGc.rss,
    heapUsed: beforeGc.heapUsed,
    heapTotal: beforeGc.heapTotal,
    heapAfterGc: process.memoryUsage().heapUsed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    requests: run.manager.client.requests,
  };
  process.send?.(report);
  clearInterval(sample);
  await run.close();
  process.exit(0);
} else {
  await main();
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** A plausible application pod spec: tagged image, requests, but no restricted security context. */
function podSpec(app: string): Json {
  return {
    containers: [
      {
        name: "app",
        image: `registry.example.com/shop/${app}:1.4.2`,
        ports: [{ containerPort: 8080 }],
        env: [{ name: "MODE", value: "production" }],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      },
    ],
  };
}

async function createWorkloads(
  client: KubeClient,
  namespaces: number,
  deployments: number,
  pods: number,
  controllers: boolean,
): Promise<void> {
  const perDeployment = Math.ceil(pods / (namespaces * deployments));
  const nsNames = Array.from({ length: namespaces }, (_, i) => `team-${String(i).padStart(3, "0")}`);
  await pool(nsNames, 8, async (ns) => {
    await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } });
    // Without kube-controller-manager nobody creates it, and pods need it.
    await client
      .request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, {
        body: { metadata: { name: "default" } },
      })
      .catch((error: unknown) => {
        if (!(error instanceof KubeError && error.code === 409)) throw error;
      });
  });
  const work: { ns: string; app: string }[] = nsNames.flatMap((ns) =>
    Array.from({ length: deployments }, (_, d) => ({ ns, app: `app-${d}` })),
  );
  let created = 0;
  await pool(work, 8, async ({ ns, app }) => {
    const labels = { app };
    const { body } = await client.request("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, {
      body: {
        metadata: { name: app, labels },
        spec: {
          // With kube-controller-manager running, its ReplicaSets would add pods of their own.
          replicas: controllers ? 0 : perDeployment,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec(app) },
        },
      },
    });
    const uid = (body["metadata"] as { uid: string }).uid;
    for (let i = 0; i < perDeployment && created < pods; i++) {
      created++;
      await client.request("POST", `/api/v1/namespaces/${ns}/pods`, {
        body: {
          metadata: {
            name: `${app}-7c9d6b5f4-${String(i).padStart(5, "0")}`,
            labels,
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "Deployment", name: app, uid, controller: true },
            ],
          },
          spec: podSpec(app),
        },
      });
    }
  });
}

async function main(): Promise<void> {
  const pods = arg("pods", 10_000);
  const namespaces = arg("namespaces", 100);
  const deployments = arg("deployments", 10);
  const kwok = process.argv.includes("--kwok");
  const repo = join(import.meta.dirname, "..");
  const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0) throw new Error(`build-tools.sh failed: ${tools.stderr}`);
  const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
  const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-audit-"));
  const log = (line: string): void => {
    process.stderr.write(`bench: ${line}\n`);
  };
  try {
    // Without --kwok, no controllers either: nothing else in the cluster competes for the CPU
    // (and no garbage collector looks at the owner references).
    // A timeout or Ctrl-C still stops the control plane.
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        void down(stateDir).finally(() => {
          rmSync(stateDir, { recursive: true, force: true });
          process.exit(130);
        });
      });
    // kwok's nodes take 110 pods each.
    const nodes = kwok ? Math.ceil(pods / 100) : 0;
    const cluster = await up({ stateDir, binDir, nodes, controllers: kwok });
    log(`control plane state in ${stateDir}`);
    if (nodes > 0) await createFakeNodes(cluster.kubeconfig, nodes);
    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfig);
    const client = makeKubeClient(config);
    await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: INFRA } } });
    const createStart = Date.now();
    await createWorkloads(client, namespaces, deployments, pods, kwok);
    log(
      `created ${pods} pods of ${namespaces * deployments} Deployments in ${namespaces} namespaces in ${((Date.now() - createStart) / 1000).toFixed(0)} s`,
    );
    if (kwok) {
      // On kwok nodes: the scheduler binds the pods and kwok reports them Running.
      const waitStart = Date.now();
      for (;;) {
        // Counted page by page: a list with a field selector gives no remainingItemCount.
        let running = 0;
        let next: string | undefined;
        do {
          const { body } = await client.request("GET", "/api/v1/pods", {
            query: { fieldSelector: "status.phase=Running", limit: "1000", continue: next },
            accept: METADATA_LIST_ONLY,
          });
          running += (body["items"] as unknown[] | null)?.length ?? 0;
          const token = (body["metadata"] as { continue?: string }).continue;
          next = token === "" ? undefined : token;
        } while (next !== undefined);
        if (running >= pods) break;
        if (Date.now() - waitStart > 15 * 60_000)
          throw new Error(`only ${running} of ${pods} pods Running after 15 min`);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      log(`all ${pods} pods Running on kwok nodes after ${((Date.now() - waitStart) / 1000).toFixed(0)} s`);
    }
    const loadBefore = loadavg()
      .map((l) => l.toFixed(2))
      .join(", ");
    const evidence = process.argv.includes("--evidence");
    const child = fork(
      import.meta.filename,
      ["audit", cluster.kubeconfig, evidence ? join(stateDir, "evidence") : ""],
      {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        execArgv: [...process.execArgv, ...RUN_NODE_FLAGS, "--expose-gc"],
      },
    );
    const report = await new Promise<ChildReport>((resolve, reject) => {
      child.once("message", (message) => {
        resolve(message as ChildReport);
      });
      child.once("exit", (code) => {
        reject(new Error(`the audit process exited with ${code}`));
      });
    });
    await new Promise((resolve) => child.once("exit", resolve));

    // The reports as the API server stores them (custom objects are JSON in etcd).
    const { body } = await client.request("GET", "/apis/openreports.io/v1alpha1/reports");
    const items = (body["items"] ?? []) as Json[];
    const bytes = items.map((item) => Buffer.byteLength(JSON.stringify(item)));
    const total = bytes.reduce((a, b) => a + b, 0);
    const results = items.reduce(
      (sum, item) => sum + ((item["results"] as unknown[] | undefined)?.length ?? 0),
      0,
    );
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MB`;
    const rows: [string, string, string][] = [
      ["pods / Deployments / namespaces", `${pods} / ${namespaces * deployments} / ${namespaces}`, ""],
      ["objects judged in the first pass", String(report.objects), ""],
      [
        "first full pass (list, judge, write reports)",
        `${(report.firstPassMs / 1000).toFixed(1)} s`,
        "< 30 s",
      ],
      [
        "  from process start (CRDs, lists of exceptions and inventory)",
        `${(report.sinceStartMs / 1000).toFixed(1)} s`,
        "",
      ],
      ["evidence history", evidence ? "PGlite (a directory), in a process of its own" : "off", ""],
      ["audit peak RSS", mb(report.peakRss), "< 256 MB"],
      ...(evidence
        ? [
            ["  the embedded database's process, peak RSS", mb(report.hostPeakRss), ""] as [
              string,
              string,
              string,
            ],
          ]
        : []),
      [
        "  RSS, V8 heap used / total after the first pass",
        `${mb(report.rss)}, ${mb(report.heapUsed)} / ${mb(report.heapTotal)}`,
        "",
      ],
      ["  V8 heap used after a full garbage collection", mb(report.heapAfterGc), ""],
      ["audit CPU (user+sys) to the end of the first pass", `${report.cpuSeconds.toFixed(1)} s`, ""],
      ["API requests by the audit", String(report.requests), ""],
      ["reports (one per namespace)", String(items.length), ""],
      ["report results listed, all reports", String(results), ""],
      ["reports as stored, total", mb(total), "< 2.5 MB"],
      ["  largest report", `${(Math.max(0, ...bytes) / 1024).toFixed(1)} KB`, ""],
      ["load average before the audit", loadBefore, ""],
    ];
    process.stdout.write(`\n| what | measured | target |\n|---|---|---|\n`);
    for (const [what, value, target] of rows) process.stdout.write(`| ${what} | ${value} | ${target} |\n`);
  } finally {
    await down(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
