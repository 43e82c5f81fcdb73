/**
 * A configuration file's YAML as a small tree of mappings, sequences and scalars, read one of
 * two ways:
 *
 * - {@link readQuickly}: js-yaml's event parser (js-yaml is loaded by `vakt check` anyway), for
 *   the plain subset a configuration file is written in. It declines (returns undefined)
 *   everything else: anchors, aliases, tags, directives, several documents, multi-line or
 *   escaped scalars, block scalars, empty values, tabs, carriage returns, control characters,
 *   numbers other than decimal integers, duplicate or non-scalar keys. For what it accepts,
 *   its tree is the one {@link readPrecisely} gives (YAML 1.2 core schema scalars), without
 *   source positions.
 * - {@link readPrecisely}: the `yaml` package's document, with the offset of every node and
 *   its syntax errors located. The package is loaded on the first call only: its many modules
 *   cost more start-up time than the rest of `vakt check` on a small input.
 *
 * parseConfig validates the quick tree first and reads precisely only when the quick reader
 * declines or the configuration has a problem, so that every message names file:line:column
 * exactly as the `yaml` package locates it.
 */
import { EVENT_ID, SCALAR_STYLE, getScalarValue, parseEvents } from "js-yaml";
import type { ScalarEvent } from "js-yaml";
import { yamlPackage } from "../inputs/yaml-package.ts";

/** A node of the configuration document. `at`: its offset in the text, when known. */
export type ConfigNode =
  | { readonly kind: "map"; readonly pairs: readonly ConfigPair[]; readonly at: number | undefined }
  | { readonly kind: "seq"; readonly items: readonly (ConfigNode | null)[]; readonly at: number | undefined }
  | { readonly kind: "scalar"; readonly value: unknown; readonly at: number | undefined }
  /** Anything else (an alias left unresolved): no value the configuration accepts. */
  | { readonly kind: "other"; readonly at: number | undefined };

export interface ConfigPair {
  readonly key: ConfigNode | null;
  readonly value: ConfigNode | null;
}

/** The value node of the first pair whose key is the scalar `key`; undefined when absent or empty. */
export function valueOf(map: ConfigNode | null | undefined, key: string): ConfigNode | undefined {
  if (map?.kind !== "map") return undefined;
  const pair = map.pairs.find((p) => p.key?.kind === "scalar" && p.key.value === key);
  return pair?.value ?? undefined;
}

/**
 * Characters the quick reader leaves to the `yaml` package: tabs, carriage returns and other
 * line breaks, control characters, byte order marks, non-characters and unpaired surrogates
 * (where YAML readers differ, or which are errors). Also lines of 1024 characters or more
 * (the `yaml` package limits implicit keys to 1024 characters), document end markers, and
 * document start markers indented or with anything after them on their line.
 */
const DECLINED_TEXT =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\0-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[^\n]{1024}|^(?: *\.\.\.| +---|--- *[^ \n])/m;

// The YAML 1.2 core schema's plain scalars other than strings, as the `yaml` package tests them
// (yaml/dist/schema/core and common/null.js).
const CORE_NULL = /^(?:~|[Nn]ull|NULL)?$/;
const CORE_BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const CORE_INT = /^[-+]?[0-9]+$/;
/** Octal, hexadecimal, .inf/.nan, exponent and fraction forms: declined. */
const CORE_OTHER_NUMBER =
  /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;

/** Thrown inside readQuickly when the text is outside its subset; never escapes it. */
class Declined extends Error {
  override readonly name = "Declined";
}

interface OpenCollection {
  readonly node: ConfigNode & { readonly kind: "map" | "seq" };
  /** A mapping's key waiting for its value. */
  key: ConfigNode | undefined;
}

