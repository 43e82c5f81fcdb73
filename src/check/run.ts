import { EXCEPTION_KIND, exceptionMatcher } from "../engine/exceptions.ts";
import { RuleSet, evaluateObject } from "../engine/evaluate.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";
import type { Action, EngineSettings, Inventory, KubeObject, Rule } from "../engine/types.ts";
import { metaOf, relationalView } from "../engine/workloads.ts";
import { loadSources } from "../inputs/manifests.ts";
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
  /** Also list every object per file with its line (JUnit needs it). */
  readonly listObjects?: boolean;
}

/** A finding located in its file, waiting for the exceptions (read to the end of the inputs). */
interface PendingFinding {
  /** Load order of its object. */
  readonly order: number;
  /** Position of its rule in the rule list: an object's findings come in the engine's rule order. */
  readonly rank: number;
  readonly finding: Omit<ReportFinding, "suppressed" | "exception">;
  /** What exceptions match on: the object's apiVersion, kind and metadata (not its spec). */
  readonly subject: KubeObject;
}

/** An object kept back for the rules that relate it to other objects: what they read of it. */
interface Deferred {
  readonly view: KubeObject;
  readonly file: string;
  readonly locate: LoadedObject["locate"];
  readonly index: number;
}

/** Thrown when a rule reads the inventory without declaring it (Rule.inventoryKinds). */
class UndeclaredInventoryRead extends Error {}

/**
 * The inventory that rules evaluated while the inputs are still being read see: none of them
 * reads the inventory (Rule.inventoryKinds says which do), so any read is a bug, reported as the
 * rule failing (evaluateObject turns that into a finding; nothing is silently admitted).
 */
const UNREAD_INVENTORY: Inventory = {
  complete: false,
  byKind(kind) {
    throw new UndeclaredInventoryRead(
      `read the inventory for ${kind} without declaring it in inventoryKinds`,
    );
  },
};

const relatesObjects = (rule: Rule): boolean => (rule.inventoryKinds?.length ?? 0) > 0;

/**
 * `vakt check` without the CLI: loads every input and evaluates each object against the selected
 * rules, with the whole input set as inventory (PodDisruptionBudgets, NetworkPolicies and
 * PolicyExceptions in one file apply to workloads in another).
 *
 * Objects are evaluated as they are read, by every rule that does not relate them to other
 * objects, and their findings located while the document's positions are at hand. What is kept
 * to the end is small: for the rules that read the inventory (Rule.inventoryKinds), the part of
 * the object they read (relationalView) and its locator; objects of the kinds they look up; and
 * PolicyExceptions, which may come after the objects they cover, so suppression is decided at
 * the end. Keeping every object to the end made garbage collection and peak memory grow with
 * the whole input (docs/adr/0009).
 */
