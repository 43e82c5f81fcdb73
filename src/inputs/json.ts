/**
 * A small iterative JSON scanner: JSON.parse builds the values (fast), this walks the same text
 * to find what JSON.parse does not report: duplicate keys, nesting depth, the offset of a
 * syntax error whose V8 message has no position, and the offset of a field path (positions).
 * It never recurses, so 100,000 nested `[` cannot overflow the stack.
 */

/**
 * Called at the start of every value. `path` is the value's path (mutated as the walk goes on:
 * copy it to keep it), `keyOffset` the offset of the key's opening quote for object members
 * (else the value's offset). Return true to stop the walk.
 */
export type JsonVisitor = (
  path: readonly (string | number)[],
  keyOffset: number,
  valueOffset: number,
) => boolean;

export interface JsonWalkOptions {
  /** Report the first duplicate key in an object as an error. */
  readonly duplicates?: boolean;
  /** Maximum nesting of arrays and objects; deeper is an error. */
  readonly maxDepth?: number;
  /** Scan one value starting at `start` and ignore what follows it. */
  readonly singleValue?: boolean;
  readonly visit?: JsonVisitor;
}

export type JsonWalkResult =
  | { readonly ok: true; readonly stopped: boolean }
  | { readonly ok: false; readonly offset: number; readonly message: string };

interface Frame {
  readonly isObject: boolean;
  index: number;
  readonly keys: Set<string> | undefined;
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function skipWhitespace(text: string, pos: number): number {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else return pos;
  }
}

/** Offset just past the string starting at `pos` (a `"`), or -1 when it is unterminated or invalid. */
function stringEnd(text: string, pos: number): number {
  let i = pos + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return -1;
    let backslashes = 0;
    for (let j = quote - 1; j > pos && text.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) {
      for (let j = pos + 1; j < quote; j++) if (text.charCodeAt(j) < 0x20) return -1;
      return quote + 1;
    }
    i = quote + 1;
  }
}

function decodeKey(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end - 1);
  if (!raw.includes("\\")) return raw;
  try {
    const value: unknown = JSON.parse(text.slice(start, end));
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

function describeAt(text: string, pos: number): string {
  if (pos >= text.length) return "Unexpected end of JSON input";
  return `Unexpected character ${JSON.stringify(text.charAt(pos))}`;
}

export function walkJson(text: string, start: number, options: JsonWalkOptions = {}): JsonWalkResult {
  const stack: Frame[] = [];
  const path: (string | number)[] = [];
  const maxDepth = options.maxDepth ?? Infinity;
  const visit = options.visit;
  let pos = skipWhitespace(text, start);
  let keyOffset = pos;
  const fail = (offset: number, message: string): JsonWalkResult => ({ ok: false, offset, message });

  for (;;) {
    // A value starts at pos.
    if (visit?.(path, keyOffset, pos) === true) return { ok: true, stopped: true };
    const c = text.charCodeAt(pos);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const isObject = c === 0x7b;
      if (stack.length >= maxDepth) return fail(pos, `nesting deeper than ${maxDepth} levels`);
      stack.push({
        isObject,
        index: 0,
        keys: isObject && options.duplicates === true ? new Set() : undefined,
      });
      pos = skipWhitespace(text, pos + 1);
      const close = isObject ? 0x7d : 0x5d;
      if (text.charCodeAt(pos) === close) {
        stack.pop();
        pos++;
      } else if (isObject) {
        const member = readKey(stack, path, text, pos, options.duplicates === true);
        if (typeof member === "object") return member;
        keyOffset = pos;
        pos = member;
        continue;
      } else {
        path.push(0);
        keyOffset = pos;
        continue;
      }
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, pos);
      if (end === -1) return fail(pos, "Unterminated or invalid string");
      pos = end;
    } else if (text.startsWith("true", pos)) pos += 4;
    else if (text.startsWith("false", pos)) pos += 5;
    else if (text.startsWith("null", pos)) pos += 4;
    else {
      NUMBER.lastIndex = pos;
      if (!NUMBER.test(text)) return fail(pos, describeAt(text, pos));
      pos = NUMBER.lastIndex;
    }

    // After a value: commas, closing brackets, or the end.
    for (;;) {
      pos = skipWhitespace(text, pos);
      const frame = stack[stack.length - 1];
      if (frame === undefined) {
        if (options.singleValue !== true && pos < text.length)
          return fail(pos, "Unexpected non-whitespace character after JSON");
        return { ok: true, stopped: false };
      }
      const ch = text.charCodeAt(pos);
      if (ch === 0x2c /* , */) {
        pos = skipWhitespace(text, pos + 1);
        frame.index++;
        if (frame.isObject) {
          path.pop();
          const member = readKey(stack, path, text, pos, options.duplicates === true);
          if (typeof member === "object") return member;
          keyOffset = pos;
          pos = member;
        } else {
          path[path.length - 1] = frame.index;
          keyOffset = pos;
        }
        break;
      }
      if (ch === (frame.isObject ? 0x7d : 0x5d)) {
        stack.pop();
        path.pop();
        pos++;
        continue;
      }
      return fail(pos, frame.isObject ? "Expected ',' or '}'" : "Expected ',' or ']'");
    }
  }
}

/** Reads `"key" :` at pos, pushes the key on the path; returns the offset of the value or an error. */
function readKey(
  stack: readonly Frame[],
  path: (string | number)[],
  text: string,
  pos: number,
  duplicates: boolean,
): number | { readonly ok: false; readonly offset: number; readonly message: string } {
  if (text.charCodeAt(pos) !== 0x22)
    return { ok: false, offset: pos, message: "Expected double-quoted property name" };
  const end = stringEnd(text, pos);
  if (end === -1) return { ok: false, offset: pos, message: "Unterminated or invalid string" };
  const key = decodeKey(text, pos, end);
  if (key === undefined) return { ok: false, offset: pos, message: "Invalid string" };
  const frame = stack[stack.length - 1];
  if (duplicates && frame?.keys !== undefined) {
    if (frame.keys.has(key))
      return { ok: false, offset: pos, message: `duplicate key ${JSON.stringify(key)}` };
    frame.keys.add(key);
  }
  const colon = skipWhitespace(text, end);
  if (text.charCodeAt(colon) !== 0x3a)
    return { ok: false, offset: colon, message: "Expected ':' after property name" };
  path.push(key);
  return skipWhitespace(text, colon + 1);
}

/** Offsets of line starts, for offset → line/column on large texts. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.#starts.push(i + 1);
  }

  /** 1-based line and column of an offset. */
  position(offset: number): { line: number; column: number } {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if ((this.#starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (this.#starts[low] ?? 0) + 1 };
  }
}
