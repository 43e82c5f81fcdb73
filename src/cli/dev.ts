import { basename, join } from "node:path";
import type { Command } from "commander";
import { setting } from "../config/settings.ts";
import { UsageError, wholeNumber } from "./errors.ts";

function stateDirOf(options: { stateDir?: string }): string {
  return options.stateDir ?? join(setting("home"), "dev");
}

export function registerDev(program: Command): void {
  const dev = program
    .command("dev")
    .description(
      "a real local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kwok)",
    );

  dev
    .command("up")
    .description("start the local control plane and write an admin kubeconfig")
    .option(
      "--state-dir <dir>",
      "where data, logs, certificates and the kubeconfig live (default: $VAKT_HOME/dev)",
    )
    .option("--bin-dir <dir>", "where the control-plane binaries are (default: the build-tools cache)")
    .option("--port <port>", "API server port on 127.0.0.1 (default: a free port)")
    .option("--nodes <n>", "fake nodes simulated by kwok", "0")
    .option("--no-vakt", "do not start vakt's admission webhook with the control plane")
    .option(
      "--backups",
      "also start versitygw (Velero's bucket and an off-site bucket under Object Lock), Velero and the restore drills' Velero, and a BackupLocation that drills every tenant daily",
    )
    .option(
      "--fleet <n>",
      "make this control plane a hub with n local Environments (dev-1 .. dev-n), each a control plane of its own with vakt's webhook; waits until they are Ready",
      "0",
    )
    .action(
      async (options: {
        stateDir?: string;
        binDir?: string;
        port?: string;
        nodes: string;
        vakt: boolean;
        backups?: boolean;
        fleet: string;
      }) => {
        const stateDir = stateDirOf(options);
        const nodes = wholeNumber(options.nodes, "--nodes", 0, 10_000);
        const fleet = wholeNumber(options.fleet, "--fleet", 0, 10);
        if (fleet > 0 && !options.vakt)
          throw new UsageError("--fleet needs vakt's fleet part: leave out --no-vakt");
        // Loaded on demand: the PKI libraries are not needed by other commands.
        const { up } = await import("../devcluster/cluster.ts");
        const { createFakeNodes } = await import("../devcluster/nodes.ts");
        const started = Date.now();
        const progress = (line: string): void => {
          process.stderr.write(`vakt dev: ${line}\n`);
        };
        const upOptions = {
          stateDir,
          binDir: options.binDir ?? setting("binDir"),
          apiServerPort: options.port === undefined ? 0 : wholeNumber(options.port, "--port", 1, 65_535),
          nodes,
          // vakt runs from the same entry point as this command (bin/vakt.js or src/cli/main.ts).
          ...(options.vakt ? { vakt: { command: process.execPath, script: process.argv[1] ?? "" } } : {}),
          progress,
        };
        let state;
        if (options.backups === true) {
          // The backup stack goes up before vakt, so vakt's backup part and Tenant controller find
          // Velero's CRDs: the control plane first, then the stack, then vakt (up resumes).
          const { startBackups, stopBackups } = await import("../devcluster/backups.ts");
          await stopBackups(stateDir);
          const { vakt: _vakt, ...withoutVakt } = upOptions;
          state = await up(withoutVakt);
          const stack = await startBackups({
            stateDir,
            kubeconfig: state.kubeconfig,
            binDir: upOptions.binDir,
            backupBinDir: setting("backupBinDir"),
            progress,
          });
          const { applyDevBackupLocation } = await import("./dev-backups.ts");
          await applyDevBackupLocation(state.kubeconfig, stack);
          progress(
            "BackupLocation offsite applied (copies under COMPLIANCE, a restore drill of each tenant daily)",
          );
          if (options.vakt) state = await up({ ...upOptions, resume: true });
        } else state = await up(upOptions);
        if (nodes > 0) await createFakeNodes(state.kubeconfig, nodes);
        if (fleet > 0) {
          const { applyDevFleet } = await import("./dev-fleet.ts");
          await applyDevFleet(state.kubeconfig, fleet, progress);
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          [
            `Local control plane ready in ${seconds}s: ${state.server}`,
            `  kubeconfig: ${state.kubeconfig}`,
            `  logs:       ${join(stateDir, "logs")}`,
            "",
            "Use it:",
            `  export KUBECONFIG=${state.kubeconfig}`,
            `  ${join(options.binDir ?? setting("binDir"), "kubectl")} get namespaces`,
            ...(fleet > 0 ? ["The fleet: vakt fleet status"] : []),
            "Stop it: vakt dev down",
            "",
          ].join("\n"),
        );
      },
    );

  dev
    .command("down")
    .description("stop everything `vakt dev up` started and remove its state")
    .option("--state-dir <dir>", "state directory (default: $VAKT_HOME/dev)")
    .action(async (options: { stateDir?: string }) => {
      const { down } = await import("../devcluster/cluster.ts");
      const { stopBackups } = await import("../devcluster/backups.ts");
      const backups = await stopBackups(stateDirOf(options));
      const result = await down(stateDirOf(options));
      result.stopped.push(...backups);
      if (options.stateDir === undefined) {
        // The local members the dev hub started (vakt dev up --fleet): their processes outlive it.
        const { devFleetMembers } = await import("./dev-fleet.ts");
        const { rm } = await import("node:fs/promises");
        for (const member of devFleetMembers(setting("home"))) {
          const stopped = await down(member);
          await rm(member, { recursive: true, force: true });
          if (stopped.existed) result.stopped.push(`fleet member ${basename(member)}`);
        }
      }
      if (!result.existed) process.stdout.write("No local control plane was running.\n");
      else
        process.stdout.write(
          `Stopped ${result.stopped.length > 0 ? result.stopped.join(", ") : "nothing (all had exited)"}; state removed.\n`,
        );
    });

  dev
    .command("status")
    .description("show whether the local control plane runs and is ready")
    .option("--state-dir <dir>", "state directory (default: $VAKT_HOME/dev)")
    .action(async (options: { stateDir?: string }) => {
      const { status } = await import("../devcluster/cluster.ts");
      const report = await status(stateDirOf(options));
      if (report.state === undefined) {
        process.stdout.write("No local control plane. Start one with `vakt dev up`.\n");
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`API server ${report.state.server}: ${report.ready ? "ready" : "NOT ready"}\n`);
      process.stdout.write(`kubeconfig ${report.state.kubeconfig}\n`);
      for (const c of report.components) {
        process.stdout.write(
          `  ${c.name.padEnd(24)} pid ${String(c.pid).padEnd(8)} ${c.running ? "running" : "STOPPED"}  log ${c.log}\n`,
        );
      }
      if (!report.ready || report.components.some((c) => !c.running)) process.exitCode = 1;
    });
}
