/**
 * Parsing of one YAML document's text into plain values: js-yaml first (fast, values only),
 * the `yaml` package only when js-yaml rejects the document (for a precise error location, and
 * to accept the few things only `yaml` accepts, such as unknown local tags).
 *
 * Scalar typing: Kubernetes decodes manifests with sigs.k8s.io/yaml, which is go-yaml v2, a
 * YAML 1.1 parser: `yes/no/on/off/y/n` are booleans, `0644` is octal (420: what a `defaultMode:
 * 0644` means to the API server), `1_000` is 1000. js-yaml's default (YAML 1.2 core) would read
 * `0644` as 644 and `on` as a string, so rules would judge values Kubernetes never sees. We use
 * the YAML 1.1 scalar tags, minus what go-yaml v2 does not do when decoding into unstructured
 * objects: timestamps stay strings (go-yaml v2 keeps them as strings for interface{} targets),
 * `1:20` stays a string (no base-60 numbers), and no `!!binary`/`!!set`/`!!omap`/`!!pairs`.
 * Merge keys (`<<`) are resolved as go-yaml v2 resolves them (merge-keys.ts), which is not how
 * js-yaml does.
 */
import { EVENT_ID, loadAll, parseEvents, YAMLException } from "js-yaml";
import { DECLINED, fastLoadIndexed } from "./fast-yaml.ts";
import { MergeKeyError, resolveMergeKeys } from "./merge-keys.ts";
import type { BlockIndex } from "./positions-index.ts";
import { KUBERNETES_SCHEMA } from "./schema.ts";
import { yamlPackage } from "./yaml-package.ts";

export { KUBERNETES_SCHEMA } from "./schema.ts";

export interface ParseLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxAliasExpansion: number;
}

/** A parse error, positions 0-based and relative to the document text. */
export interface ParseFailure {
  readonly ok: false;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface ParseSuccess {
  readonly ok: true;
  readonly values: readonly unknown[];
  /** The positions index, when the fast path read the document and recorded one (see fastLoadIndexed). */
  readonly index?: BlockIndex | undefined;
}

export type ParseResult = ParseSuccess | ParseFailure;

/** 0-based line and column of an offset in text. */
export function offsetPosition(text: string, offset: number): { line: number; column: number } {
  let line = 0;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = text.indexOf("\n"); i !== -1 && i < end; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: Math.max(0, end - lineStart) };
}

function failure(text: string, offset: number, message: string): ParseFailure {
  return { ok: false, ...offsetPosition(text, offset), message };
}

/** Alias events in the text (only called on error paths), with the offset of the first. */
function countAliases(text: string, maxDepth: number): { count: number; first: number } {
  let count = 0;
  let first = -1;
  try {
    for (const event of parseEvents(text, { maxDepth })) {
      if (event.type === EVENT_ID.ALIAS) {
        if (first === -1) first = Math.max(0, event.anchorStart - 1);
        count++;
      }
    }
  } catch {
    // Counting is best effort: the document has already been refused.
  }
  return { count, first };
}

/**
 * How many nodes the values would have if every alias were copied out, minus how many they
 * have (aliases share objects in memory, but anything that walks or serialises them pays for
 * the copies). "cycle" when an alias sits inside its own anchor.
 */
export function aliasExpansion(root: unknown): number | "cycle" {
  if (typeof root !== "object" || root === null) return 0;
  interface Frame {
    readonly node: object;
    readonly children: readonly unknown[];
    index: number;
    size: number;
  }
  const memo = new Map<object, number>();
  const open = new Set<object>();
  let distinct = 1;
  const children = (node: object): readonly unknown[] =>
    Array.isArray(node) ? (node as unknown[]) : Object.values(node);
  const stack: Frame[] = [{ node: root, children: children(root), index: 0, size: 1 }];
  open.add(root);
  let total = 0;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top === undefined) break;
    if (top.index < top.children.length) {
      const child = top.children[top.index++];
      if (typeof child === "object" && child !== null) {
        const known = memo.get(child);
        if (known !== undefined) {
          top.size += known;
        } else if (open.has(child)) {
          return "cycle";
        } else {
          distinct++;
          open.add(child);
          stack.push({ node: child, children: children(child), index: 0, size: 1 });
        }
      } else {
        top.size++;
        distinct++;
      }
      continue;
    }
    stack.pop();
    open.delete(top.node);
    memo.set(top.node, top.size);
    const parent = stack[stack.length - 1];
    if (parent === undefined) total = top.size;
    else parent.size += top.size;
  }
  return total - distinct;
}

const LIMIT_ERRORS = /maxDepth|maxAliases|maxTotalMergeKeys/;

/** Largest nesting of flow brackets, a cheap guard before handing text to the recursive `yaml` composer. */
function flowDepthEstimate(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return max;
}

const YAML11_TAGS_NOT_IN_GO_YAML = new Set([
  "tag:yaml.org,2002:timestamp",
  "tag:yaml.org,2002:binary",
  "tag:yaml.org,2002:set",
  "tag:yaml.org,2002:omap",
  "tag:yaml.org,2002:pairs",
]);

