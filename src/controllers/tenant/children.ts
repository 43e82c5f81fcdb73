/**
 * What the controller knows about the children of each Tenant: kind, place, owner and which
 * fields vakt owns in them, fed by the child watches and by the controller's own applies.
 * Only a lean index (no object bodies), rebuilt from the API server after a restart; it serves
 * pruning (which children exist that are no longer rendered), drift detection and skipping
 * applies that would change nothing.
 *
 * Drift is read from server-side apply's own bookkeeping rather than from object bodies: a write
 * by anyone else that changes a field vakt applied takes that field out of vakt's entry in
 * managedFields (an update that sets another value makes its writer the field's only owner; a
 * forced apply takes the field over). So "vakt's owned fields are no longer what its last apply
 * left" means someone changed what vakt manages, while status updates, other controllers'
 * bookkeeping and fields vakt does not set leave it alone. Watches and apply responses therefore
 * need metadata only (`as=PartialObjectMetadata`): no spec or status is sent, parsed or hashed.
 */
import { createHash } from "node:crypto";
import { TENANT_LABEL } from "../../tenant/render.ts";
import type { Json } from "../../kube/client.ts";
import { FIELD_MANAGER } from "../../kube/apply.ts";

export interface ObjectType {
  readonly apiVersion: string;
  readonly kind: string;
}

export interface ChildEntry {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** uid of the controlling owner, if any. */
  readonly ownerUid?: string;
  readonly deleting: boolean;
  /** Hash of the object's uid and the fields vakt owns by apply ("" when it owns none). */
  readonly owned: string;
  /**
   * What vakt last applied to this object (a hash of the request) and what it owned right after.
   * While both still hold, applying the same again would change nothing.
   */
  readonly applied?: { readonly hash: string; readonly owned: string };
}

/** An object of a child watch, reduced to its index entry. */
export interface ChildObservation {
  readonly tenant: string;
  readonly key: string;
  readonly entry: ChildEntry;
  /** The newest write to the object's main resource was vakt's apply (see `writtenBy`). */
  readonly ours: boolean;
}

export function childKey(
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return `${apiVersion}|${kind}|${namespace ?? ""}|${name}`;
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

function managedFields(object: Json): ManagedFieldsEntry[] {
  const metadata = (object["metadata"] ?? {}) as { managedFields?: ManagedFieldsEntry[] };
  return metadata.managedFields ?? [];
}

/**
 * A hash of the fields `manager` owns by apply in the object's main resource (not status), with
 * the object's uid; "" when it owns none. The API server serializes fieldsV1 in a fixed order.
 */
export function ownedFields(object: Json, manager: string = FIELD_MANAGER): string {
  const entry = managedFields(object).find(
    (f) =>
      f.manager === manager &&
      f.operation === "Apply" &&
      (f.subresource === undefined || f.subresource === ""),
  );
  if (entry === undefined) return "";
  const uid = ((object["metadata"] ?? {}) as { uid?: string }).uid ?? "";
  return createHash("sha1")
    .update(uid)
    .update(JSON.stringify(entry.fieldsV1 ?? {}))
    .digest()
    .toString("base64", 0, 15);
}

/** A hash of a request body as sent (the rendered object as vakt applies it, as JSON). */
export function hashOf(json: string): string {
  // 15 bytes give 20 base64 characters; taken from the digest, not sliced from a longer string
  // (a slice would keep the longer string alive for as long as the index keeps the hash).
  return createHash("sha1").update(json).digest().toString("base64", 0, 15);
}

/** One copy of each apiVersion and kind string, however many children and events carry them. */
const interned = new Map<string, string>();
function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < 1_000) interned.set(value, value);
  return value;
}

/**
 * The index entry of a child. Metadata-only objects (PartialObjectMetadata) do not say what they
 * are: `type` does.
 */
