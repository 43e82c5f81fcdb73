import type { Inventory, KubeObject } from "../../types.ts";
import { isDict } from "../../workloads.ts";

/**
 * The namespace an object lands in for the purpose of relating it to other objects of the same
 * input set. Objects without metadata.namespace are treated as living in "default": in a file
 * set they all land in whatever namespace kubectl targets (the same one), and in a live cluster
 * every namespaced object has a namespace anyway.
 */
export function effectiveNamespace(object: KubeObject): string {
  const metadata = object.metadata;
  if (isDict(metadata)) {
    const namespace = metadata["namespace"];
    if (typeof namespace === "string" && namespace !== "") return namespace;
  }
  return "default";
}

const NO_OBJECTS: readonly KubeObject[] = Object.freeze([]);

/**
 * An Inventory over a list of objects, indexed once by kind and by kind + namespace so that
 * lookups are a map read. Objects without a namespace are indexed under "default" (see
 * effectiveNamespace). Usable by the engine for `vakt check` file sets (complete = false) and
 * by tests.
 */
export function listInventory(objects: readonly KubeObject[], complete: boolean): Inventory {
  const byKind = new Map<string, KubeObject[]>();
  const byKindNamespace = new Map<string, Map<string, KubeObject[]>>();
  for (const object of objects) {
    const kind = object.kind;
    if (typeof kind !== "string") continue;
    let all = byKind.get(kind);
    if (all === undefined) byKind.set(kind, (all = []));
    all.push(object);
    let namespaces = byKindNamespace.get(kind);
    if (namespaces === undefined) byKindNamespace.set(kind, (namespaces = new Map<string, KubeObject[]>()));
    const namespace = effectiveNamespace(object);
    let list = namespaces.get(namespace);
    if (list === undefined) namespaces.set(namespace, (list = []));
    list.push(object);
  }
  return {
    complete,
    byKind(kind: string, namespace?: string): readonly KubeObject[] {
      if (namespace === undefined) return byKind.get(kind) ?? NO_OBJECTS;
      return byKindNamespace.get(kind)?.get(namespace) ?? NO_OBJECTS;
    },
  };
}

/** An inventory with nothing in it (a single object checked on its own). */
export const EMPTY_INVENTORY: Inventory = listInventory([], false);
