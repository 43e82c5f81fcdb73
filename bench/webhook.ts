/**
 * Admission webhook throughput and latency, against the floor (the same server with no rules).
 *
 *   node bench/webhook.ts [--duration 8]
 *
 * Loopback only and bounded (4 runs of --duration seconds, default 8, plus start-up). For each of
 * "full" (every rule, default configuration) and "floor" (the same server, an empty rule set), a
 * server child process (with the Node flags `vakt run` ships with) is pinned to core 0
 * (`taskset -c 0 node bench/webhook.ts --serve ...`) and a load child to core 1
 * (`taskset -c 1 node bench/webhook.ts --load ...`, autocannon over keep-alive HTTPS), in two
 * runs:
 *   (a) max throughput: 10 connections, as fast as they go;
 *   (b) fixed rate: 1,000 reviews/s over 2 connections.
 * The body cycles through ~1 KB Pod AdmissionReviews: compliant, and non-compliant (untagged
 * image; privileged with a latest tag), so deny, warn and allow paths all run. Latencies are the
 * client's, per response, in fractional ms (autocannon's own histogram rounds to whole ms).
 * It also prints the in-process cost of review() alone, per object. A script, not a test: it
 * prints figures and asserts nothing about them. bench/webhook-hostile.ts runs its server and
 * load children (`--serve`, `--load URL --mode fixed --rate N`).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { RUN_NODE_FLAGS } from "../src/config/runtime.ts";
import { createCertificateAuthority, issueCertificate } from "../src/devcluster/pki.ts";
import { AdmissionState, review } from "../src/webhook/admission.ts";
import { admissionReview, compliantPod } from "../src/testing/admission-fixtures.ts";
import { startWebhookServer } from "../src/webhook/server.ts";

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const index = argv.indexOf(name);
  return index === -1 ? undefined : argv[index + 1];
};

type RuleChoice = "full" | "floor";

function stateFor(rules: RuleChoice): AdmissionState {
  return rules === "full" ? new AdmissionState() : new AdmissionState({ rules: [] });
}

/** ~1 KB AdmissionReviews: a compliant Pod and two common mistakes. */
export function bodies(): string[] {
  const labels = {
    app: "checkout",
    "app.kubernetes.io/name": "checkout",
    "app.kubernetes.io/part-of": "shop",
    "app.kubernetes.io/version": "1.4.2",
  };
  const env = [
    { name: "LOG_LEVEL", value: "info" },
    { name: "PORT", value: "8080" },
  ];
  const pod = (overrides: Record<string, unknown>): Record<string, unknown> => {
    const object = compliantPod({ env, ports: [{ containerPort: 8080 }], ...overrides });
    (object["metadata"] as Record<string, unknown>)["labels"] = labels;
    (object["metadata"] as Record<string, unknown>)["name"] = "checkout-7d9f8b6c5-x2x9q";
    return object;
  };
  return [
    pod({}),
    pod({ image: "registry.example.com/acme/checkout" }),
    pod({ image: "nginx:latest", securityContext: { privileged: true } }),
  ].map((object, index) =>
    JSON.stringify(admissionReview(object, { uid: `00000000-0000-4000-8000-00000000000${index}` })),
  );
}

async function serve(rules: RuleChoice): Promise<void> {
  const ca = await createCertificateAuthority("vakt-bench-ca", 1);
  const leaf = await issueCertificate(ca, {
    commonName: "vakt-webhook",
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validDays: 1,
  });
  const server = await startWebhookServer({
    state: stateFor(rules),
    tls: { key: leaf.privateKeyPem, cert: leaf.certificatePem },
    host: "127.0.0.1",
    port: 0,
    logger: pino({ level: "warn" }, pino.destination(2)),
  });
  process.stdout.write(`READY ${server.port}\n`);
  process.on("SIGTERM", () => {
    void server.close(2000).then(() => process.exit(0));
  });
}

