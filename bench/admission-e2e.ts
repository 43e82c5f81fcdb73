/**
 * End-to-end create latency through kube-apiserver, with and without vakt's webhook in the path.
 *
 *   node bench/admission-e2e.ts [--requests 1000] [--built]
 *
 * Starts its own local control plane (no kwok, no controllers: only the API path is measured)
 * with vakt as a separate host process (`vakt run --parts webhook`, as `npm start` runs it; with
 * --built from bin/vakt.js, else src/cli/main.ts), registered at 127.0.0.1 with both webhooks
 * (mutating and validating), failurePolicy Fail.
 *
 * The comparison is paired and interleaved, so that load from anything else on the machine lands
 * on both sides alike: each round creates one compliant Pod (server-side dry run: the full
 * admission chain, nothing stored) in a namespace the webhooks judge and one in a namespace their
 * namespaceSelector excludes (vakt's own), in alternating order. A last phase measures the API
 * server with no webhook configuration at all, after vakt is stopped and its configurations
 * deleted, as a reference. Prints p50/p90/p99 per side and the added latency. Loopback only,
 * bounded by --requests per side. A script: it asserts nothing.
 */
import { execFileSync } from "node:child_process";
import { request } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";
import { makeKubeClient } from "../src/kube/client.ts";
import type { KubeClient } from "../src/kube/client.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { compliantPod } from "../src/testing/admission-fixtures.ts";

const argv = process.argv.slice(2);
const requestsFlag = argv.indexOf("--requests");
const requests = requestsFlag === -1 ? 1000 : Number(argv[requestsFlag + 1]);
if (!Number.isInteger(requests) || requests < 10) throw new Error("--requests takes a whole number >= 10");
const built = argv.includes("--built");
const repo = join(import.meta.dirname, "..");
const binDir =
  execFileSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" })
    .trim()
    .split("\n")
    .at(-1) ?? "";
const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-e2e-"));
const WARM_UP = 50;
const JUDGED = "bench";
const EXCLUDED = "vakt-system"; // vakt's own namespace: the webhooks' namespaceSelector leaves it out

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * One timed create, over a kept-alive connection (vakt's own REST client): client-node's
 * generated clients open a new TLS connection per request, which costs the bench and the API
 * server a handshake each time (about 8 ms of the bench's CPU per create) and buries the
 * webhook's share in that noise.
 */
async function timedCreate(client: KubeClient, namespace: string, body: V1Pod): Promise<number> {
  const started = process.hrtime.bigint();
  await client.request("POST", `/api/v1/namespaces/${namespace}/pods`, { query: { dryRun: "All" }, body });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function row(label: string, samples: number[]): void {
  samples.sort((a, b) => a - b);
  process.stdout.write(
    `| ${label} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 90).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} |\n`,
  );
}

/** Mean time vakt spent per review, by endpoint, from its own histogram (sum / count). */
async function serverSideMeans(port: number): Promise<string> {
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/metrics", rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve(body);
      });
    });
    req.on("error", reject);
    req.end();
  });
  const value = (name: string, endpoint: string): number =>
    Number(new RegExp(`^${name}\\{endpoint="${endpoint}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  return ["validate", "mutate"]
    .map((endpoint) => {
      const count = value("vakt_admission_duration_seconds_count", endpoint);
      const mean = (value("vakt_admission_duration_seconds_sum", endpoint) / count) * 1000;
      return `${endpoint} ${count} reviews, mean ${mean.toFixed(3)} ms`;
    })
    .join("; ");
}

function pod(i: number): V1Pod {
  return { ...compliantPod(), metadata: { name: `p-${i}` } };
}

/** Until the API server calls the webhook: a privileged Pod in the judged namespace is denied by vakt. */
async function untilWebhookActive(core: CoreV1Api): Promise<void> {
  const privileged = compliantPod({ securityContext: { privileged: true } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await core.createNamespacedPod({
        namespace: JUDGED,
        body: privileged,
        dryRun: "All",
      });
    } catch (error) {
      if (String(error).includes("vakt")) return;
      throw error;
    }
    if (Date.now() > deadline) throw new Error("the webhook was not called within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

try {
  const cpuBefore = process.cpuUsage();
  const cluster = await up({
    stateDir,
    binDir,
    controllers: false,
    vakt: {
      command: process.execPath,
      script: built ? join(repo, "bin/vakt.js") : join(repo, "src/cli/main.ts"),
      args: ["--parts=webhook"],
    },
  });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const client = makeKubeClient(config, { maxConnections: 1 });
  for (const name of [JUDGED, EXCLUDED]) {
    await core.createNamespace({ body: { metadata: { name } } });
    // The ServiceAccount admission plugin wants the default ServiceAccount (no controllers run).
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } });
  }
  await untilWebhookActive(core);
  process.stdout.write(
    `${requests} dry-run Pod creates per side, serial, paired and interleaved (ABBA), after ${WARM_UP} warm-up rounds; vakt ${built ? "bin/vakt.js" : "src/cli/main.ts"} in its own process\n\n`,
  );
  process.stdout.write("| side | p50 ms | p90 ms | p99 ms |\n|---|---:|---:|---:|\n");
  const judged: number[] = [];
  const excluded: number[] = [];
  for (let i = 0; i < requests + WARM_UP; i++) {
    const body = pod(i);
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await timedCreate(client, JUDGED, body);
      b = await timedCreate(client, EXCLUDED, body);
    } else {
      b = await timedCreate(client, EXCLUDED, body);
      a = await timedCreate(client, JUDGED, body);
    }
    if (i >= WARM_UP) {
      judged.push(a);
      excluded.push(b);
    }
  }
  row("judged by vakt (mutate + validate)", judged);
  row("excluded by namespaceSelector", excluded);
  const vakt = cluster.components.find((component) => component.name === "vakt");
  const inside = vakt === undefined ? "" : await serverSideMeans(vakt.port);

  // Reference: no webhook configuration at all.
  if (vakt !== undefined) process.kill(vakt.pid, "SIGTERM");
  execFileSync(join(binDir, "kubectl"), [
    `--kubeconfig=${cluster.kubeconfig}`,
    "delete",
    "validatingwebhookconfiguration,mutatingwebhookconfiguration",
    "vakt",
  ]);
  // Configuration changes reach the API server's admission chain asynchronously: until a
  // privileged Pod is admitted (dry run), vakt's (stopped) webhook is still in the chain.
  const privileged = compliantPod({ securityContext: { privileged: true } }) as unknown as V1Pod;
  for (let admitted = false; !admitted;) {
    admitted = await core.createNamespacedPod({ namespace: JUDGED, body: privileged, dryRun: "All" }).then(
      () => true,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return false;
      },
    );
  }
  const none: number[] = [];
  for (let i = 0; i < requests + WARM_UP; i++) {
    const ms = await timedCreate(client, JUDGED, pod(i));
    if (i >= WARM_UP) none.push(ms);
  }
  row("no webhook registered (reference, after)", none);
  const added50 = percentile(judged, 50) - percentile(excluded, 50);
  const added99 = percentile(judged, 99) - percentile(excluded, 99);
  process.stdout.write(
    `\nadded by the webhook (judged - excluded, same rounds): p50 ${added50.toFixed(2)} ms, p99 ${added99.toFixed(2)} ms; ratio p99 ${(percentile(judged, 99) / percentile(excluded, 99)).toFixed(2)}\n`,
  );
  process.stdout.write(`inside vakt (request headers to response end): ${inside}\n`);
  const cpu = process.cpuUsage(cpuBefore);
  process.stdout.write(`bench client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s\n`);
  await client.close?.();
} finally {
  await down(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
}
