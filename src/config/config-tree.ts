/**
 * A configuration file's YAML as a small tree of mappings, sequences and scalars, each with its
 * offset, read by the `yaml` package: the one reader vakt.yaml has, the same that locates
 * manifests' findings where the fast path recorded no positions (inputs/positions.ts), so every
 * configuration problem and syntax error names file:line:column. The package is loaded on the
 * first call (inputs/yaml-package.ts).
 */
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

export interface ConfigDocument {
  /** The root node; null for an empty document. */
  readonly root: ConfigNode | null;
  /** Syntax errors, each "file:line:column: message". */
  readonly errors: readonly string[];
  /** file:line:column of a node, or the file when it has no position. */
  readonly where: (node: ConfigNode | null | undefined) => string;
}

/** The document as the `yaml` package reads it (YAML 1.2 core schema unless a directive says otherwise; unique keys). */
export function readConfigDocument(text: string, file: string): ConfigDocument {
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
