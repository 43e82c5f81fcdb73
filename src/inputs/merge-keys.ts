/**
 * Values of a document with merge keys (`<<`), resolved the way the Kubernetes decoder resolves
 * them (go-yaml v2 behind sigs.k8s.io/yaml, decode.go `mapping` and `merge`): the entries of a
 * mapping are applied in document order and the last writer wins, so a `<<` overrides the keys
 * set before it and is overridden by those after it; in `<<: [*a, *b]` the earlier mapping wins.
 * js-yaml (like the YAML 1.1 merge spec) lets explicit keys win wherever they are, so a
 * `privileged: false` written before `<<: *privileged` read as false to vakt and as true to the
 * API server. The fast path declines documents with merge keys, so only these documents pay for
 * this second pass over js-yaml's syntax tree.
 */
import { eventsToAst, parseEvents, type AliasNode, type MappingNode, type Node, type Schema } from "js-yaml";

export class MergeKeyError extends Error {}

const YAML_TAG_PREFIX = "tag:yaml.org,2002:";
const MERGE_TAG = `${YAML_TAG_PREFIX}merge`;
const MAPPING_TAG = `${YAML_TAG_PREFIX}map`;
const SEQUENCE_TAG = `${YAML_TAG_PREFIX}seq`;

/** The full name of a tag as js-yaml's syntax tree spells it (`!!int`, `!<tag:...>` or already full). */
function fullTag(tag: string): string {
  if (tag.startsWith("!!")) return YAML_TAG_PREFIX + tag.slice(2);
  if (tag.startsWith("!<") && tag.endsWith(">")) return tag.slice(2, -1);
  return tag;
}

function isMergeKey(node: Node): boolean {
  return node.kind === "scalar" && node.value === "<<" && fullTag(node.tag) === MERGE_TAG;
}

/** True when some mapping in the document has a `<<` merge key. */
function hasMergeKey(node: Node | null, seen: Set<Node>): boolean {
  if (node === null || node.kind === "scalar" || node.kind === "alias" || seen.has(node)) return false;
  seen.add(node);
  if (node.kind === "sequence") return node.items.some((item) => hasMergeKey(item, seen));
  return node.items.some(
    (pair) => isMergeKey(pair.key) || hasMergeKey(pair.key, seen) || hasMergeKey(pair.value, seen),
  );
}

class Builder {
  private readonly targets = new Map<AliasNode, Node>();
  private readonly schema: Schema;
  private budget: number;

  constructor(schema: Schema, budget: number) {
    this.schema = schema;
    this.budget = budget;
  }

  /** An alias refers to the latest anchor of that name before it, as the parser saw them. */
  bindAliases(root: Node): void {
    const anchors = new Map<string, Node>();
    const stack: Node[] = [root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (node === undefined) break;
      if (node.kind === "alias") {
        const target = anchors.get(node.anchor);
        if (target === undefined) throw new MergeKeyError(`unknown anchor "${node.anchor}"`);
        this.targets.set(node, target);
        continue;
      }
      if (node.anchor !== undefined) anchors.set(node.anchor, node);
      if (node.kind === "sequence") {
        for (let i = node.items.length - 1; i >= 0; i--) stack.push(node.items[i] as Node);
      } else if (node.kind === "mapping") {
        for (let i = node.items.length - 1; i >= 0; i--) {
          const pair = node.items[i];
          if (pair === undefined) continue;
          stack.push(pair.value, pair.key);
        }
      }
    }
  }

  private target(node: Node): Node {
    if (node.kind !== "alias") return node;
    const target = this.targets.get(node);
    if (target === undefined) throw new MergeKeyError(`unknown anchor "${node.anchor}"`);
    return target;
  }

  build(input: Node): unknown {
    if (--this.budget < 0) throw new MergeKeyError("too many nodes after copying out aliases");
    const node = this.target(input);
    switch (node.kind) {
      case "scalar": {
        const tagName = fullTag(node.tag);
        const tag = this.schema.lookupScalarTag(tagName);
        if (tag === undefined) throw new MergeKeyError(`unsupported tag ${node.tag}`);
        const value: unknown = tag.resolve(node.value, node.tagged, tagName);
        if (typeof value === "symbol") throw new MergeKeyError(`cannot read "${node.value}" as ${node.tag}`);
        return value;
      }
      case "sequence":
        if (fullTag(node.tag) !== SEQUENCE_TAG) throw new MergeKeyError(`unsupported tag ${node.tag}`);
        return node.items.map((item) => this.build(item));
      case "mapping": {
        const result: Record<string, unknown> = {};
        this.fill(result, node);
        return result;
      }
      default:
        throw new MergeKeyError("an alias to an alias");
    }
  }

  private fill(result: Record<string, unknown>, node: MappingNode): void {
    if (fullTag(node.tag) !== MAPPING_TAG) throw new MergeKeyError(`unsupported tag ${node.tag}`);
    for (const { key, value } of node.items) {
      if (isMergeKey(key)) {
        this.merge(result, value);
        continue;
      }
      const name = this.build(key);
      if (typeof name === "object" && name !== null)
        throw new MergeKeyError("a mapping or sequence used as a mapping key");
      // defineProperty: a "__proto__" key is data, not the object's prototype.
      Object.defineProperty(result, String(name), {
        value: this.build(value),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }

  private merge(result: Record<string, unknown>, value: Node): void {
    const wantMap = (): MergeKeyError =>
      new MergeKeyError("a merge key (<<) takes a mapping or a sequence of mappings");
    const source = this.target(value);
    if (source.kind === "mapping") {
      this.fill(result, source);
      return;
    }
    // go-yaml accepts a sequence written in place, not an alias to one.
    if (source.kind !== "sequence" || value.kind === "alias") throw wantMap();
    // Applied last to first, so that the earlier mappings win.
    for (let i = source.items.length - 1; i >= 0; i--) {
      const item = source.items[i];
      if (item === undefined) continue;
      const mapping = this.target(item);
      if (mapping.kind !== "mapping") throw wantMap();
      this.fill(result, mapping);
    }
  }
}

/**
 * The documents' values with merge keys resolved as Kubernetes does, or undefined when no mapping
 * has a merge key (js-yaml's values stand). Throws MergeKeyError (or the parser's error) when it
 * cannot; the caller has already read the text with js-yaml and applied the alias limits, so
 * `budget` (most nodes to build) only guards against surprises.
 */
export function resolveMergeKeys(
  text: string,
  schema: Schema,
  maxDepth: number,
  budget: number,
): unknown[] | undefined {
  const documents = eventsToAst(parseEvents(text, { maxDepth }), { source: text, schema });
  const seen = new Set<Node>();
  if (!documents.some((document) => hasMergeKey(document.contents, seen))) return undefined;
  const values: unknown[] = [];
  for (const document of documents) {
    if (document.contents === null) continue;
    const builder = new Builder(schema, budget);
    builder.bindAliases(document.contents);
    values.push(builder.build(document.contents));
  }
  return values;
}
