import { API_VERSION, VAKT_CONFIGURATION } from "../api/registry.ts";
import { DEFAULT_EXCEPTION_POLICY, MAX_EXPIRY_DAYS_LIMIT } from "../engine/exceptions.ts";
import type { Action, EngineSettings, ExceptionPolicy } from "../engine/types.ts";
import { ACTIONS } from "../engine/types.ts";
import { readConfigDocument, valueOf } from "./config-tree.ts";
import type { ConfigNode } from "./config-tree.ts";

/**
 * vakt's configuration: `vakt.yaml` for the CLI and, with the same schema, the cluster-scoped
 * `VaktConfiguration` object (vakt.dev/v1alpha1) in a cluster.
 */
export interface VaktConfig {
  /** Findings at or above this action fail `vakt check` (exit 1). */
  readonly failOn: Exclude<Action, "off">;
  /** Per-rule action overrides. */
  readonly rules: ReadonlyMap<string, Action>;
  readonly registries: readonly string[];
  readonly allowedRegions: readonly string[];
  /** Frameworks reported on (empty: all). */
  readonly frameworks: readonly string[];
  readonly pssVersion: string;
  /** Safe defaults the mutating admission webhook adds where a workload leaves a field unset. */
  readonly mutations: MutationConfig;
  /** How far PolicyExceptions may reach (`spec.exceptions`); beyond it they suppress nothing. */
  readonly exceptions: ExceptionPolicy;
}

/** Which safe defaults the mutating webhook applies (`spec.mutations`). */
export interface MutationConfig {
  /** Pod seccompProfile RuntimeDefault when neither the pod nor a container sets one. */
  readonly seccompRuntimeDefault: boolean;
  /** allowPrivilegeEscalation: false on containers that leave it unset (and are not privileged). */
  readonly disallowPrivilegeEscalation: boolean;
  /** capabilities.drop: [ALL] on non-root containers that declare no capabilities. */
  readonly dropAllCapabilities: boolean;
  /** Job spec.ttlSecondsAfterFinished when unset; null: off. */
  readonly jobTtlSeconds: number | null;
  /** automountServiceAccountToken: false on pods using the default service account. */
  readonly disableServiceAccountToken: boolean;
}

export const DEFAULT_MUTATIONS: MutationConfig = {
  seccompRuntimeDefault: true,
  disallowPrivilegeEscalation: true,
  dropAllCapabilities: true,
  jobTtlSeconds: 86_400,
  disableServiceAccountToken: true,
};

export const DEFAULT_CONFIG: VaktConfig = {
  failOn: "deny",
  rules: new Map(),
  registries: [],
  allowedRegions: [],
  frameworks: [],
  pssVersion: "latest",
  mutations: DEFAULT_MUTATIONS,
  exceptions: DEFAULT_EXCEPTION_POLICY,
};

export const FRAMEWORK_IDS = ["iso27001", "gdpr", "pdl", "nis2", "hipaa"] as const;
const PSS_VERSION = /^(latest|v1\.(0|[1-9][0-9]?))$/;

/** The engine's settings from a configuration, judging at `now` (the caller reads the clock). */
export function engineSettings(config: VaktConfig, now: Date): EngineSettings {
  return {
    pssVersion: config.pssVersion,
    registries: config.registries,
    allowedRegions: config.allowedRegions,
    exceptions: config.exceptions,
    now,
  };
}

/** A configuration problem, located: file:line:column and the field path. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

interface Located {
  readonly path: string;
  readonly node: ConfigNode | null | undefined;
}

/**
 * Parses and validates a configuration file's text. Every problem is collected and reported
 * together, each with its line and field path and what to write instead.
 */
export function parseConfig(text: string, file: string, knownRuleIds: ReadonlySet<string>): VaktConfig {
  const document = readConfigDocument(text, file);
  if (document.errors.length > 0) throw new ConfigError(document.errors.join("\n"));
  return validate(document.root, document.where, knownRuleIds);
}