/** The document's root node, or undefined when the text is declined. */
export function readQuickly(text: string): ConfigNode | undefined {
  if (DECLINED_TEXT.test(text)) return undefined;
  let events: ReturnType<typeof parseEvents>;
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined; // a syntax error: the `yaml` package locates it
  }
  try {
    return build(text, events);
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

function build(text: string, events: ReturnType<typeof parseEvents>): ConfigNode {
  let documents = 0;
  // The document's root goes into a holder, the bottom of the stack of open collections.
  const holder: ConfigNode & { kind: "seq" } = { kind: "seq", items: [], at: undefined };
  const open: OpenCollection[] = [{ node: holder, key: undefined }];
  const add = (node: ConfigNode): void => {
    const parent = open.at(-1) ?? { node: holder, key: undefined };
    if (parent.node.kind === "seq") {
      (parent.node.items as (ConfigNode | null)[]).push(node);
      return;
    }
    const pairs = parent.node.pairs as ConfigPair[];
    if (parent.key === undefined) {
      // Keys are scalars, each once: the `yaml` package rejects duplicates (uniqueKeys).
      if (node.kind !== "scalar") throw new Declined();
      if (pairs.some((pair) => pair.key?.kind === "scalar" && pair.key.value === node.value))
        throw new Declined();
      parent.key = node;
      return;
    }
    pairs.push({ key: parent.key, value: node });
    parent.key = undefined;
  };
  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        documents++;
        if (documents > 1 || event.directives.length > 0) throw new Declined();
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (event.anchorStart !== -1 || event.tagStart !== -1) throw new Declined();
        const node: OpenCollection["node"] =
          event.type === EVENT_ID.MAPPING
            ? { kind: "map", pairs: [], at: undefined }
            : { kind: "seq", items: [], at: undefined };
        add(node);
        open.push({ node, key: undefined });
        break;
      }
      case EVENT_ID.SCALAR:
        add({ kind: "scalar", value: scalarValue(text, event), at: undefined });
        break;
      case EVENT_ID.POP:
        // Closes a collection, or the document (then only the holder is open).
        if (open.length > 1) open.pop();
        break;
      default:
        throw new Declined(); // an alias
    }
  }
  const root = holder.items[0];
  // An empty text, comments only, an empty document: left to the `yaml` package, and so is a
  // document that is not a mapping (no configuration).
  if (documents !== 1 || holder.items.length !== 1 || root?.kind !== "map") throw new Declined();
  return root;
}

function scalarValue(text: string, event: ScalarEvent): unknown {
  if (event.anchorStart !== -1 || event.tagStart !== -1 || event.valueStart === -1) throw new Declined();
  const source = text.slice(event.valueStart, event.valueEnd);
  if (source.includes("\n")) throw new Declined(); // folding of multi-line scalars
  switch (event.style) {
    case SCALAR_STYLE.PLAIN:
      break;
    case SCALAR_STYLE.SINGLE_QUOTED:
      return getScalarValue(text, event);
    case SCALAR_STYLE.DOUBLE_QUOTED:
      if (source.includes("\\")) throw new Declined(); // escapes
      return getScalarValue(text, event);
    default:
      throw new Declined(); // block scalars
  }
  const value = getScalarValue(text, event);
  if (value !== source) throw new Declined();
  if (CORE_NULL.test(value)) {
    if (value === "") throw new Declined(); // an empty value: the `yaml` package may leave no node at all
    return null;
  }
  if (CORE_BOOL.test(value)) return value.startsWith("t") || value.startsWith("T");
  // parseInt as the `yaml` package resolves them (intAsBigInt off).
  if (CORE_INT.test(value)) return parseInt(value, 10);
  if (CORE_OTHER_NUMBER.test(value)) throw new Declined();
  return value;
}

export interface PreciseRead {
  /** The root node; null for an empty document. */
  readonly root: ConfigNode | null;
  /** Syntax errors, each "file:line:column: message". */
  readonly errors: readonly string[];
  /** file:line:column of a node, or the file when it has no position. */
  readonly where: (node: ConfigNode | null | undefined) => string;
}

/** The document as the `yaml` package reads it (YAML 1.2 core schema; unique keys). */
export function readPrecisely(text: string, file: string): PreciseRead {
  const yaml = yamlPackage();
  const lineCounter = new yaml.LineCounter();
  const document = yaml.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const errors = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `${file}:${line}:${col}: ${error.message.split("\n")[0] ?? error.message}`;
  });
  const convert = (node: unknown): ConfigNode | null => {
    if (node === null || node === undefined) return null;
    const at = (node as { range?: readonly number[] | null }).range?.[0];
    if (yaml.isMap(node))
      return {
        kind: "map",
        pairs: node.items.map((pair) => ({ key: convert(pair.key), value: convert(pair.value) })),
        at,
      };
    if (yaml.isSeq(node)) return { kind: "seq", items: node.items.map(convert), at };
    if (yaml.isScalar(node)) return { kind: "scalar", value: node.value, at };
    return { kind: "other", at };
  };
  return {
    root: convert(document.contents),
    errors,
    where: (node) => {
      if (node?.at === undefined) return file;
      const { line, col } = lineCounter.linePos(node.at);
      return `${file}:${line}:${col}`;
    },
  };
}