/** Parses with `yaml`: the first error with its position, or the values when `yaml` accepts the text. */
function parseWithYamlPackage(text: string, limits: ParseLimits): ParseResult | undefined {
  if (flowDepthEstimate(text) > limits.maxDepth) return undefined;
  const { LineCounter, parseDocument } = yamlPackage();
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    logLevel: "silent",
    version: "1.1",
    merge: true,
    uniqueKeys: true,
    customTags: (tags) =>
      tags.filter(
        (tag) =>
          typeof tag === "string" || (!YAML11_TAGS_NOT_IN_GO_YAML.has(tag.tag) && tag.format !== "TIME"),
      ),
  });
  const error = document.errors[0];
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { ok: false, line: line - 1, column: col - 1, message: error.message };
  }
  const value: unknown = document.toJS({ maxAliasCount: limits.maxAliases });
  return { ok: true, values: value === undefined || value === null ? [] : [value] };
}

const MESSAGE_PREFIX = /^(?:YAMLException: )?/;

/**
 * Parses the text of one document (as cut by splitYamlDocuments). Never throws: stack
 * overflows and parser bugs come back as failures.
 */
export function parseYamlDocument(text: string, limits: ParseLimits): ParseResult {
  const fast = fastLoadIndexed(text, limits.maxDepth);
  if (fast !== DECLINED) return { ok: true, values: [fast.value], index: fast.index };
  let values: unknown[];
  let readByYamlPackage = false;
  try {
    values = loadAll(text, {
      schema: KUBERNETES_SCHEMA,
      maxDepth: limits.maxDepth,
      maxAliases: limits.maxAliases,
    });
  } catch (error) {
    const isYamlError = error instanceof YAMLException;
    const reason = isYamlError ? error.reason : error instanceof Error ? error.message : String(error);
    const mark = isYamlError ? error.mark : undefined;
    if (isYamlError && reason.includes("maxAliases")) {
      const { count, first } = countAliases(text, limits.maxDepth);
      const offset = first >= 0 ? first : (mark?.position ?? 0);
      return failure(text, offset, `document uses ${count} aliases (limit ${limits.maxAliases})`);
    }
    if (isYamlError && reason.includes("maxDepth")) {
      return failure(
        text,
        mark?.position ?? 0,
        `document nests deeper than ${limits.maxDepth} levels (limit ${limits.maxDepth})`,
      );
    }
    if (isYamlError && LIMIT_ERRORS.test(reason)) {
      return failure(text, mark?.position ?? 0, reason);
    }
    let fallback: ParseResult | undefined;
    try {
      fallback = parseWithYamlPackage(text, limits);
    } catch (yamlError) {
      const message = yamlError instanceof Error ? yamlError.message : String(yamlError);
      // "Merge sources must be maps or map aliases" is about merge keys, not the alias limit.
      if (/alias/i.test(message) && !/merge/i.test(message)) {
        const { count, first } = countAliases(text, limits.maxDepth);
        return failure(
          text,
          Math.max(0, first),
          `document uses ${count} aliases (limit ${limits.maxAliases}): ${message}`,
        );
      }
      fallback = undefined;
    }
    if (fallback === undefined) {
      return failure(text, mark?.position ?? 0, reason.replace(MESSAGE_PREFIX, ""));
    }
    if (!fallback.ok) return fallback;
    values = [...fallback.values];
    readByYamlPackage = true;
  }
  if (text.includes("*")) {
    for (const value of values) {
      const extra = aliasExpansion(value);
      if (extra === "cycle") {
        const { first } = countAliases(text, limits.maxDepth);
        return failure(
          text,
          Math.max(0, first),
          "document has an alias inside its own anchor (a recursive structure)",
        );
      }
      if (extra > limits.maxAliasExpansion) {
        const { count, first } = countAliases(text, limits.maxDepth);
        const size = extra > 1e9 ? "more than a billion" : String(extra);
        return failure(
          text,
          Math.max(0, first),
          `document uses ${count} aliases that expand it by ${size} nodes (limit ${limits.maxAliasExpansion} nodes from aliases); refused as a possible alias bomb`,
        );
      }
    }
  }
  const merge = text.indexOf("<<");
  if (merge !== -1) {
    // The `yaml` package, like js-yaml, lets explicit keys win over merged ones: a document only
    // it can read is refused rather than judged with values the API server would not see.
    if (readByYamlPackage)
      return failure(
        text,
        merge,
        "document has merge keys (<<) and YAML that only vakt's fallback reader accepts; vakt cannot resolve its merge keys as Kubernetes does: write the merged keys out",
      );
    try {
      const resolved = resolveMergeKeys(
        text,
        KUBERNETES_SCHEMA,
        limits.maxDepth,
        text.length + limits.maxAliasExpansion,
      );
      if (resolved !== undefined) values = resolved;
    } catch (error) {
      const reason =
        error instanceof MergeKeyError || error instanceof YAMLException || error instanceof RangeError
          ? error.message
          : String(error);
      return failure(
        text,
        merge,
        `document's merge keys (<<) cannot be resolved as Kubernetes does: ${reason}`,
      );
    }
  }
  return { ok: true, values };
}
