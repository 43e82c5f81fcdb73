// Benchmark (a script, not a test): a restore drill of a tenant with 500 objects (ConfigMaps,
// Secrets, Deployments) on a real control plane, the real Velero (the primary's, and the drill's
// reading the off-site bucket ReadOnly) and versitygw. Target (issue 14): under 60 s on 2 cores.
//
//   node bench/backup-drill.ts [--objects 500] [--rounds 3]
//
// Starts a control plane of its own (scripts/build-tools.sh binaries, devcluster up) and runs
// itself again against it. There: versitygw with Velero's bucket and an off-site bucket under
// Object Lock (COMPLIANCE), both Velero servers, one namespace with --objects objects (2/5
// ConfigMaps, 2/5 Secrets, 1/5 Deployments), a Velero Backup of it, vakt's backup part copying it
// off-site; then --rounds drills (src/backup/drill.ts runDrill, as `vakt backup drill` and the
// schedule run it) one after the other. Prints per drill: the drill's wall time (latest copy
// found and checked, tarball read and inventoried, scratch namespaces isolated, Velero's restore,
// every object read back and compared, scratch namespaces deleted), RTO (the Restore's creation
// to its completion), and this process's peak RSS (it also held the backup part during the copy:
// an upper bound for the drill alone).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setting } from "../src/config/settings.ts";
import { down, up } from "../src/devcluster/cluster.ts";
import { openLocation, runDrill } from "../src/backup/drill.ts";
import { makeKubeClient } from "../src/kube/client.ts";
import { startBackupRun, startDrillStack, tenantBackup } from "../src/testing/backup.ts";
import { eventually, kubectl, testKubeConfig } from "../src/testing/cluster.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number above 0`);
  return value;
}

const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

/** Outer process: a control plane of its own, and this script again against it. */
async function outer(): Promise<number> {
  const repo = join(import.meta.dirname, "..");
  const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], { encoding: "utf8" });
  if (tools.status !== 0) throw new Error(`build-tools.sh failed: ${tools.stderr}`);
  const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
  const stateDir = mkdtempSync(join(tmpdir(), "vakt-bench-drill-"));
  try {
    const cluster = await up({ stateDir, binDir, nodes: 1 });
    log(`control plane up at ${cluster.server}`);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, ...process.argv.slice(2)],
      {
        stdio: "inherit",
        env: { ...process.env, VAKT_TEST_KUBECONFIG: cluster.kubeconfig, VAKT_TEST_BIN_DIR: binDir },
      },
    );
    return child.status ?? 1;
  } finally {
    await down(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Inner process: the drill against the control plane the outer one started. */
async function inner(): Promise<void> {
  const count = arg("objects", 500);
  const rounds = arg("rounds", 3);
  const cleanups: (() => unknown)[] = [];
  // The test helpers clean up through a test context's after(); here, at the end.
  const t = {
    after: (fn: () => unknown) => {
      cleanups.push(fn);
    },
  } as unknown as TestContext;
  try {
    const tenant = "bench";
    const app = "bench-drill-app";
    await kubectl(["create", "namespace", app]);
    const configMaps = Math.round((count * 2) / 5);
    const secrets = Math.round((count * 2) / 5);
    const deployments = count - configMaps - secrets;
    const items: unknown[] = [];
    for (let i = 0; i < configMaps; i++)
      items.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `settings-${i}`, namespace: app },
        data: { mode: "clinical", index: String(i), payload: "x".repeat(512) },
      });
    for (let i = 0; i < secrets; i++)
      items.push({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `db-${i}`, namespace: app },
        stringData: { password: `s3cret-${i}`, url: `postgres://db-${i}.example:5432/app` },
      });
    for (let i = 0; i < deployments; i++)
      items.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: `web-${i}`, namespace: app },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: `web-${i}` } },
          template: {
            metadata: { labels: { app: `web-${i}` } },
            spec: { containers: [{ name: "web", image: "registry.example/web:1.2.3" }] },
          },
        },
      });
    for (let i = 0; i < items.length; i += 100)
      await kubectl(
        ["apply", "--server-side", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: items.slice(i, i + 100) }),
      );
    log(`${configMaps} ConfigMaps, ${secrets} Secrets, ${deployments} Deployments in ${app}`);

    const { velero, drillVelero, location } = await startDrillStack(t);
    const run = await startBackupRun(t, { selector: location.selector, leaseNamespace: velero.namespace });
    await tenantBackup(velero, "nightly", app, tenant);
    await eventually("the backup copied off-site", 300_000, async () => {
      const status = (await location.read())["status"] as { copiedBackups?: number } | undefined;
      return status?.copiedBackups === 1 ? true : undefined;
    });
    await run.close();
    log("backup copied off-site; the backup part stopped");

    const client = makeKubeClient(testKubeConfig());
    const { location: parsed, offsite } = await openLocation(client, location.name);
    cleanups.push(() => {
      offsite.client.destroy();
    });
    process.stdout.write(
      `backup-drill: ${count} objects, ${rounds} drills, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    for (let round = 1; round <= rounds; round++) {
      const started = performance.now();
      const result = await runDrill({
        client,
        tenant,
        location: parsed,
        offsite,
        drillVelero: { namespace: drillVelero.namespace, storageLocation: "offsite" },
        timeoutMs: 600_000,
      });
      const seconds = (performance.now() - started) / 1000;
      const rssMiB = process.resourceUsage().maxRSS / 1024;
      process.stdout.write(
        `drill ${round}: ${result.passed ? "passed" : `FAILED (${result.problems.join("; ")})`}, ${result.comparison.restored}/${result.comparison.expected} objects, drill ${seconds.toFixed(1)} s, RTO ${result.rtoSeconds.toFixed(1)} s, RPO ${result.rpoSeconds.toFixed(0)} s, peak RSS ${rssMiB.toFixed(0)} MiB, load ${loadavg()[0]?.toFixed(1) ?? "?"}\n`,
      );
      if (!result.passed) process.exitCode = 1;
    }
    await client.close?.();
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

if (setting("testKubeconfig") === "") process.exitCode = await outer();
else await inner();
