/**
 * A tiny typed builder for OpenAPI v3 structural schemas. A schema is written once with these
 * functions; the same value yields
 *   - the CRD's openAPIV3Schema (`toOpenApi`),
 *   - the TypeScript types of the object as written (`InputOf`) and after API-server style
 *     defaulting (`OutputOf`), computed by the compiler, so types and schema cannot drift,
 *   - a validator with precise field paths (`validateAgainst`) and defaulting (`applyDefaults`)
 *     that mirror what the API server does, for `vakt render` which runs without one.
 */
import type { FieldPath } from "../engine/types.ts";

type Presence = "optional" | "required" | "defaulted";

interface NodeData {
  readonly type: "string" | "integer" | "boolean" | "object" | "array";
  readonly description: string;
  readonly enum?: readonly (string | number)[];
  readonly pattern?: string;
  /** Human words for the pattern, used in messages ("a DNS label"). */
  readonly patternHint?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, AnyNode>>;
  readonly items?: AnyNode;
  readonly values?: AnyNode;
  readonly listType?: "atomic" | "set" | "map";
  readonly listMapKeys?: readonly string[];
}

/** A schema node. `In`/`Out` are phantom types (never present at run time). */
export interface Node<In, Out, P extends Presence = "optional"> {
  readonly data: NodeData;
  readonly presence: P;
  readonly __in?: In;
  readonly __out?: Out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNode = Node<any, any, Presence>;
export type InputOf<N> = N extends Node<infer In, unknown, Presence> ? In : never;
export type OutputOf<N> = N extends Node<unknown, infer Out, Presence> ? Out : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Props = Readonly<Record<string, AnyNode>>;
type RequiredIn<P extends Props> = {
  [K in keyof P]: P[K]["presence"] extends "required" ? K : never;
}[keyof P];
type RequiredOut<P extends Props> = {
  [K in keyof P]: P[K]["presence"] extends "optional" ? never : K;
}[keyof P];
export type ObjectIn<P extends Props> = Simplify<
  { readonly [K in RequiredIn<P>]: InputOf<P[K]> } & {
    readonly [K in Exclude<keyof P, RequiredIn<P>>]?: InputOf<P[K]>;
  }
>;
export type ObjectOut<P extends Props> = Simplify<
  { readonly [K in RequiredOut<P>]: OutputOf<P[K]> } & {
    readonly [K in Exclude<keyof P, RequiredOut<P>>]?: OutputOf<P[K]>;
  }
>;

interface Common {
  readonly description: string;
}
interface StringOptions extends Common {
  readonly pattern?: string;
  readonly patternHint?: string;
  readonly format?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}
interface IntegerOptions extends Common {
  readonly minimum?: number;
  readonly maximum?: number;
}
interface ArrayOptions extends Common {
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly listType?: "atomic" | "set" | "map";
  readonly listMapKeys?: readonly string[];
}

function node<In, Out>(data: NodeData): Node<In, Out> {
  return { data, presence: "optional" };
}

export function str(options: StringOptions): Node<string, string> {
  return node({ type: "string", ...options });
}

export function enumOf<const E extends readonly string[]>(
  values: E,
  options: Common,
): Node<E[number], E[number]> {
  return node({ type: "string", enum: values, ...options });
}

export function int(options: IntegerOptions): Node<number, number> {
  return node({ type: "integer", ...options });
}

export function bool(options: Common): Node<boolean, boolean> {
  return node({ type: "boolean", ...options });
}

export function arr<N extends AnyNode>(
  items: N,
  options: ArrayOptions,
): Node<readonly InputOf<N>[], readonly OutputOf<N>[]> {
  return node({ type: "array", items, ...options });
}

/** A map with string keys (`additionalProperties`). */
export function map<N extends AnyNode>(
  values: N,
  options: Common,
): Node<Readonly<Record<string, InputOf<N>>>, Readonly<Record<string, OutputOf<N>>>> {
  return node({ type: "object", values, ...options });
}

export function obj<P extends Props>(properties: P, options: Common): Node<ObjectIn<P>, ObjectOut<P>> {
  return node({ type: "object", properties, ...options });
}

/** Marks a property as required. */
export function req<In, Out>(n: Node<In, Out>): Node<In, Out, "required"> {
  return { data: n.data, presence: "required" };
}

/** Gives a property a default (the API server fills it in; it is never missing afterwards). */
export function def<In, Out>(n: Node<In, Out>, value: In): Node<In, Out, "defaulted"> {
  return { data: { ...n.data, default: value }, presence: "defaulted" };
}

// ---------------------------------------------------------------------------------------------
// OpenAPI v3 output

export type JsonSchema = { readonly [key: string]: unknown };

export function toOpenApi(n: AnyNode): JsonSchema {
  const d = n.data;
  const out: Record<string, unknown> = { type: d.type, description: d.description };
  if (d.enum !== undefined) out["enum"] = [...d.enum];
  if (d.pattern !== undefined) out["pattern"] = d.pattern;
  if (d.format !== undefined) out["format"] = d.format;
  for (const key of ["minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"] as const) {
    if (d[key] !== undefined) out[key] = d[key];
  }
  if (d.default !== undefined) out["default"] = structuredClone(d.default);
  if (d.properties !== undefined) {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, child] of Object.entries(d.properties)) {
      properties[key] = toOpenApi(child);
      if (child.presence === "required") required.push(key);
    }
    out["properties"] = properties;
    if (required.length > 0) out["required"] = required;
  }
  if (d.values !== undefined) out["additionalProperties"] = toOpenApi(d.values);
  if (d.items !== undefined) out["items"] = toOpenApi(d.items);
  if (d.listType !== undefined) out["x-kubernetes-list-type"] = d.listType;
  if (d.listMapKeys !== undefined) out["x-kubernetes-list-map-keys"] = [...d.listMapKeys];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation and defaulting, as the API server would do them

