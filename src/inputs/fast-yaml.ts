/**
 * A fast path for the YAML that manifests are made of: block mappings and sequences, plain and
 * quoted one-line scalars, literal and folded block scalars, one-line flow collections, comments.
 * It reads one document (as cut by splitYamlDocuments) into plain values in one pass over its
 * characters, and DECLINES (returns {@link DECLINED}) as soon as it meets anything else: anchors,
 * aliases, tags, directives, merge keys, explicit `?` keys, multi-line plain or quoted scalars,
 * multi-line flow collections, tabs, carriage returns outside CRLF line breaks, duplicate keys, block scalars with an
 * indentation indicator, anything malformed. The caller then parses the document with js-yaml,
 * which gives the values (or the error) as before.
 *
 * The contract is exact agreement with js-yaml under {@link KUBERNETES_SCHEMA} for every
 * document it accepts: scalars are typed by that schema's own implicit resolution (YAML 1.1 as
 * go-yaml v2 reads it), mapping keys become strings the way js-yaml makes them. A differential
 * test holds it to that on the conformance fixtures, the benchmark corpus and mutated documents.
 *
 * Why it exists: js-yaml builds an event stream and then the values; for this subset one pass
 * does both several times faster (see docs/benchmarks.md), and the subset is nearly all of what
 * `helm template`, kustomize and hand-written manifests contain.
 */
import { mergeTag } from "js-yaml";
import {
  DECODED_KEY,
  NONE,
  PLAIN_KEY,
  QUOTED_KEY,
  recordAbandon,
  recordEntry,
  recordEntryValue,
  recordFinish,
  recordFlow,
  recordItem,
  recordItemNode,
  recordMap,
  recordMerge,
  recordScalar,
  recordSeq,
  recordStart,
  type BlockIndex,
} from "./positions-index.ts";
import { KUBERNETES_SCHEMA } from "./schema.ts";

/** Returned when the text is outside the fast path's subset (not necessarily invalid YAML). */
export const DECLINED: unique symbol = Symbol("declined");

class Decline extends Error {}
const DECLINE = new Decline("outside the fast path");

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const COMMA = 0x2c;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const BACKSLASH = 0x5c;
const BRACKET_OPEN = 0x5b;
const BRACKET_CLOSE = 0x5d;
const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;
const PIPE = 0x7c;
const GREATER = 0x3e;

/** First characters a plain scalar (or key) cannot start with here: indicators js-yaml treats specially. */
function isIndicatorStart(c: number): boolean {
  switch (c) {
    case 0x26: // &
    case 0x2a: // *
    case 0x21: // !
    case 0x25: // %
    case 0x40: // @
    case 0x60: // `
    case 0x3f: // ?
    case 0x3c: // < (merge key "<<")
    case COMMA:
    case BRACKET_CLOSE:
    case BRACE_CLOSE:
    case HASH:
    case PIPE:
    case GREATER:
    case QUOTE:
    case APOSTROPHE:
    case BRACKET_OPEN:
    case BRACE_OPEN:
      return true;
    default:
      return false;
  }
}

/** Plain scalars resolved before; most manifests repeat the same few hundred. */
const scalarCache = new Map<string, unknown>();
const SCALAR_CACHE_LIMIT = 50_000;

function resolvePlain(source: string): unknown {
  const first = source.charCodeAt(0);
  // Letters that start no YAML 1.1 null, boolean or number (n/N null, y/Y yes, t/T true,
  // f/F false, o/O on/off, n/N no) are strings; so is anything longer than a number can be.
  if (
    (first >= 0x61 &&
      first <= 0x7a &&
      first !== 0x6e &&
      first !== 0x79 &&
      first !== 0x74 &&
      first !== 0x66 &&
      first !== 0x6f) ||
    (first >= 0x41 &&
      first <= 0x5a &&
      first !== 0x4e &&
      first !== 0x59 &&
      first !== 0x54 &&
      first !== 0x46 &&
      first !== 0x4f)
  )
    return source;
  // Every YAML 1.1 null and boolean word is at most 5 letters long ("false"); numbers start with
  // no letter.
  if (source.length > 5 && ((first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a)))
    return source;
  const cached = scalarCache.get(source);
  if (cached !== undefined || scalarCache.has(source)) return cached;
  const { value, tag } = KUBERNETES_SCHEMA.resolveImplicitScalarTag(source);
  if (tag === mergeTag) throw DECLINE;
  if (scalarCache.size >= SCALAR_CACHE_LIMIT) scalarCache.clear();
  scalarCache.set(source, value);
  return value;
}

