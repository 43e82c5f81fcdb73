import type { FieldPath, Violation } from "../types.ts";
import { isDict } from "../workloads.ts";
import type { ContainerRef, Dict, PodView } from "../workloads.ts";

export type { PodView } from "../workloads.ts";

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
