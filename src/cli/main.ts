#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.ts";
import { registerBackup } from "./backup.ts";
import { registerCheck } from "./check.ts";
import { registerDev } from "./dev.ts";
import { registerFleet } from "./fleet.ts";
import { registerInstall } from "./install.ts";
import { registerRender } from "./render.ts";
import { registerReport } from "./report.ts";
import { registerRun } from "./run.ts";
import { registerControls, registerRules } from "./rules.ts";
import { UsageError, isHinted } from "./errors.ts";
import { OutputError, takenByWriter } from "./output.ts";

/** Exit codes: 0 clean, 1 findings at or above the fail level (or a failed operation), 2 bad input or usage. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

export function buildProgram(): Command {
  const program = new Command("vakt")
    .description("compliant-by-default control plane for Kubernetes platforms that host regulated software")
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerCheck(program);
  registerRules(program);
  registerControls(program);
  registerRender(program);
  registerReport(program);
  registerRun(program);
  registerInstall(program);
  registerDev(program);
  registerBackup(program);
  registerFleet(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander already printed what it had to say.
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof UsageError || error instanceof OutputError) {
      process.stderr.write(`vakt: ${error.message}\n`);
      return EXIT.usage;
    }
    if (isHinted(error)) {
      process.stderr.write(`vakt: ${error.message}\n  how to fix: ${error.hint}\n`);
      return EXIT.findings;
    }
    process.stderr.write(
      `vakt: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.findings;
  }
}

// Write errors outside writeOutput (help, the other commands' output). A reader that stops early
// (`vakt rules | head`) closes the pipe: stop quietly with the exit code already decided. Any
// other failure is one line and exit code 2, never a stack trace and 1 (read by CI as findings).
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (takenByWriter(error)) return;
  if (error.code === "EPIPE") process.exit();
  process.stderr.write(`vakt: cannot write the output: ${error.message}\n`);
  process.exit(EXIT.usage);
});

process.exitCode = await main(process.argv.slice(2));
