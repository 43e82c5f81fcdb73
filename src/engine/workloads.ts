import type { FieldPath, KubeObject, ObjectView } from "./types.ts";

/** Kinds whose objects carry a pod template (or are a Pod), and where it sits. */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  PodTemplate: ["template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

export const WORKLOAD_KINDS: readonly string[] = Object.keys(POD_SPEC_PATHS);

export type Dict = Readonly<Record<string, unknown>>;

export function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path`, or undefined when any step is missing or of the wrong type. */
export function get(value: unknown, path: FieldPath): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isDict(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}

export function dictAt(value: unknown, path: FieldPath): Dict | undefined {
  const found = get(value, path);
  return isDict(found) ? found : undefined;
}

export function arrayAt(value: unknown, path: FieldPath): readonly unknown[] {
  const found = get(value, path);
  return Array.isArray(found) ? found : [];
}

export function stringAt(value: unknown, path: FieldPath): string | undefined {
  const found = get(value, path);
  return typeof found === "string" ? found : undefined;
}

/** A pod template (or a Pod) found inside an object. */
export interface PodTemplate {
  /** Path to the template object (holding `metadata` and `spec`); [] for a Pod. */
  readonly path: FieldPath;
  readonly metadata: Dict;
  readonly spec: Dict;
}

/** The pod template of a workload object, or undefined for kinds that have none. */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  if (typeof object.kind !== "string") return undefined;
  const path = POD_SPEC_PATHS[object.kind];
  if (path === undefined) return undefined;
  const template = path.length === 0 ? object : dictAt(object, path);
  if (template === undefined) return undefined;
  return {
    path,
    metadata: dictAt(template, ["metadata"]) ?? {},
    spec: dictAt(template, ["spec"]) ?? {},
  };
}

export type ContainerKind = "containers" | "initContainers" | "ephemeralContainers";

export interface ContainerRef {
  readonly kind: ContainerKind;
  readonly name: string;
  readonly container: Dict;
  /** Path to the container inside the object. */
  readonly path: FieldPath;
}

/** Every container of a pod template: regular, init and ephemeral. */
export function containersOf(template: PodTemplate): ContainerRef[] {
  const result: ContainerRef[] = [];
  for (const kind of ["initContainers", "containers", "ephemeralContainers"] as const) {
    arrayAt(template.spec, [kind]).forEach((container, index) => {
      if (!isDict(container)) return;
      const name = typeof container["name"] === "string" ? container["name"] : `#${index}`;
      result.push({ kind, name, container, path: [...template.path, "spec", kind, index] });
    });
  }
  return result;
}

export interface ObjectMeta {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** metadata.name / namespace / labels / annotations of any object, tolerant of bad shapes. */
export function metaOf(object: KubeObject): ObjectMeta {
  const raw = object.metadata;
  const metadata = isDict(raw) ? raw : {};
  return {
    name: typeof metadata["name"] === "string" ? metadata["name"] : undefined,
    namespace: typeof metadata["namespace"] === "string" ? metadata["namespace"] : undefined,
    labels: stringMap(metadata["labels"]),
    annotations: stringMap(metadata["annotations"]),
  };
}

function stringMap(value: unknown): Readonly<Record<string, string>> {
  if (!isDict(value)) return {};
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === "string") result[key] = item;
  return result;
}

/**
 * What every rule on a workload looks at: the pod template and its containers (init, regular,
 * ephemeral: the order upstream's Pod Security checks visit them), with their paths inside the
 * object.
 */
export interface PodView {
  readonly template: PodTemplate;
  /** Path to the pod spec inside the object. */
  readonly specPath: FieldPath;
  readonly spec: Dict;
  readonly containers: readonly ContainerRef[];
}

/** The pod view of a pod template. */
export function podViewOf(template: PodTemplate): PodView {
  return {
    template,
    specPath: [...template.path, "spec"],
    spec: template.spec,
    containers: containersOf(template),
  };
}

/** ObjectView with the metadata read on first use: few rules read it, the pod view most do. */
class View implements ObjectView {
  readonly #object: KubeObject;
  #meta: ObjectMeta | undefined;
  readonly pod: PodView | undefined;

  constructor(object: KubeObject, template: PodTemplate | undefined) {
    this.#object = object;
    this.pod = template === undefined ? undefined : podViewOf(template);
  }

  get meta(): ObjectMeta {
    return (this.#meta ??= metaOf(this.#object));
  }
}

/** The view of `object` that rules share (`template`: its podTemplateOf, when already read). */
export function objectView(
  object: KubeObject,
  template: PodTemplate | undefined = podTemplateOf(object),
): ObjectView {
  return new View(object, template);
}

/** Pod spec fields that rules relating a workload to other objects read (Rule.inventoryKinds). */
const RELATIONAL_SPEC_FIELDS = ["automountServiceAccountToken", "serviceAccountName", "serviceAccount"];

/**
 * The part of a workload that the rules relating it to other objects read: apiVersion, kind,
 * metadata, spec.replicas, and of its pod template the metadata and the service account
 * fields, at their own paths. `vakt check` keeps this instead of the whole object until every
 * input has been read (a test holds each such rule to the same findings on it as on the whole
 * object). Objects without a pod template are returned as they are.
 */
export function relationalView(object: KubeObject): KubeObject {
  const template = podTemplateOf(object);
  if (template === undefined) return object;
  const spec: Record<string, unknown> = {};
  for (const field of RELATIONAL_SPEC_FIELDS)
    if (template.spec[field] !== undefined) spec[field] = template.spec[field];
  const view: Record<string, unknown> = { apiVersion: object.apiVersion, kind: object.kind };
  if (object.metadata !== undefined) view["metadata"] = object.metadata;
  if (template.path.length === 0) {
    view["spec"] = spec;
    return view;
  }
  const replicas = dictAt(object, ["spec"])?.["replicas"];
  if (replicas !== undefined) setAt(view, ["spec", "replicas"], replicas);
  const rawMetadata = dictAt(object, template.path)?.["metadata"];
  setAt(view, template.path, rawMetadata === undefined ? { spec } : { metadata: rawMetadata, spec });
  return view;
}

/** Sets `value` at `path` (keys only) in `root`, creating dictionaries on the way. */
function setAt(root: Record<string, unknown>, path: FieldPath, value: unknown): void {
  let current = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = String(path[i]);
    let next = current[key];
    if (!isDict(next)) current[key] = next = {};
    current = next as Record<string, unknown>;
  }
  current[String(path[path.length - 1])] = value;
}
