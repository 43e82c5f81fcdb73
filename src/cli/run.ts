import type { Command } from "commander";
import { UsageError } from "./errors.ts";

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
    .action(async (flags: RunFlags) => {
      const port = Number(flags.webhookPort);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new UsageError(`--webhook-port must be a port number, got "${flags.webhookPort}"`);
      const timeoutSeconds = Number(flags.timeout);
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30)
        throw new UsageError(`--timeout must be 1 to 30 seconds, got "${flags.timeout}"`);
      if (flags.failurePolicy !== "Fail" && flags.failurePolicy !== "Ignore")
        throw new UsageError(`--failure-policy must be Fail or Ignore, got "${flags.failurePolicy}"`);
      if (flags.tls !== undefined && flags.tls !== "self")
        throw new UsageError(`--tls must be "self", got "${flags.tls}"`);
      // Loaded on demand: the Kubernetes client costs most of the CLI's start-up time.
      const { KubeConfig } = await import("@kubernetes/client-node");
      const kubeconfig = new KubeConfig();
      if (flags.kubeconfig !== undefined) kubeconfig.loadFromFile(flags.kubeconfig);
      else kubeconfig.loadFromDefault();
      const { startManager } = await import("../manager/run.ts");
      const manager = await startManager({
        kubeconfig,
        webhookHost: flags.webhookHost,
        webhookPort: port,
        ...(flags.registerUrl === undefined ? {} : { registerUrl: flags.registerUrl }),
        failurePolicy: flags.failurePolicy,
        timeoutSeconds,
        excludedNamespaces: ["kube-system", flags.namespace],
        ...(flags.tlsDir === undefined ? {} : { tlsDir: flags.tlsDir }),
        installCrds: flags.installCrds,
      });
      process.stderr.write(`vakt run: webhook listening on ${manager.webhook.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void manager.close().then(resolve);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
