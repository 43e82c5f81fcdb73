/**
 * The provider interface: what the fleet needs of each place a cluster can run. A provider knows
 * its regions (residency.ts), what its machine types look like, the checks only it can make, the
 * objects its provisioning engine needs for an Environment, and how to read that engine's progress
 * back. The fleet controller knows nothing else about providers, so Cluster API's Azure and
 * OpenStack providers, or Crossplane compositions, are one more entry here (docs/adr/0024).
 *
 * A provider is served only when the schemas of the objects it renders are checked by the real
 * CRDs on this machine (test/integration/fleet-capi-schemas.test.ts). Designed-for providers are
 * listed with what they would build on and are refused with that reason.
 */
import type { FieldPath, KubeObject } from "../engine/types.ts";
import type { ProviderName } from "./schema.ts";
import type { RegionProvider } from "./residency.ts";
import type { Environment, EnvironmentProblem } from "./types.ts";

export interface ObjectKind {
  readonly apiVersion: string;
  readonly kind: string;
}

export interface ObjectRef extends ObjectKind {
  readonly namespace: string;
  readonly name: string;
}

/** What a provider's machine type names look like. */
export interface MachineTypes {
  /** A valid name, for messages. */
  readonly example: string;
  /** The family of a machine type ("m7i" of "m7i.large"), or undefined when the name has not the provider's shape. */
  family(type: string): string | undefined;
  /** Families the provider offers. */
  readonly families: ReadonlySet<string>;
}

/** A condition as an engine reports it, reduced to what the Environment's status repeats. */
export interface ProgressCondition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

/** How provisioning goes, read from the engine's own object. */
export interface Progress {
  /** The engine's phase (Cluster API: Pending, Provisioning, Provisioned, Deleting, Failed). */
  readonly phase: string;
  /** The engine says the cluster is available. */
  readonly available: ProgressCondition;
  /** Other conditions worth repeating, in the engine's words. */
  readonly conditions: readonly ProgressCondition[];
}

/** One standalone cluster's objects for a provider's engine. */
export interface Rendered {
  /** The hub namespace the engine's objects live in (created first, owned by the Environment). */
  readonly namespace: string;
  /** The engine's objects in apply order; each carries the Environment's label. */
  readonly objects: readonly KubeObject[];
  /** The object whose status says how provisioning goes; absent when the engine has none yet. */
  readonly progress?: ObjectRef;
  /** Where the engine writes the new cluster's kubeconfig (Cluster API: Secret <cluster>-kubeconfig). */
  readonly kubeconfigSecret?: { readonly namespace: string; readonly name: string; readonly key: string };
}

export interface Provider {
  readonly name: Extract<ProviderName, RegionProvider>;
  /** "Amazon EKS through Cluster API Provider AWS (CAPA)". */
  readonly title: string;
  readonly machineTypes: MachineTypes;
  /** Checks only this provider can make (a GCP project, one machine type per GKE pool). */
  validate(environment: Environment): EnvironmentProblem[];
  /** The objects of a valid Environment; pure and deterministic. */
  render(environment: Environment): Rendered;
  /** Every kind `render` can produce: the controller watches them for drift and prunes them. */
  readonly kinds: readonly ObjectKind[];
  /** Reads the progress object (its whole JSON, status included). */
  progress(object: Readonly<Record<string, unknown>>): Progress;
}

/** A provider designed for but not served here: what it would build on, why it is refused. */
export interface DesignedProvider {
  readonly name: Exclude<ProviderName, RegionProvider>;
  readonly engine: string;
  readonly reason: string;
}

export function problem(
  path: FieldPath,
  message: string,
  kind: EnvironmentProblem["kind"] = "spec",
): EnvironmentProblem {
  return { path, message, kind };
}