/** A mapping key from a plain scalar: js-yaml resolves it, then uses its string form. */
function plainKey(source: string): string {
  const value = resolvePlain(source);
  return typeof value === "string" ? value : String(value);
}

/*
 * Plain keys seen before, by a hash of their text: manifests repeat a few hundred keys
 * (`name`, `image`, `resources`) thousands of times. Finding the key here costs a hash and a
 * comparison over the text; slicing a new string costs an allocation and, when it is stored as
 * a property name, a lookup in the engine's string table.
 */
const KEY_SLOTS = 4096;
const keySources: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);
const keyValues: string[] = new Array<string>(KEY_SLOTS).fill("");

/** The hash of text[start, end) that {@link plainKeyHashed} takes. */
function keyHash(text: string, start: number, end: number): number {
  let hash = 0;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/** plainKey of text[start, end), whose {@link keyHash} is `hash`, through the table above. */
function plainKeyHashed(text: string, start: number, end: number, hash: number): string {
  const slot = (hash ^ (hash >>> 12)) & (KEY_SLOTS - 1);
  const source = keySources[slot];
  if (source !== undefined && source.length === end - start && text.startsWith(source, start))
    return keyValues[slot] as string;
  const fresh = text.slice(start, end);
  const key = plainKey(fresh);
  keySources[slot] = fresh;
  keyValues[slot] = key;
  return key;
}

/**
 * Characters the fast path leaves to js-yaml: tabs (indentation rules it does not model), the
 * control characters YAML forbids (js-yaml reports them) and surrogates (js-yaml checks their
 * pairing). A carriage return is read only as part of a CRLF line break.
 */
// eslint-disable-next-line no-control-regex -- these control characters are exactly what it looks for
const UNSUPPORTED_CHARACTERS = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]/;
/** The same and carriage returns: one scan of the text for what is nearly every document (LF line ends). */
// eslint-disable-next-line no-control-regex -- as above
const UNSUPPORTED_OR_CARRIAGE_RETURN = /[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]/;

/** Whether the text holds a character the fast path leaves to js-yaml (see above). */
function hasUnsupportedCharacters(text: string): boolean {
  if (!UNSUPPORTED_OR_CARRIAGE_RETURN.test(text)) return false;
  if (UNSUPPORTED_CHARACTERS.test(text)) return true;
  // Carriage returns only: each must start a CRLF line break (a lone one is a line break to YAML).
  for (let i = text.indexOf("\r"); i !== -1; i = text.indexOf("\r", i + 1))
    if (text.charCodeAt(i + 1) !== LINE_FEED) return true;
  return false;
}

