// Benchmark (a script, not a test): the Tenant controller on a real local control plane.
//
//   node bench/tenants.ts [--tenants 1000] [--samples 50] [--workers 8]
//     [--cpu-prof DIR] [--heap-prof DIR] [--controller-node-options "--trace-gc ..."]
//     [--apiserver-profiling] [--ready-by watch|poll]
//
// Starts its own control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// in a temp dir, installs the third-party CRDs and the Tenant CRD, runs the controller in a
// CHILD process (so its peak RSS is its own: the kernel's high-water mark, and what the heap
// looked like at the highest 100 ms sample), creates N Tenants of about 20 children each, and
// prints: time until all are Ready (seen through a watch on Tenants; `--ready-by poll` lists
// them all every 500 ms instead, which costs the API server a good share of its CPU at 1,000
// Tenants), the controller's peak RSS, the API requests it issued (its own counter, watches
// included), CPU seconds of the controller and of each control-plane process while converging
// (comparable across runs on a shared machine where wall time is not), the load average, and
// drift-heal latency p50/p99 (a NetworkPolicy deleted, time until it exists again, polled every
// 10 ms). The controller's Node runs with vakt's own flags for `vakt run` (RUN_NODE_FLAGS,
// src/config/runtime.ts) unless `--controller-node-options` replaces them ("" for Node's
// defaults). The profiling flags pass options to the controller's Node process or enable
// kube-apiserver's /debug/pprof.
import { execFileSync, fork, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { getHeapSpaceStatistics } from "node:v8";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { TenantControllerPart } from "../src/controllers/tenant/part.ts";
import { Manager } from "../src/manager/manager.ts";
import { KubeError, makeKubeClient } from "../src/kube/client.ts";
import type { Json, KubeClient } from "../src/kube/client.ts";
import { TENANTS_PATH } from "../src/controllers/tenant/status.ts";
import { Reflector } from "../src/kube/reflector.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { RUN_NODE_FLAGS } from "../src/config/runtime.ts";
import { thirdPartyCrdFiles } from "../src/testing/third-party-crds.ts";
import { renderTenant } from "../src/tenant/render.ts";
import { tenantCrd } from "../src/tenant/schema.ts";
import { parseTenant } from "../src/tenant/validate.ts";

const INFRA = "bench-infra";

/** A string flag, e.g. `--cpu-prof /tmp/prof` (profiles of the controller child go there). */
function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

// ---- child: the controller --------------------------------------------------------------------
if (process.argv[2] === "controller") {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(process.argv[3] ?? "");
  let peakRss = 0;
  let peakHeap = 0;
  let atPeak = "";
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
  const sample = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > peakRss) {
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((space) => [space.space_name, space] as const),
      );
      const space = (name: string): string =>
        `${mib(spaces[name]?.space_used_size ?? 0)}/${mib(spaces[name]?.space_size ?? 0)}`;
      atPeak =
        `heap used/total ${mib(usage.heapUsed)}/${mib(usage.heapTotal)} MB (new ${space("new_space")}, ` +
        `old ${space("old_space")}, large ${space("large_object_space")}, code ${space("code_space")}), ` +
        `external ${mib(usage.external)} MB`;
    }
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 100);
  // As `vakt run --parts controller` runs it: the part under a Manager that holds the Lease.
  const manager = new Manager({
    kubeconfig,
    parts: [new TenantControllerPart({ workers: Number(process.argv[4] ?? "8") })],
    lease: { namespace: INFRA, identity: "bench" },
    probes: { port: 0 },
    logger: pino({ level: "error" }),
  });
  await manager.start();
  process.on("message", (message: string) => {
    if (message === "report") {
      const cpu = process.cpuUsage();
      // The kernel's high-water mark catches a peak between two samples (Linux).
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
      process.send?.({
        peakRss: Math.max(peakRss, process.memoryUsage().rss, hwm === undefined ? 0 : Number(hwm) * 1024),
        peakHeap,
        atPeak,
        rss: process.memoryUsage().rss,
        requests: manager.client.requests,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      });
    }
    if (message === "stop") {
      clearInterval(sample);
      void manager.stop().then(() => process.exit(0));
    }
  });
  process.send?.("started");
} else {
  await main();
}

