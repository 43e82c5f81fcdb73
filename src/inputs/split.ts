/**
 * Splits a YAML stream into per-document text spans without parsing it, so each document can
 * be parsed (and later re-parsed for positions) on its own and keeps its line offset.
 *
 * Document markers are recognised the way the YAML spec does: `---` or `...` at column 0,
 * followed by a space, a tab or the end of the line. Such a line ends a document even inside
 * a block or quoted scalar (the spec forbids them there), while an indented `---` is content.
 * `--- value` (content on the marker line) starts a document whose content begins on that line.
 * Comments, blank lines and `%` directives before the first content of a document belong to
 * that document, so `# Source:` comments in `helm template` output do not make empty documents.
 */

export interface DocumentSpan {
  /** 0-based position of the document in the stream, counting empty documents. */
  readonly index: number;
  /** Offset of the document's first character in the text (always the start of a line). */
  readonly start: number;
  /** Offset just past the document's last character. */
  readonly end: number;
  /** 0-based line number of `start`. */
  readonly startLine: number;
  /** 0-based line number of the first line with content, or -1 for an empty document. */
  readonly contentLine: number;
}

const DASH = 0x2d;
const DOT = 0x2e;
const HASH = 0x23;
const PERCENT = 0x25;
const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
/** A byte order mark may start a document (manifests.ts drops it); a line of one alone is blank. */
const BOM = 0xfeff;

/** True when the 3 characters at `at` are `---` or `...` followed by a separator or the line end. */
function isMarker(text: string, at: number, lineEnd: number, char: number): boolean {
  if (text.charCodeAt(at + 1) !== char || text.charCodeAt(at + 2) !== char) return false;
  if (at + 3 >= lineEnd) return at + 3 === lineEnd;
  const next = text.charCodeAt(at + 3);
  return next === SPACE || next === TAB || next === CR;
}

/** True when the line [from, to) holds something other than blanks or a comment. */
function hasContent(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === CR || (c === BOM && i === from)) continue;
    return c !== HASH;
  }
  return false;
}

export function* splitYamlDocuments(text: string): Generator<DocumentSpan> {
  let index = 0;
  let docStart = 0;
  let docStartLine = 0;
  let docHasMarker = false;
  let contentLine = -1;
  let line = 0;
  let pos = 0;
  const length = text.length;
  while (pos < length) {
    let lineEnd = text.indexOf("\n", pos);
    if (lineEnd === -1) lineEnd = length;
    const first = text.charCodeAt(pos);
    if (first === DASH && isMarker(text, pos, lineEnd, DASH)) {
      if (docHasMarker || contentLine !== -1) {
        yield { index: index++, start: docStart, end: pos, startLine: docStartLine, contentLine };
        docStart = pos;
        docStartLine = line;
        contentLine = -1;
      }
      docHasMarker = true;
      if (hasContent(text, pos + 3, lineEnd)) contentLine = line;
    } else if (first === DOT && isMarker(text, pos, lineEnd, DOT)) {
      const next = lineEnd < length ? lineEnd + 1 : length;
      yield { index: index++, start: docStart, end: next, startLine: docStartLine, contentLine };
      docStart = next;
      docStartLine = line + 1;
      docHasMarker = false;
      contentLine = -1;
    } else if (
      contentLine === -1 &&
      !(first === PERCENT && !docHasMarker) &&
      hasContent(text, pos, lineEnd)
    ) {
      contentLine = line;
    }
    if (lineEnd === length) break;
    pos = lineEnd + 1;
    line++;
  }
  if (docStart < length || docHasMarker) {
    yield { index, start: docStart, end: length, startLine: docStartLine, contentLine };
  }
}
