import { arrayAt, isDict, type Dict } from "../../workloads.ts";

/** metadata of an object as a dict ({} when missing or malformed). */
export function metadataOf(object: unknown): Dict {
  if (!isDict(object)) return {};
  const metadata = object["metadata"];
  return isDict(metadata) ? metadata : {};
}

/** A string entry of metadata.labels / metadata.annotations (any shape tolerated). */
export function stringEntry(map: unknown, key: string): string | undefined {
  if (!isDict(map) || !Object.hasOwn(map, key)) return undefined;
  const value = map[key];
  return typeof value === "string" ? value : undefined;
}

export function annotationOf(object: unknown, key: string): string | undefined {
  return stringEntry(metadataOf(object)["annotations"], key);
}

/** metadata.name, or a placeholder for messages. */
export function nameOf(object: unknown): string {
  const name = metadataOf(object)["name"];
  return typeof name === "string" && name !== "" ? name : "(unnamed)";
}

/** Whether metadata.ownerReferences names an owner of `kind`. */
export function isOwnedBy(object: unknown, kind: string): boolean {
  for (const owner of arrayAt(metadataOf(object), ["ownerReferences"])) {
    if (isDict(owner) && owner["kind"] === kind) return true;
  }
  return false;
}

/** A non-negative integer value, or undefined. */
export function integerOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

/** "a", "b" and "c" → `"a", "b", "c"` for messages. */
export function quoteList(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(", ");
}
