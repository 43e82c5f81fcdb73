// Benchmark (a script, not a test): the Tenant controller on a real local control plane.
//
//   node bench/tenants.ts [--tenants 1000] [--samples 50] [--workers 8]
//
// Starts its own control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// in a temp dir, installs the third-party CRDs and the Tenant CRD, runs the controller in a
// CHILD process (so its peak RSS is its own, sampled every 100 ms), creates N Tenants of about
// 20 children each, and prints: time until all are Ready, the controller's peak RSS, the API
// requests it issued (its own counter, watches included), and drift-heal latency p50/p99 (a
// NetworkPolicy deleted, time until it exists again, polled every 10 ms).
import { execFileSync, fork, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { startTenantController } from "../src/controllers/controller.ts";
import { KubeError, makeKubeClient } from "../src/controllers/kube.ts";
import type { Json } from "../src/controllers/kube.ts";
import { TENANTS_PATH } from "../src/controllers/tenant.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { thirdPartyCrdFiles } from "../src/tenant/crds.ts";
import { renderTenant } from "../src/tenant/render.ts";
import { tenantCrd } from "../src/tenant/schema.ts";
import { parseTenant } from "../src/tenant/validate.ts";

const INFRA = "bench-infra";

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
  const sample = setInterval(() => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  }, 100);
  const controller = await startTenantController({
    kubeconfig,
    logger: pino({ level: "error" }),
    identity: "bench",
    leaseNamespace: INFRA,
    workers: Number(process.argv[4] ?? "8"),
  });
  process.on("message", (message: string) => {
    if (message === "report")
      process.send?.({
        peakRss: Math.max(peakRss, process.memoryUsage().rss),
        peakHeap,
        requests: controller.requests,
      });
    if (message === "stop") {
      clearInterval(sample);
      void controller.close().then(() => process.exit(0));
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

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const count = arg("tenants", 1000);
  const samples = arg("samples", 50);
  const workers = arg("workers", 8);
  const repo = join(import.meta.dirname, "..");
  const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0) throw new Error(`build-tools.sh failed: ${tools.stderr}`);
  const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
  const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-tenants-"));
  const log = (line: string): void => {
    process.stderr.write(`bench: ${line}\n`);
  };
  try {
    const cluster = await up({ stateDir, binDir, nodes: 0 });
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
    const child = fork(import.meta.filename, ["controller", cluster.kubeconfig, String(workers)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve) =>
      child.once("message", () => {
        resolve();
      }),
    );
    const report = (): Promise<{ peakRss: number; peakHeap: number; requests: number }> =>
      new Promise((resolve) => {
        child.once("message", (message) => {
          resolve(message as { peakRss: number; peakHeap: number; requests: number });
        });
        child.send("report");
      });

    const tenantNames = Array.from({ length: count }, (_, i) => `b${String(i).padStart(4, "0")}`);
    const started = Date.now();
    await pool(tenantNames, 16, async (name) => {
      await client.request("POST", TENANTS_PATH, { body: tenant(name) });
    });
    const created = Date.now();
    log(`created ${count} tenants in ${((created - started) / 1000).toFixed(1)} s; waiting for Ready`);
    let ready = 0;
    const readyNames: string[] = [];
    const deadline = started + 5 * 60_000;
    while (Date.now() < deadline) {
      ready = 0;
      readyNames.length = 0;
      let next: string | undefined;
      do {
        const { body } = await client.request("GET", TENANTS_PATH, {
          query: { limit: "500", continue: next },
        });
        for (const item of (body["items"] ?? []) as Json[]) {
          const metadata = item["metadata"] as { generation: number };
          const status = item["status"] as
            { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
          if (
            status?.observedGeneration === metadata.generation &&
            status.conditions?.some((c) => c.type === "Ready" && c.status === "True")
          ) {
            ready += 1;
            readyNames.push((item["metadata"] as { name: string }).name);
          }
        }
        const cont = (body["metadata"] as { continue?: string }).continue;
        next = cont === undefined || cont === "" ? undefined : cont;
      } while (next !== undefined);
      if (ready === count) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const converged = Date.now();
    const afterConverge = await report();
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
    const rows: [string, string, string][] = [
      ["tenants / children", `${count} / ${count * perTenant}`, ""],
      ["time to all Ready (from first create)", `${((converged - started) / 1000).toFixed(1)} s`, "< 60 s"],
      ["  of which creating the Tenants", `${((created - started) / 1000).toFixed(1)} s`, ""],
      ["Ready", `${ready} / ${count}`, ""],
      ["controller peak RSS", mb(final.peakRss), "< 256 MB"],
      ["  controller peak V8 heap used", mb(final.peakHeap), ""],
      ["API requests by the controller (to converge)", String(afterConverge.requests), ""],
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
