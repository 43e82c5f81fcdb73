/**
 * End-to-end create latency through kube-apiserver, with and without vakt's webhook registered.
 *
 *   node bench/admission-e2e.ts [--requests 400]
 *
 * Starts its own local control plane (no kwok, no controllers: only the API path is measured),
 * then creates compliant Pods one after another with a server-side dry run (full admission chain,
 * nothing stored, so etcd growth does not skew later samples): first with no webhook, then with
 * vakt (validating + mutating) registered at 127.0.0.1, then without again. Prints p50/p90/p99 and
 * the added latency. Loopback only, bounded by --requests per phase. A script: it asserts nothing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";
import { pino } from "pino";
import { down, up } from "../src/devcluster/cluster.ts";
import { startManager } from "../src/manager/run.ts";
import { compliantPod } from "../src/webhook/fixtures.ts";

const argv = process.argv.slice(2);
const requestsFlag = argv.indexOf("--requests");
const requests = requestsFlag === -1 ? 400 : Number(argv[requestsFlag + 1]);
const repo = join(import.meta.dirname, "..");
const binDir =
  execFileSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" })
    .trim()
    .split("\n")
    .at(-1) ?? "";
const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-e2e-"));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function phase(core: CoreV1Api, namespace: string, label: string): Promise<number[]> {
  const template = compliantPod();
  const samples: number[] = [];
  for (let i = 0; i < requests + 20; i++) {
    const started = process.hrtime.bigint();
    const body = { ...template, metadata: { name: `p-${i}` } } as unknown as V1Pod;
    await core.createNamespacedPod({ namespace, body, dryRun: "All" });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i >= 20) samples.push(ms); // the first 20 warm connections and caches
  }
  samples.sort((a, b) => a - b);
  process.stdout.write(
    `| ${label.padEnd(28)} | ${percentile(samples, 50).toFixed(2)} | ${percentile(samples, 90).toFixed(2)} | ${percentile(samples, 99).toFixed(2)} |\n`,
  );
  return samples;
}

try {
  const cluster = await up({ stateDir, binDir, controllers: false });
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  const namespace = "bench";
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core
    .createNamespacedServiceAccount({ namespace, body: { metadata: { name: "default" } } })
    .catch(() => undefined);
  process.stdout.write(`${requests} dry-run Pod creates per phase, serial, after 20 warm-up requests\n\n`);
  process.stdout.write("| phase | p50 ms | p90 ms | p99 ms |\n|---|---:|---:|---:|\n");
  const before = await phase(core, namespace, "no webhook");
  const manager = await startManager({
    kubeconfig: config,
    webhookHost: "127.0.0.1",
    webhookPort: 0,
    registerUrl: "https://127.0.0.1:0",
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system"],
    installCrds: true,
    logger: pino({ level: "silent" }),
  });
  // The API server picks up new webhook configurations asynchronously; wait until one is called.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const withWebhook = await phase(core, namespace, "vakt webhook (validate+mutate)");
  await manager.close();
  execFileSync(join(binDir, "kubectl"), [
    `--kubeconfig=${cluster.kubeconfig}`,
    "delete",
    "validatingwebhookconfiguration,mutatingwebhookconfiguration",
    "vakt",
  ]);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = await phase(core, namespace, "no webhook (again)");
  const baseline = [...before, ...after].sort((a, b) => a - b);
  process.stdout.write(
    `\nadded by the webhook: p50 ${(percentile(withWebhook, 50) - percentile(baseline, 50)).toFixed(2)} ms, p99 ${(percentile(withWebhook, 99) - percentile(baseline, 99)).toFixed(2)} ms; ratio p99 ${(percentile(withWebhook, 99) / percentile(baseline, 99)).toFixed(2)}\n`,
  );
} finally {
  await down(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
}
