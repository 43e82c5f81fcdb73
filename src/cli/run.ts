import type { Command } from "commander";
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
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description(
      "run vakt's in-cluster manager: the admission webhook with live exceptions and configuration",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)",
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
    .option("--namespace <ns>", "vakt's own namespace (never judged by the webhook)", "vakt-system")
    .option("--install-crds", "apply vakt's CRDs at start (local development)", false)
    .option(
      "--parts <parts>",
      "comma-separated parts to run: webhook, controller (the Tenant controller; waits for the Tenant CRD if absent)",
      "webhook,controller",
    )
    .option("--workers <n>", "Tenant controller: parallel reconciles", "4")
    .action(async (flags: RunFlags) => {
      const port = wholeNumber(flags.webhookPort, "--webhook-port", 0, 65_535);
      const timeoutSeconds = wholeNumber(flags.timeout, "--timeout", 1, 30);
      const failurePolicy = oneOf(flags.failurePolicy, "--failure-policy", ["Fail", "Ignore"] as const);
      if (flags.tls !== undefined && flags.tls !== "self")
        throw new UsageError(`--tls must be "self", got "${flags.tls}"`);
      const parts = new Set(
        flags.parts
          .split(",")
          .map((part) => part.trim())
          .filter((part) => part !== ""),
      );
      for (const part of parts)
        if (part !== "webhook" && part !== "controller")
          throw new UsageError(`--parts takes webhook and/or controller, got "${part}"`);
      if (parts.size === 0) throw new UsageError("--parts must name at least one part: webhook, controller");
      const workers = Number(flags.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 64)
        throw new UsageError(`--workers must be 1 to 64, got "${flags.workers}"`);
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const kubeconfig = await loadKubeconfig(flags.kubeconfig);
      const { startManager } = await import("../manager/run.ts");
      const common = {
        kubeconfig,
        webhookHost: flags.webhookHost,
        webhookPort: port,
        ...(flags.registerUrl === undefined ? {} : { registerUrl: flags.registerUrl }),
        failurePolicy,
        timeoutSeconds,
        excludedNamespaces: ["kube-system", flags.namespace],
        ...(flags.tlsDir === undefined ? {} : { tlsDir: flags.tlsDir }),
        installCrds: flags.installCrds,
        controller: { leaseNamespace: flags.namespace, workers },
      };
      if (!parts.has("webhook")) {
        const controllerOnly = await startManager({ ...common, parts: { webhook: false, controller: true } });
        process.stderr.write("vakt run: Tenant controller started (webhook not running)\n");
        await waitForSignal(() => controllerOnly.close());
        return;
      }
      const manager = await startManager({
        parts: { webhook: true, controller: parts.has("controller") },
        controller: { leaseNamespace: flags.namespace, workers },
        kubeconfig,
        webhookHost: flags.webhookHost,
        webhookPort: port,
        ...(flags.registerUrl === undefined ? {} : { registerUrl: flags.registerUrl }),
        failurePolicy,
        timeoutSeconds,
        excludedNamespaces: ["kube-system", flags.namespace],
        namespace: flags.namespace,
        ...(flags.tlsDir === undefined ? {} : { tlsDir: flags.tlsDir }),
        installCrds: flags.installCrds,
      });
      process.stderr.write(`vakt run: webhook listening on ${manager.webhook.url}\n`);
      await waitForSignal(() => manager.close());
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