class FastParser {
  private readonly text: string;
  private readonly length: number;
  private readonly maxDepth: number;
  private depth = 0;
  /** 0-based number of the current line. */
  private line = 0;
  /** The positions-index record (positions-index.ts) of the node parsed last. */
  private node = NONE;
  /** False once the document holds a form the positions index does not model. */
  indexable = true;
  /** Set when a flow collection holds another one (those are not indexed item by item). */
  private flowNested = false;
  /**
   * The current line: its start, end (index of its "\r\n" or "\n", or the text's length),
   * indentation; where the next line starts.
   */
  private lineStart = 0;
  private lineEnd = 0;
  private nextStart = 0;
  private indent = 0;
  /** lineStart + indent: the first character that is not a space. */
  private contentStart = 0;
  private eof = false;
  /** Past the document's own leading `---` (if any): any marker line from here on is declined. */
  private started = false;

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.length = text.length;
    this.maxDepth = maxDepth;
    this.setLine(0);
  }

  private setLine(start: number): void {
    if (start >= this.length) {
      this.eof = true;
      this.lineStart = this.lineEnd = this.contentStart = this.length;
      this.indent = 0;
      return;
    }
    const text = this.text;
    let end = text.indexOf("\n", start);
    if (end === -1) end = this.length;
    this.nextStart = end + 1;
    if (end > start && text.charCodeAt(end - 1) === CARRIAGE_RETURN) end--;
    let i = start;
    while (i < end && text.charCodeAt(i) === SPACE) i++;
    this.lineStart = start;
    this.lineEnd = end;
    this.indent = i - start;
    this.contentStart = i;
    // A document marker inside the text (the splitter cuts there; a caller that did not is declined).
    if (this.started && i === start && this.isMarkerLine()) throw DECLINE;
  }

  /** True when the current line is a `---` or `...` marker (at column 0, then a space or nothing). */
  private isMarkerLine(): boolean {
    const text = this.text;
    const start = this.lineStart;
    const c = text.charCodeAt(start);
    return (
      (c === DASH || c === DOT) &&
      text.charCodeAt(start + 1) === c &&
      text.charCodeAt(start + 2) === c &&
      (start + 3 >= this.lineEnd || text.charCodeAt(start + 3) === SPACE)
    );
  }

  private nextLine(): void {
    this.line++;
    this.setLine(this.nextStart);
  }

  /** Moves to the next line with content (not blank, not only a comment). */
  private skipEmpty(): void {
    const text = this.text;
    while (!this.eof) {
      if (this.contentStart >= this.lineEnd) {
        this.nextLine();
        continue;
      }
      const c = text.charCodeAt(this.contentStart);
      if (c === HASH) {
        this.nextLine();
        continue;
      }
      if (c === TAB) throw DECLINE;
      return;
    }
  }

  /** The value of the whole document. */
  document(): unknown {
    const text = this.text;
    if (hasUnsupportedCharacters(text)) throw DECLINE;
    this.skipEmpty();
    if (this.eof) throw DECLINE; // empty documents: js-yaml knows whether it is null or nothing
    if (this.indent === 0 && text.charCodeAt(this.lineStart) === DASH && this.isMarkerLine()) {
      // The start marker, with nothing else on its line.
      let i = this.lineStart + 3;
      while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
      if (i < this.lineEnd) throw DECLINE;
      this.started = true;
      this.nextLine();
      this.skipEmpty();
      if (this.atEnd()) throw DECLINE;
    } else if (this.indent === 0 && this.isMarkerLine()) {
      throw DECLINE; // "..." before any content
    }
    this.started = true;
    if (text.charCodeAt(this.lineStart) === 0x25 /* % */) throw DECLINE;
    recordStart();
    const value = this.blockNode(this.contentStart, this.indent, -1);
    this.skipEmpty();
    if (!this.atEnd()) throw DECLINE;
    return value;
  }

  /** Whether the text is used up (a method: the compiler must not assume the field unchanged). */
  private atEnd(): boolean {
    return this.eof;
  }

  /** A block node whose first character is at `pos` (column `column`) on the current line. */
  private blockNode(pos: number, column: number, parentIndent: number): unknown {
    if (++this.depth > this.maxDepth) throw DECLINE;
    const text = this.text;
    const c = text.charCodeAt(pos);
    let value: unknown;
    if (c === DASH && this.isSeparated(pos + 1)) {
      value = this.sequence(pos, column);
    } else if (c === PIPE || c === GREATER) {
      if (parentIndent < 0) throw DECLINE; // a document that is one block scalar: rare, left to js-yaml
      value = this.blockScalar(pos, parentIndent);
    } else if (c === BRACKET_OPEN || c === BRACE_OPEN) {
      value = this.flowOnLine(pos, parentIndent);
    } else if (c === QUOTE || c === APOSTROPHE) {
      const end = this.quotedEnd(pos);
      if (this.colonAfter(end) !== -1) value = this.mapping(pos, column);
      else value = this.scalarOnLine(pos, parentIndent);
    } else if (this.keyColon(pos) !== -1) {
      value = this.mapping(pos, column);
    } else {
      value = this.scalarOnLine(pos, parentIndent);
    }
    this.depth--;
    return value;
  }

  /** True when the character at `i` is a space or the end of the line. */
  private isSeparated(i: number): boolean {
    return i >= this.lineEnd || this.text.charCodeAt(i) === SPACE;
  }

  /**
   * The index of the colon that makes the plain text at `pos` a mapping key (a colon followed
   * by a space or the end of the line, before any comment), or -1.
   */
  private keyColon(pos: number): number {
    const text = this.text;
    const end = this.lineEnd;
    for (let i = pos; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === COLON) {
        if (i + 1 >= end || text.charCodeAt(i + 1) === SPACE) return i;
      } else if (c === HASH && i > pos && text.charCodeAt(i - 1) === SPACE) {
        return -1;
      }
    }
    return -1;
  }

  /** After a quoted key ending at `end` (just past the quote): the index of its colon, or -1. */
  private colonAfter(end: number): number {
    const text = this.text;
    let i = end;
    while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
    if (i < this.lineEnd && text.charCodeAt(i) === COLON && this.isSeparated(i + 1)) return i;
    return -1;
  }

  /** Index just past the closing quote of the quoted scalar at `pos`, on this line (else decline). */
  private quotedEnd(pos: number): number {
    const text = this.text;
    const quote = text.charCodeAt(pos);
    const end = this.lineEnd;
    for (let i = pos + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote === APOSTROPHE) {
        if (c === APOSTROPHE) {
          if (i + 1 < end && text.charCodeAt(i + 1) === APOSTROPHE) i++;
          else return i + 1;
        }
      } else if (c === BACKSLASH) {
        i++;
      } else if (c === QUOTE) {
        return i + 1;
      }
    }
    throw DECLINE; // multi-line quoted scalars are left to js-yaml
  }

  /** The string value of the quoted scalar spanning [pos, end). */
  private quotedValue(pos: number, end: number): string {
    const text = this.text;
    const inner = text.slice(pos + 1, end - 1);
    if (text.charCodeAt(pos) === APOSTROPHE) return inner.includes("'") ? inner.replaceAll("''", "'") : inner;
    if (!inner.includes("\\")) return inner;
    // JSON's escapes are a subset of YAML's with the same meaning; others go to js-yaml.
    for (let i = inner.indexOf("\\"); i !== -1; i = inner.indexOf("\\", i + 2)) {
      const next = inner.charAt(i + 1);
      if (!'"\\/bfnrtu'.includes(next) || next === "") throw DECLINE;
    }
    try {
      return JSON.parse(`"${inner}"`) as string;
    } catch {
      throw DECLINE;
    }
  }

  /** Skips spaces from `i`; declines unless the rest of the line is empty or a comment. */
  private endOfLine(i: number): void {
    const text = this.text;
    while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
    if (i < this.lineEnd && text.charCodeAt(i) !== HASH) throw DECLINE;
    if (i < this.lineEnd && text.charCodeAt(i - 1) !== SPACE) throw DECLINE;
  }

  /** After a one-line node: moves on and declines if more-indented lines follow (a continuation). */
  private afterOneLine(parentIndent: number): void {
    this.nextLine();
    this.skipEmpty();
    if (!this.eof && this.indent > parentIndent) throw DECLINE;
  }

  /** A quoted or plain scalar that is all of its node, starting at `pos`. */
  private scalarOnLine(pos: number, parentIndent: number): unknown {
    if (parentIndent < 0) throw DECLINE; // a document that is one scalar is no manifest: left to js-yaml
    const text = this.text;
    const c = text.charCodeAt(pos);
    const node = recordScalar(this.line, pos - this.lineStart);
    let value: unknown;
    if (c === QUOTE || c === APOSTROPHE) {
      const end = this.quotedEnd(pos);
      this.endOfLine(end);
      value = this.quotedValue(pos, end);
    } else {
      value = resolvePlain(this.plainOnLine(pos));
    }
    this.afterOneLine(parentIndent);
    this.node = node;
    return value;
  }

  /** The text of a plain scalar from `pos` to the end of the line or a comment, trimmed. */
  private plainOnLine(pos: number): string {
    const text = this.text;
    const first = text.charCodeAt(pos);
    if (isIndicatorStart(first)) throw DECLINE;
    if ((first === DASH || first === COLON) && this.isSeparated(pos + 1)) throw DECLINE;
    let end = this.lineEnd;
    for (let i = pos + 1; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === HASH && text.charCodeAt(i - 1) === SPACE) {
        end = i;
        break;
      }
      // ": " inside a value is a nested mapping on one line: an error js-yaml should report.
      if (c === COLON && (i + 1 >= this.lineEnd || text.charCodeAt(i + 1) === SPACE)) throw DECLINE;
    }
    while (end > pos && text.charCodeAt(end - 1) === SPACE) end--;
    return text.slice(pos, end);
  }

  private mapping(pos: number, column: number): Record<string, unknown> {
    const text = this.text;
    const result: Record<string, unknown> = {};
    const map = recordMap(this.line, column);
    let entry = NONE;
    for (;;) {
      // A key at `pos`: quoted, or plain up to its colon.
      let key: string;
      let colon: number;
      const c = text.charCodeAt(pos);
      if (c === QUOTE || c === APOSTROPHE) {
        const end = this.quotedEnd(pos);
        colon = this.colonAfter(end);
        if (colon === -1) throw DECLINE;
        key = this.quotedValue(pos, end);
        // Escapes (`\n`, `''`) make the value shorter than the text between the quotes.
        const kind = key.length === end - pos - 2 ? QUOTED_KEY : DECODED_KEY;
        entry = recordEntry(map, entry, kind, pos + 1, end - 1, key, this.line, column);
        if (key === "<<") recordMerge(map);
      } else {
        // keyColon, hashing the text before the colon on the way.
        const lineEnd = this.lineEnd;
        let hash = 0;
        colon = -1;
        for (let i = pos; i < lineEnd; i++) {
          const ch = text.charCodeAt(i);
          if (ch === COLON) {
            if (i + 1 >= lineEnd || text.charCodeAt(i + 1) === SPACE) {
              colon = i;
              break;
            }
          } else if (ch === HASH && i > pos && text.charCodeAt(i - 1) === SPACE) {
            break;
          }
          hash = (Math.imul(hash, 31) + ch) | 0;
        }
        if (colon === -1 || colon === pos) throw DECLINE;
        if (isIndicatorStart(c) || ((c === DASH || c === COLON) && this.isSeparated(pos + 1))) throw DECLINE;
        let end = colon;
        if (text.charCodeAt(end - 1) === SPACE) {
          while (text.charCodeAt(end - 1) === SPACE) end--;
          hash = keyHash(text, pos, end);
        }
        key = plainKeyHashed(text, pos, end, hash);
        entry = recordEntry(map, entry, PLAIN_KEY, pos, end, "", this.line, column);
      }
      if (key === "__proto__" || Object.hasOwn(result, key)) throw DECLINE;
      result[key] = this.mappingValue(colon + 1, column);
      recordEntryValue(entry, this.node);
      this.skipEmpty();
      if (this.eof || this.indent < column) {
        this.node = map;
        return result;
      }
      if (this.indent > column) throw DECLINE;
      pos = this.contentStart;
      if (text.charCodeAt(pos) === DASH && this.isSeparated(pos + 1)) throw DECLINE;
    }
  }

  /** The value after a key's colon at `pos - 1`, for a mapping at `column`. */
  private mappingValue(pos: number, column: number): unknown {
    const text = this.text;
    let i = pos;
    while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
    if (i >= this.lineEnd || text.charCodeAt(i) === HASH) {
      // Nothing on the key's line: a nested block node, a sequence at the key's own indentation, or null.
      const keyLine = this.line;
      this.nextLine();
      this.skipEmpty();
      if (!this.eof) {
        if (this.indent > column) return this.blockNode(this.contentStart, this.indent, column);
        if (
          this.indent === column &&
          text.charCodeAt(this.contentStart) === DASH &&
          this.isSeparated(this.contentStart + 1)
        )
          return this.blockNode(this.contentStart, this.indent, column - 1);
      }
      this.node = recordScalar(keyLine, -1);
      return null;
    }
    const c = text.charCodeAt(i);
    if (c === PIPE || c === GREATER) return this.blockScalar(i, column);
    if (c === BRACKET_OPEN || c === BRACE_OPEN) return this.flowOnLine(i, column);
    if (c === QUOTE || c === APOSTROPHE) return this.scalarOnLine(i, column);
    return this.scalarOnLine(i, column);
  }

  private sequence(pos: number, column: number): unknown[] {
    const text = this.text;
    const result: unknown[] = [];
    const seq = recordSeq(this.line, column);
    let item = NONE;
    for (;;) {
      // `pos` is at a "-" followed by a space or the end of the line.
      let i = pos + 1;
      while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
      if (i >= this.lineEnd || text.charCodeAt(i) === HASH) {
        // An item on the lines below its "-", or null: forms the positions index leaves to `yaml`.
        this.indexable = false;
        this.nextLine();
        this.skipEmpty();
        if (!this.eof && this.indent > column)
          result.push(this.blockNode(this.contentStart, this.indent, column));
        else result.push(null);
      } else {
        item = recordItem(seq, item);
        result.push(this.blockNode(i, i - this.lineStart, column));
        recordItemNode(item, this.node);
      }
      this.skipEmpty();
      if (this.eof || this.indent < column) break;
      if (this.indent > column) throw DECLINE;
      pos = this.contentStart;
      if (text.charCodeAt(pos) !== DASH || !this.isSeparated(pos + 1)) break;
    }
    this.node = seq;
    return result;
  }

  /** A literal (`|`) or folded (`>`) block scalar whose header is at `pos`. */
  private blockScalar(pos: number, parentIndent: number): string {
    const text = this.text;
    this.node = recordScalar(this.line, pos - this.lineStart);
    const folded = text.charCodeAt(pos) === GREATER;
    let i = pos + 1;
    let chomp = 0; // 0 clip, -1 strip, 1 keep
    const c = text.charCodeAt(i);
    if (c === DASH) {
      chomp = -1;
      i++;
    } else if (c === 0x2b /* + */) {
      chomp = 1;
      i++;
    }
    const d = text.charCodeAt(i);
    if (d >= 0x30 && d <= 0x39) throw DECLINE; // an indentation indicator
    if (i < this.lineEnd && d !== SPACE) throw DECLINE;
    this.endOfLine(i);
    this.nextLine();
    const lines: string[] = [];
    let contentIndent = -1;
    let blanks = 0; // empty lines since the last content line
    while (!this.eof) {
      if (this.contentStart >= this.lineEnd) {
        // A line of spaces only: empty, unless it has more spaces than the content's indentation.
        if (contentIndent === -1 || this.indent > contentIndent) {
          if (this.indent > 0) throw DECLINE;
        }
        // Spaces after the last line break are no empty line (no break follows them).
        if (this.lineEnd < this.length) blanks++;
        this.nextLine();
        continue;
      }
      if (contentIndent === -1) {
        if (this.indent <= parentIndent) break;
        contentIndent = this.indent;
      } else if (this.indent < contentIndent) {
        break;
      }
      const line = text.slice(this.lineStart + contentIndent, this.lineEnd);
      if (folded) {
        const first = line.charCodeAt(0);
        if (first === SPACE) throw DECLINE; // more-indented lines fold differently
        if (lines.length === 0) lines.push("\n".repeat(blanks) + line);
        else lines.push((blanks === 0 ? " " : "\n".repeat(blanks)) + line);
      } else {
        if (lines.length === 0) lines.push("\n".repeat(blanks) + line);
        else lines.push("\n".repeat(blanks + 1) + line);
      }
      blanks = 0;
      this.nextLine();
    }
    if (contentIndent === -1) throw DECLINE; // an empty block scalar
    const body = lines.join("");
    if (chomp === -1) return body;
    if (chomp === 0) return body + "\n";
    return body + "\n".repeat(blanks + 1);
  }

  /** A flow collection that must close on its own line. */
  private flowOnLine(pos: number, parentIndent: number): unknown {
    this.flowNested = false;
    const [value, end] = this.flowNode(pos, 0);
    this.endOfLine(end);
    const node = recordFlow(this.text, pos, end - 1, this.line, this.lineStart, !this.flowNested);
    this.afterOneLine(parentIndent);
    this.node = node;
    return value;
  }

  private skipSpaces(i: number): number {
    const text = this.text;
    while (i < this.lineEnd && text.charCodeAt(i) === SPACE) i++;
    if (i >= this.lineEnd) throw DECLINE; // the collection goes on past this line
    return i;
  }

  /** A flow node at `pos`; returns it and the index just past it. */
  private flowNode(pos: number, depth: number): [unknown, number] {
    if (depth > this.maxDepth) throw DECLINE;
    const text = this.text;
    const c = text.charCodeAt(pos);
    if (c === BRACKET_OPEN || c === BRACE_OPEN) {
      if (depth > 0) this.flowNested = true;
    }
    if (c === BRACKET_OPEN) {
      const items: unknown[] = [];
      let i = this.skipSpaces(pos + 1);
      if (text.charCodeAt(i) === BRACKET_CLOSE) return [items, i + 1];
      for (;;) {
        const [item, end] = this.flowNode(i, depth + 1);
        items.push(item);
        i = this.skipSpaces(end);
        const next = text.charCodeAt(i);
        if (next === BRACKET_CLOSE) return [items, i + 1];
        if (next !== COMMA) throw DECLINE;
        i = this.skipSpaces(i + 1);
        if (text.charCodeAt(i) === BRACKET_CLOSE) throw DECLINE; // a trailing comma
      }
    }
    if (c === BRACE_OPEN) {
      const result: Record<string, unknown> = {};
      let i = this.skipSpaces(pos + 1);
      if (text.charCodeAt(i) === BRACE_CLOSE) return [result, i + 1];
      for (;;) {
        const k = text.charCodeAt(i);
        let key: string;
        let end: number;
        if (k === QUOTE || k === APOSTROPHE) {
          end = this.quotedEnd(i);
          key = this.quotedValue(i, end);
        } else {
          end = this.flowPlainEnd(i);
          key = plainKey(text.slice(i, end));
        }
        if (text.charCodeAt(end) !== COLON || !this.isFlowSeparated(end + 1)) throw DECLINE;
        if (key === "__proto__" || Object.hasOwn(result, key)) throw DECLINE;
        i = this.skipSpaces(end + 1);
        const first = text.charCodeAt(i);
        if (first === COMMA || first === BRACE_CLOSE) throw DECLINE; // an empty value
        const [value, valueEnd] = this.flowNode(i, depth + 1);
        result[key] = value;
        i = this.skipSpaces(valueEnd);
        const next = text.charCodeAt(i);
        if (next === BRACE_CLOSE) return [result, i + 1];
        if (next !== COMMA) throw DECLINE;
        i = this.skipSpaces(i + 1);
        if (text.charCodeAt(i) === BRACE_CLOSE) throw DECLINE;
      }
    }
    if (c === QUOTE || c === APOSTROPHE) {
      const end = this.quotedEnd(pos);
      return [this.quotedValue(pos, end), end];
    }
    const end = this.flowPlainEnd(pos);
    return [resolvePlain(text.slice(pos, end)), end];
  }

  private isFlowSeparated(i: number): boolean {
    const c = this.text.charCodeAt(i);
    return i >= this.lineEnd || c === SPACE;
  }

  /** End (exclusive, trimmed) of a plain scalar inside a flow collection starting at `pos`. */
  private flowPlainEnd(pos: number): number {
    const text = this.text;
    const first = text.charCodeAt(pos);
    if (isIndicatorStart(first) || first === COLON) throw DECLINE;
    if (first === DASH) {
      // "-" starts a plain scalar only when followed by a character that could continue one.
      const next = text.charCodeAt(pos + 1);
      if (
        pos + 1 >= this.lineEnd ||
        next === SPACE ||
        next === COMMA ||
        next === BRACKET_OPEN ||
        next === BRACKET_CLOSE ||
        next === BRACE_OPEN ||
        next === BRACE_CLOSE
      )
        throw DECLINE;
    }
    let i = pos;
    for (; i < this.lineEnd; i++) {
      const c = text.charCodeAt(i);
      if (c === COMMA || c === BRACKET_OPEN || c === BRACKET_CLOSE || c === BRACE_OPEN || c === BRACE_CLOSE)
        break;
      if (c === COLON && (i + 1 >= this.lineEnd || text.charCodeAt(i + 1) === SPACE)) break;
      if (c === HASH && text.charCodeAt(i - 1) === SPACE) throw DECLINE;
    }
    if (i >= this.lineEnd) throw DECLINE;
    let end = i;
    while (end > pos && text.charCodeAt(end - 1) === SPACE) end--;
    if (end === pos) throw DECLINE;
    return end;
  }
}

