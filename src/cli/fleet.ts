import type { Command } from "commander";
import { oneOf } from "./errors.ts";

export function registerFleet(program: Command): void {
  const fleet = program.command("fleet").description("the Environments a hub provisions");
  fleet
    .command("status")
    .description(
      "one line per Environment on the hub: provider, region, phase, readiness, vakt version, findings, last backup and drill",
    )
    .option("--kubeconfig <file>", "the hub's kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (options: { kubeconfig?: string; output: string }) => {
      const format = oneOf(options.output, "--output", ["text", "json"] as const);
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const { makeKubeClient } = await import("../kube/client.ts");
      const { ENVIRONMENTS_PATH } = await import("../fleet/watches.ts");
      const { fleetRows, fleetTable } = await import("../fleet/fleet-status.ts");
      const { VERSION } = await import("../version.ts");
      const client = makeKubeClient(await loadKubeconfig(options.kubeconfig));
      try {
        const { body } = await client.request("GET", ENVIRONMENTS_PATH);
        const rows = fleetRows((body["items"] ?? []) as Record<string, unknown>[], VERSION);
        process.stdout.write(format === "json" ? JSON.stringify(rows, null, 2) + "\n" : fleetTable(rows));
      } finally {
        await client.close?.();
      }
    });
}
