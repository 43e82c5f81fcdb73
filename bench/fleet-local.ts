// Benchmark (a script, not a test): 3 Environments on the `local` provider, from apply to Ready
// (a real control plane each, started by the fleet controller, registered with Argo CD and
// baselined), and a deleted baseline object in a member cluster until it is back.
//
//   node bench/fleet-local.ts [--environments 3]
//
// Starts a hub control plane of its own in a temp dir (etcd, kube-apiserver, controller-manager,
// scheduler), installs the Environment and Tenant CRDs and Argo CD's ApplicationSet CRD (Go module
// cache), runs the hub controller as `vakt run --parts=fleet` in a CHILD PROCESS (VAKT_HOME in the
// temp dir; each member gets vakt's webhook as a host process of its own), applies N local
// Environments at once and prints the time until each is Ready; then deletes the
// VaktConfiguration "default" in the first member and prints the time until it is back (polled
// every 20 ms); then deletes the Environments (each stops its control plane and vakt) and prints
// the hub controller's peak RSS (VmHWM of the child: the hub alone, not the members' processes).
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { setting } from "../src/config/settings.ts";
import { down, readState, up } from "../src/devcluster/cluster.ts";
import { environmentCrd } from "../src/environment/schema.ts";
import { ENVIRONMENTS_PATH } from "../src/fleet/watches.ts";
import { KubeError, makeKubeClient } from "../src/kube/client.ts";
import type { Json, KubeClient } from "../src/kube/client.ts";
import { baselineCrds } from "../src/testing/fleet-baseline-crds.ts";
import { tenantCrd } from "../src/tenant/schema.ts";

const index = process.argv.indexOf("--environments");
const count = index >= 0 ? Number(process.argv[index + 1]) : 3;
if (!Number.isInteger(count) || count < 1) throw new Error("--environments must be a positive integer");

const binDir = setting("binDir");
const work = mkdtempSync(join(tmpdir(), "vakt-bench-fleet-local-"));
const hubDir = join(work, "hub");
// `vakt run --parts fleet` keeps its local members under $VAKT_HOME/fleet.
const root = join(work, "fleet");
const names = Array.from({ length: count }, (_, i) => `bench-local-${i}`);

async function read(client: KubeClient, path: string): Promise<Json | undefined> {
  try {
    return (await client.request("GET", path)).body;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return undefined;
    throw error;
  }
}