function tenant(name: string): Json {
  return {
    apiVersion: "vakt.dev/v1alpha1",
    kind: "Tenant",
    metadata: { name },
    spec: {
      owners: [
        { kind: "Group", name: `${name}-admins`, role: "admin" },
        { kind: "Group", name: `${name}-viewers`, role: "view" },
      ],
      namespaces: [{ name }, { name: `${name}-jobs` }],
      network: {
        flows: [{ from: { namespace: `${name}-jobs` }, to: { namespace: name }, ports: [{ port: 8080 }] }],
      },
      tls: {
        issuerRef: { name: "internal-ca", kind: "ClusterIssuer" },
        certificates: [{ name: "web", namespace: name, hosts: [`${name}.example.com`] }],
      },
      backup: { veleroNamespace: INFRA },
      monitoring: {
        serviceMonitors: [{ name: "web", namespace: name, selector: { app: "web" }, port: "metrics" }],
      },
    },
  };
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Ready for its current generation, as `kubectl wait` would see it. */
function isReadyObject(item: Json): boolean {
  const metadata = item["metadata"] as { generation: number };
  const status = item["status"] as
    { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
  return (
    status?.observedGeneration === metadata.generation &&
    status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
  );
}

/** Follows the Tenants with a watch; `all` resolves once `count` of them are Ready. */
function watchReady(
  client: KubeClient,
  count: number,
): { synced: Promise<void>; all: Promise<void>; ready: ReadonlySet<string>; stop(): void } {
  const ready = new Set<string>();
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const see = ({ name, isReady: readyNow }: { name: string; isReady: boolean }, deleted = false): void => {
    if (!deleted && readyNow) ready.add(name);
    else ready.delete(name);
    if (ready.size >= count) resolveAll();
  };
  const reflector = new Reflector<{ name: string; isReady: boolean }>({
    client,
    path: TENANTS_PATH,
    logger: pino({ level: "error" }),
    transform: (item) => ({
      name: (item["metadata"] as { name: string }).name,
      isReady: isReadyObject(item),
    }),
    onList: (items) => {
      ready.clear();
      for (const item of items) see(item);
    },
    onEvent: (type, item) => {
      see(item, type === "DELETED");
    },
  });
  reflector.start();
  return {
    synced: reflector.waitForSync(60_000),
    all,
    ready,
    stop: () => {
      reflector.stop();
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const count = arg("tenants", 1000);
  const samples = arg("samples", 50);
  const workers = arg("workers", 8);
  const readyBy = stringArg("ready-by") ?? "watch";
  if (readyBy !== "watch" && readyBy !== "poll") throw new Error("--ready-by must be watch or poll");
  const repo = join(import.meta.dirname, "..");
  const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0) throw new Error(`build-tools.sh failed: ${tools.stderr}`);
  const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
  const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-tenants-"));
  const log = (line: string): void => {
    process.stderr.write(`bench: ${line}\n`);
  };
  try {
    // --apiserver-profiling: serve /debug/pprof on kube-apiserver (go tool pprof on its profile).
    const cluster = await up({
      stateDir,
      binDir,
      nodes: 0,
      ...(process.argv.includes("--apiserver-profiling")
        ? { extraArgs: { "kube-apiserver": ["--profiling=true"] } }
        : {}),
    });
    log(`control plane state in ${stateDir}`);
    const kubectl = (args: string[], input?: string): string =>
      execFileSync(join(binDir, "kubectl"), [`--kubeconfig=${cluster.kubeconfig}`, ...args], {
        encoding: "utf8",
        ...(input === undefined ? {} : { input }),
      });
    const names: string[] = [];
    for (const file of (await thirdPartyCrdFiles()).flatMap((entry) => entry.files))
      names.push(...kubectl(["apply", "--server-side", "-o", "name", "-f", file]).trim().split("\n"));
    names.push(
      kubectl(["apply", "--server-side", "-o", "name", "-f", "-"], JSON.stringify(tenantCrd())).trim(),
    );
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names]);
    kubectl(["create", "namespace", INFRA]);

    const parsed = parseTenant(tenant("sample"));
    if (parsed.tenant === undefined) throw new Error(JSON.stringify(parsed.problems));
    const perTenant = renderTenant(parsed.tenant).objects.length;
    log(`control plane up; ${count} tenants x ${perTenant} children`);

    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfig);
    const client = makeKubeClient(config);
    const cpuProf = stringArg("cpu-prof");
    const heapProf = stringArg("heap-prof");
    // The controller runs with the Node flags vakt ships for `vakt run` unless told otherwise
    // (`--controller-node-options ""` for Node's defaults).
    const nodeOptions =
      stringArg("controller-node-options")
        ?.split(" ")
        .filter((o) => o !== "") ?? RUN_NODE_FLAGS;
    log(`controller node flags: ${nodeOptions.length === 0 ? "(Node's defaults)" : nodeOptions.join(" ")}`);
    const child = fork(import.meta.filename, ["controller", cluster.kubeconfig, String(workers)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: [
        ...process.execArgv,
        ...(cpuProf === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`]),
        ...(heapProf === undefined ? [] : ["--heap-prof", `--heap-prof-dir=${heapProf}`]),
        ...nodeOptions,
      ],
    });
    await new Promise<void>((resolve) =>
      child.once("message", () => {
        resolve();
      }),
    );
    interface Report {
      peakRss: number;
      peakHeap: number;
      atPeak: string;
      rss: number;
      requests: number;
      cpuSeconds: number;
    }
    const report = (): Promise<Report> =>
      new Promise((resolve) => {
        child.once("message", (message) => {
          resolve(message as Report);
        });
        child.send("report");
      });
    // CPU seconds (user + system) of each control-plane process, from /proc/<pid>/stat: on a
    // shared 2-core machine they compare across runs better than wall time does.
    const ticks = 100; // USER_HZ on Linux
    const controlPlaneCpu = (): Map<string, number> => {
      const cpu = new Map<string, number>();
      for (const component of cluster.components) {
        try {
          const stat = readFileSync(`/proc/${component.pid}/stat`, "utf8");
          const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          cpu.set(component.name, (Number(fields[11]) + Number(fields[12])) / ticks);
        } catch {
          cpu.set(component.name, Number.NaN);
        }
      }
      return cpu;
    };
    const load = (): string =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(", ");
    const loadBefore = load();
    const cpuBefore = controlPlaneCpu();
    const idle = await report();
    const controllerCpuBefore = idle.cpuSeconds;

    const tenantNames = Array.from({ length: count }, (_, i) => `b${String(i).padStart(4, "0")}`);
    // Readiness is observed through a watch on Tenants (one event per status write), started
    // before the first create; `--ready-by poll` lists all Tenants every 500 ms instead.
    const readyWatch = readyBy === "watch" ? watchReady(client, count) : undefined;
    if (readyWatch !== undefined) await readyWatch.synced;
    const started = Date.now();
    await pool(tenantNames, 16, async (name) => {
      await client.request("POST", TENANTS_PATH, { body: tenant(name) });
    });
    const created = Date.now();
    log(`created ${count} tenants in ${((created - started) / 1000).toFixed(1)} s; waiting for Ready`);
    const readySet = new Set<string>();
    const deadline = started + 5 * 60_000;
    if (readyBy === "poll") {
      // The old way: list every Tenant every 500 ms. On 1,000 Tenants this costs the API server
      // (and this process) a sizeable share of the two cores the controller is measured on.
      while (Date.now() < deadline) {
        readySet.clear();
        let next: string | undefined;
        do {
          const { body } = await client.request("GET", TENANTS_PATH, {
            query: { limit: "500", continue: next },
          });
          for (const item of (body["items"] ?? []) as Json[])
            if (isReadyObject(item)) readySet.add((item["metadata"] as { name: string }).name);
          const cont = (body["metadata"] as { continue?: string }).continue;
          next = cont === undefined || cont === "" ? undefined : cont;
        } while (next !== undefined);
        if (readySet.size === count) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } else {
      if (readyWatch === undefined) throw new Error("unreachable: the readiness watch was not started");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        readyWatch.all,
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      for (const name of readyWatch.ready) readySet.add(name);
      readyWatch.stop();
    }
    const ready = readySet.size;
    const readyNames = [...readySet];
    const converged = Date.now();
    const afterConverge = await report();
    const cpuConverged = controlPlaneCpu();
    const loadConverged = load();
    log(`${ready}/${count} Ready after ${((converged - started) / 1000).toFixed(1)} s`);

    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Only converged tenants: a backlog would measure the queue, not the heal path.
      const name = readyNames[Math.floor(Math.random() * readyNames.length)] ?? "b0000";
      const path = `/apis/networking.k8s.io/v1/namespaces/${name}/networkpolicies/default-deny`;
      const before = (await client.request("GET", path)).body["metadata"] as { uid: string };
      const t0 = performance.now();
      await client.request("DELETE", path);
      for (;;) {
        try {
          const { body } = await client.request("GET", path);
          if ((body["metadata"] as { uid: string }).uid !== before.uid) break;
        } catch (error) {
          if (!(error instanceof KubeError && error.code === 404)) throw error;
        }
        if (performance.now() - t0 > 30_000) {
          log(`drift on ${name} not healed in 30 s; counted as 30 s`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      latencies.push(performance.now() - t0);
    }
    const final = await report();
    child.send("stop");

    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
    const cpuOf = (name: string): string =>
      `${((cpuConverged.get(name) ?? Number.NaN) - (cpuBefore.get(name) ?? Number.NaN)).toFixed(1)} s`;
    const rows: [string, string, string][] = [
      ["tenants / children", `${count} / ${count * perTenant}`, ""],
      ["time to all Ready (from first create)", `${((converged - started) / 1000).toFixed(1)} s`, "< 60 s"],
      ["  of which creating the Tenants", `${((created - started) / 1000).toFixed(1)} s`, ""],
      ["Ready", `${ready} / ${count}`, ""],
      ["controller peak RSS", mb(final.peakRss), "< 256 MB"],
      ["  controller peak V8 heap used", mb(final.peakHeap), ""],
      ["  controller RSS before the first Tenant", mb(idle.rss), ""],
      ["  controller memory when RSS peaked", final.atPeak, ""],
      ["API requests by the controller (to converge)", String(afterConverge.requests), ""],
      [
        "controller CPU (user+sys) to converge",
        `${(afterConverge.cpuSeconds - controllerCpuBefore).toFixed(1)} s`,
        "",
      ],
      ["kube-apiserver CPU to converge", cpuOf("kube-apiserver"), ""],
      ["etcd CPU to converge", cpuOf("etcd"), ""],
      ["kube-controller-manager CPU to converge", cpuOf("kube-controller-manager"), ""],
      ["load average (1, 5, 15 min) before / at Ready", `${loadBefore} / ${loadConverged}`, ""],
      ["API requests by the controller (total)", String(final.requests), ""],
      [`drift heal p50 (${samples} samples)`, `${percentile(latencies, 50).toFixed(0)} ms`, ""],
      ["drift heal p99", `${percentile(latencies, 99).toFixed(0)} ms`, "< 1 s"],
    ];
    process.stdout.write(`\n| what | measured | target |\n|---|---|---|\n`);
    for (const [what, value, target] of rows) process.stdout.write(`| ${what} | ${value} | ${target} |\n`);
  } finally {
    await down(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