export function entryOf(object: Json, type?: ObjectType): ChildObservation | undefined {
  const metadata = (object["metadata"] ?? {}) as {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
  const tenant = metadata.labels?.[TENANT_LABEL];
  if (tenant === undefined || metadata.name === undefined) return undefined;
  const apiVersion = intern(type?.apiVersion ?? String(object["apiVersion"]));
  const kind = intern(type?.kind ?? String(object["kind"]));
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
      owned: ownedFields(object),
    },
    ours: writtenBy(object, FIELD_MANAGER),
  };
}

/**
 * Whether the last write to an object's main resource was vakt's own apply (managedFields:
 * the newest entry that is not a status subresource). The watch event of our own apply often
 * arrives before the apply's response is recorded; without this check every apply would
 * schedule a second, useless reconcile of its tenant. On a tie with another writer, not ours.
 */
export function writtenBy(object: Json, manager: string): boolean {
  const entries = managedFields(object).filter((f) => f.subresource === undefined || f.subresource === "");
  let latest = "";
  for (const entry of entries) if ((entry.time ?? "") > latest) latest = entry.time ?? "";
  const newest = entries.filter((entry) => (entry.time ?? "") === latest);
  return (
    newest.length > 0 && newest.every((entry) => entry.manager === manager && entry.operation === "Apply")
  );
}

export class ChildIndex {
  readonly #byTenant = new Map<string, Map<string, ChildEntry>>();

  /** Records an observed object; returns its tenant and whether it differs from what was known. */
  observe(found: ChildObservation): { tenant: string; changed: boolean } {
    return this.#record(found, undefined);
  }

  /** Records an object; returns its tenant and whether it differs from what was known. */
  upsert(object: Json, type?: ObjectType): { tenant: string; changed: boolean } | undefined {
    const found = entryOf(object, type);
    return found === undefined ? undefined : this.#record(found, undefined);
  }

  /** Records the object (or its metadata) an apply of `hash` returned. */
  applied(object: Json, hash: string, type?: ObjectType): { tenant: string; changed: boolean } | undefined {
    const found = entryOf(object, type);
    return found === undefined ? undefined : this.#record(found, hash);
  }

  #record(found: ChildObservation, appliedHash: string | undefined): { tenant: string; changed: boolean } {
    let children = this.#byTenant.get(found.tenant);
    if (children === undefined) {
      children = new Map();
      this.#byTenant.set(found.tenant, children);
    }
    const previous = children.get(found.key);
    const next = found.entry;
    const changed = previous?.owned !== next.owned;
    // What vakt applied stays known across watch events: they say what the object is now.
    const applied = appliedHash === undefined ? previous?.applied : { hash: appliedHash, owned: next.owned };
    // Most events repeat what is known (our own apply seen again, a status update): the entry
    // is kept rather than replaced, so the index does not churn with every event.
    if (
      previous !== undefined &&
      !changed &&
      previous.deleting === next.deleting &&
      previous.ownerUid === next.ownerUid &&
      previous.applied?.hash === applied?.hash &&
      previous.applied?.owned === applied?.owned
    )
      return { tenant: found.tenant, changed };
    children.set(found.key, applied === undefined ? next : { ...next, applied });
    return { tenant: found.tenant, changed };
  }

  /**
   * Applying `hash` to this child would change nothing: vakt applied exactly that, and nothing
   * seen since took any of its fields from vakt. A deleted, edited or never applied child is
   * not up to date.
   */
  upToDate(tenant: string, key: string, hash: string): boolean {
    const entry = this.#byTenant.get(tenant)?.get(key);
    return (
      entry !== undefined &&
      !entry.deleting &&
      entry.owned !== "" &&
      entry.applied?.hash === hash &&
      entry.applied.owned === entry.owned
    );
  }

  /** Whether someone changed fields vakt applied to this child since its last apply. */
  drifted(tenant: string, key: string): boolean {
    const entry = this.#byTenant.get(tenant)?.get(key);
    return entry?.applied !== undefined && entry.applied.owned !== entry.owned;
  }

  remove(object: Json, type?: ObjectType): string | undefined {
    const found = entryOf(object, type);
    if (found === undefined) return undefined;
    this.delete(found.tenant, found.key);
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
