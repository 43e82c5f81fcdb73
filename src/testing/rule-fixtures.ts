/**
 * Test helpers for rule tests: build objects and contexts, run the platform rules the way the
 * engine does (evaluateObject over a RuleSet), and pick out one rule's findings.
 */
import { evaluateObject, ruleContext, RuleSet } from "../engine/evaluate.ts";
import type { EngineSettings, FieldPath, KubeObject, RuleContext } from "../engine/types.ts";
import { PLATFORM_RULES } from "../engine/rules/platform.ts";
import { listInventory } from "../engine/rules/util/inventory.ts";

export interface ContextOptions {
  readonly registries?: readonly string[];
  readonly allowedRegions?: readonly string[];
  /** Other objects of the input set (the checked object is added automatically). */
  readonly objects?: readonly KubeObject[];
  readonly complete?: boolean;
  /** The clock (default FIXTURE_NOW). */
  readonly now?: Date;
}

/** The instant rule tests judge at unless they say otherwise. */
export const FIXTURE_NOW = new Date("2026-06-15T12:00:00Z");

export function contextOf(object: KubeObject, options: ContextOptions = {}): RuleContext {
  const settings: EngineSettings = {
    pssVersion: "latest",
    registries: options.registries ?? [],
    allowedRegions: options.allowedRegions ?? [],
    now: options.now ?? FIXTURE_NOW,
  };
  const inventory = listInventory([object, ...(options.objects ?? [])], options.complete ?? false);
  return ruleContext(object, { settings, inventory });
}

const RULE_SET = new RuleSet(PLATFORM_RULES);

export interface FoundViolation {
  readonly rule: string;
  readonly path: FieldPath;
  readonly message: string;
}

/** Findings of rule `ruleId` on `object`, running every platform rule through the engine. */
export function findingsOf(
  ruleId: string,
  object: KubeObject,
  options: ContextOptions = {},
): FoundViolation[] {
  const context = contextOf(object, options);
  return evaluateObject(object, RULE_SET, context)
    .filter((finding) => finding.rule === ruleId)
    .map(({ rule, path, message }) => ({ rule, path, message }));
}

/** Just the paths of rule `ruleId`'s findings on `object`. */
export function pathsOf(ruleId: string, object: KubeObject, options: ContextOptions = {}): FieldPath[] {
  return findingsOf(ruleId, object, options).map((finding) => finding.path);
}

type Json = Record<string, unknown>;

/** A container with everything the platform rules ask for, plus overrides. */
export function goodContainer(overrides: Json = {}): Json {
  return {
    name: "app",
    image: "registry.example.com/acme/app:1.2.3",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
    livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
    ...overrides,
  };
}

/** A Deployment in namespace "shop" with labels app=web, using `containers`. */
export function deployment(
  options: {
    name?: string;
    namespace?: string;
    replicas?: unknown;
    labels?: Json;
    containers?: readonly Json[];
    podSpec?: Json;
    metadata?: Json;
    templateMetadata?: Json;
  } = {},
): KubeObject {
  const spec: Json = {
    selector: { matchLabels: options.labels ?? { app: "web" } },
    template: {
      metadata: { labels: options.labels ?? { app: "web" }, ...options.templateMetadata },
      spec: {
        automountServiceAccountToken: false,
        containers: options.containers ?? [goodContainer()],
        ...options.podSpec,
      },
    },
  };
  if (options.replicas !== undefined) spec["replicas"] = options.replicas;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: options.name ?? "web", namespace: options.namespace ?? "shop", ...options.metadata },
    spec,
  };
}

/** A bare Pod in namespace "shop". */
export function pod(spec: Json, metadata: Json = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "shop", labels: { app: "web" }, ...metadata },
    spec,
  };
}

export const CONTAINERS: FieldPath = ["spec", "template", "spec", "containers"];
