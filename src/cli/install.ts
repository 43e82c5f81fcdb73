import type { Command } from "commander";
import { VERSION } from "../version.ts";
import { UsageError, oneOf, wholeNumber } from "./errors.ts";

export function registerInstall(program: Command): void {
  program
    .command("install")
    .description(
      "print the manifests that install vakt in a cluster (pipe to kubectl apply --server-side -f -)",
    )
    .option("--namespace <ns>", "namespace for vakt", "vakt-system")
    .option("--image <image>", "vakt image, pinned to a tag or digest", `ghcr.io/vakt-dev/vakt:${VERSION}`)
    .option(
      "--replicas <n>",
      "webhook replicas (2 or more keeps admission available during node drains)",
      "2",
    )
    .option("--failure-policy <policy>", "Fail (refuse requests while vakt is unreachable) or Ignore", "Fail")
    .option("--timeout <seconds>", "webhook timeout, 1-30 seconds", "5")
    .option(
      "--tls <source>",
      "cert-manager, or self (vakt bootstraps and rotates its own CA)",
      "cert-manager",
    )
    .action(
      async (options: {
        namespace: string;
        image: string;
        replicas: string;
        failurePolicy: string;
        timeout: string;
        tls: string;
      }) => {
        const replicas = wholeNumber(options.replicas, "--replicas", 1, 20);
        const timeoutSeconds = wholeNumber(options.timeout, "--timeout", 1, 30);
        const failurePolicy = oneOf(options.failurePolicy, "--failure-policy", ["Fail", "Ignore"] as const);
        const tls = oneOf(options.tls, "--tls", ["cert-manager", "self"] as const);
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace))
          throw new UsageError(`--namespace "${options.namespace}" is not a valid namespace name`);
        // Loaded on demand: registering the command (and --help) needs none of this.
        const { yamlStream } = await import("../outputs/yaml.ts");
        const { ALL_RULES } = await import("../engine/rules/index.ts");
        const { installManifests } = await import("../install/manifests.ts");
        const { tenantCrd } = await import("../tenant/schema.ts");
        const { openReportsCrds } = await import("../audit/crds.ts");
        const { backupLocationCrd } = await import("../backup/location.ts");
        const objects = installManifests({
          namespace: options.namespace,
          image: options.image,
          replicas,
          failurePolicy,
          timeoutSeconds,
          tls,
          rules: ALL_RULES,
          // The audit's reports: OpenReports' own CRDs, read from its Go module. BackupLocation:
          // the off-site copies' kind (the backup part is not among the Deployment's parts yet).
          crds: [tenantCrd(), backupLocationCrd(), ...(await openReportsCrds())],
        });
        process.stdout.write(yamlStream(objects));
      },
    );
}
