/**
 * The positions index of a YAML document: a small record of its mapping keys and sequence items
 * (no values), which the fast path (fast-yaml.ts) builds while it reads the document, so that
 * locating a finding needs no second pass over the text. Field paths resolve against it.
 *
 * It answers exactly what resolveYamlOffset in positions.ts answers over the `yaml` package's
 * tree (a mapping entry resolves to its key, a sequence item to the item's start, a missing
 * part to the deepest part that exists), or declines, and the caller re-parses with `yaml`:
 *
 * - for the whole document when the fast path declines it or records no index (a root that is
 *   not a mapping, an item on the line after its `-`, a byte order mark);
 * - for one path (resolveBlockPath returns undefined) when the path goes into a flow collection
 *   that is nested (flat one-line ones such as `[a, "b"]` and `{k: v}` are indexed), or looks for
 *   a key in a mapping with a `<<` merge key.
 *
 * Key comparison is the same as the `yaml` re-parse's: the key's text, or for a plain key its
 * typed form (`on:` is the key "true"), via keyTextMatches.
 */
import { load } from "js-yaml";
import type { FieldPath } from "../engine/types.ts";
import { KUBERNETES_SCHEMA } from "./schema.ts";

/** 0-based line and column (UTF-16 code units) in a document's text. */
export interface BlockPosition {
  readonly line: number;
  readonly col: number;
}

/*
 * The index is a flat Int32Array of records (one allocation per document rather than objects per
 * key, which matters to the garbage collector when thousands of documents are located):
 *
 *   map:   [MAP, line, col, merge (0/1), first entry]
 *   entry: [key start, key end, key kind, line, col, value node, next entry]
 *   seq:   [SEQ, line, col, first item]
 *   item:  [node, next item]
 *   leaf:  [SCALAR | FLOW, line, col]
 *
 * Key kinds: PLAIN_KEY and QUOTED_KEY keys are text[start, end) (without quotes); a DECODED_KEY
 * (a quoted key with escapes) is decoded[start]. A FLOW leaf is a flow collection paths may not
 * enter; a SCALAR leaf is where paths stop.
 */
const MAP = 1;
const SEQ = 2;
const SCALAR = 3;
const FLOW = 4;
export const PLAIN_KEY = 0;
export const QUOTED_KEY = 1;
export const DECODED_KEY = 2;
/** No record (an absent link, or nothing recorded). */
export const NONE = -1;

/** The index of one document (its root mapping is the record at 0). */
export interface BlockIndex {
  readonly text: string;
  readonly data: Int32Array;
  readonly decoded: readonly string[];
}

/** Records of the document being indexed (reused between documents). */
let buf = new Int32Array(1 << 12);
let top = 0;

function reserve(size: number): number {
  const at = top;
  top += size;
  if (top > buf.length) {
    const bigger = new Int32Array(Math.max(buf.length * 2, top));
    bigger.set(buf.subarray(0, at));
    buf = bigger;
  }
  return at;
}

function leaf(kind: number, line: number, col: number): number {
  const at = reserve(3);
  buf[at] = kind;
  buf[at + 1] = line;
  buf[at + 2] = col;
  return at;
}

// ---------------------------------------------------------------------------------------------
// Recording: fast-yaml.ts calls these while it reads a document's values. One document at a
// time; every function below appends to the records of that document.

/** Decoded keys of the document being recorded. */
let recordedKeys: string[] = [];

/** Starts the records of a new document. */
export function recordStart(): void {
  top = 0;
  recordedKeys = [];
}

export function recordMap(line: number, col: number): number {
  const at = reserve(5);
  buf[at] = MAP;
  buf[at + 1] = line;
  buf[at + 2] = col;
  buf[at + 3] = 0;
  buf[at + 4] = NONE;
  return at;
}

/**
 * An entry of mapping `map` after entry `prev` (NONE for the first), its key `text[start, end)`
 * of `keyKind`, or for DECODED_KEY the key itself as `decodedKey`.
 */
export function recordEntry(
  map: number,
  prev: number,
  keyKind: number,
  start: number,
  end: number,
  decodedKey: string,
  line: number,
  col: number,
): number {
  const entry = reserve(7);
  if (keyKind === DECODED_KEY) start = end = recordedKeys.push(decodedKey) - 1;
  buf[entry] = start;
  buf[entry + 1] = end;
  buf[entry + 2] = keyKind;
  buf[entry + 3] = line;
  buf[entry + 4] = col;
  buf[entry + 5] = NONE;
  buf[entry + 6] = NONE;
  if (prev === NONE) buf[map + 4] = entry;
  else buf[prev + 6] = entry;
  return entry;
}

