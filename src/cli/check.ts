import { existsSync } from "node:fs";
import type { Command } from "commander";
import { settingPresent } from "../config/settings.ts";
import { ConfigError, DEFAULT_CONFIG, engineSettings, parseConfig } from "../config/vakt-config.ts";
import type { VaktConfig } from "../config/vakt-config.ts";
import { ALL_RULES, RULE_SETS, selectRules } from "../engine/rules/index.ts";
import type { Action } from "../engine/types.ts";
import { OUTPUT_FORMATS, isOutputFormat, renderParts } from "../outputs/index.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./errors.ts";
import { readInput } from "./input.ts";

const PSS_VERSION = /^(latest|v1\.(0|[1-9][0-9]?))$/;

/** Loads --config, or ./vakt.yaml when present, or the defaults. */
async function loadConfig(path: string | undefined): Promise<VaktConfig> {
  const file = path ?? (existsSync("vakt.yaml") ? "vakt.yaml" : undefined);
  if (file === undefined) return DEFAULT_CONFIG;
  const text = await readInput(file, "configuration");
  try {
    return parseConfig(text, file, new Set(ALL_RULES.map((rule) => rule.id)));
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`invalid configuration:\n${error.message}`);
    throw error;
  }
}

function splitList(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value !== "");
}

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check Kubernetes manifests against vakt's safeguards (files, directories, or - for stdin)")
    .argument("<inputs...>", "files, directories (recursive: .yaml, .yml, .json) or - for stdin")
    .option("-o, --output <format>", `output format: ${OUTPUT_FORMATS.join(", ")}`, "text")
    .option("-c, --config <file>", "vakt.yaml configuration (default: ./vakt.yaml when present)")
    .option(
      "--fail-on <action>",
      "exit 1 when an unsuppressed finding has this action or a stronger one: deny, warn, audit",
    )
    // Not variadic (`<rules...>`): a variadic option swallows the inputs that follow it
    // (`vakt check --select pss-baseline deploy.yaml`). Repeat the flag or separate with commas.
    .option(
      "--select <rules>",
      `rule ids or sets to run (comma-separated or repeated); sets: ${RULE_SETS.join(", ")}`,
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--pss-version <version>", "Pod Security Standards version: latest or v1.0 .. v1.37")
    .option("--no-color", "no colour in text output")
    .option(
      "--allow-empty",
      "exit 0 when the inputs hold no Kubernetes objects (default: exit 2, as an empty `helm template` output usually means a failed step)",
    )
    .action(
      async (
        inputs: string[],
        options: {
          output: string;
          config?: string;
          failOn?: string;
          select?: string[];
          pssVersion?: string;
          color: boolean;
          allowEmpty?: boolean;
        },
      ) => {
        if (!isOutputFormat(options.output)) {
          throw new UsageError(
            `--output must be one of ${OUTPUT_FORMATS.join(", ")}, got "${options.output}"`,
          );
        }
        const config = await loadConfig(options.config);
        let failOn = config.failOn;
        if (options.failOn !== undefined) {
          if (!["deny", "warn", "audit"].includes(options.failOn)) {
            throw new UsageError(`--fail-on must be deny, warn or audit, got "${options.failOn}"`);
          }
          failOn = options.failOn as Exclude<Action, "off">;
        }
        const pssVersion = options.pssVersion ?? config.pssVersion;
        if (!PSS_VERSION.test(pssVersion)) {
          throw new UsageError(`--pss-version must be "latest" or v1.0 .. v1.37, got "${pssVersion}"`);
        }
        const selection = selectRules(splitList(options.select ?? []));
        if (selection.unknown.length > 0) {
          throw new UsageError(
            `--select: unknown rule or set ${selection.unknown.map((u) => `"${u}"`).join(", ")}; list rules with \`vakt rules\`, sets are ${RULE_SETS.join(", ")}`,
          );
        }
        // Loaded here, not at registration: the other commands and --help do not need it.
        const { exitCodeOf, isEmpty, runCheck } = await import("../check/run.ts");
        const report = await runCheck(inputs, {
          rules: selection.rules,
          allRules: ALL_RULES,
          actions: config.rules,
          // The clock is read once: every object is judged at the same instant.
          settings: engineSettings({ ...config, pssVersion }, new Date()),
          // process.stdin is created on first use (a stream set up for whatever fd 0 is): only
          // when an input is "-".
          load: { stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() } },
          listObjects: options.output === "junit",
        });
        const color =
          options.output === "text" && options.color && process.stdout.isTTY && !settingPresent("noColor");
        const { writeOutput } = await import("./output.ts");
        await writeOutput(
          process.stdout,
          renderParts(report, options.output, { color, toolVersion: VERSION }),
        );
        const allowEmpty = options.allowEmpty === true;
        if (isEmpty(report) && !allowEmpty) {
          process.stderr.write(
            `vakt: no Kubernetes objects found in ${inputs.map((input) => (input === "-" ? "standard input" : input)).join(", ")}; if the input was produced by a ` +
              "command (helm template, kustomize build), check that it succeeded; pass --allow-empty when no objects is expected\n",
          );
        }
        process.exitCode = exitCodeOf(report, failOn, { allowEmpty });
      },
    );
}
