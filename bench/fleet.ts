// Benchmark (a script, not a test): the fleet controller turning Environments on cloud providers
// into their Cluster API objects on a real local control plane (objects only: no Cluster API
// controller, no cloud calls).
//
//   node bench/fleet.ts [--environments 500] [--workers 8]
//
// Starts its own control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) in
// a temp dir, installs the CRDs of Cluster API v1.13, CAPA v2.13 and CAPG v1.13 from the Go module
// cache and the Environment CRD, runs the controller in a CHILD process (its peak RSS is its own:
// the kernel's high-water mark), creates N Environments (alternately the AWS and the GCP example,
// 8 and 6 objects each) and prints the time until every one is Applied for its generation (seen
// through a watch on Environments), the controller's peak RSS, its API requests and CPU seconds,
// and the load average.
import { execFileSync, fork, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { parse } from "yaml";
import { RUN_NODE_FLAGS } from "../src/config/runtime.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { renderEnvironment } from "../src/environment/render.ts";
import { environmentCrd } from "../src/environment/schema.ts";
import { parseEnvironment } from "../src/environment/validate.ts";
import { FleetPart } from "../src/fleet/part.ts";
import { ENVIRONMENTS_PATH } from "../src/fleet/watches.ts";
import { makeKubeClient } from "../src/kube/client.ts";
import type { Json } from "../src/kube/client.ts";
import { Reflector } from "../src/kube/reflector.ts";
import { Manager } from "../src/manager/manager.ts";
import { clusterApiCrds } from "../src/testing/capi-crds.ts";

const INFRA = "bench-infra";
const EXAMPLES = join(import.meta.dirname, "..", "examples", "environments");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

interface ChildReport {
  readonly peakRss: number;
  readonly requests: number;
  readonly cpuSeconds: number;
}

/** The controller child: `vakt run --parts fleet` in-process, reporting on request. */
async function controller(kubeconfigPath: string, workers: number): Promise<void> {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigPath);
  const manager = new Manager({
    kubeconfig,
    parts: [new FleetPart({ workers })],
    lease: { namespace: INFRA, identity: "bench" },
    probes: { port: 0 },
    logger: pino({ level: "error" }),
  });
  await manager.start();
  process.on("message", (message: string) => {
    if (message === "stop") {
      void manager.stop().then(() => process.exit(0));
      return;
    }
    const cpu = process.cpuUsage();
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    const report: ChildReport = {
      peakRss: Math.max(process.memoryUsage().rss, hwm === undefined ? 0 : Number(hwm) * 1024),
      requests: manager.client.requests,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    process.send?.(report);
  });
  process.send?.("started");
}

/** An example under another name, hosting one tenant of its own (a tenant lives in one Environment). */
function example(file: string, name: string): Json {
  const value = parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json;
  return { ...value, metadata: { name }, spec: { ...(value["spec"] as Json), tenants: [name] } };
}

/** Applied (every rendered object applied) for the current generation. */
function applied(item: Json): boolean {
  const generation = (item["metadata"] as { generation?: number }).generation;
  const status = item["status"] as
    { observedGeneration?: number; conditions?: { type: string; status: string }[] } | undefined;
  if (status === undefined || status.observedGeneration !== generation) return false;
  return status.conditions?.some((c) => c.type === "Applied" && c.status === "True") === true;
}

async function main(): Promise<void> {
  const count = arg("environments", 500);
  const workers = arg("workers", 8);
  const repo = join(import.meta.dirname, "..");
  const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0) throw new Error(`build-tools.sh failed: ${tools.stderr}`);
  const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
  const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-fleet-"));
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
    const crds = [...(await clusterApiCrds()).flatMap((project) => project.crds), environmentCrd()];
    const names = kubectl(
      ["apply", "--server-side", "-o", "name", "-f", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items: crds }),
    );
    kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names.trim().split("\n")]);
    kubectl(["create", "namespace", INFRA]);
    const files = ["carelink-aws.yaml", "nordlab-gcp.yaml"];
    const perEnvironment = files.map((file) => {
      const parsed = parseEnvironment(example(file, "sample"));
      if (parsed.environment === undefined) throw new Error(JSON.stringify(parsed.problems));
      return renderEnvironment(parsed.environment).rendered?.objects.length ?? 0;
    });
    log(`control plane up in ${stateDir}; ${count} environments of ${perEnvironment.join(" / ")} objects`);

    const child = fork(import.meta.filename, ["controller", cluster.kubeconfig, String(workers)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: [...process.execArgv, ...RUN_NODE_FLAGS],
    });
    await new Promise((resolve) => child.once("message", resolve));
    const report = (): Promise<ChildReport> =>
      new Promise((resolve) => {
        child.once("message", (message) => {
          resolve(message as ChildReport);
        });
        child.send("report");
      });
    const before = await report();

    const config = new KubeConfig();
    config.loadFromFile(cluster.kubeconfig);
    const client = makeKubeClient(config);
    const done = new Set<string>();
    let finish: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (finish = resolve));
    const see = (item: { name: string; applied: boolean }): void => {
      if (item.applied) done.add(item.name);
      else done.delete(item.name);
      if (done.size >= count) finish();
    };
    const watch = new Reflector<{ name: string; applied: boolean }>({
      client,
      path: ENVIRONMENTS_PATH,
      logger: pino({ level: "error" }),
      transform: (item) => ({ name: (item["metadata"] as { name: string }).name, applied: applied(item) }),
      onList: (items) => {
        items.forEach(see);
      },
      onEvent: (_type, item) => {
        see(item);
      },
    });
    watch.start();
    await watch.waitForSync(60_000);

    const load = (): string =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(", ");
    const loadBefore = load();
    const started = Date.now();
    const environments = Array.from({ length: count }, (_, i) =>
      example(files[i % files.length] ?? "", `f${String(i).padStart(4, "0")}`),
    );
    const queue = [...environments];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift())
          await client.request("POST", ENVIRONMENTS_PATH, { body: next });
      }),
    );
    log(
      `created ${count} environments in ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for Applied`,
    );
    const timeout = new Promise<"timeout">((resolve) => {
      setTimeout(() => {
        resolve("timeout");
      }, 5 * 60_000).unref();
    });
    const outcome = await Promise.race([all.then(() => "done" as const), timeout]);
    const seconds = (Date.now() - started) / 1000;
    const after = await report();
    watch.stop();
    const objects = environments.reduce((sum, _, i) => sum + (perEnvironment[i % files.length] ?? 0), 0);
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
    process.stdout.write(
      [
        `environments: ${count} (${objects} Cluster API objects and namespaces), workers ${workers}`,
        `${outcome === "done" ? "all Applied" : `TIMEOUT, ${done.size} Applied`} after ${seconds.toFixed(1)} s ` +
          `(${(count / seconds).toFixed(1)} environments/s)`,
        `controller peak RSS ${mib(after.peakRss)} MB; API requests ${after.requests - before.requests}; ` +
          `CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s`,
        `load average before ${loadBefore}, after ${load()}`,
        "",
      ].join("\n"),
    );
    child.send("stop");
    await new Promise((resolve) => child.once("exit", resolve));
  } finally {
    await down(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "controller") await controller(process.argv[3] ?? "", Number(process.argv[4] ?? "8"));
else await main();
