/**
 * Fast source positions for block-style YAML, the form kubectl, helm and kustomize emit and
 * people write: one line-by-line scan of a document's text builds a small index of its mapping
 * keys and sequence items (no values), and field paths resolve against that index.
 *
 * It answers exactly what resolveYamlOffset in positions.ts answers over the `yaml` package's
 * tree (a mapping entry resolves to its key, a sequence item to the item's start, a missing
 * part to the deepest part that exists), or declines, and the caller re-parses with `yaml`:
 *
 * - for the whole document (indexBlockYaml returns undefined) when the scan meets anything it is
 *   not sure of: anchors, aliases, tags, directives, `?`/`:` explicit entries, tabs in
 *   indentation, quoted scalars spanning lines inside flow collections, unknown escapes in
 *   double-quoted keys, an item that starts on the line after its `-`, a root that is not a block
 *   mapping, or text that a YAML parser would reject (indentation that fits no open collection,
 *   `a: b: c`, ...);
 * - for one path (resolveBlockPath returns undefined) when the path goes into a flow collection
 *   that is nested or spans lines (flat one-line ones such as `[a, "b"]` and `{k: v}` are
 *   indexed), or looks for a key in a mapping with a `<<` merge key.
 *
 * Key comparison is the same as the slow path's: the key's text, or for a plain key its typed
 * form (`on:` is the key "true"), via keyTextMatches.
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
// Recording by another parser: fast-yaml.ts builds the same index while it reads a document's
// values, so documents it accepts need no second scan when their findings are located. One
// document at a time; every function below appends to the records of that document.

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
 * nested collection. Flat ones are indexed item by item as the scan does; others are a leaf
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
// Scanner

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const QUOTE = 0x27;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const PIPE = 0x7c;
const GREATER = 0x3e;
const QUESTION = 0x3f;

/** Thrown (one shared instance, so declining costs no stack trace) when the scan declines the document. */
const DECLINE = new Error("not plain block YAML");

function decline(): never {
  throw DECLINE;
}

/** Characters that cannot start a plain scalar (or that this scanner leaves to the full parser). */
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

class Scanner {
  readonly text: string;
  readonly length: number;
  /** The current line: its start offset, 0-based number, end (before `\r\n` or `\n`), next line's start. */
  start = 0;
  line = 0;
  end = 0;
  next = 0;
  /** After skipToContent: leading spaces of the current line. */
  indent = 0;
  /** After keyAt: the key (see the record layout), and the offset just past its `:`. */
  keyStart = 0;
  keyEnd = 0;
  keyKind = PLAIN_KEY;
  keyAfter = 0;
  /** Decoded quoted keys of the document. */
  readonly decoded: string[] = [];
  /** Where the key last pushed to `decoded` starts. */
  private decodedAt = -1;

  constructor(text: string) {
    this.text = text;
    this.length = text.length;
    this.setLine(0, 0);
  }

  setLine(start: number, line: number): void {
    this.start = start;
    this.line = line;
    if (start >= this.length) {
      this.end = this.length;
      this.next = this.length;
      return;
    }
    let newline = this.text.indexOf("\n", start);
    if (newline === -1) newline = this.length;
    this.next = newline < this.length ? newline + 1 : this.length;
    this.end = newline > start && this.text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
  }

  get atEnd(): boolean {
    return this.start >= this.length;
  }

  /** Moves to the next line; false when there is none. */
  advance(): boolean {
    this.setLine(this.next, this.line + 1);
    return this.start < this.length;
  }

  /** Leading spaces of the current line. */
  spaces(): number {
    let i = this.start;
    while (i < this.end && this.text.charCodeAt(i) === SPACE) i++;
    return i - this.start;
  }

  /** True when the current line is empty or only spaces and tabs. */
  isBlank(): boolean {
    for (let i = this.start; i < this.end; i++) {
      const c = this.text.charCodeAt(i);
      if (c !== SPACE && c !== TAB) return false;
    }
    return true;
  }