export async function runCheck(inputs: readonly string[], options: CheckOptions): Promise<CheckReport> {
  const { settings } = options;
  const immediate = new RuleSet(options.rules, options.actions, (rule) => !relatesObjects(rule));
  const relational = new RuleSet(options.rules, options.actions, relatesObjects);
  const rulesById = new Map(options.rules.map((rule) => [rule.id, rule]));
  const rank = new Map(options.rules.map((rule, position) => [rule.id, position]));
  const keptKinds = new Set<string>([EXCEPTION_KIND]);
  for (const rule of options.rules) {
    if (!relatesObjects(rule)) continue;
    if ((options.actions.get(rule.id) ?? rule.defaultAction) === "off") continue;
    for (const kind of rule.inventoryKinds ?? []) keptKinds.add(kind);
  }

  const pending: PendingFinding[] = [];
  const problems: InputProblem[] = [];
  const files: string[] = [];
  const kept: KubeObject[] = [];
  const deferred: (Deferred | undefined)[] = [];
  const objectsByFile = new Map<string, ReportObject[]>();
  let objects = 0;

  const evaluate = (
    object: KubeObject,
    file: string,
    locate: LoadedObject["locate"],
    index: number,
    rules: RuleSet,
    inventory: Inventory,
  ): void => {
    const found = evaluateObject(object, rules, { settings, inventory });
    if (found.length === 0) return;
    const meta = metaOf(object);
    const kind = typeof object.kind === "string" ? object.kind : "";
    const identity = { kind, namespace: meta.namespace ?? "", name: meta.name ?? "" };
    const subject: KubeObject = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      metadata: object.metadata,
    };
    for (const finding of found) {
      const position = locate(finding.path);
      pending.push({
        order: index,
        rank: rank.get(finding.rule) ?? 0,
        subject,
        finding: {
          rule: finding.rule,
          action: finding.action,
          severity: finding.severity,
          file,
          line: position.line,
          column: position.column,
          field: formatPath(finding.path),
          ...identity,
          message: finding.message,
          fix: rulesById.get(finding.rule)?.fix ?? "",
          controls: finding.controls,
        },
      });
    }
  };

  for await (const source of loadSources(inputs, options.load ?? {})) {
    if (source.type === "problem") {
      problems.push(source.problem);
      continue;
    }
    files.push(source.file);
    for (const event of source.events) {
      if (event.type === "problem") {
        problems.push(event.problem);
        continue;
      }
      const index = objects++;
      const { object, file, locate } = event;
      const kind = typeof object.kind === "string" ? object.kind : "";
      if (options.listObjects === true) {
        const meta = metaOf(object);
        let list = objectsByFile.get(file);
        if (list === undefined) objectsByFile.set(file, (list = []));
        list.push({ kind, namespace: meta.namespace ?? "", name: meta.name ?? "", line: locate([]).line });
      }
      if (keptKinds.has(kind)) kept.push(object);
      evaluate(object, file, locate, index, immediate, UNREAD_INVENTORY);
      if (relational.forKind(kind).length > 0)
        deferred.push({ view: relationalView(object), file, locate, index });
    }
  }

  // Every input is read: the inventory is complete, the relating rules can run.
  const inventory = listInventory(kept, false);
  for (let i = 0; i < deferred.length; i++) {
    const item = deferred[i];
    if (item === undefined) continue;
    deferred[i] = undefined; // let the view and the document's positions go once located
    evaluate(item.view, item.file, item.locate, item.index, relational, inventory);
  }
  deferred.length = 0;

  // Load order, then rule order within an object: what evaluating all rules at once gives.
  pending.sort((a, b) => a.order - b.order || a.rank - b.rank);
  const exceptions = exceptionMatcher(kept, options.allRules, settings.now, settings.exceptions);
  const justifications = justificationsByName(kept);
  const findings: ReportFinding[] = pending.map(({ finding, subject }) => {
    const exception = exceptions(finding.rule, subject);
    if (exception === undefined) return { ...finding, suppressed: false };
    const justification = justifications.get(exception);
    return {
      ...finding,
      suppressed: true,
      exception,
      ...(justification === undefined ? {} : { justification }),
    };
  });
  const byFile: FileObjects[] = [...objectsByFile].map(([file, list]) => ({ file, objects: list }));
  return {
    findings,
    problems,
    rules: options.rules,
    files,
    objects,
    ...(options.listObjects === true ? { objectsByFile: byFile } : {}),
  };
}

/**
 * spec.justification of the PolicyExceptions, by name (what the matcher returns). Two exceptions
 * of one name in the inputs: the first one's, as the first is the one an API server would keep.
 */
function justificationsByName(objects: readonly KubeObject[]): Map<string, string> {
  const byName = new Map<string, string>();
  for (const object of objects) {
    if (object.kind !== EXCEPTION_KIND) continue;
    const name = metaOf(object).name;
    const spec = object["spec"];
    const justification =
      typeof spec === "object" && spec !== null && "justification" in spec ? spec.justification : undefined;
    if (name !== undefined && typeof justification === "string" && !byName.has(name))
      byName.set(name, justification);
  }
  return byName;
}

const RANK: Readonly<Record<Exclude<Action, "off">, number>> = { audit: 1, warn: 2, deny: 3 };

/**
 * No object was checked and nothing went wrong reading: an empty file or stdin, a directory
 * without manifests. Usually a failed step before vakt (`helm template broken | vakt check -`),
 * so it is not a pass unless asked for.
 */
export function isEmpty(report: CheckReport): boolean {
  return report.objects === 0 && !report.problems.some((problem) => problem.level === "error");
}

/**
 * Exit code: 2 when an input could not be read or parsed, or held no objects (unless
 * `allowEmpty`), 1 when an unsuppressed finding reaches `failOn`, else 0.
 */
export function exitCodeOf(
  report: CheckReport,
  failOn: Exclude<Action, "off">,
  options: { readonly allowEmpty?: boolean } = {},
): 0 | 1 | 2 {
  if (report.problems.some((problem) => problem.level === "error")) return 2;
  if (options.allowEmpty !== true && isEmpty(report)) return 2;
  const threshold = RANK[failOn];
  return report.findings.some((finding) => !finding.suppressed && RANK[finding.action] >= threshold) ? 1 : 0;
}
