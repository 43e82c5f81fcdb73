/**
 * What the controller knows about the children of each Tenant: kind, place, owner and a
 * fingerprint of their content, fed by the child watches and by the controller's own applies.
 * Only a lean index (no object bodies), rebuilt from the API server after a restart; it serves
 * pruning (which children exist that are no longer rendered) and drift detection (a watch event
 * whose fingerprint differs from the last known one was caused by someone else).
 */
import { createHash } from "node:crypto";
import { TENANT_LABEL } from "../tenant/render.ts";
import type { Json } from "./kube.ts";

export interface ChildEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** uid of the controlling owner, if any. */
  readonly ownerUid?: string;
  readonly deleting: boolean;
  readonly fingerprint: string;
}

export function childKey(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return `${apiVersion}|${kind}|${namespace ?? ""}|${name}`;
}

/** A hash of what an object says, without what the API server or other controllers write. */
export function fingerprint(object: Json): string {
  const metadata = { ...(object["metadata"] as Json | undefined) };
  delete metadata["resourceVersion"];
  delete metadata["managedFields"];
  delete metadata["generation"];
  const rest: Json = { ...object, metadata };
  delete rest["status"];
  // Top-level and metadata keys sorted: list items get apiVersion/kind added by the reflector in
  // another order than the API server writes them, and the same object must hash the same.
  const sorted = (record: Json): Json =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  const canonical = sorted({ ...rest, metadata: sorted(metadata) });
  return createHash("sha1").update(JSON.stringify(canonical)).digest("base64").slice(0, 20);
}

export function entryOf(object: Json): { tenant: string; key: string; entry: ChildEntry } | undefined {
  const metadata = (object["metadata"] ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
  const tenant = metadata.labels?.[TENANT_LABEL];
  if (tenant === undefined || metadata.name === undefined) return undefined;
  const apiVersion = String(object["apiVersion"]);
  const kind = String(object["kind"]);
  const owner = metadata.ownerReferences?.find((reference) => reference.controller === true);
  return {
    tenant,
    key: childKey(apiVersion, kind, metadata.namespace, metadata.name),
    entry: {
      apiVersion,
      kind,
      ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
      name: metadata.name,
      ...(owner === undefined ? {} : { ownerUid: owner.uid }),
      deleting: metadata.deletionTimestamp !== undefined,
      fingerprint: fingerprint(object),
    },
  };
}

/**
 * Whether the last write to an object's main resource was vakt's own apply (managedFields:
 * the newest entry that is not a status subresource). The watch event of our own apply often
 * arrives before the apply's response is recorded; without this check every apply would
 * schedule a second, useless reconcile of its tenant. On a tie with another writer, not ours.
 */
export function writtenBy(object: Json, manager: string): boolean {
  const metadata = (object["metadata"] ?? {}) as {
    managedFields?: { manager?: string; operation?: string; time?: string; subresource?: string }[];
  };
  const entries = (metadata.managedFields ?? []).filter(
    (f) => f.subresource === undefined || f.subresource === "",
  );
  let latest = "";
  for (const entry of entries) if ((entry.time ?? "") > latest) latest = entry.time ?? "";
  const newest = entries.filter((entry) => (entry.time ?? "") === latest);
  return (
    newest.length > 0 && newest.every((entry) => entry.manager === manager && entry.operation === "Apply")
  );
}

export class ChildIndex {
  readonly #byTenant = new Map<string, Map<string, ChildEntry>>();

  /** Records an object; returns its tenant and whether it differs from what was known. */
  upsert(object: Json): { tenant: string; changed: boolean } | undefined {
    const found = entryOf(object);
    if (found === undefined) return undefined;
    let children = this.#byTenant.get(found.tenant);
    if (children === undefined) {
      children = new Map();
      this.#byTenant.set(found.tenant, children);
    }
    const previous = children.get(found.key);
    children.set(found.key, found.entry);
    return { tenant: found.tenant, changed: previous?.fingerprint !== found.entry.fingerprint };
  }

  remove(object: Json): string | undefined {
    const found = entryOf(object);
    if (found === undefined) return undefined;
    const children = this.#byTenant.get(found.tenant);
    children?.delete(found.key);
    if (children?.size === 0) this.#byTenant.delete(found.tenant);
    return found.tenant;
  }

  get(tenant: string, key: string): ChildEntry | undefined {
    return this.#byTenant.get(tenant)?.get(key);
  }

  children(tenant: string): [string, ChildEntry][] {
    return [...(this.#byTenant.get(tenant) ?? new Map<string, ChildEntry>())];
  }

  /** Every known child of one kind (for re-listing after a watch expired). */
  ofKind(apiVersion: string, kind: string): { tenant: string; key: string }[] {
    const result: { tenant: string; key: string }[] = [];
    for (const [tenant, children] of this.#byTenant)
      for (const [key, entry] of children)
        if (entry.apiVersion === apiVersion && entry.kind === kind) result.push({ tenant, key });
    return result;
  }

  delete(tenant: string, key: string): void {
    const children = this.#byTenant.get(tenant);
    children?.delete(key);
    if (children?.size === 0) this.#byTenant.delete(tenant);
  }

  get size(): number {
    let n = 0;
    for (const children of this.#byTenant.values()) n += children.size;
    return n;
  }
}
