/**
 * Lazy source positions. The fast path records each document's positions index as it reads it
 * (positions-index.ts) and a field path is resolved against that. Documents without one (the
 * fast path declined them) and paths the index is not sure of are re-parsed with the
 * position-keeping `yaml` package instead, once per document.
 *
 * A path resolves to: the key of a mapping entry, the start of a sequence item, the start of
 * the document's content for []. When the path goes further than the document (a missing
 * field), the position of the deepest part that exists.
 */
import type { Document, LineCounter } from "yaml";
import type { FieldPath } from "../engine/types.ts";
import type { SourcePosition } from "./types.ts";
import { LineIndex, walkJson } from "./json.ts";
import { keyTextMatches, resolveBlockPath, type BlockIndex } from "./positions-index.ts";
import { yamlPackage } from "./yaml-package.ts";

export type Locator = (path: FieldPath) => SourcePosition;

/** Bounds on alias and merge-key hops while resolving one path (documents are already limited). */
const MAX_HOPS = 10_000;

function keyMatches(key: unknown, wanted: string, document: Document): boolean {
  const { isAlias, isScalar } = yamlPackage();
  let node = key;
  if (isAlias(node)) node = node.resolve(document);
  if (!isScalar(node)) return false;
  const source = node.source ?? node.value;
  if (typeof source !== "string") return String(source) === wanted;
  return keyTextMatches(source, node.type === "PLAIN", wanted);
}

interface Hops {
  count: number;
}

function deref(node: unknown, document: Document, hops: Hops): unknown {
  const { isAlias } = yamlPackage();
  let current = node;
  while (isAlias(current) && hops.count++ < MAX_HOPS) current = current.resolve(document);
  return current;
}

/**
 * The mapping entry `wanted` takes its value from, as Kubernetes resolves merge keys (see
 * merge-keys.ts): the last entry in document order that sets it, where a `<<` sets the keys of the
 * mappings it merges (of `<<: [*a, *b]`, `a` first). A value that came through a merge points at
 * its key in the merged mapping (the anchor's lines), where it is written.
 */