/** A document read by {@link fastLoadIndexed}. */
export interface IndexedValue {
  readonly value: unknown;
  /**
   * The positions index of the document (positions-index.ts), or
   * undefined when the document holds a form the index does not model (its root is not a
   * mapping, an item on the line below its `-`, a byte order mark).
   */
  readonly index: BlockIndex | undefined;
}

/**
 * The value of one YAML document and the positions of its keys and items, recorded while it is
 * read (so locating a finding needs no second pass over the text), or {@link DECLINED} when the
 * text is outside the fast path's subset. Never throws for any input.
 */
export function fastLoadIndexed(text: string, maxDepth: number): IndexedValue | typeof DECLINED {
  try {
    const parser = new FastParser(text, maxDepth);
    const value = parser.document();
    const index = parser.indexable && !text.includes("\uFEFF") ? recordFinish(text) : undefined;
    if (index === undefined) recordAbandon();
    return { value, index };
  } catch (error) {
    recordAbandon();
    if (error === DECLINE || error instanceof RangeError) return DECLINED;
    throw error;
  }
}

/** The value alone (see fastLoadIndexed). */
export function fastLoad(text: string, maxDepth: number): unknown {
  const read = fastLoadIndexed(text, maxDepth);
  return read === DECLINED ? DECLINED : read.value;
}
