/**
 * The pure core of a restore drill: what a Velero backup says it holds (its tarball, read from the
 * off-site copy), and the comparison of that with what a restore brought back. No I/O: the drill
 * (drill.ts) reads the tarball and the restored objects and hands them here.
 *
 * What is compared, per object: kind (API resource), namespace (mapped to the scratch namespace),
 * name, and a SHA-256 of its content: the whole object without metadata, status, apiVersion and
 * kind (so a ConfigMap's or Secret's data and type, a Deployment's spec, a Role's rules, a
 * RoleBinding's roleRef and subjects). Fields Velero changes on restore by design are left out of
 * the hash (a Service's cluster IPs and node ports), and a RoleBinding's subject namespaces are
 * mapped as Velero maps them.
 *
 * Not compared: objects with ownerReferences (ReplicaSets, Pods, EndpointSlices: their controllers
 * make them again), kinds Velero never restores (events), and the kinds the drill excludes from
 * the restore so that it touches nothing outside the scratch namespace (Ingresses, cert-manager
 * Certificates and their ACME requests).
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";

/** Resources (as Velero names them: plural.group) the drill leaves out of the restore. */
export const DRILL_EXCLUDED_RESOURCES: readonly string[] = [
  "ingresses.networking.k8s.io",
  "certificates.cert-manager.io",
  "certificaterequests.cert-manager.io",
  "orders.acme.cert-manager.io",
  "challenges.acme.cert-manager.io",
];

/** Resources Velero does not restore, whatever the restore says. */
const NEVER_RESTORED = new Set(["events", "events.events.k8s.io"]);

export interface BackedUpObject {
  /** Velero's name for the resource: plural, or plural.group. */
  readonly resource: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly sha256: string;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted: the same content hashes the same whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .filter((key) => value[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(",")}}`;
  return value === undefined ? "null" : JSON.stringify(value);
}

/**
 * The content of an object the drill compares, with `namespaces` mapping source namespaces to
 * scratch ones where Velero maps them inside an object.
 */
export function contentHash(object: JsonObject, namespaces?: ReadonlyMap<string, string>): string {
  const content: JsonObject = { ...object };
  delete content["metadata"];
  delete content["status"];
  delete content["apiVersion"];
  delete content["kind"];
  const kind = object["kind"];
  if (kind === "Service" && isObject(content["spec"])) {
    const spec: JsonObject = { ...content["spec"] };
    delete spec["clusterIP"];
    delete spec["clusterIPs"];
    if (Array.isArray(spec["ports"]))
      spec["ports"] = spec["ports"].map((port: unknown) => {
        if (!isObject(port)) return port;
        const copy = { ...port };
        delete copy["nodePort"];
        return copy;
      });
    content["spec"] = spec;
  }
  if (kind === "RoleBinding" && Array.isArray(content["subjects"]) && namespaces !== undefined)
    content["subjects"] = content["subjects"].map((subject: unknown) => {
      if (!isObject(subject) || typeof subject["namespace"] !== "string") return subject;
      return { ...subject, namespace: namespaces.get(subject["namespace"]) ?? subject["namespace"] };
    });
  return createHash("sha256").update(canonical(content)).digest("hex");
}

/** The files of a tar archive (ustar, with PAX long names as Go's archive/tar writes them). */
export function* tarEntries(tar: Buffer): Generator<{ readonly name: string; readonly data: Buffer }> {
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) return;
    const field = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const size = parseInt(field(124, 12).trim() || "0", 8);
    if (Number.isNaN(size)) throw new Error(`tar header at byte ${String(offset)} has no valid size`);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = prefix === "" ? field(0, 100) : `${prefix}/${field(0, 100)}`;
    const dataStart = offset + 512;
    const data = tar.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (type === "x") {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      longName = path?.[1];
      continue;
    }
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0.*$/s, "");
      continue;
    }
    const entryName = longName ?? name;
    longName = undefined;
    if (type === "0" || type === "" || type === "\0") yield { name: entryName, data };
  }
}

const RESOURCE_PATH = /^resources\/([^/]+)\/(?:[^/]+-preferredversion\/)?namespaces\/([^/]+)\/([^/]+)\.json$/;

/**
 * What a backup tarball (gzip, as Velero writes it) holds in `namespaces` that a drill's restore
 * must bring back: one entry per object, the objects' own controllers' children and the excluded
 * kinds left out (see the module comment).
 */
export function backupInventory(
  tarball: Buffer,
  options: { readonly namespaces?: ReadonlyMap<string, string> } = {},
): BackedUpObject[] {
  const excluded = new Set([...DRILL_EXCLUDED_RESOURCES, ...NEVER_RESTORED]);
  const byKey = new Map<string, BackedUpObject>();
  for (const entry of tarEntries(gunzipSync(tarball))) {
    const match = RESOURCE_PATH.exec(entry.name);
    if (match === null) continue;
    const [, resource = "", namespace = ""] = match;
    if (excluded.has(resource)) continue;
    if (options.namespaces !== undefined && !options.namespaces.has(namespace)) continue;
    let object: unknown;
    try {
      object = JSON.parse(entry.data.toString("utf8"));
    } catch {
      throw new Error(`the backup's ${entry.name} is not JSON`);
    }
    if (!isObject(object)) continue;
    const metadata = isObject(object["metadata"]) ? object["metadata"] : {};
    const owners = metadata["ownerReferences"];
    if (Array.isArray(owners) && owners.length > 0) continue;
    const name = typeof metadata["name"] === "string" ? metadata["name"] : "";
    const key = `${resource}/${namespace}/${name}`;
    // The plain path and the preferred-version path hold the same object; one entry.
    if (byKey.has(key) && entry.name.includes("-preferredversion/")) continue;
    byKey.set(key, {
      resource,
      apiVersion: typeof object["apiVersion"] === "string" ? object["apiVersion"] : "v1",
      kind: typeof object["kind"] === "string" ? object["kind"] : resource,
      namespace,
      name,
      sha256: contentHash(object, options.namespaces),
    });
  }
  return [...byKey.values()].sort((a, b) =>
    `${a.resource}/${a.namespace}/${a.name}`.localeCompare(`${b.resource}/${b.namespace}/${b.name}`),
  );
}

export interface DrillComparison {
  readonly expected: number;
  readonly restored: number;
  /** kind namespace/name (source namespace) of each object that did not come back. */
  readonly missing: readonly string[];
  /** Objects that came back with other content than the backup holds. */
  readonly changed: readonly string[];
}

/** How an object is named in a drill's result: Kind namespace/name (the source namespace). */
export function describeObject(object: Pick<BackedUpObject, "kind" | "namespace" | "name">): string {
  return `${object.kind} ${object.namespace}/${object.name}`;
}

/**
 * What came back against what the backup holds. `restored` gives, for each backed-up object, the
 * restored object (in its scratch namespace) or undefined when there is none.
 */
export function compareRestore(
  expected: readonly BackedUpObject[],
  restored: (object: BackedUpObject) => JsonObject | undefined,
): DrillComparison {
  const missing: string[] = [];
  const changed: string[] = [];
  let count = 0;
  for (const object of expected) {
    const back = restored(object);
    if (back === undefined) {
      missing.push(describeObject(object));
      continue;
    }
    count++;
    // The restored object is already in the scratch namespace: no mapping on its side.
    if (contentHash(back) !== object.sha256) changed.push(describeObject(object));
  }
  return { expected: expected.length, restored: count, missing, changed };
}