interface AutocannonInstance {
  on(event: "response", listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(
    event: "done",
    listener: (result: { requests: { total: number }; errors: number; non2xx: number }) => void,
  ): void;
}
type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;

interface LoadResult {
  readonly reviews: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function load(url: string, mode: "max" | "fixed", duration: number, rate = 1000): Promise<void> {
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const latencies: number[] = [];
  const instance = autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    requests: bodies().map((body) => ({ body })),
    connections: mode === "max" ? 10 : 2,
    ...(mode === "fixed" ? { overallRate: rate } : {}),
    duration,
  });
  instance.on("response", (_client, status, _bytes, ms) => {
    if (status === 200) latencies.push(ms);
  });
  const [result] = (await once(instance as unknown as NodeJS.EventEmitter, "done")) as [
    { requests: { total: number }; errors: number; non2xx: number },
  ];
  const sorted = Float64Array.from(latencies).sort();
  const out: LoadResult = {
    reviews: latencies.length,
    seconds: duration,
    perSecond: latencies.length / duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors,
    non2xx: result.non2xx,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

async function run(command: string[]): Promise<string> {
  const child = spawn(command[0] ?? "", command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${String(code)}`);
  return output;
}

async function measure(rules: RuleChoice, duration: number): Promise<{ max: LoadResult; fixed: LoadResult }> {
  // The server runs with the Node flags `vakt run` ships with (src/config/runtime.ts).
  const server = spawn(
    "taskset",
    ["-c", "0", process.execPath, ...RUN_NODE_FLAGS, SELF, "--serve", "--rules", rules],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    const lines = createInterface({ input: server.stdout });
    let port: string | undefined;
    for await (const line of lines) {
      const match = /^READY (\d+)$/.exec(line);
      if (match !== null) {
        port = match[1];
        break;
      }
    }
    if (port === undefined) throw new Error("the server child did not start");
    const url = `https://127.0.0.1:${port}/validate`;
    const loadOnCore1 = (mode: string): string[] => [
      "taskset",
      "-c",
      "1",
      process.execPath,
      SELF,
      "--load",
      url,
      "--mode",
      mode,
      "--duration",
      String(duration),
    ];
    const max = JSON.parse(await run(loadOnCore1("max"))) as LoadResult;
    const fixed = JSON.parse(await run(loadOnCore1("fixed"))) as LoadResult;
    return { max, fixed };
  } finally {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
}

/** The in-process cost of review() on the same bodies (parsed once), µs per review. */
function inProcess(rules: RuleChoice): number {
  const state = stateFor(rules);
  const parsed = bodies().map((body) => JSON.parse(body) as unknown);
  const rounds = 20_000;
  // Enough calls for V8 to optimize the rules: with 2,000 the figure still moved by half.
  for (let i = 0; i < 5000; i++) review(parsed[i % parsed.length], state);
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) review(parsed[i % parsed.length], state);
  return Number(process.hrtime.bigint() - started) / 1e3 / rounds;
}

const fmt = (value: number, digits = 2): string => value.toFixed(digits);

async function main(): Promise<void> {
  if (argv.includes("--serve")) {
    await serve(flag("--rules") === "floor" ? "floor" : "full");
    return;
  }
  const duration = Number(flag("--duration") ?? "8");
  const target = flag("--load");
  if (target !== undefined) {
    await load(
      target,
      flag("--mode") === "fixed" ? "fixed" : "max",
      duration,
      Number(flag("--rate") ?? "1000"),
    );
    return;
  }
  if (!Number.isFinite(duration) || duration <= 0 || duration > 60)
    throw new Error("--duration: 1..60 seconds");
  const sizes = bodies().map((body) => body.length);
  console.log(`AdmissionReview bodies: ${sizes.join(", ")} bytes; server on core 0, autocannon on core 1`);
  console.log(
    `in-process review(): full ${fmt(inProcess("full"), 1)} µs/review, floor ${fmt(inProcess("floor"), 1)} µs/review`,
  );
  const full = await measure("full", duration);
  const floor = await measure("floor", duration);
  const row = (name: string, result: LoadResult): string =>
    `${name.padEnd(34)} ${fmt(result.perSecond, 0).padStart(8)} reviews/s   p50 ${fmt(result.p50)} ms   p99 ${fmt(result.p99)} ms${result.errors + result.non2xx > 0 ? `   (errors ${result.errors}, non-2xx ${result.non2xx})` : ""}`;
  console.log(row("full rules, max (-c 10)", full.max));
  console.log(row("floor (no rules), max (-c 10)", floor.max));
  console.log(row("full rules, 1,000/s (-R 1000 -c 2)", full.fixed));
  console.log(row("floor (no rules), 1,000/s (-c 2)", floor.fixed));
  console.log(
    `full/floor: throughput ${fmt(full.max.perSecond / floor.max.perSecond)}, p99 at 1,000/s ${fmt(full.fixed.p99 / floor.fixed.p99)}`,
  );
}

await main();