/** Marks mapping `map` as having a `<<` key (resolveYamlOffset merges on it). */
export function recordMerge(map: number): void {
  buf[map + 3] = 1;
}

export function recordEntryValue(entry: number, node: number): void {
  buf[entry + 5] = node;
}

export function recordSeq(line: number, col: number): number {
  const at = reserve(4);
  buf[at] = SEQ;
  buf[at + 1] = line;
  buf[at + 2] = col;
  buf[at + 3] = NONE;
  return at;
}

/** An item of sequence `seq` after item `prev` (NONE for the first); its node is set later. */
export function recordItem(seq: number, prev: number): number {
  const item = reserve(2);
  buf[item] = NONE;
  buf[item + 1] = NONE;
  if (prev === NONE) buf[seq + 3] = item;
  else buf[prev + 1] = item;
  return item;
}

export function recordItemNode(item: number, node: number): void {
  buf[item] = node;
}

/** A scalar (paths stop at it). */
export function recordScalar(line: number, col: number): number {
  return leaf(SCALAR, line, col);
}

/**
 * A flow collection on one line, `text[open..close]` with its brackets; `flat` when it holds no
 * nested collection. Flat ones are indexed item by item; others are a leaf
 * paths may not enter (they resolve with the `yaml` re-parse).
 */
export function recordFlow(
  text: string,
  open: number,
  close: number,
  line: number,
  lineStart: number,
  flat: boolean,
): number {
  const node = flat ? flatFlow(text, open, close, line, -lineStart, recordedKeys) : NONE;
  return node === NONE ? leaf(FLOW, line, open - lineStart) : node;
}

/** The index of the recorded document, when its root is a mapping (else undefined). */
export function recordFinish(text: string): BlockIndex | undefined {
  const index =
    top > 0 && buf[0] === MAP ? { text, data: buf.slice(0, top), decoded: recordedKeys } : undefined;
  recordAbandon();
  return index;
}

/** Drops the records of the current document. */
export function recordAbandon(): void {
  top = 0;
  recordedKeys = [];
  if (buf.length > 1 << 20) buf = new Int32Array(1 << 12);
}

// ---------------------------------------------------------------------------------------------
// Key comparison (shared with the slow path)

const typedCache = new Map<string, string | undefined>();
const TYPED_CACHE_LIMIT = 10_000;

/**
 * The key a plain scalar becomes after typing, as the fast path (js-yaml, YAML 1.1 scalars)
 * stores it: `on:` is the key "true", `0x1F:` is "31". Cached by source text.
 */
export function typedKey(source: string): string | undefined {
  if (typedCache.has(source)) return typedCache.get(source);
  let typed: string | undefined;
  try {
    const value = load(source, { schema: KUBERNETES_SCHEMA, maxDepth: 2, maxAliases: 0 });
    typed = typeof value === "object" && value !== null ? undefined : String(value);
  } catch {
    typed = undefined;
  }
  if (typedCache.size >= TYPED_CACHE_LIMIT) typedCache.clear();
  typedCache.set(source, typed);
  return typed;
}

/**
 * What String() gives for a value js-yaml can type a plain scalar as, other than a string:
 * a boolean, null, a number (`NaN`, `-Infinity`, `1e+21`), and `undefined` (`...` loads as
 * nothing). A plain key's typed form can only equal a wanted key of this shape, or the key's
 * own text.
 */
const TYPED_FORM = /^(?:true|false|null|undefined|NaN|-?Infinity|-?[0-9][0-9.e+-]*)$/;

/** Whether a key whose source text is `source` (plain or not) is the path key `wanted`. */
export function keyTextMatches(source: string, plain: boolean, wanted: string): boolean {
  if (source === wanted) return true;
  return plain && TYPED_FORM.test(wanted) && typedKey(source) === wanted;
}

// ---------------------------------------------------------------------------------------------
// Flat flow collections

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const PIPE = 0x7c;
const GREATER = 0x3e;
const QUESTION = 0x3f;

/** Characters that cannot start a plain scalar (or that the index leaves to the full parser). */
function isSpecialStart(c: number): boolean {
  switch (c) {
    case 0x26: // & anchor
    case 0x2a: // * alias
    case 0x21: // ! tag
    case PERCENT:
    case 0x40: // @
    case 0x60: // `
    case 0x2c: // ,
    case CLOSE_BRACKET:
    case CLOSE_BRACE:
    case PIPE:
    case GREATER:
    case HASH:
      return true;
    default:
      return false;
  }
}

