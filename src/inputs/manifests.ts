/**
 * The input layer of `vakt check`: manifests from files, directories and stdin, as plain
 * objects with lazily resolved source positions.
 *
 * Speed (see shared/design/performance.md): YAML is parsed into plain values by the fast path
 * (fast-yaml.ts), which records a compact index of each document's key and item positions as it
 * reads, or by js-yaml for what it declines; JSON with JSON.parse. Each object carries `locate`,
 * which resolves field paths against that index (positions-index.ts), or for documents without
 * one re-parses its own document with the `yaml` package when first called.
 *
 * Memory: a file is read whole (bounded by maxFileBytes), then cut into documents and parsed
 * one document at a time as the consumer pulls from the generator. The text of a document
 * stays referenced by its objects' `locate` (that is what positions need); nothing else does.
 */
import { open, readdir, realpath, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { FieldPath, KubeObject } from "../engine/types.ts";
import type { InputProblem, SourcePosition } from "./types.ts";
import { walkJson } from "./json.ts";
import { offsetPosition, parseYamlDocument } from "./parse.ts";
import { jsonLocator, yamlLocator, type Locator } from "./positions.ts";
import { splitYamlDocuments } from "./split.ts";

export interface LoadedObject {
  readonly type: "object";
  /** The file as given or found ("-" for stdin). */
  readonly file: string;
  /** 0-based index of the document in the file, counting empty documents (a JSON file is document 0). */
  readonly documentIndex: number;
  readonly object: KubeObject;
  /** Where `object` sits in its document: ["items", i] for an item of a List, else []. */
  readonly pathPrefix: FieldPath;
  /**
   * 1-based line and column of a field of `object`. The path is relative to `object` (as rules
   * report it); pathPrefix is added here. A missing field resolves to its deepest existing parent.
   */
  readonly locate: (path: FieldPath) => SourcePosition;
}

export interface LoadedProblem {
  readonly type: "problem";
  readonly problem: InputProblem;
}

/** Emitted when a file has been read, before its objects and problems (for CheckReport.files). */
export interface LoadedFile {
  readonly type: "file";
  readonly file: string;
}

export type ManifestEvent = LoadedObject | LoadedProblem | LoadedFile;

/**
 * A file (or stdin) that has been read, with its objects and problems to be pulled from `events`
 * synchronously, one document parsed per pull (see {@link loadSources}).
 */
export interface LoadedSource {
  readonly type: "source";
  readonly file: string;
  readonly events: Iterable<LoadedObject | LoadedProblem>;
}

export interface InputLimits {
  /** Largest document (a JSON file is one document), in bytes of UTF-8. */
  readonly maxDocumentBytes: number;
  /** Largest file or stdin read, in bytes. */
  readonly maxFileBytes: number;
  /** Deepest nesting of mappings and sequences. */
  readonly maxDepth: number;
  /** Most alias nodes (`*name`) in one document. */
  readonly maxAliases: number;
  /** Most nodes aliases may add to a document when copied out (alias bomb guard). */
  readonly maxAliasExpansion: number;
}

export const DEFAULT_LIMITS: InputLimits = {
  maxDocumentBytes: 8 * 1024 * 1024,
  maxFileBytes: 256 * 1024 * 1024,
  maxDepth: 1000,
  maxAliases: 1000,
  maxAliasExpansion: 100_000,
};

export interface LoadManifestsOptions extends Partial<InputLimits> {
  /** What the input "-" reads: the text itself, or a stream such as process.stdin. */
  readonly stdin?: string | AsyncIterable<string | Uint8Array>;
}

export type TextFormat = "yaml" | "json" | "auto";

const MANIFEST_EXTENSIONS = [".yaml", ".yml", ".json"];
const STDIN = "-";

function problem(
  file: string,
  level: InputProblem["level"],
  message: string,
  position?: SourcePosition,
): LoadedProblem {
  return {
    type: "problem",
    problem:
      position === undefined
        ? { file, level, message }
        : { file, level, message, line: position.line, column: position.column },
  };
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isKubeObject(value: unknown): value is KubeObject {
  return (
    isRecord(value) &&
    typeof value["apiVersion"] === "string" &&
    value["apiVersion"] !== "" &&
    typeof value["kind"] === "string" &&
    value["kind"] !== ""
  );
}

export function mebibytes(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${Number.isInteger(value) ? String(value) : value.toFixed(1)} MiB`;
}

interface DocumentContext {
  readonly file: string;
  readonly documentIndex: number;
  /** Locator over the whole document, taking absolute paths. */
  readonly locate: Locator;
  /** Where the document's content starts, for notes about the document as a whole. */
  readonly start: SourcePosition;
}

/**
 * Objects in one parsed document value, as kubectl (cli-runtime's builder over apimachinery's
 * unstructured decoder) reads it: an object with an `items` array is a list, whatever its kind
 * (a `kind: Pod` with `items` creates its items, not the Pod), and its items are the objects; a
 * typed list (DeploymentList) gives its kind to items that have none. kubectl refuses a file with
 * a list inside a list; vakt says so in an error and still checks the inner items.
 */
function* objectsOf(
  value: unknown,
  context: DocumentContext,
  prefix: FieldPath,
  label: string,
  inList: boolean,
): Generator<LoadedObject | LoadedProblem> {
  if (value === null || value === undefined) return;
  const at = (): SourcePosition => (prefix.length === 0 ? context.start : context.locate(prefix));
  if (!isKubeObject(value)) {
    yield problem(
      context.file,
      "note",
      `${label} has no apiVersion/kind; not a Kubernetes object, skipped`,
      at(),
    );
    return;
  }
  const kind = value.kind as string;
  const isListKind = kind.endsWith("List");
  const items = value["items"];
  if (items !== undefined && (items !== null || inList)) {
    if (inList) {
      yield problem(
        context.file,
        "error",
        `${label} is a list inside a list (it has items); kubectl refuses such a file ("is not a list: no Items field"): move its items into the outer list`,
        at(),
      );
    }
    if (!Array.isArray(items)) {
      if (items === null) return;
      yield problem(
        context.file,
        "error",
        `${label}: items is ${typeof items === "object" ? "a mapping" : `a ${typeof items}`}, not a list; kubectl cannot decode it: make items a list of objects`,
        context.locate([...prefix, "items"]),
      );
      return;
    }
    if (!isListKind) {
      yield problem(
        context.file,
        "note",
        `${label} is a ${kind} with an items list: kubectl creates the objects in its items instead of the ${kind}; vakt checks both`,
        at(),
      );
    }
    const itemKind = kind === "List" ? undefined : isListKind ? kind.slice(0, -"List".length) : kind;
    for (let i = 0; i < items.length; i++) {
      let item: unknown = items[i];
      // A typed list from the API (DeploymentList) leaves apiVersion/kind off its items.
      if (
        itemKind !== undefined &&
        isRecord(item) &&
        item["apiVersion"] === undefined &&
        item["kind"] === undefined
      ) {
        item = { apiVersion: value.apiVersion, kind: itemKind, ...item };
      }
      yield* objectsOf(item, context, [...prefix, "items", i], `${label} item ${i + 1}`, true);
    }
    if (isListKind) return;
  } else if (items === null && isListKind) {
    return;
  }
  const locate = context.locate;
  yield {
    type: "object",
    file: context.file,
    documentIndex: context.documentIndex,
    object: value,
    pathPrefix: prefix,
    locate: prefix.length === 0 ? locate : (path) => locate([...prefix, ...path]),
  };
}

function utf8Length(text: string, limit: number): number {
  // Cheap bounds first: UTF-16 length <= UTF-8 bytes <= 3 * UTF-16 length.
  if (text.length > limit || text.length * 3 <= limit) return text.length;
  return Buffer.byteLength(text, "utf8");
}

const BOM = 0xfeff;

/**
 * The document without byte order marks at the start of its lines up to its first content line.
 * kubectl decodes each document as a stream of its own, whose scanner skips a BOM at the start of
 * a line before a token (files joined with `cat` carry one at each join); left in, the first key
 * would read "\uFEFFapiVersion" and the object would be skipped while kubectl applies it. A BOM
 * inside the content is left to the parser.
 */
function withoutLeadingBoms(documentText: string, contentLines: number): string {
  let text = documentText;
  let pos = 0;
  for (let line = 0; line <= contentLines; line++) {
    if (text.charCodeAt(pos) === BOM) text = text.slice(0, pos) + text.slice(pos + 1);
    const next = text.indexOf("\n", pos);
    if (next === -1) break;
    pos = next + 1;
  }
  return text;
}

function* yamlObjects(
  file: string,
  text: string,
  limits: InputLimits,
): Generator<LoadedObject | LoadedProblem> {
  for (const span of splitYamlDocuments(text)) {
    if (span.contentLine === -1) continue;
    const label = `document ${span.index + 1}`;
    const start = { line: span.contentLine + 1, column: 1 };
    const documentText = withoutLeadingBoms(
      text.slice(span.start, span.end),
      span.contentLine - span.startLine,
    );
    const bytes = utf8Length(documentText, limits.maxDocumentBytes);
    if (bytes > limits.maxDocumentBytes) {
      yield problem(
        file,
        "error",
        `${label} is ${mebibytes(bytes)}, over the per-document limit of ${mebibytes(limits.maxDocumentBytes)}; not checked`,
        start,
      );
      continue;
    }
    let parsed;
    try {
      parsed = parseYamlDocument(documentText, limits);
    } catch (error) {
      yield problem(
        file,
        "error",
        `${label} could not be read: ${error instanceof Error ? error.message : String(error)}`,
        start,
      );
      continue;
    }
    if (!parsed.ok) {
      const position = { line: span.startLine + parsed.line + 1, column: parsed.column + 1 };
      const message = parsed.message.startsWith("document ")
        ? `${label}${parsed.message.slice("document".length)}`
        : `YAML error in ${label}: ${parsed.message}`;
      yield problem(file, "error", message, position);
      continue;
    }
    const context: DocumentContext = {
      file,
      documentIndex: span.index,
      locate: yamlLocator(documentText, span.startLine, parsed.index),
      start,
    };
    for (const value of parsed.values) yield* objectsOf(value, context, [], label, false);
  }
}

const JSON_POSITION = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/;
const JSON_SNIPPET = /, (?:\.\.\.)?".*" is not valid JSON$/s;

function* jsonObjects(
  file: string,
  text: string,
  limits: InputLimits,
): Generator<LoadedObject | LoadedProblem> {
  const bytes = utf8Length(text, limits.maxDocumentBytes);
  if (bytes > limits.maxDocumentBytes) {
    yield problem(
      file,
      "error",
      `JSON document is ${mebibytes(bytes)}, over the per-document limit of ${mebibytes(limits.maxDocumentBytes)}; not checked`,
      { line: 1, column: 1 },
    );
    return;
  }
  const at = (offset: number): SourcePosition => {
    const { line, column } = offsetPosition(text, offset);
    return { line: line + 1, column: column + 1 };
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const match = JSON_POSITION.exec(message);
    let offset = match?.[1] === undefined ? undefined : Number(match[1]);
    if (offset === undefined) {
      const scan = walkJson(text, 0, { maxDepth: limits.maxDepth });
      offset = scan.ok ? 0 : scan.offset;
    }
    const reason = message.replace(JSON_POSITION, "").replace(JSON_SNIPPET, "");
    yield problem(file, "error", `JSON error: ${reason}`, at(offset));
    return;
  }
  const scan = walkJson(text, 0, { duplicates: true, maxDepth: limits.maxDepth });
  if (!scan.ok && (scan.message.startsWith("duplicate key") || scan.message.startsWith("nesting"))) {
    const message = scan.message.startsWith("nesting")
      ? `${scan.message} (limit ${limits.maxDepth})`
      : scan.message;
    yield problem(file, "error", `JSON error: ${message}`, at(scan.offset));
    return;
  }
  const context: DocumentContext = {
    file,
    documentIndex: 0,
    locate: jsonLocator(text),
    start: at(Math.max(0, text.search(/\S/))),
  };
  yield* objectsOf(value, context, [], "JSON document", false);
}

/**
 * Objects and problems in one text. `auto` (stdin) reads text starting with `{` or `[` that
 * JSON.parse accepts as JSON, anything else as YAML. Lazy: one document is parsed per pull.
 */
export function* parseManifestText(
  file: string,
  text: string,
  format: TextFormat = "yaml",
  limits: Partial<InputLimits> = {},
): Generator<LoadedObject | LoadedProblem> {
  const all: InputLimits = { ...DEFAULT_LIMITS, ...definedOnly(limits) };
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let json = format === "json";
  if (format === "auto" && /^\s*[{[]/.test(source.slice(0, 4096))) {
    try {
      JSON.parse(source);
      json = true;
    } catch {
      json = false;
    }
  }
  try {
    yield* json ? jsonObjects(file, source, all) : yamlObjects(file, source, all);
  } catch (error) {
    yield problem(
      file,
      "error",
      `could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function definedOnly(limits: Partial<InputLimits>): Partial<InputLimits> {
  return Object.fromEntries(
    Object.entries(limits).filter(([, value]) => typeof value === "number" && !Number.isNaN(value)),
  );
}

export function describeFsError(error: unknown): string {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const reasons: Record<string, string> = {
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOTDIR: "a part of the path is not a directory",
    EISDIR: "is a directory",
    ELOOP: "too many levels of symbolic links",
    EMFILE: "too many open files",
  };
  const reason = reasons[code];
  if (reason !== undefined) return `${reason} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

export class TooLarge extends Error {
  readonly size: number;
  constructor(size: number) {
    super(`larger than ${size} bytes`);
    this.size = size;
  }
}

function decode(buffer: Buffer): string {
  if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) return buffer.toString("utf8", 3);
  if (buffer[0] === 0xff && buffer[1] === 0xfe) return new TextDecoder("utf-16le").decode(buffer.subarray(2));
  if (buffer[0] === 0xfe && buffer[1] === 0xff) return new TextDecoder("utf-16be").decode(buffer.subarray(2));
  return buffer.toString("utf8");
}

/** Reads a file (or FIFO, such as a process substitution) up to `limit` bytes. */
export async function readLimited(path: string, limit: number): Promise<string> {
  const handle = await open(path, "r");
  try {
    const info = await handle.stat();
    if (info.isFile() && info.size > limit) throw new TooLarge(info.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // A regular file is usually read in one go (size + 1 to see the end); FIFOs and files that
      // report no size (procfs) in 1 MiB steps.
      const expected = info.isFile() ? info.size - total + 1 : 0;
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(expected, 1 << 20), 1 << 24));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw new TooLarge(total);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    // One read is the usual case: decode it in place rather than copy it into a new buffer first.
    return decode(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, total));
  } finally {
    await handle.close();
  }
}

export async function readStream(stream: AsyncIterable<string | Uint8Array>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
    total += buffer.length;
    if (total > limit) throw new TooLarge(total);
    chunks.push(buffer);
  }
  return decode(Buffer.concat(chunks, total));
}

function hasManifestExtension(name: string): boolean {
  const lower = name.toLowerCase();
  return MANIFEST_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/**
 * Manifest files under a directory, depth first, entries sorted by name (code unit order, so
 * the order does not depend on the locale). Skips hidden entries (names starting with ".")
 * and node_modules; follows symbolic links, but never into a directory it is already in.
 */
async function* walkDirectory(
  directory: string,
  seen: Set<string>,
): AsyncGenerator<{ readonly type: "found"; readonly file: string } | LoadedProblem> {
  let real: string;
  let entries;
  try {
    real = await realpath(directory);
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    yield problem(directory, "error", `cannot read directory ${directory}: ${describeFsError(error)}`);
    return;
  }
  if (seen.has(real)) return;
  seen.add(real);
  const names = entries
    .filter((entry) => !entry.name.startsWith(".") && entry.name !== "node_modules")
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const path = join(directory, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      } catch (error) {
        if (hasManifestExtension(entry.name))
          yield problem(path, "error", `cannot read ${path}: ${describeFsError(error)}`);
        continue;
      }
    }
    if (isDirectory) yield* walkDirectory(path, seen);
    else if (isFile && hasManifestExtension(entry.name)) yield { type: "found", file: path };
  }
  seen.delete(real);
}

function formatOf(file: string): TextFormat {
  return file.toLowerCase().endsWith(".json") ? "json" : "yaml";
}

/**
 * Reads manifests from `inputs` (files, directories, "-" for stdin), in order, yielding each
 * Kubernetes object as it is parsed, interleaved with problems (never throwing for bad input)
 * and a `file` event for every file read.
 */
export async function* loadManifests(
  inputs: readonly string[],
  options: LoadManifestsOptions = {},
): AsyncGenerator<ManifestEvent> {
  for await (const item of loadSources(inputs, options)) {
    if (item.type === "problem") {
      yield item;
      continue;
    }
    yield { type: "file", file: item.file };
    yield* item.events;
  }
}

/**
 * What loadManifests yields, a file at a time: the reading is asynchronous, the parsing of a
 * file's documents is pulled synchronously from `events` (an asynchronous step per object cost
 * about a sixth of the loading time). Pull every event of a source before the next source.
 */
export async function* loadSources(
  inputs: readonly string[],
  options: LoadManifestsOptions = {},
): AsyncGenerator<LoadedSource | LoadedProblem> {
  const { stdin, ...rest } = options;
  const limits: InputLimits = { ...DEFAULT_LIMITS, ...definedOnly(rest) };
  const done = new Set<string>();
  let stdinText: string | undefined;

  async function* readOne(file: string): AsyncGenerator<LoadedSource | LoadedProblem> {
    let text: string;
    try {
      text = await readLimited(file, limits.maxFileBytes);
    } catch (error) {
      const reason =
        error instanceof TooLarge
          ? `it is over the ${mebibytes(limits.maxFileBytes)} input limit`
          : describeFsError(error);
      yield problem(file, "error", `cannot read ${file}: ${reason}`);
      return;
    }
    yield { type: "source", file, events: parseManifestText(file, text, formatOf(file), limits) };
  }

  for (const input of inputs) {
    if (input === STDIN) {
      if (stdinText === undefined) {
        if (stdin === undefined) {
          yield problem(STDIN, "error", "cannot read stdin: no standard input was provided");
          continue;
        }
        try {
          stdinText = typeof stdin === "string" ? stdin : await readStream(stdin, limits.maxFileBytes);
        } catch (error) {
          const reason =
            error instanceof TooLarge
              ? `it is over the ${mebibytes(limits.maxFileBytes)} input limit`
              : describeFsError(error);
          yield problem(STDIN, "error", `cannot read stdin: ${reason}`);
          continue;
        }
      } else {
        continue;
      }
      yield { type: "source", file: STDIN, events: parseManifestText(STDIN, stdinText, "auto", limits) };
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch (error) {
      yield problem(input, "error", `cannot read ${input}: ${describeFsError(error)}`);
      continue;
    }
    if (!info.isDirectory()) {
      if (done.has(resolve(input))) continue;
      done.add(resolve(input));
      yield* readOne(input);
      continue;
    }
    let found = 0;
    for await (const entry of walkDirectory(input, new Set())) {
      if (entry.type === "problem") {
        yield entry;
        continue;
      }
      found++;
      if (done.has(resolve(entry.file))) continue;
      done.add(resolve(entry.file));
      yield* readOne(entry.file);
    }
    if (found === 0) yield problem(input, "note", `directory ${input} has no .yaml, .yml or .json files`);
  }
}
