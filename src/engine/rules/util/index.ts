import type { KubeObject, Memo } from "../../types.ts";
import { selectorMatches, type LabelSelector } from "./selector.ts";

/*
 * Lookup structures over inventory lists, built once per list and kept in the run's Memo by the
 * list's identity (Inventory.byKind returns the same array for the same query in listInventory,
 * so a whole evaluation run builds each index once). Without stable arrays the memo simply
 * misses and results stay correct. Rules relating N workloads to M policies in one namespace stay
 * near linear instead of N × M selector evaluations.
 */

const NO_OBJECTS: readonly KubeObject[] = Object.freeze([]);

type KeyOf = (object: KubeObject) => string | undefined;

function keyedIndex(
  objects: readonly KubeObject[],
  keyOf: KeyOf,
): ReadonlyMap<string, readonly KubeObject[]> {
  const index = new Map<string, KubeObject[]>();
  for (const object of objects) {
    const objectKey = keyOf(object);
    if (objectKey === undefined) continue;
    let list = index.get(objectKey);
    if (list === undefined) index.set(objectKey, (list = []));
    list.push(object);
  }
  return index;
}

/** Objects of `objects` whose `keyOf` is `key`, in their original order. `keyOf` must be a module-level function. */
export function objectsWithKey(
  memo: Memo,
  objects: readonly KubeObject[],
  keyOf: KeyOf,
  key: string,
): readonly KubeObject[] {
  return memo.of(keyedIndex, objects, keyOf).get(key) ?? NO_OBJECTS;
}

interface Entry {
  readonly order: number;
  readonly object: KubeObject;
  readonly selector: LabelSelector;
}

interface SelectorIndex {
  /** Entries whose selector has matchLabels, under their first "key\0value" pair. */
  readonly byLabel: ReadonlyMap<string, readonly Entry[]>;
  /** Entries with only matchExpressions, or empty selectors. */
  readonly rest: readonly Entry[];
}

type SelectorOf = (object: KubeObject) => LabelSelector;

function selectorIndex(objects: readonly KubeObject[], selectorOf: SelectorOf): SelectorIndex {
  const byLabel = new Map<string, Entry[]>();
  const rest: Entry[] = [];
  objects.forEach((object, order) => {
    const selector = selectorOf(object);
    if (selector.nothing) return;
    const entry = { order, object, selector };
    const first = selector.labels[0];
    if (first === undefined) {
      rest.push(entry);
      return;
    }
    const key = `${first[0]}\u0000${first[1]}`;
    let list = byLabel.get(key);
    if (list === undefined) byLabel.set(key, (list = []));
    list.push(entry);
  });
  return { byLabel, rest };
}

/**
 * Objects of `objects` whose selector (`selectorOf`, a module-level function) selects `labels`,
 * in their original order.
 */
export function objectsSelecting(
  memo: Memo,
  objects: readonly KubeObject[],
  selectorOf: SelectorOf,
  labels: unknown,
): KubeObject[] {
  if (objects.length === 0) return [];
  const index = memo.of(selectorIndex, objects, selectorOf);
  const found: Entry[] = [];
  for (const entry of index.rest) if (selectorMatches(entry.selector, labels)) found.push(entry);
  if (index.byLabel.size > 0 && typeof labels === "object" && labels !== null && !Array.isArray(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== "string") continue;
      const candidates = index.byLabel.get(`${key}\u0000${value}`);
      if (candidates === undefined) continue;
      for (const entry of candidates) if (selectorMatches(entry.selector, labels)) found.push(entry);
    }
  }
  if (found.length > 1) found.sort((a, b) => a.order - b.order);
  return found.map((entry) => entry.object);
}
