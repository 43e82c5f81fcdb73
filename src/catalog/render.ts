import type { ControlCoverage, CoverageResult, FrameworkCoverage } from "./types.ts";

export interface RenderOptions {
  /** Emit ANSI colours. */
  readonly color: boolean;
}

const ANSI = { bold: "1", dim: "2", green: "32", yellow: "33" } as const;

type Paint = (style: keyof typeof ANSI, text: string) => string;

/**
 * Text for `vakt controls [--framework F]`: per framework a header, each control with id,
 * title and the rules evidencing it (or a mark that nothing covers it), and a summary line.
 */
export function renderControls(result: CoverageResult, options: RenderOptions): string {
  const paint: Paint = (style, text) => (options.color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text);

  const blocks = result.frameworks.map((fw) => renderFramework(fw, paint));
  return blocks.join("\n");
}

function renderFramework(fw: FrameworkCoverage, paint: Paint): string {
  const lines: string[] = [];
  lines.push(paint("bold", `${fw.framework.name} [${fw.framework.id}]`));
  // Sub-points are indented two more columns; titles line up across both levels.
  const width = Math.max(0, ...fw.controls.map((entry) => indentOf(entry).length + entry.control.id.length));

  let group: string | undefined;
  for (const entry of fw.controls) {
    const entryGroup = entry.control.group;
    if (entryGroup !== undefined && entryGroup !== group) {
      lines.push(`  ${paint("dim", entryGroup)}`);
      group = entryGroup;
    }
    lines.push(...renderControl(entry, width, paint));
  }

  const uncovered = fw.total - fw.covered;
  const summary = `${fw.framework.id}: covered ${fw.covered} of ${fw.total}${uncovered > 0 ? ` (${uncovered} not covered)` : ""}`;
  lines.push(paint("bold", summary));
  return lines.join("\n") + "\n";
}

function indentOf(entry: ControlCoverage): string {
  return entry.control.parent === undefined ? "    " : "      ";
}

function renderControl(entry: ControlCoverage, width: number, paint: Paint): string[] {
  const { control, rules, evidence } = entry;
  const indent = indentOf(entry);
  const id = control.id.padEnd(width - indent.length);
  if (rules.length === 0 && evidence.length === 0) {
    return [
      `${indent}${paint("yellow", "·")} ${id}  ${control.title}  ${paint("yellow", "— not covered by any rule")}`,
    ];
  }
  const lines = [`${indent}${paint("green", "✓")} ${id}  ${control.title}`];
  const detailIndent = " ".repeat(width + 4);
  if (rules.length > 0) lines.push(`${detailIndent}${paint("dim", "rules:")} ${rules.join(", ")}`);
  if (evidence.length > 0) lines.push(`${detailIndent}${paint("dim", "evidence:")} ${evidence.join(", ")}`);
  return lines;
}
