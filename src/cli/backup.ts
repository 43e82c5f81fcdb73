import type { Command } from "commander";
import { UsageError, oneOf } from "./errors.ts";

interface DrillCliOptions {
  location: string;
  drillNamespace: string;
  drillLocation?: string;
  backup?: string;
  kubeconfig?: string;
  database?: string;
  cluster?: string;
  timeout: string;
  output: string;
}

export function registerBackup(program: Command): void {
  const backup = program.command("backup").description("off-site backup copies and restore drills");
  backup
    .command("status")
    .description(
      "one line per Tenant: its last backup and that backup's age against the policy, the off-site copy, the last restore drill and its result, RPO, RTO and the lock check of the copy's location",
    )
    .option("--kubeconfig <file>", "kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (options: { kubeconfig?: string; output: string }) => {
      const format = oneOf(options.output, "--output", ["text", "json"] as const);
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const { makeKubeClient, KubeError } = await import("../kube/client.ts");
      const { BACKUP_LOCATION, TENANT, collectionPath } = await import("../api/registry.ts");
      const { backupStatusRows, backupStatusTable } = await import("../backup/status-table.ts");
      const client = makeKubeClient(await loadKubeconfig(options.kubeconfig));
      try {
        const list = async (path: string, what: string): Promise<Record<string, unknown>[]> => {
          try {
            return ((await client.request("GET", path)).body["items"] ?? []) as Record<string, unknown>[];
          } catch (error) {
            if (error instanceof KubeError && error.code === 404)
              throw new UsageError(
                `vakt backup status: the API server does not serve ${what} (${path}); install vakt's CRDs (vakt install)`,
              );
            throw error;
          }
        };
        const tenants = await list(collectionPath(TENANT), "Tenants");
        const locations = await list(collectionPath(BACKUP_LOCATION), "BackupLocations");
        const now = new Date();
        const rows = backupStatusRows(tenants, locations, now);
        process.stdout.write(
          format === "json" ? `${JSON.stringify(rows, null, 2)}\n` : backupStatusTable(rows, now),
        );
      } finally {
        await client.close?.();
      }
    });
  backup
    .command("now")
    .description(
      "a Velero Backup now from each Tenant's Schedule (as `velero backup create --from-schedule`): its first copy and drill need not wait for the cron time",
    )
    .argument("[tenants...]", "the Tenants (default: every Tenant with a Schedule)")
    .option("--kubeconfig <file>", "kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--wait <seconds>", "wait this long for the Schedules to exist and the backups to end", "0")
    .action(async (tenants: string[], options: { kubeconfig?: string; wait: string }) => {
      const wait = Number(options.wait);
      if (!Number.isFinite(wait) || wait < 0)
        throw new UsageError(`--wait ${options.wait}: give seconds, 0 or more`);
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const { makeKubeClient } = await import("../kube/client.ts");
      const { backupNow } = await import("../backup/schedule-now.ts");
      const client = makeKubeClient(await loadKubeconfig(options.kubeconfig));
      try {
        const made = await backupNow(client, {
          ...(tenants.length === 0 ? {} : { tenants }),
          waitForSchedulesMs: wait * 1000,
          ...(wait > 0 ? { waitMs: wait * 1000 } : {}),
        });
        if (made.length === 0)
          throw new UsageError(
            "vakt backup now: no Velero Schedule labelled vakt.dev/tenant; are the Tenants applied, with Velero's CRDs installed?",
          );
        for (const each of made)
          process.stdout.write(
            `${each.tenant}: backup ${each.backup} from Schedule ${each.schedule}${each.phase === "" ? "" : ` ${each.phase}`}\n`,
          );
        if (made.some((each) => each.phase !== "" && each.phase !== "Completed")) process.exitCode = 1;
      } finally {
        await client.close?.();
      }
    });
  backup
    .command("drill")
    .description(
      "restore a Tenant's latest backup from its off-site copy into scratch namespaces, compare it with what the backup holds, record the result (exit 1 when the drill fails)",
    )
    .argument(
      "<tenant>",
      "the Tenant whose backup is drilled (its Velero Backups carry vakt.dev/tenant=<tenant>)",
    )
    .requiredOption("--location <name>", "the BackupLocation holding the off-site copy")
    .option("--drill-namespace <ns>", "namespace of the Velero that runs drills", "vakt-drill")
    .option(
      "--drill-location <name>",
      "that Velero's ReadOnly BackupStorageLocation on the off-site bucket (default: the BackupLocation's name)",
    )
    .option("--backup <name>", "drill this backup instead of the tenant's latest")
    .option("--kubeconfig <file>", "kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option(
      "--database <url>",
      "record the drill in this evidence history (postgres:// URL or PGlite directory not held by a running vakt run)",
    )
    .option("--cluster <name>", "cluster name in the evidence record", "default")
    .option("--timeout <seconds>", "how long the restore may take", "600")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (tenant: string, options: DrillCliOptions) => {
      const format = oneOf(options.output, "--output", ["text", "json"] as const);
      const timeout = Number(options.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0)
        throw new UsageError(`--timeout ${options.timeout}: give a number of seconds above 0`);
      const { loadKubeconfig } = await import("./kubeconfig.ts");
      const { makeKubeClient } = await import("../kube/client.ts");
      const { describeDrill, openLocation, runDrill } = await import("../backup/drill.ts");
      const client = makeKubeClient(await loadKubeconfig(options.kubeconfig));
      // A drill that cannot run (no copied backup, a bad location): exit 2 with what to fix.
      const usage = (error: unknown): never => {
        if (error instanceof Error && (error.name === "ConfigError" || error.name === "DrillError"))
          throw new UsageError(`vakt backup drill ${tenant}: ${error.message}`);
        throw error;
      };
      const { location, offsite } = await openLocation(client, options.location).catch(usage);
      const store =
        options.database === undefined
          ? undefined
          : await (await import("../evidence/store.ts")).openEvidenceStore({ url: options.database });
      try {
        const result = await runDrill({
          client,
          tenant,
          location,
          offsite,
          drillVelero: {
            namespace: options.drillNamespace,
            storageLocation: options.drillLocation ?? location.name,
          },
          ...(options.backup === undefined ? {} : { backup: options.backup }),
          ...(store === undefined ? {} : { evidence: { store, cluster: options.cluster ?? "default" } }),
          timeoutMs: timeout * 1000,
        }).catch(usage);
        process.stdout.write(
          format === "json" ? `${JSON.stringify(result, null, 2)}\n` : `${describeDrill(result)}\n`,
        );
        // The Tenant's status.backup.lastDrill (vakt backup status reads it); the drill stands without it.
        const { writeDrillStatus } = await import("../backup/status.ts");
        await writeDrillStatus(client, result).catch((error: unknown) => {
          process.stderr.write(
            `vakt backup drill: the drill's result is not in Tenant ${tenant}'s status: ${error instanceof Error ? error.message : String(error)}\n`,
          );
        });
        if (!result.passed) process.exitCode = 1;
      } finally {
        offsite.client.destroy();
        await store?.close();
        await client.close?.();
      }
    });
}