function validate(
  root: ConfigNode | null,
  where: (node: ConfigNode | null | undefined) => string,
  knownRuleIds: ReadonlySet<string>,
): VaktConfig {
  const problems: string[] = [];
  if (root === null || (isScalar(root) && root.value === null)) return DEFAULT_CONFIG;
  if (!isMap(root))
    throw new ConfigError(`${where(root)}: the configuration must be a mapping (apiVersion, kind, spec)`);

  const apiVersion = valueOf(root, "apiVersion");
  const kind = valueOf(root, "kind");
  if (!isScalar(apiVersion) || apiVersion.value !== API_VERSION) {
    problems.push(`${where(apiVersion ?? root)}: apiVersion must be "${API_VERSION}"`);
  }
  if (!isScalar(kind) || kind.value !== VAKT_CONFIGURATION.kind) {
    problems.push(`${where(kind ?? root)}: kind must be "${VAKT_CONFIGURATION.kind}"`);
  }
  // Unknown top-level fields are errors too: a misspelled `spec` would otherwise be silently
  // ignored and the defaults used.
  const rootKeys = new Set(["apiVersion", "kind", "metadata", "spec"]);
  for (const pair of root.pairs) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!rootKeys.has(key)) {
      const hint = closest(key, rootKeys);
      problems.push(
        `${where(pair.key)}: ${key} is not a configuration field${hint === undefined ? "" : `; did you mean "${hint}"?`} (top-level fields: ${[...rootKeys].join(", ")})`,
      );
    }
  }
  const spec = valueOf(root, "spec");
  if (spec === undefined) {
    if (problems.length > 0) throw new ConfigError(problems.join("\n"));
    return DEFAULT_CONFIG;
  }
  if (!isMap(spec)) throw new ConfigError([...problems, `${where(spec)}: spec must be a mapping`].join("\n"));

  const allowedKeys = new Set([
    "failOn",
    "rules",
    "registries",
    "allowedRegions",
    "frameworks",
    "pssVersion",
    "mutations",
    "exceptions",
  ]);
  for (const pair of spec.pairs) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!allowedKeys.has(key)) {
      const hint = closest(key, allowedKeys);
      problems.push(
        `${where(pair.key)}: spec.${key} is not a configuration field${hint === undefined ? "" : `; did you mean "${hint}"?`}; known fields: ${[...allowedKeys].join(", ")}`,
      );
    }
  }

  const stringList = (field: string, check?: (value: string, at: Located) => void): string[] => {
    const node = valueOf(spec, field);
    if (node === undefined) return [];
    if (!isSeq(node)) {
      problems.push(`${where(node)}: spec.${field} must be a list of strings`);
      return [];
    }
    const values: string[] = [];
    node.items.forEach((item, index) => {
      if (!isScalar(item) || typeof item.value !== "string" || item.value === "") {
        problems.push(`${where(item)}: spec.${field}[${index}] must be a non-empty string`);
        return;
      }
      check?.(item.value, { path: `spec.${field}[${index}]`, node: item });
      values.push(item.value);
    });
    return values;
  };

  const actionOf = (
    node: ConfigNode | null | undefined,
    path: string,
    allowOff: boolean,
  ): Action | undefined => {
    const choices = allowOff ? ACTIONS : ACTIONS.filter((a) => a !== "off");
    // YAML 1.1 readers turn a bare `off` into false; accept it as the action "off".
    const raw = isScalar(node) ? (node.value === false && allowOff ? "off" : node.value) : undefined;
    if (typeof raw === "string" && (choices as readonly string[]).includes(raw)) return raw as Action;
    problems.push(`${where(node)}: ${path} must be one of ${choices.join(", ")}`);
    return undefined;
  };

  let failOn: Exclude<Action, "off"> = DEFAULT_CONFIG.failOn;
  const failOnNode = valueOf(spec, "failOn");
  if (failOnNode !== undefined) {
    const action = actionOf(failOnNode, "spec.failOn", false);
    if (action !== undefined && action !== "off") failOn = action;
  }

  let pssVersion = DEFAULT_CONFIG.pssVersion;
  const pssNode = valueOf(spec, "pssVersion");
  if (pssNode !== undefined) {
    const value = isScalar(pssNode) ? String(pssNode.value) : "";
    if (!PSS_VERSION.test(value))
      problems.push(
        `${where(pssNode)}: spec.pssVersion must be "latest" or "v1.N" (v1.0 to v1.37), got "${value}"`,
      );
    else pssVersion = value;
  }

  const rules = new Map<string, Action>();
  const rulesNode = valueOf(spec, "rules");
  if (rulesNode !== undefined) {
    if (!isMap(rulesNode))
      problems.push(`${where(rulesNode)}: spec.rules must map rule ids to actions, e.g. "image-tag: warn"`);
    else
      for (const pair of rulesNode.pairs) {
        if (
          !isScalar(pair.key) ||
          (typeof pair.key.value !== "string" && typeof pair.key.value !== "number")
        ) {
          problems.push(
            `${where(pair.key ?? rulesNode)}: spec.rules keys must be rule ids, e.g. "image-tag: warn"`,
          );
          continue;
        }
        const id = String(pair.key.value);
        if (!knownRuleIds.has(id)) {
          const hint = closest(id, knownRuleIds);
          problems.push(
            `${where(pair.key)}: spec.rules.${id} is not a known rule${hint === undefined ? "" : `; did you mean "${hint}"?`} (list them with \`vakt rules\`)`,
          );
          continue;
        }
        const action = actionOf(pair.value, `spec.rules.${id}`, true);
        if (action !== undefined) rules.set(id, action);
      }
  }

  const frameworks = stringList("frameworks", (value, at) => {
    if (!(FRAMEWORK_IDS as readonly string[]).includes(value)) {
      problems.push(
        `${where(at.node)}: ${at.path} "${value}" is not a framework; use one of ${FRAMEWORK_IDS.join(", ")}`,
      );
    }
  });
  const registries = stringList("registries", (value, at) => {
    if (/\s|:\/\//.test(value))
      problems.push(
        `${where(at.node)}: ${at.path} "${value}" must be a registry host with an optional path, like "registry.example.com/team" (no scheme, no spaces)`,
      );
  });
  const allowedRegions = stringList("allowedRegions");

  const mutations = { ...DEFAULT_MUTATIONS };
  const mutationsNode = valueOf(spec, "mutations");
  if (mutationsNode !== undefined) {
    if (!isMap(mutationsNode))
      problems.push(
        `${where(mutationsNode)}: spec.mutations must be a mapping, e.g. "mutations: { jobTtlSeconds: 3600 }"`,
      );
    else
      for (const pair of mutationsNode.pairs) {
        const key = isScalar(pair.key) ? String(pair.key.value) : "?";
        const value = pair.value;
        const raw = isScalar(value) ? value.value : undefined;
        if (key === "jobTtlSeconds") {
          if (raw === null || value === null) mutations.jobTtlSeconds = null;
          else if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0)
            mutations.jobTtlSeconds = raw;
          else
            problems.push(
              `${where(value)}: spec.mutations.jobTtlSeconds must be a whole number of seconds (0 or more), or null to turn the Job TTL default off`,
            );
        } else if (key in DEFAULT_MUTATIONS) {
          if (typeof raw === "boolean") (mutations as Record<string, unknown>)[key] = raw;
          else problems.push(`${where(value ?? pair.key)}: spec.mutations.${key} must be true or false`);
        } else {
          const known = Object.keys(DEFAULT_MUTATIONS);
          const hint = closest(key, new Set(known));
          problems.push(
            `${where(pair.key)}: spec.mutations.${key} is not a mutation${hint === undefined ? "" : `; did you mean "${hint}"?`}; known: ${known.join(", ")}`,
          );
        }
      }
  }

  const exceptions = readExceptionPolicy(valueOf(spec, "exceptions"), where, problems);

  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return { failOn, rules, registries, allowedRegions, frameworks, pssVersion, mutations, exceptions };
}