  /**
   * Moves to the next line with content (skipping blank and comment lines), setting `indent`.
   * False at the end of the document (or a `...` line).
   */
  skipToContent(): boolean {
    const text = this.text;
    for (; !this.atEnd; this.advance()) {
      let i = this.start;
      while (i < this.end && text.charCodeAt(i) === SPACE) i++;
      const indent = i - this.start;
      let j = i;
      while (j < this.end && (text.charCodeAt(j) === SPACE || text.charCodeAt(j) === TAB)) j++;
      if (j === this.end) continue;
      const c = text.charCodeAt(j);
      if (c === HASH) continue;
      if (j !== i) decline(); // a tab in the indentation
      if (indent === 0 && (c === DOT || c === DASH) && this.isMarker(c)) {
        if (c === DOT) return false;
        decline(); // `---` after the start: cannot happen in a document cut by splitYamlDocuments
      }
      this.indent = indent;
      return true;
    }
    return false;
  }

  /** `---` or `...` at the start of the current line, followed by a blank or the line end. */
  isMarker(c: number): boolean {
    const text = this.text;
    const at = this.start;
    if (text.charCodeAt(at + 1) !== c || text.charCodeAt(at + 2) !== c) return false;
    if (at + 3 >= this.end) return true;
    const after = text.charCodeAt(at + 3);
    return after === SPACE || after === TAB;
  }

  /** True when `at` holds `-`, `?` or `:` followed by a blank or the line end (an indicator, not a scalar). */
  isIndicator(at: number, c: number): boolean {
    if (this.text.charCodeAt(at) !== c) return false;
    if (at + 1 >= this.end) return true;
    const after = this.text.charCodeAt(at + 1);
    return after === SPACE || after === TAB;
  }

  /** Skips spaces from `at`; a tab there declines. */
  skipSpaces(at: number): number {
    let i = at;
    while (i < this.end && this.text.charCodeAt(i) === SPACE) i++;
    if (i < this.end && this.text.charCodeAt(i) === TAB) decline();
    return i;
  }

  /** True when only blanks and a comment follow `at` on the current line. */
  restIsEmpty(at: number): boolean {
    const i = this.skipSpaces(at);
    if (i === this.end) return true;
    return this.text.charCodeAt(i) === HASH && i > at;
  }

  /** Whether `at` on the current line starts a mapping key; if so, sets keyStart, keyEnd, keyKind, keyAfter. */
  keyAt(at: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(at);
    if (c === DQUOTE || c === QUOTE) {
      let close = at + 1;
      let escaped = false;
      for (;;) {
        if (close >= this.end) return false; // multi-line: a scalar, not a key
        const ch = text.charCodeAt(close);
        if (c === DQUOTE && ch === BACKSLASH) {
          escaped = true;
          close += 2;
          continue;
        }
        if (ch === c) {
          if (c === QUOTE && text.charCodeAt(close + 1) === QUOTE) {
            escaped = true;
            close += 2;
            continue;
          }
          break;
        }
        close++;
      }
      const colon = this.skipSpaces(close + 1);
      if (colon >= this.end || text.charCodeAt(colon) !== COLON) return false;
      const after = colon + 1;
      if (after < this.end && text.charCodeAt(after) !== SPACE) decline(); // `"a":b`, `"a":\t`
      this.keyAfter = after;
      if (escaped) {
        // The first key of a mapping is looked at twice (is it a key? then parseMap): decode it once.
        if (this.decodedAt !== at) {
          const raw = text.slice(at + 1, close);
          const key = c === QUOTE ? raw.replaceAll("''", "'") : decodeEscapes(raw);
          if (key === undefined) decline();
          this.decoded.push(key);
          this.decodedAt = at;
        }
        this.keyKind = DECODED_KEY;
        this.keyStart = this.decoded.length - 1;
        this.keyEnd = this.keyStart;
      } else {
        this.keyKind = QUOTED_KEY;
        this.keyStart = at + 1;
        this.keyEnd = close;
      }
      return true;
    }
    if (isSpecialStart(c) || c === OPEN_BRACKET || c === OPEN_BRACE) return false;
    if (c === QUESTION || c === COLON || c === DASH) {
      if (this.isIndicator(at, c)) return false;
      if (c !== DASH) decline(); // `?x` / `:x` plain scalars: rare, leave to the parser
    }
    for (let i = at; i < this.end; i++) {
      const ch = text.charCodeAt(i);
      if (ch === COLON) {
        if (i + 1 === this.end || text.charCodeAt(i + 1) === SPACE) {
          let keyEnd = i;
          while (keyEnd > at && text.charCodeAt(keyEnd - 1) === SPACE) keyEnd--;
          if (text.charCodeAt(keyEnd - 1) === TAB) decline(); // trailing tabs: leave trimming to the parser
          this.keyKind = PLAIN_KEY;
          this.keyStart = at;
          this.keyEnd = keyEnd;
          this.keyAfter = i + 1;
          return true;
        }
        if (text.charCodeAt(i + 1) === TAB) decline();
      } else if (ch === HASH && i > at) {
        const before = text.charCodeAt(i - 1);
        if (before === SPACE || before === TAB) return false; // a comment: no key on this line
      }
    }
    return false;
  }

