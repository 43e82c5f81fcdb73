import type { Command } from "commander";
import { setting } from "../config/settings.ts";
import { KNOWN_PARTS, PART_NAMES, parsePartList } from "../manager/parts.ts";
import type { PartName } from "../manager/parts.ts";
import { checkLabelSelector } from "../kube/selector.ts";
import { UsageError, oneOf, wholeNumber } from "./errors.ts";

interface RunFlags {
  kubeconfig?: string;
  webhookHost: string;
  webhookPort: string;
  registerUrl?: string;
  failurePolicy: string;
  timeout: string;
  tlsDir?: string;
  tls?: string;
  namespace: string;
  installCrds: boolean;
  parts: string;
  workers: string;
  probeHost: string;
  probePort: string;
  auditInterval: string;
  evidenceUrl?: string;
  evidence: boolean;
  backupLocations?: string;
}

/** `--audit-interval`: 90s, 15m, 1h, 2h30m; at least 10 s. */
export function parseInterval(text: string, flag: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  const [hours = "0", minutes = "0", seconds = "0"] = match?.slice(1) ?? [];
  const ms = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  if (match === null || text.trim() === "" || ms < 10_000 || ms > 7 * 86_400_000)
    throw new UsageError(
      `${flag} "${text.slice(0, 40)}" is not a duration between 10s and 168h (write e.g. 30m, 1h, 2h30m)`,
    );
  return ms;
}

/** `--parts`: the parts named, in start order, or a UsageError listing the known ones. */
export function parseParts(text: string): PartName[] {
  try {
    return parsePartList(text);
  } catch (error) {
    throw new UsageError(`--parts: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description(
      "run vakt's in-cluster manager: the admission webhook with live exceptions and configuration, the Tenant controller and the background audit",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig (default: the files $KUBECONFIG lists, merged; else ~/.kube/config; else the in-cluster service account)",
    )
    .option("--webhook-host <address>", "address the webhook listens on", "0.0.0.0")
    .option("--webhook-port <port>", "webhook HTTPS port (0: a free port)", "9443")
    .option(
      "--register-url <url>",
      "register the webhook configurations with this URL (vakt as a host process, e.g. https://127.0.0.1:9443)",
    )
    .option("--failure-policy <policy>", "with --register-url: Fail or Ignore", "Fail")
    .option("--timeout <seconds>", "with --register-url: webhook timeout in seconds", "5")
    .option(
      "--tls-dir <dir>",
      "directory with tls.crt and tls.key (e.g. a cert-manager Secret); default: vakt bootstraps its own CA",
    )
    .option("--tls <mode>", "self: vakt bootstraps and rotates its own CA (the default without --tls-dir)")
    .option(
      "--namespace <ns>",
      "vakt's own namespace (never judged by the webhook; holds the Lease and the CA Secret)",
      "vakt-system",
    )
    .option("--install-crds", "apply vakt's CRDs at start (local development)", false)
    .option(
      "--parts <parts>",
      `comma-separated parts to run: ${KNOWN_PARTS.map((part) => `${part.name} (${part.description})`).join(", ")}`,
      PART_NAMES.replaceAll(" ", ""),
    )
    .option("--workers <n>", "Tenant controller: parallel reconciles", "4")
    .option(
      "--probe-host <address>",
      "without the webhook: address of the plain-HTTP /healthz, /readyz and /metrics (the webhook's port serves them otherwise)",
      "127.0.0.1",
    )
    .option("--probe-port <port>", "without the webhook: port of /healthz, /readyz and /metrics", "8081")
    .option(
      "--audit-interval <duration>",
      "audit: full pass interval (changes are judged as they happen in between), e.g. 30m, 1h",
      "1h",
    )
    .option(
      "--evidence-url <url>",
      "audit: the evidence history, a postgres:// URL or a directory for the embedded database (default: the setting evidence-url, <home>/evidence)",
    )
    .option("--no-evidence", "audit: write reports only, no evidence history")
    .option(
      "--backup-locations <selector>",
      "backup: only the BackupLocations this label selector picks (e.g. vakt.dev/region=se), for one vakt per set of locations",
    )
    .action(async (flags: RunFlags) => {
      const webhookPort = wholeNumber(flags.webhookPort, "--webhook-port", 0, 65_535);
      const probePort = wholeNumber(flags.probePort, "--probe-port", 0, 65_535);
      const timeoutSeconds = wholeNumber(flags.timeout, "--timeout", 1, 30);
      const workers = wholeNumber(flags.workers, "--workers", 1, 64);
      const auditIntervalMs = parseInterval(flags.auditInterval, "--audit-interval");
      const failurePolicy = oneOf(flags.failurePolicy, "--failure-policy", ["Fail", "Ignore"] as const);
      if (flags.tls !== undefined && flags.tls !== "self")
        throw new UsageError(`--tls must be "self", got "${flags.tls}"`);
      const parts = parseParts(flags.parts);
      if (flags.backupLocations !== undefined) {
        const problem = checkLabelSelector(flags.backupLocations);
        if (problem !== undefined)
          throw new UsageError(
            `--backup-locations "${flags.backupLocations}": ${problem}; write a label selector such as vakt.dev/region=se`,
          );
      }
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const kubeconfig = await loadKubeconfig(flags.kubeconfig);
      const { startManager } = await import("../manager/run.ts");
      const run = await startManager({
        kubeconfig,
        parts,
        webhookHost: flags.webhookHost,
        webhookPort,
        ...(flags.registerUrl === undefined ? {} : { registerUrl: flags.registerUrl }),
        failurePolicy,
        timeoutSeconds,
        excludedNamespaces: ["kube-system", flags.namespace],
        namespace: flags.namespace,
        ...(flags.tlsDir === undefined ? {} : { tlsDir: flags.tlsDir }),
        installCrds: flags.installCrds,
        controller: { leaseNamespace: flags.namespace, workers },
        probes: { host: flags.probeHost, port: probePort },
        audit: { intervalMs: auditIntervalMs },
        ...(flags.backupLocations === undefined
          ? {}
          : { backup: { locationSelector: flags.backupLocations } }),
        ...(flags.evidence
          ? {
              evidence: { url: flags.evidenceUrl ?? setting("evidenceUrl"), cluster: setting("clusterName") },
            }
          : {}),
      });
      if (parts.includes("webhook"))
        process.stderr.write(`vakt run: webhook listening on ${run.webhook.url}\n`);
      if (run.manager.probeUrl !== undefined)
        process.stderr.write(`vakt run: /healthz, /readyz and /metrics on ${run.manager.probeUrl}\n`);
      process.stderr.write(`vakt run: running ${parts.join(", ")}\n`);
      await waitForSignal(() => run.close());
    });
}

function waitForSignal(close: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      void close().then(resolve);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
