import type { FieldPath, KubeObject, Violation } from "../types.ts";
import { containersOf, get, isDict, podTemplateOf } from "../workloads.ts";
import type { ContainerRef, Dict, PodTemplate } from "../workloads.ts";

/**
 * What every Pod Security Standards check looks at: the pod template and its containers (init,
 * regular, ephemeral: the order upstream visits them), with their paths inside the object.
 */
export interface PodView {
  readonly template: PodTemplate;
  /** Path to the pod spec inside the object. */
  readonly specPath: FieldPath;
  readonly spec: Dict;
  readonly containers: readonly ContainerRef[];
}

const CONTAINER_LISTS = ["initContainers", "containers", "ephemeralContainers"] as const;

/**
 * The engine runs every rule on one object before moving to the next, so the view of the last
 * object is kept and reused while the object still has the same template, spec and containers
 * (compared by identity, so an object edited in place between evaluations is re-read).
 */
interface Snapshot {
  readonly object: KubeObject;
  readonly kind: unknown;
  readonly rawTemplate: unknown;
  readonly rawMetadata: unknown;
  readonly rawSpec: unknown;
  /** Per container list: the array (or whatever stands there) and its length. */
  readonly lists: readonly unknown[];
  readonly lengths: readonly number[];
  /** Every item of the three lists in order, and its name. */
  readonly items: readonly unknown[];
  readonly names: readonly unknown[];
  readonly view: PodView;
}

let last: Snapshot | undefined;

/** The pod view of a workload object, or undefined when it carries no pod template. */
export function podViewOf(object: KubeObject): PodView | undefined {
  if (last !== undefined && last.object === object && unchanged(last)) return last.view;
  last = undefined;
  const template = podTemplateOf(object);
  if (template === undefined) return undefined;
  const rawTemplate = template.path.length === 0 ? object : get(object, template.path);
  const spec = template.spec;
  const lists: unknown[] = [];
  const lengths: number[] = [];
  const items: unknown[] = [];
  const names: unknown[] = [];
  for (const list of CONTAINER_LISTS) {
    const value = spec[list];
    lists.push(value);
    lengths.push(Array.isArray(value) ? value.length : -1);
    if (!Array.isArray(value)) continue;
    for (const item of value as readonly unknown[]) {
      items.push(item);
      names.push(isDict(item) ? item["name"] : undefined);
    }
  }
  const view: PodView = {
    template,
    specPath: [...template.path, "spec"],
    spec,
    containers: containersOf(template),
  };
  last = {
    object,
    kind: object.kind,
    rawTemplate,
    rawMetadata: isDict(rawTemplate) ? rawTemplate["metadata"] : undefined,
    rawSpec: isDict(rawTemplate) ? rawTemplate["spec"] : undefined,
    lists,
    lengths,
    items,
    names,
    view,
  };
  return view;
}

function unchanged(snapshot: Snapshot): boolean {
  const { object, view } = snapshot;
  if (object.kind !== snapshot.kind) return false;
  const rawTemplate = view.template.path.length === 0 ? object : get(object, view.template.path);
  if (rawTemplate !== snapshot.rawTemplate || !isDict(rawTemplate)) return false;
  if (rawTemplate["metadata"] !== snapshot.rawMetadata || rawTemplate["spec"] !== snapshot.rawSpec)
    return false;
  let next = 0;
  for (let index = 0; index < CONTAINER_LISTS.length; index++) {
    const value = view.spec[CONTAINER_LISTS[index] ?? ""];
    if (value !== snapshot.lists[index]) return false;
    if (!Array.isArray(value)) continue;
    if (value.length !== snapshot.lengths[index]) return false;
    for (const item of value as readonly unknown[]) {
      if (item !== snapshot.items[next]) return false;
      if (isDict(item) && item["name"] !== snapshot.names[next]) return false;
      next++;
    }
  }
  return true;
}

/** spec.securityContext, or undefined when absent or null. */
export function podSecurityContextOf(view: PodView): Dict | undefined {
  return dictOrUndefined(view.spec["securityContext"]);
}

/** spec.os.name is exactly "windows" (upstream compares with corev1.Windows). */
export function isWindowsPod(view: PodView): boolean {
  const os = view.spec["os"];
  return isDict(os) && os["name"] === "windows";
}

/** spec.hostUsers is explicitly false: the pod runs in its own user namespace. */
export function inUserNamespace(view: PodView): boolean {
  return view.spec["hostUsers"] === false;
}

/** A Go pointer field is set when present and not null. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function dictOrUndefined(value: unknown): Dict | undefined {
  return isDict(value) ? value : undefined;
}

/** container.securityContext, or undefined when absent or null. */
export function securityContextOf(container: ContainerRef): Dict | undefined {
  return dictOrUndefined(container.container["securityContext"]);
}

/** `container "app"`, `init container "setup"`, `ephemeral container "debug"`. */
export function describeContainer(container: ContainerRef): string {
  const name = JSON.stringify(container.name);
  switch (container.kind) {
    case "initContainers":
      return `init container ${name}`;
    case "ephemeralContainers":
      return `ephemeral container ${name}`;
    default:
      return `container ${name}`;
  }
}

/** Path to a field under a container. */
export function containerField(container: ContainerRef, ...rest: readonly (string | number)[]): FieldPath {
  return [...container.path, ...rest];
}

/** Path to a field under the pod spec. */
export function specField(view: PodView, ...rest: readonly (string | number)[]): FieldPath {
  return [...view.specPath, ...rest];
}

/** Path to a pod template annotation. */
export function annotationField(view: PodView, key: string): FieldPath {
  return [...view.template.path, "metadata", "annotations", key];
}

/** A string as Go would hold it: null/absent is "", anything else its JSON text. */
export function goString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  return JSON.stringify(value);
}

export const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);