  /** Whether the key keyAt found is `<<` (resolveYamlOffset merges on a quoted "<<" too). */
  isMergeKey(): boolean {
    if (this.keyKind === DECODED_KEY) return this.decoded[this.keyStart] === "<<";
    return this.keyEnd - this.keyStart === 2 && this.text.startsWith("<<", this.keyStart);
  }

  /** Declines when a plain scalar's text from `at` to its comment holds `: ` or ends with `:`. */
  checkPlainRest(at: number): void {
    const text = this.text;
    for (let i = at; i < this.end; i++) {
      const ch = text.charCodeAt(i);
      if (ch === COLON) {
        const after = i + 1 === this.end ? SPACE : text.charCodeAt(i + 1);
        if (after === SPACE || after === TAB) decline();
      } else if (ch === HASH && i > at) {
        const before = text.charCodeAt(i - 1);
        if (before === SPACE || before === TAB) return;
      }
    }
  }

  /**
   * Moves past the continuation lines of a plain scalar whose first line is the current line,
   * in a collection indented `parent`. Leaves the scanner on the first line not consumed.
   */
  skipPlainContinuation(parent: number): void {
    let comment = false;
    for (this.advance(); !this.atEnd; this.advance()) {
      if (this.isBlank()) continue;
      const indent = this.spaces();
      if (indent <= parent) return;
      const first = this.start + indent;
      const c = this.text.charCodeAt(first);
      if (c === HASH) {
        comment = true;
        continue;
      }
      // A tab, content after a comment (invalid), or a line that starts like an indicator.
      if (comment || c === TAB || isSpecialStart(c) || c === DQUOTE || c === QUOTE) decline();
      if (c === OPEN_BRACKET || c === OPEN_BRACE || c === DASH || c === QUESTION || c === COLON) decline();
      this.checkPlainRest(first);
    }
  }

  /** Moves past a quoted scalar opening at `at` on the current line; leaves the scanner on the line after it. */
  skipQuoted(at: number, parent: number): void {
    const text = this.text;
    const quote = text.charCodeAt(at);
    let i = at + 1;
    for (;;) {
      if (i >= this.end) {
        // Continues on the next line, which must be blank or indented more than the collection.
        this.advance();
        if (this.atEnd) decline();
        if (!this.isBlank()) {
          const indent = this.spaces();
          if (indent <= parent || text.charCodeAt(this.start + indent) === TAB) decline();
        }
        i = this.start;
        continue;
      }
      const c = text.charCodeAt(i);
      if (quote === DQUOTE && c === BACKSLASH) {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (quote === QUOTE && text.charCodeAt(i + 1) === QUOTE) {
          i += 2;
          continue;
        }
        break;
      }
      i++;
    }
    if (!this.restIsEmpty(i + 1)) decline(); // `"a": b` on a value's line, or text after the quote
    this.advance();
  }

  /**
   * Moves past a block scalar whose header (`|`, `>`, with indicators) is at `at` on the current
   * line, in a collection indented `parent`; leaves the scanner on the first line after it.
   */
  skipBlockScalar(at: number, parent: number): void {
    const text = this.text;
    let i = at + 1;
    let explicit = false;
    for (let k = 0; k < 2 && i < this.end; k++) {
      const c = text.charCodeAt(i);
      if (c === 0x2b || c === DASH) i++;
      else if (c >= 0x31 && c <= 0x39 && !explicit) {
        explicit = true;
        i++;
      } else break;
    }
    if (i < this.end && text.charCodeAt(i) !== SPACE) decline();
    if (!this.restIsEmpty(i)) decline();
    let contentIndent = -1;
    for (this.advance(); !this.atEnd; this.advance()) {
      const indent = this.spaces();
      if (this.start + indent === this.end) continue; // empty (only spaces)
      if (indent <= parent) {
        if (this.isBlank()) continue; // spaces and tabs only: content or blank, either way inside
        return;
      }
      if (!explicit) {
        if (contentIndent === -1) contentIndent = indent;
        else if (indent < contentIndent && !this.isBlank()) decline(); // ends the scalar: invalid
      }
    }
  }