export interface SchemaProblem {
  readonly path: FieldPath;
  readonly message: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

const TYPE_WORDS = {
  string: "a string",
  integer: "an integer",
  boolean: "true or false",
  object: "an object",
  array: "a list",
} as const;

/** Compiled patterns and property lists per schema node: schemas are built once, checked often. */
const patterns = new WeakMap<NodeData, RegExp>();
const propertyLists = new WeakMap<NodeData, readonly (readonly [string, AnyNode])[]>();

function patternOf(d: NodeData, source: string): RegExp {
  let pattern = patterns.get(d);
  if (pattern === undefined) {
    pattern = new RegExp(source, "u");
    patterns.set(d, pattern);
  }
  return pattern;
}

function propertiesOf(d: NodeData): readonly (readonly [string, AnyNode])[] {
  let list = propertyLists.get(d);
  if (list === undefined) {
    list = Object.entries(d.properties ?? {});
    propertyLists.set(d, list);
  }
  return list;
}

/** Checks a value against a schema node; unknown fields are reported (the API server would drop them). */
export function validateAgainst(n: AnyNode, value: unknown, path: FieldPath = []): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  check(n, value, path, problems);
  return problems;
}

function check(n: AnyNode, value: unknown, path: FieldPath, problems: SchemaProblem[]): void {
  const d = n.data;
  const fail = (message: string, at: FieldPath = path): void => {
    problems.push({ path: at, message });
  };
  switch (d.type) {
    case "string":
      if (typeof value !== "string") {
        fail(`must be ${TYPE_WORDS.string}, not ${describe(value)}`);
        return;
      }
      if (d.enum !== undefined && !d.enum.includes(value))
        fail(`${JSON.stringify(value)} is not one of ${d.enum.map((e) => JSON.stringify(e)).join(", ")}`);
      if (d.minLength !== undefined && value.length < d.minLength)
        fail(d.minLength === 1 ? "must not be empty" : `must be at least ${d.minLength} characters long`);
      if (d.maxLength !== undefined && value.length > d.maxLength)
        fail(`${JSON.stringify(value)} is longer than ${d.maxLength} characters`);
      if (d.pattern !== undefined && !patternOf(d, d.pattern).test(value))
        fail(
          `${JSON.stringify(value)} is not ${d.patternHint ?? "valid"} (it must match the pattern ${d.pattern})`,
        );
      return;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        fail(`must be ${TYPE_WORDS.integer}, not ${describe(value)}`);
        return;
      }
      if (d.minimum !== undefined && value < d.minimum)
        fail(`${value} is less than the minimum ${d.minimum}`);
      if (d.maximum !== undefined && value > d.maximum)
        fail(`${value} is more than the maximum ${d.maximum}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") fail(`must be ${TYPE_WORDS.boolean}, not ${describe(value)}`);
      return;
    case "array":
      if (!Array.isArray(value)) {
        fail(`must be ${TYPE_WORDS.array}, not ${describe(value)}`);
        return;
      }
      if (d.minItems !== undefined && value.length < d.minItems)
        fail(d.minItems === 1 ? "must not be empty" : `must have at least ${d.minItems} entries`);
      if (d.maxItems !== undefined && value.length > d.maxItems)
        fail(`has ${value.length} entries, more than the maximum ${d.maxItems}`);
      if (d.items !== undefined)
        for (let index = 0; index < value.length; index++)
          check(d.items, value[index] as unknown, [...path, index], problems);
      if (d.listType === "set") {
        const seen = new Set<string>();
        value.forEach((item: unknown, index) => {
          const key = JSON.stringify(item);
          if (seen.has(key)) fail(`duplicate entry ${key}`, [...path, index]);
          seen.add(key);
        });
      }
      if (d.listType === "map" && d.listMapKeys !== undefined) {
        const keys = d.listMapKeys;
        const seen = new Set<string>();
        value.forEach((item: unknown, index) => {
          if (!isPlainObject(item)) return;
          const key = JSON.stringify(keys.map((k) => item[k]));
          if (seen.has(key))
            fail(`duplicate entry: another entry has the same ${keys.join(" and ")}`, [...path, index]);
          seen.add(key);
        });
      }
      return;
    case "object": {
      if (!isPlainObject(value)) {
        fail(`must be ${TYPE_WORDS.object}, not ${describe(value)}`);
        return;
      }
      if (d.values !== undefined) {
        for (const key in value) check(d.values, value[key], [...path, key], problems);
        return;
      }
      const properties = d.properties ?? {};
      for (const [key, child] of propertiesOf(d))
        if (child.presence === "required" && value[key] === undefined) fail("is required", [...path, key]);
      for (const key in value) {
        const child = properties[key];
        if (child === undefined) {
          const known = Object.keys(properties);
          fail(`unknown field${known.length > 0 ? `; known fields: ${known.join(", ")}` : ""}`, [
            ...path,
            key,
          ]);
          continue;
        }
        check(child, value[key], [...path, key], problems);
      }
      return;
    }
  }
}

/**
 * Fills in defaults the way the API server does for structural schemas: a missing property with
 * a default gets it (the default is itself defaulted), then children are defaulted.
 */
export function applyDefaults(n: AnyNode, value: unknown): unknown {
  const d = n.data;
  if (d.type === "array" && Array.isArray(value) && d.items !== undefined) {
    const items = d.items;
    return value.map((item: unknown) => applyDefaults(items, item));
  }
  if (d.type !== "object" || !isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  if (d.values !== undefined) {
    const values = d.values;
    for (const key in value) out[key] = applyDefaults(values, value[key]);
    return out;
  }
  for (const key in value) out[key] = value[key];
  for (const [key, child] of propertiesOf(d)) {
    const fallback = child.data.default;
    const current =
      out[key] !== undefined ? out[key] : fallback === undefined ? undefined : structuredClone(fallback);
    if (current !== undefined) out[key] = applyDefaults(child, current);
  }
  return out;
}

/** Every node of a schema with its path (".items" for list items, ".*" for map values). */
export function* walk(n: AnyNode, path: readonly string[] = []): Generator<[readonly string[], AnyNode]> {
  yield [path, n];
  for (const [key, child] of Object.entries(n.data.properties ?? {})) yield* walk(child, [...path, key]);
  if (n.data.items !== undefined) yield* walk(n.data.items, [...path, "[]"]);
  if (n.data.values !== undefined) yield* walk(n.data.values, [...path, "*"]);
}
