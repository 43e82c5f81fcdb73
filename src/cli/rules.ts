import type { Command } from "commander";
import { settingPresent } from "../config/settings.ts";
import { FRAMEWORK_IDS } from "../config/vakt-config.ts";
import { UsageError } from "./errors.ts";

export function registerRules(program: Command): void {
  const rules = program
    .command("rules")
    .description("list vakt's rules; `vakt rules explain ID` explains one");
  rules
    .option("--set <set>", "only rules of this set (e.g. pss-baseline, pss-restricted, platform)")
    .option("-o, --output <format>", "text or json", "text")
    .action(async (options: { set?: string; output: string }) => {
      // The rules and the catalog are loaded by the actions: registration (and --help) needs neither.
      const { ALL_RULES } = await import("../engine/rules/index.ts");
      const list =
        options.set === undefined
          ? ALL_RULES
          : ALL_RULES.filter((rule) => rule.sets.includes(options.set ?? ""));
      if (list.length === 0) throw new UsageError(`no rules in set "${options.set ?? ""}"`);
      if (options.output === "json") {
        const data = list.map((rule) => ({
          id: rule.id,
          title: rule.title,
          severity: rule.severity,
          defaultAction: rule.defaultAction,
          kinds: rule.kinds,
          sets: rule.sets,
          rationale: rule.rationale,
          fix: rule.fix,
          controls: rule.controls,
          evidenceBoundary: rule.evidenceBoundary,
          ...(rule.reference === undefined ? {} : { reference: rule.reference }),
        }));
        process.stdout.write(JSON.stringify(data, null, 2) + "\n");
        return;
      }
      if (options.output !== "text")
        throw new UsageError(`--output must be text or json, got "${options.output}"`);
      const width = Math.max(...list.map((rule) => rule.id.length));
      for (const rule of list) {
        process.stdout.write(
          `${rule.id.padEnd(width)}  ${rule.defaultAction.padEnd(5)}  ${rule.severity.padEnd(8)}  ${rule.title}\n`,
        );
      }
      process.stdout.write(`\n${list.length} rules. Explain one: vakt rules explain <id>\n`);
    });
  rules
    .command("explain")
    .argument("<id>", "rule id")
    .description("explain one rule: why, how to fix, which controls it evidences, what a pass does not prove")
    .action(async (id: string) => {
      const { ruleById } = await import("../engine/rules/index.ts");
      const { controlById } = await import("../catalog/index.ts");
      const rule = ruleById(id);
      if (rule === undefined) throw new UsageError(`no rule "${id}"; list them with \`vakt rules\``);
      const lines = [
        `${rule.id}: ${rule.title}`,
        `  severity ${rule.severity}, default action ${rule.defaultAction}, sets ${rule.sets.join(", ")}`,
        `  applies to: ${rule.kinds.join(", ")}`,
        "",
        `Why: ${rule.rationale}`,
        `Fix: ${rule.fix}`,
        `A pass does not prove: ${rule.evidenceBoundary}`,
        ...(rule.reference === undefined ? [] : [`Reference: ${rule.reference}`]),
        "",
        "Controls evidenced:",
        ...rule.controls.map(
          (control) => `  ${control.padEnd(24)} ${controlById(control)?.title ?? "(not in the catalog)"}`,
        ),
        "",
      ];
      process.stdout.write(lines.join("\n"));
    });
}

export function registerControls(program: Command): void {
  program
    .command("controls")
    .description(
      "show each control of the frameworks with the rules that evidence it; marks controls nothing covers yet",
    )
    .option("--framework <id>", `one framework: ${FRAMEWORK_IDS.join(", ")}`)
    .option("--no-color", "no colour")
    .action(async (options: { framework?: string; color: boolean }) => {
      if (
        options.framework !== undefined &&
        !(FRAMEWORK_IDS as readonly string[]).includes(options.framework)
      ) {
        throw new UsageError(
          `--framework must be one of ${FRAMEWORK_IDS.join(", ")}, got "${options.framework}"`,
        );
      }
      const { ALL_RULES } = await import("../engine/rules/index.ts");
      const { coverage } = await import("../catalog/index.ts");
      const { renderControls } = await import("../catalog/render.ts");
      const result = coverage(ALL_RULES, options.framework);
      const color = options.color && process.stdout.isTTY && !settingPresent("noColor");
      process.stdout.write(renderControls(result, { color }));
    });
}