  /**
   * A flow collection at `at` that must close on the current line; moves past it. A flat one of
   * scalars (`[Ingress, Egress]`, `["sh", "-c"]`, `{app: web}`, `{}`) is indexed like a block
   * collection, anything else is a "flow" leaf that paths may not enter.
   */
  parseFlow(at: number, parent: number): number {
    const text = this.text;
    const line = this.line;
    const col = at - this.start;
    let depth = 0;
    let nested = false;
    let multiLine = false;
    let tokenStart = true;
    let i = at;
    for (;;) {
      if (i >= this.end) {
        // The collection goes on below, indented more than the block collection it sits in.
        multiLine = true;
        if (!this.advance()) decline();
        if (!this.isBlank()) {
          const indent = this.spaces();
          if (indent <= parent || text.charCodeAt(this.start + indent) === TAB) decline();
        }
        i = this.start;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === OPEN_BRACKET || c === OPEN_BRACE) {
        if (++depth > 1) nested = true;
        tokenStart = true;
      } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
        if (--depth === 0) break;
        tokenStart = false;
      } else if (c === 0x2c || c === COLON) {
        tokenStart = true;
      } else if (c === SPACE || c === TAB) {
        // keeps tokenStart
      } else if (c === HASH) {
        const before = i === this.start ? SPACE : text.charCodeAt(i - 1);
        if (before === SPACE || before === TAB) {
          i = this.end; // a comment: the collection goes on below
          continue;
        }
        tokenStart = false;
      } else if (tokenStart && (c === DQUOTE || c === QUOTE)) {
        i = quoteEnd(text, i, this.end);
        if (i === -1) decline(); // a multi-line quoted scalar
        tokenStart = false;
      } else if (tokenStart && (isFlowSpecial(c) || c === QUESTION)) {
        decline(); // anchors, aliases, tags, explicit keys
      } else {
        tokenStart = false;
      }
      i++;
    }
    if (!this.restIsEmpty(i + 1)) decline();
    const node = nested || multiLine ? NONE : flatFlow(text, at, i, line, -this.start, this.decoded);
    this.advance();
    return node === NONE ? leaf(FLOW, line, col) : node;
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

/** Anchors, aliases and tags inside a flow collection. */
function isFlowSpecial(c: number): boolean {
  return c === 0x26 || c === 0x2a || c === 0x21;
}

/** The mapping whose first key is at `keyAt` on the current line; its indent is that key's column. */
function parseMap(s: Scanner, keyAt: number): number {
  const col = keyAt - s.start;
  const node = reserve(5);
  buf[node] = MAP;
  buf[node + 1] = s.line;
  buf[node + 2] = col;
  buf[node + 3] = 0;
  buf[node + 4] = NONE;
  let prev = NONE;
  let at = keyAt;
  for (;;) {
    if (!s.keyAt(at)) decline();
    const entry = reserve(7);
    buf[entry] = s.keyStart;
    buf[entry + 1] = s.keyEnd;
    buf[entry + 2] = s.keyKind;
    buf[entry + 3] = s.line;
    buf[entry + 4] = col;
    buf[entry + 6] = NONE;
    if (s.isMergeKey()) buf[node + 3] = 1;
    if (prev === NONE) buf[node + 4] = entry;
    else buf[prev + 6] = entry;
    prev = entry;
    const value = parseValue(s, s.keyAfter, col);
    buf[entry + 5] = value; // `buf` may have grown: index it only after parseValue
    if (!s.skipToContent() || s.indent < col) return node;
    if (s.indent > col || s.isIndicator(s.start + col, DASH)) decline();
    at = s.start + col;
  }
}

/** The sequence whose first `-` is at `dashAt` on the current line; its indent is that column. */
function parseSeq(s: Scanner, dashAt: number): number {
  const col = dashAt - s.start;
  const node = reserve(4);
  buf[node] = SEQ;
  buf[node + 1] = s.line;
  buf[node + 2] = col;
  buf[node + 3] = NONE;
  let prev = NONE;
  let at = dashAt;
  for (;;) {
    const content = s.skipSpaces(at + 1);
    if (content === s.end || s.text.charCodeAt(content) === HASH) decline(); // item on the next line
    const item = reserve(2);
    buf[item + 1] = NONE;
    if (prev === NONE) buf[node + 3] = item;
    else buf[prev + 1] = item;
    prev = item;
    const value = parseItem(s, content, col);
    buf[item] = value;
    if (!s.skipToContent() || s.indent < col) return node;
    if (s.indent > col) decline();
    if (!s.isIndicator(s.start + col, DASH)) {
      return node; // a same-indent sequence ends at its mapping's next key
    }
    at = s.start + col;
  }
}

/** A node starting at `at` on the current line, in a collection indented `parent` (not a compact one). */
function parseScalarOrFlow(s: Scanner, at: number, parent: number): number {
  const text = s.text;
  const c = text.charCodeAt(at);
  const line = s.line;
  const col = at - s.start;
  if (c === DQUOTE || c === QUOTE) {
    s.skipQuoted(at, parent);
  } else if (c === PIPE || c === GREATER) {
    s.skipBlockScalar(at, parent);
  } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
    return s.parseFlow(at, parent);
  } else {
    if (isSpecialStart(c)) decline();
    if ((c === DASH || c === QUESTION || c === COLON) && s.isIndicator(at, c)) decline();
    s.checkPlainRest(at);
    s.skipPlainContinuation(parent);
  }
  return leaf(SCALAR, line, col);
}

