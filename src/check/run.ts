import { exceptionMatcher } from "../engine/exceptions.ts";
import { RuleSet, evaluateObject } from "../engine/evaluate.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { Action, EngineSettings, KubeObject, Rule } from "../engine/types.ts";
import { metaOf } from "../engine/workloads.ts";
import { loadManifests } from "../inputs/manifests.ts";
import type { LoadManifestsOptions, LoadedObject } from "../inputs/manifests.ts";
import type {
  CheckReport,
  FileObjects,
  InputProblem,
  ReportFinding,
  ReportObject,
} from "../outputs/report.ts";
import { formatPath } from "../outputs/report.ts";

export interface CheckOptions {
  readonly rules: readonly Rule[];
  /** Every rule known (exceptions may name rules outside the selection). */
  readonly allRules: readonly Rule[];
  readonly actions: ReadonlyMap<string, Action>;
  readonly settings: EngineSettings;
  readonly load?: LoadManifestsOptions;
  /** Also list every object per file with its line (JUnit needs it; it costs a re-parse per object). */
  readonly listObjects?: boolean;
}

/**
 * `vakt check` without the CLI: loads every input, then evaluates each object against the
 * selected rules with the whole input set as inventory (PodDisruptionBudgets, NetworkPolicies
 * and PolicyExceptions in one file apply to workloads in another). Source positions are
 * resolved only for objects with findings.
 */
export async function runCheck(inputs: readonly string[], options: CheckOptions): Promise<CheckReport> {
  // Entries are dropped from `loaded` once their findings are located: an entry's `locate` holds
  // its document's text and, after the first call, the position-keeping re-parse of it, which is
  // several times the size of the plain object. Keeping them all to the end made peak memory and
  // garbage collection grow with the number of documents with findings.
  const loaded: (LoadedObject | undefined)[] = [];
  const objects: KubeObject[] = [];
  const problems: InputProblem[] = [];
  const files: string[] = [];
  for await (const event of loadManifests(inputs, options.load ?? {})) {
    if (event.type === "object") {
      loaded.push(event);
      objects.push(event.object);
    } else if (event.type === "problem") problems.push(event.problem);
    else files.push(event.file);
  }

  const inventory = listInventory(objects, false);
  const now = options.settings.now ?? new Date();
  const context = {
    settings: { ...options.settings, now },
    inventory,
    exceptions: exceptionMatcher(objects, options.allRules, now),
  };
  const ruleSet = new RuleSet(options.rules, options.actions);
  const rulesById = new Map(options.rules.map((rule) => [rule.id, rule]));

  const findings: ReportFinding[] = [];
  const objectsByFile = new Map<string, ReportObject[]>();
  for (let index = 0; index < loaded.length; index++) {
    const entry = loaded[index];
    if (entry === undefined) continue;
    loaded[index] = undefined;
    const meta = metaOf(entry.object);
    const kind = typeof entry.object.kind === "string" ? entry.object.kind : "";
    const identity = { kind, namespace: meta.namespace ?? "", name: meta.name ?? "" };
    if (options.listObjects === true) {
      let list = objectsByFile.get(entry.file);
      if (list === undefined) objectsByFile.set(entry.file, (list = []));
      list.push({ ...identity, line: entry.locate([]).line });
    }
    for (const finding of evaluateObject(entry.object, ruleSet, context)) {
      const position = entry.locate(finding.path);
      findings.push({
        rule: finding.rule,
        action: finding.action,
        severity: finding.severity,
        file: entry.file,
        line: position.line,
        column: position.column,
        field: formatPath(finding.path),
        ...identity,
        message: finding.message,
        fix: rulesById.get(finding.rule)?.fix ?? "",
        controls: finding.controls,
        suppressed: finding.suppressedBy !== undefined,
        ...(finding.suppressedBy === undefined ? {} : { exception: finding.suppressedBy }),
      });
    }
  }
  const byFile: FileObjects[] = [...objectsByFile].map(([file, list]) => ({ file, objects: list }));
  return {
    findings,
    problems,
    rules: options.rules,
    files,
    objects: objects.length,
    ...(options.listObjects === true ? { objectsByFile: byFile } : {}),
  };
}

const RANK: Readonly<Record<Exclude<Action, "off">, number>> = { audit: 1, warn: 2, deny: 3 };

/** Exit code: 2 when an input could not be read or parsed, 1 when an unsuppressed finding reaches `failOn`, else 0. */
export function exitCodeOf(report: CheckReport, failOn: Exclude<Action, "off">): 0 | 1 | 2 {
  if (report.problems.some((problem) => problem.level === "error")) return 2;
  const threshold = RANK[failOn];
  return report.findings.some((finding) => !finding.suppressed && RANK[finding.action] >= threshold) ? 1 : 0;
}
