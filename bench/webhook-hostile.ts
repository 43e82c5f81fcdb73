/**
 * Normal admission reviews while hostile ones arrive: the latency of the normal ones and the
 * server's peak memory.
 *
 *   node bench/webhook-hostile.ts [--duration 10] [--rate 500] [--hostile-rate 4]
 *
 * The server is bench/webhook.ts's (every rule, the Node flags `vakt run` ships with), pinned to
 * core 0; the loads run on core 1. Two runs of --duration seconds each:
 *   (a) normal only: ~1 KB Pod reviews at --rate per second (autocannon, 2 connections);
 *   (b) the same, plus hostile reviews at --hostile-rate per second from another process, each
 *       about 1.4 MB (the most etcd keeps of one object): a Pod of 50,000 tiny containers, a Pod
 *       of 21,000 annotations, and a Pod at the evaluation limits (250 containers breaking every
 *       rule, 19,000 labels), in turn, sent without waiting for the previous answer.
 * Printed: p50/p99 of the normal reviews in each run, the hostile answers by status with their
 * p50/p99, and the server's peak RSS (VmHWM) after each run, against the 512 MiB memory limit of
 * `vakt install`. A script, not a test: it prints figures and asserts nothing about them.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { RUN_NODE_FLAGS } from "../src/config/runtime.ts";
import { admissionReview } from "../src/testing/admission-fixtures.ts";

const SELF = fileURLToPath(import.meta.url);
const WEBHOOK_BENCH = fileURLToPath(new URL("./webhook.ts", import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const index = argv.indexOf(name);
  return index === -1 ? fallback : (argv[index + 1] ?? fallback);
};

interface LoadResult {
  readonly reviews: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

interface HostileResult {
  readonly sent: number;
  readonly byStatus: Record<string, number>;
  readonly p50: number;
  readonly p99: number;
}

/** About 1.4 MB each; see the module comment. */
function hostileBodies(): string[] {
  const pod = (metadata: Record<string, unknown>, spec: Record<string, unknown>): string =>
    JSON.stringify(
      admissionReview({ apiVersion: "v1", kind: "Pod", metadata: { name: "hostile", ...metadata }, spec }),
    );
  const containers = (count: number): unknown[] =>
    Array.from({ length: count }, (_, i) => ({ name: `c${i}`, image: "x" }));
  const map = (count: number, key: (i: number) => string, value: string): Record<string, string> =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [key(i), value]));
  return [
    pod({}, { containers: containers(50_000) }),
    pod(
      {
        annotations: map(21_000, (i) => `container.apparmor.security.beta.kubernetes.io/c${i}`, "unconfined"),
      },
      { containers: containers(1) },
    ),
    pod(
      { labels: map(19_000, (i) => `example.com/label-${i}`, "v".repeat(40)) },
      { containers: containers(250) },
    ),
  ];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** The hostile load child: sends the bodies in turn at `rate` per second, never waiting for answers. */
async function hostile(url: string, rate: number, duration: number): Promise<void> {
  const bodies = hostileBodies().map((body) => Buffer.from(body));
  const agent = new Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
  const latencies: number[] = [];
  const byStatus: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const count = Math.round(rate * duration);
  for (let i = 0; i < count; i++) {
    const body = bodies[i % bodies.length] ?? Buffer.alloc(0);
    const started = process.hrtime.bigint();
    pending.push(
      new Promise<void>((resolve) => {
        const req = request(
          url,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", "content-length": String(body.length) },
          },
          (res) => {
            res.resume();
            res.on("end", () => {
              latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
              const status = String(res.statusCode ?? 0);
              byStatus[status] = (byStatus[status] ?? 0) + 1;
              resolve();
            });
          },
        );
        req.on("error", (error: NodeJS.ErrnoException) => {
          const key = error.code ?? "error";
          byStatus[key] = (byStatus[key] ?? 0) + 1;
          resolve();
        });
        req.end(body);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
  }
  await Promise.all(pending);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const out: HostileResult = {
    sent: count,
    byStatus,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

function onCore1(args: string[]): ChildProcess {
  return spawn("taskset", ["-c", "1", process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] });
}

async function output(child: ChildProcess): Promise<string> {
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`a load child exited with ${String(code)}`);
  return text;
}

function peakRssMiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match === null ? NaN : Number(match[1]) / 1024;
}

async function main(): Promise<void> {
  const duration = Number(flag("--duration", "10"));
  const rate = Number(flag("--rate", "500"));
  const hostileRate = Number(flag("--hostile-rate", "4"));
  const target = argv.includes("--hostile") ? flag("--hostile", "") : undefined;
  if (target !== undefined) {
    await hostile(target, hostileRate, duration);
    return;
  }
  if (!(duration > 0 && duration <= 60 && rate > 0 && hostileRate > 0))
    throw new Error("--duration: 1..60 seconds; --rate and --hostile-rate: positive");
  const sizes = hostileBodies().map((body) => (body.length / 1e6).toFixed(2));
  console.log(`hostile AdmissionReviews: ${sizes.join(", ")} MB; server on core 0, loads on core 1`);

  // taskset execs node, so the child's pid is the server's.
  const server = spawn(
    "taskset",
    ["-c", "0", process.execPath, ...RUN_NODE_FLAGS, WEBHOOK_BENCH, "--serve", "--rules", "full"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    let port: string | undefined;
    for await (const line of createInterface({ input: server.stdout })) {
      port = /^READY (\d+)$/.exec(line)?.[1];
      if (port !== undefined) break;
    }
    if (port === undefined || server.pid === undefined) throw new Error("the server child did not start");
    const url = `https://127.0.0.1:${port}/validate`;
    const normal = (): ChildProcess =>
      onCore1([
        WEBHOOK_BENCH,
        "--load",
        url,
        "--mode",
        "fixed",
        "--rate",
        String(rate),
        "--duration",
        String(duration),
      ]);

    const alone = JSON.parse(await output(normal())) as LoadResult;
    const rssAlone = peakRssMiB(server.pid);
    const attacked = normal();
    const attacker = onCore1([
      SELF,
      "--hostile",
      url,
      "--hostile-rate",
      String(hostileRate),
      "--duration",
      String(duration),
    ]);
    const [underAttack, hostileResult] = await Promise.all([output(attacked), output(attacker)]);
    const withHostile = JSON.parse(underAttack) as LoadResult;
    const hostileOut = JSON.parse(hostileResult) as HostileResult;
    const rssAttacked = peakRssMiB(server.pid);

    const fmt = (value: number): string => value.toFixed(2);
    const row = (name: string, result: LoadResult): string =>
      `${name.padEnd(40)} ${result.perSecond.toFixed(0).padStart(6)} reviews/s   p50 ${fmt(result.p50)} ms   p99 ${fmt(result.p99)} ms${result.errors + result.non2xx > 0 ? `   (errors ${result.errors}, non-2xx ${result.non2xx})` : ""}`;
    console.log(row(`normal at ${rate}/s, alone`, alone));
    console.log(row(`normal at ${rate}/s, with ${hostileRate} hostile/s`, withHostile));
    console.log(
      `hostile: ${hostileOut.sent} sent, answers ${JSON.stringify(hostileOut.byStatus)}, p50 ${fmt(hostileOut.p50)} ms, p99 ${fmt(hostileOut.p99)} ms`,
    );
    console.log(
      `server peak RSS: ${rssAlone.toFixed(0)} MiB after the normal run, ${rssAttacked.toFixed(0)} MiB after the hostile run (limit 512 MiB)`,
    );
  } finally {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
}

await main();