/** The item of a sequence indented `parent` whose content starts at `at` on the dash's line. */
function parseItem(s: Scanner, at: number, parent: number): number {
  if (s.isIndicator(at, DASH)) return parseSeq(s, at);
  const c = s.text.charCodeAt(at);
  if (c !== PIPE && c !== GREATER && !isSpecialStart(c) && s.keyAt(at)) return parseMap(s, at);
  return parseScalarOrFlow(s, at, parent);
}

/** The value after a key's `:` at `after`, in a mapping indented `parent`. */
function parseValue(s: Scanner, after: number, parent: number): number {
  const at = s.skipSpaces(after);
  // keyAt saw a space or the line end after the `:`, so a `#` here starts a comment.
  if (at < s.end && s.text.charCodeAt(at) !== HASH) return parseScalarOrFlow(s, at, parent);
  // Nothing on the key's line: the value is on the lines below, or null.
  const line = s.line;
  s.advance();
  if (!s.skipToContent() || s.indent < parent) return leaf(SCALAR, line, -1);
  const first = s.start + s.indent;
  if (s.indent === parent) {
    // kubectl's style: a sequence at the same indent as its key.
    return s.isIndicator(first, DASH) ? parseSeq(s, first) : leaf(SCALAR, line, -1);
  }
  if (s.isIndicator(first, DASH)) return parseSeq(s, first);
  const c = s.text.charCodeAt(first);
  if (c !== PIPE && c !== GREATER && !isSpecialStart(c) && s.keyAt(first)) return parseMap(s, first);
  return parseScalarOrFlow(s, first, parent);
}

/**
 * The index of a document's text (as cut by splitYamlDocuments), or undefined when the document
 * is not plain block YAML with a mapping at its root (see the module comment).
 */
export function indexBlockYaml(text: string): BlockIndex | undefined {
  if (text.includes("\uFEFF")) return undefined;
  const s = new Scanner(text);
  top = 0;
  try {
    // Before the content: blank lines, comments, one `---` line (with at most a comment after it).
    for (; !s.atEnd; s.advance()) {
      if (s.isBlank()) continue;
      const c = text.charCodeAt(s.start);
      if (c === PERCENT) return undefined;
      if (c === DASH && s.isMarker(DASH)) {
        if (!s.restIsEmpty(s.start + 3)) return undefined;
        continue;
      }
      break;
    }
    if (!s.skipToContent()) return undefined;
    const first = s.start + s.indent;
    const c = text.charCodeAt(first);
    if (s.isIndicator(first, DASH) || isSpecialStart(c) || c === PIPE || c === GREATER) return undefined;
    if (!s.keyAt(first)) return undefined;
    parseMap(s, first); // the root: record 0
    if (!s.atEnd && s.skipToContent()) return undefined;
    return { text, data: buf.slice(0, top), decoded: s.decoded };
  } catch (error) {
    if (error === DECLINE) return undefined;
    throw error;
  } finally {
    top = 0;
    if (buf.length > 1 << 20) buf = new Int32Array(1 << 12); // do not keep a huge document's buffer
  }
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