/** A problem with a key that is not one of `known`, suggesting the nearest. */
function unknownKey(at: string, path: string, key: string, known: readonly string[]): string {
  const hint = closest(key, new Set(known));
  return `${at}: ${path}.${key} is not a field${hint === undefined ? "" : `; did you mean "${hint}"?`}; known: ${known.join(", ")}`;
}

/** `spec.exceptions`: { allowWide: { namespaces, ruleSets }, maxExpiryDays }. */
function readExceptionPolicy(
  node: ConfigNode | undefined,
  where: (node: ConfigNode | null | undefined) => string,
  problems: string[],
): ExceptionPolicy {
  if (node === undefined) return DEFAULT_EXCEPTION_POLICY;
  if (!isMap(node)) {
    problems.push(
      `${where(node)}: spec.exceptions must be a mapping, e.g. "exceptions: { maxExpiryDays: 180 }"`,
    );
    return DEFAULT_EXCEPTION_POLICY;
  }
  let maxExpiryDays = DEFAULT_EXCEPTION_POLICY.maxExpiryDays;
  const allowWide = { ...DEFAULT_EXCEPTION_POLICY.allowWide };
  const keyOf = (key: ConfigNode | null): string => (isScalar(key) ? String(key.value) : "?");
  for (const pair of node.pairs) {
    const key = keyOf(pair.key);
    const raw = isScalar(pair.value) ? pair.value.value : undefined;
    if (key === "maxExpiryDays") {
      if (typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 1 && raw <= MAX_EXPIRY_DAYS_LIMIT)
        maxExpiryDays = raw;
      else
        problems.push(
          `${where(pair.value ?? pair.key)}: spec.exceptions.maxExpiryDays must be a whole number of days from 1 to ${MAX_EXPIRY_DAYS_LIMIT} (an exception is temporary), e.g. 365`,
        );
    } else if (key === "allowWide") {
      if (!isMap(pair.value)) {
        problems.push(
          `${where(pair.value ?? pair.key)}: spec.exceptions.allowWide must be a mapping, e.g. "allowWide: { namespaces: true, ruleSets: false }"`,
        );
        continue;
      }
      for (const flag of pair.value.pairs) {
        const name = keyOf(flag.key);
        const value = isScalar(flag.value) ? flag.value.value : undefined;
        if (name !== "namespaces" && name !== "ruleSets")
          problems.push(
            unknownKey(where(flag.key), "spec.exceptions.allowWide", name, Object.keys(allowWide)),
          );
        else if (typeof value === "boolean") allowWide[name] = value;
        else
          problems.push(
            `${where(flag.value ?? flag.key)}: spec.exceptions.allowWide.${name} must be true or false`,
          );
      }
    } else problems.push(unknownKey(where(pair.key), "spec.exceptions", key, ["allowWide", "maxExpiryDays"]));
  }
  return { allowWide, maxExpiryDays };
}

function isScalar(node: ConfigNode | null | undefined): node is Extract<ConfigNode, { kind: "scalar" }> {
  return node?.kind === "scalar";
}

function isMap(node: ConfigNode | null | undefined): node is Extract<ConfigNode, { kind: "map" }> {
  return node?.kind === "map";
}

function isSeq(node: ConfigNode | null | undefined): node is Extract<ConfigNode, { kind: "seq" }> {
  return node?.kind === "seq";
}

/** The known id nearest to `id` by edit distance, when it is close enough to be a typo. */
function closest(id: string, known: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(id.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(id, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