function ready(object: Json | undefined): boolean {
  const conditions = ((object?.["status"] as Json | undefined)?.["conditions"] ?? []) as {
    type: string;
    status: string;
  }[];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** Peak resident set of a live process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return Math.round(Number(line?.replace(/\D+/g, "") ?? "0") / 1024);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let hubController: ChildProcess | undefined;
try {
  const hub = await up({ stateDir: hubDir, binDir });
  const kubectl = (args: string[], input?: string): string =>
    execFileSync(join(binDir, "kubectl"), [`--kubeconfig=${hub.kubeconfig}`, ...args], {
      encoding: "utf8",
      ...(input === undefined ? {} : { input }),
    });
  const crds = [environmentCrd(), tenantCrd(), ...(await baselineCrds("argocd"))];
  kubectl(
    ["apply", "--server-side", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: crds }),
  );
  // Right after the apply a CRD may have no conditions yet, and kubectl wait fails on that.
  for (let attempt = 0; ; attempt++) {
    try {
      kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);
      break;
    } catch (error) {
      if (attempt > 20) throw error;
      await sleep(250);
    }
  }
  kubectl(["create", "namespace", "argocd"]);
  kubectl(["create", "namespace", "vakt-system"]);
  const config = new KubeConfig();
  config.loadFromFile(hub.kubeconfig);
  const client = makeKubeClient(config);
  hubController = spawn(
    process.execPath,
    [
      join(import.meta.dirname, "..", "src", "cli", "main.ts"),
      "run",
      "--parts=fleet",
      `--kubeconfig=${hub.kubeconfig}`,
      "--namespace=vakt-system",
      "--probe-port=0",
      `--workers=${count}`,
    ],
    { env: { ...process.env, VAKT_HOME: work, VAKT_BIN_DIR: binDir }, stdio: "ignore" },
  );

  const started = Date.now();
  const environments = names.map((name) => ({
    apiVersion: "vakt.dev/v1alpha1",
    kind: "Environment",
    metadata: { name },
    spec: {
      customer: name,
      provider: "local",
      region: "local",
      jurisdiction: "SE",
      kubernetesVersion: "v1.36",
      nodePools: [
        { name: "general", instanceTypes: ["local.small"], min: 2, max: 4, zones: ["local-a", "local-b"] },
      ],
      backup: {
        provider: "s3",
        bucket: `${name}-backups`,
        region: "se",
        endpoint: "https://s3.example.se",
        jurisdiction: "SE",
      },
      gitops: { repoURL: `https://git.example.se/${name}/apps.git` },
    },
  }));
  kubectl(
    ["apply", "--server-side", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: environments }),
  );
  const readyAt = new Map<string, number>();
  while (readyAt.size < count) {
    if (Date.now() - started > 600_000) throw new Error("not Ready within 10 minutes");
    for (const name of names)
      if (!readyAt.has(name) && ready(await read(client, `${ENVIRONMENTS_PATH}/${name}`)))
        readyAt.set(name, Date.now() - started);
    await sleep(200);
  }
  const all = Math.max(...readyAt.values());
  process.stdout.write(
    `${count} local Environments from apply to Ready (baselined): ${(all / 1000).toFixed(1)} s ` +
      `(each: ${[...readyAt.values()].map((ms) => (ms / 1000).toFixed(1)).join(", ")} s)\n`,
  );

  const memberState = readState(join(root, names[0] ?? ""));
  if (memberState === undefined) throw new Error("no state for the first member");
  const memberConfig = new KubeConfig();
  memberConfig.loadFromFile(memberState.kubeconfig);
  const member = makeKubeClient(memberConfig);
  const path = "/apis/vakt.dev/v1alpha1/vaktconfigurations/default";
  const heals: number[] = [];
  for (let round = 0; round < 5; round++) {
    const uid = ((await read(member, path))?.["metadata"] as { uid: string }).uid;
    const deleted = Date.now();
    await member.request("DELETE", path);
    for (;;) {
      const object = await read(member, path);
      if (object !== undefined && (object["metadata"] as { uid: string }).uid !== uid) break;
      if (Date.now() - deleted > 60_000) throw new Error("the deleted VaktConfiguration did not come back");
      await sleep(20);
    }
    heals.push(Date.now() - deleted);
    await sleep(500);
  }
  await member.close?.();
  process.stdout.write(`deleted baseline object back in: ${heals.map((ms) => `${ms} ms`).join(", ")}\n`);
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

  const deleting = Date.now();
  kubectl(["delete", "environments", "--all", "--wait=false"]);
  while ((((await read(client, ENVIRONMENTS_PATH))?.["items"] ?? []) as unknown[]).length > 0) {
    if (Date.now() - deleting > 120_000)
      throw new Error("the Environments were not deleted within 2 minutes");
    await sleep(200);
  }
  process.stdout.write(
    `${count} Environments deleted (control planes stopped, state removed): ${((Date.now() - deleting) / 1000).toFixed(1)} s\n`,
  );
  if (hubController.pid !== undefined)
    process.stdout.write(
      `peak RSS of the hub controller (vakt run --parts=fleet, its own process): ${peakRssMb(hubController.pid)} MB; ` +
        `this driver ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; load average ${load}\n`,
    );
  await client.close?.();
} finally {
  if (hubController !== undefined && hubController.exitCode === null) {
    const exited = new Promise((resolve) => hubController?.once("exit", resolve));
    hubController.kill("SIGTERM");
    await exited;
  }
  for (const name of names) await down(join(root, name));
  await down(hubDir);
  rmSync(work, { recursive: true, force: true });
}
