/**
 * The Environment API's TypeScript types, computed from the schema in schema.ts (the one
 * definition that also yields the CRD).
 */
import type { FieldPath } from "../engine/types.ts";
import type { InputOf, OutputOf } from "../tenant/builder.ts";
import type { environmentSpecSchema, environmentStatusSchema } from "./schema.ts";
import type { API_VERSION, ENVIRONMENT } from "../api/registry.ts";

/** An Environment's spec as written: defaulted fields may be absent. */
export type EnvironmentSpecInput = InputOf<typeof environmentSpecSchema>;

/** An Environment's spec after defaulting (what the API server stores). */
export type EnvironmentSpec = OutputOf<typeof environmentSpecSchema>;

export type EnvironmentStatus = OutputOf<typeof environmentStatusSchema>;

export type NodePool = EnvironmentSpec["nodePools"][number];

/** An Environment object (vakt.dev/v1alpha1, cluster-scoped) after defaulting. */
export interface Environment {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof ENVIRONMENT.kind;
  readonly metadata: {
    readonly name: string;
    readonly generation?: number;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: EnvironmentSpec;
  readonly status?: EnvironmentStatus;
}

/**
 * Something wrong with an Environment, at a field path. `residency`: data would leave the
 * jurisdiction (GDPR Chapter V); `spec`: the environment cannot be built as written.
 */
export interface EnvironmentProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly kind: "spec" | "residency";
}