const ESCAPES = new Map([
  ["0", "\0"],
  ["a", "\x07"],
  ["b", "\b"],
  ["e", "\x1b"],
  ["f", "\f"],
  ["n", "\n"],
  ["r", "\r"],
  ["t", "\t"],
  ["\t", "\t"],
  ["v", "\v"],
  ["N", "\u0085"],
  ["_", "\u00a0"],
  ["L", "\u2028"],
  ["P", "\u2029"],
  [" ", " "],
  ['"', '"'],
  ["/", "/"],
  ["\\", "\\"],
]);
const HEX_DIGITS: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };
const HEX = /^[0-9a-fA-F]+$/;

/** The text of a one-line double-quoted scalar without its quotes, escapes decoded; undefined if unsure. */
function decodeEscapes(raw: string): string | undefined {
  let out = "";
  let from = 0;
  for (;;) {
    const slash = raw.indexOf("\\", from);
    if (slash === -1) return out + raw.slice(from);
    out += raw.slice(from, slash);
    const escape = raw.charAt(slash + 1);
    const digits = HEX_DIGITS[escape];
    if (digits !== undefined) {
      const hex = raw.slice(slash + 2, slash + 2 + digits);
      if (hex.length !== digits || !HEX.test(hex)) return undefined;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      from = slash + 2 + digits;
    } else {
      const decoded = ESCAPES.get(escape);
      if (decoded === undefined) return undefined;
      out += decoded;
      from = slash + 2;
    }
  }
}

/** Offset of the quote closing the quoted scalar that opens at `open`, or -1 if not before `end`. */
function quoteEnd(text: string, open: number, end: number): number {
  const quote = text.charCodeAt(open);
  for (let i = open + 1; i < end; i++) {
    const c = text.charCodeAt(i);
    if (quote === DQUOTE && c === BACKSLASH) i++;
    else if (c === quote) {
      if (quote === QUOTE && text.charCodeAt(i + 1) === QUOTE) i++;
      else return i;
    }
  }
  return -1;
}

/** True for what ends a plain scalar's `:` as a value indicator in a flow collection. */
function endsFlowColon(c: number): boolean {
  return c === SPACE || c === 0x2c || c === CLOSE_BRACKET || c === CLOSE_BRACE || Number.isNaN(c);
}

/**
 * Records for the collection `text[open..close]` (brackets included, no nested collections, on
 * one line), or NONE (and nothing recorded) when it is not a plain list of scalars or of
 * `key: value` pairs. `shift` turns an offset into a column.
 */
