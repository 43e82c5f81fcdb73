import type { Memo } from "./types.ts";

/** One step down the keys: the values derived with these keys so far, and deeper keys. */
interface Level {
  next: WeakMap<object, Level> | undefined;
  has: boolean;
  value: unknown;
}

function level(): Level {
  return { next: undefined, has: false, value: undefined };
}

/**
 * A Memo over weak maps, one level per key (the derive function first): a list no longer held
 * elsewhere is dropped with what was derived from it, so a memo kept for a long time (the
 * webhook's RuleSet lives until the configuration changes) does not keep replaced inventories.
 */
export class WeakMemo implements Memo {
  readonly #roots = new WeakMap<object, Level>();

  of<K extends readonly [object, ...object[]], V>(derive: (...keys: K) => V, ...keys: K): V {
    let at = this.#roots.get(derive);
    if (at === undefined) this.#roots.set(derive, (at = level()));
    for (const key of keys) {
      at.next ??= new WeakMap();
      let next = at.next.get(key);
      if (next === undefined) at.next.set(key, (next = level()));
      at = next;
    }
    if (!at.has) {
      at.value = derive(...keys);
      at.has = true;
    }
    return at.value as V;
  }
}