function findPair(
  map: unknown,
  wanted: string,
  document: Document,
  hops: Hops,
): { key: unknown; value: unknown } | undefined {
  const { isMap, isScalar, isSeq } = yamlPackage();
  if (!isMap(map)) return undefined;
  const isMerge = (key: unknown): boolean => isScalar(key) && key.source === "<<" && key.type === "PLAIN";
  const lastMerge = map.items.findLastIndex((pair) => isMerge(pair.key));
  // After the last merge, the first of duplicate keys (as the fast index answers; values refuse
  // duplicates anyway).
  for (let i = lastMerge + 1; i < map.items.length; i++) {
    const pair = map.items[i];
    if (pair !== undefined && keyMatches(pair.key, wanted, document)) return pair;
  }
  for (let i = lastMerge; i >= 0; i--) {
    const pair = map.items[i];
    if (pair === undefined) continue;
    if (!isMerge(pair.key)) {
      if (keyMatches(pair.key, wanted, document)) return pair;
      continue;
    }
    if (hops.count++ > MAX_HOPS) return undefined;
    const source = deref(pair.value, document, hops);
    const sources = isSeq(source) ? source.items.map((item) => deref(item, document, hops)) : [source];
    for (const candidate of sources) {
      const found = findPair(candidate, wanted, document, hops);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function startOf(node: unknown): number | undefined {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlPackage();
  if (isPair(node)) return startOf(node.key);
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}

/** Offset in the document text for `path` (see the module comment). */
export function resolveYamlOffset(document: Document, path: FieldPath): number {
  const { isMap, isPair, isSeq } = yamlPackage();
  const hops: Hops = { count: 0 };
  let node: unknown = document.contents;
  let offset = startOf(node) ?? 0;
  for (const key of path) {
    node = deref(node, document, hops);
    if (isMap(node)) {
      const pair = findPair(node, String(key), document, hops);
      if (pair === undefined) return offset;
      offset = startOf(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = typeof key === "number" ? key : /^[0-9]+$/.test(key) ? Number(key) : -1;
      const item: unknown = node.items[index];
      if (item === undefined) return offset;
      offset = startOf(item) ?? offset;
      node = isPair(item) ? item.value : item;
    } else {
      return offset;
    }
  }
  return offset;
}

/**
 * A locator for one YAML document that always re-parses it with the `yaml` package (on the first
 * call): what yamlLocator falls back to. `text` and `startLine` as for yamlLocator.
 */
export function parsedYamlLocator(text: string, startLine: number): Locator {
  let parsed: { document: Document; lineCounter: LineCounter } | undefined;
  return (path) => {
    try {
      if (parsed === undefined) {
        const { LineCounter, parseDocument } = yamlPackage();
        const lineCounter = new LineCounter();
        // failsafe: every scalar is a string, so resolution never depends on scalar typing.
        const document = parseDocument(text, {
          lineCounter,
          schema: "failsafe",
          uniqueKeys: false,
          prettyErrors: false,
          logLevel: "silent",
          strict: false,
        });
        parsed = { document, lineCounter };
      }
      const offset = resolveYamlOffset(parsed.document, path);
      const { line, col } = parsed.lineCounter.linePos(offset);
      return { line: startLine + line, column: col };
    } catch {
      return { line: startLine + 1, column: 1 };
    }
  };
}

/**
 * A locator for one YAML document: `text` is the document as cut from its file and
 * `startLine` the 0-based line it starts on. `recorded` is the index the fast parser built while
 * reading the document, if it did. Documents without one and paths the index is not sure of are
 * resolved by re-parsing the text with `yaml` (parsedYamlLocator), at most once.
 */
export function yamlLocator(text: string, startLine: number, recorded?: BlockIndex): Locator {
  let slow: Locator | undefined;
  return (path) => {
    if (recorded !== undefined) {
      const position = resolveBlockPath(recorded, path);
      if (position !== undefined) return { line: startLine + position.line + 1, column: position.col + 1 };
    }
    slow ??= parsedYamlLocator(text, startLine);
    return slow(path);
  };
}

function samePrefix(walked: readonly (string | number)[], wanted: FieldPath): boolean {
  for (let i = 0; i < walked.length; i++) {
    const a = walked[i];
    const b = wanted[i];
    if (a !== b && String(a) !== String(b)) return false;
  }
  return true;
}

/** Offset of `path` in the JSON value that starts at `start`. */
function resolveJsonOffset(text: string, start: number, path: FieldPath): number {
  let best = start;
  let bestDepth = -1;
  walkJson(text, start, {
    singleValue: true,
    visit: (walked, keyOffset) => {
      if (walked.length > path.length || walked.length <= bestDepth || !samePrefix(walked, path))
        return false;
      best = keyOffset;
      bestDepth = walked.length;
      return walked.length === path.length;
    },
  });
  return best;
}

/**
 * A locator for a JSON file. The offsets of a List's items are indexed on the first call
 * that needs them, so locating in many items of a large List stays linear.
 */
export function jsonLocator(text: string): Locator {
  let lines: LineIndex | undefined;
  let items: number[] | undefined;
  return (path) => {
    try {
      lines ??= new LineIndex(text);
      let offset: number;
      const index = path[1];
      if (path[0] === "items" && typeof index === "number") {
        if (items === undefined) {
          const found: number[] = [];
          walkJson(text, 0, {
            visit: (walked, _key, valueOffset) => {
              const item = walked[1];
              if (walked.length === 2 && walked[0] === "items" && typeof item === "number")
                found[item] = valueOffset;
              return false;
            },
          });
          items = found;
        }
        const itemStart = items[index];
        offset =
          itemStart === undefined
            ? resolveJsonOffset(text, 0, path)
            : resolveJsonOffset(text, itemStart, path.slice(2));
      } else {
        offset = resolveJsonOffset(text, 0, path);
      }
      return lines.position(offset);
    } catch {
      return { line: 1, column: 1 };
    }
  };
}