function flatFlow(
  text: string,
  open: number,
  close: number,
  line: number,
  shift: number,
  decoded: string[],
): number {
  if (text.slice(open, close).includes("\t")) return NONE;
  const mark = top;
  const decodedMark = decoded.length;
  const fail = (): number => {
    top = mark;
    decoded.length = decodedMark;
    return NONE;
  };
  const isMap = text.charCodeAt(open) === OPEN_BRACE;
  const node = reserve(isMap ? 5 : 4);
  buf[node] = isMap ? MAP : SEQ;
  buf[node + 1] = line;
  buf[node + 2] = open + shift;
  if (isMap) buf[node + 3] = 0;
  buf[node + (isMap ? 4 : 3)] = NONE;
  let prev = NONE;
  const spaces = (from: number): number => {
    let i = from;
    while (i < close && text.charCodeAt(i) === SPACE) i++;
    return i;
  };
  let i = spaces(open + 1);
  while (i < close) {
    const start = i;
    const c = text.charCodeAt(i);
    let keyStart: number;
    let keyEnd: number;
    let keyKind: number;
    if (c === DQUOTE || c === QUOTE) {
      const end = quoteEnd(text, i, close);
      if (end === -1) return fail();
      keyStart = i + 1;
      keyEnd = end;
      keyKind = QUOTED_KEY;
      const raw = text.slice(keyStart, keyEnd);
      if (raw.includes(c === QUOTE ? "'" : "\\")) {
        const key = c === QUOTE ? raw.replaceAll("''", "'") : decodeEscapes(raw);
        if (key === undefined) return fail();
        keyKind = DECODED_KEY;
        keyStart = keyEnd = decoded.push(key) - 1;
      }
      i = end + 1;
    } else {
      if (c === 0x2c || isSpecialStart(c)) return fail(); // an empty entry, or an odd scalar
      if ((c === DASH || c === QUESTION || c === COLON) && endsFlowColon(text.charCodeAt(i + 1)))
        return fail();
      let end = i;
      while (end < close) {
        const ch = text.charCodeAt(end);
        if (ch === 0x2c || (ch === COLON && endsFlowColon(text.charCodeAt(end + 1)))) break;
        end++;
      }
      keyStart = i;
      keyEnd = end;
      while (keyEnd > i && text.charCodeAt(keyEnd - 1) === SPACE) keyEnd--;
      keyKind = PLAIN_KEY;
      i = end;
    }
    i = spaces(i);
    let record: number;
    if (i < close && text.charCodeAt(i) === COLON) {
      if (!isMap) return fail(); // a single-pair mapping in a sequence
      i = spaces(i + 1);
      const v = text.charCodeAt(i);
      if (v === DQUOTE || v === QUOTE) {
        const end = quoteEnd(text, i, close);
        if (end === -1) return fail();
        i = spaces(end + 1);
      } else if (i < close && v !== 0x2c) {
        if (isSpecialStart(v)) return fail();
        if ((v === DASH || v === QUESTION || v === COLON) && endsFlowColon(text.charCodeAt(i + 1)))
          return fail();
        while (i < close && text.charCodeAt(i) !== 0x2c) {
          if (text.charCodeAt(i) === COLON && endsFlowColon(text.charCodeAt(i + 1))) return fail();
          i++;
        }
      }
      record = reserve(7);
      buf[record] = keyStart;
      buf[record + 1] = keyEnd;
      buf[record + 2] = keyKind;
      buf[record + 3] = line;
      buf[record + 4] = start + shift;
      buf[record + 6] = NONE;
      buf[record + 5] = leaf(SCALAR, line, start + shift);
      const merge =
        keyKind === DECODED_KEY
          ? decoded[keyStart] === "<<"
          : keyEnd - keyStart === 2 && text.startsWith("<<", keyStart);
      if (merge) buf[node + 3] = 1;
      if (prev === NONE) buf[node + 4] = record;
      else buf[prev + 6] = record;
    } else {
      if (isMap) return fail(); // `{a}`: a key with no value
      record = reserve(2);
      buf[record + 1] = NONE;
      buf[record] = leaf(SCALAR, line, start + shift);
      if (prev === NONE) buf[node + 3] = record;
      else buf[prev + 1] = record;
    }
    prev = record;
    if (i < close) {
      if (text.charCodeAt(i) !== 0x2c) return fail();
      i = spaces(i + 1);
    }
  }
  return node;
}

/**
 * The position `path` resolves to in an indexed document (the same as resolveYamlOffset over
 * the `yaml` package's tree), or undefined when only the full parser can tell.
 */
export function resolveBlockPath(index: BlockIndex, path: FieldPath): BlockPosition | undefined {
  const { data, text, decoded } = index;
  const get = (at: number): number => data[at] ?? NONE;
  let node = 0;
  let line = get(1);
  let col = get(2);
  for (const key of path) {
    const kind = get(node);
    if (kind === MAP) {
      // A `<<` may override any key of its mapping, one before it included (merge-keys.ts).
      if (get(node + 3) === 1) return undefined;
      const wanted = String(key);
      const typed = TYPED_FORM.test(wanted);
      let entry = get(node + 4);
      for (; entry !== NONE; entry = get(entry + 6)) {
        const start = get(entry);
        const keyKind = get(entry + 2);
        if (keyKind === DECODED_KEY) {
          if (decoded[start] === wanted) break;
          continue;
        }
        const end = get(entry + 1);
        if (end - start === wanted.length && text.startsWith(wanted, start)) break;
        if (typed && keyKind === PLAIN_KEY && typedKey(text.slice(start, end)) === wanted) break;
      }
      if (entry === NONE) return { line, col };
      line = get(entry + 3);
      col = get(entry + 4);
      node = get(entry + 5);
    } else if (kind === SEQ) {
      const wanted = typeof key === "number" ? key : /^[0-9]+$/.test(key) ? Number(key) : -1;
      let item = wanted < 0 ? NONE : get(node + 3);
      for (let i = 0; i < wanted && item !== NONE; i++) item = get(item + 1);
      if (item === NONE) return { line, col };
      node = get(item);
      line = get(node + 1);
      col = get(node + 2);
    } else if (kind === FLOW) {
      return undefined;
    } else {
      return { line, col };
    }
  }
  return { line, col };
}
