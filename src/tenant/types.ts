/**
 * The Tenant API's TypeScript types. They are computed from the schema in schema.ts (the one
 * definition that also yields the CRD), so the types and the CRD cannot drift. Field docs live
 * in the schema's descriptions (`vakt crds` prints them; `kubectl explain tenant.spec` too).
 */
import type { FieldPath } from "../engine/types.ts";
import type { InputOf, OutputOf } from "./builder.ts";
import type { tenantSpecSchema, tenantStatusSchema } from "./schema.ts";
import type { API_VERSION, TENANT } from "../api/registry.ts";

/** A Tenant's spec as written by a user: defaulted fields may be absent. */
export type TenantSpecInput = InputOf<typeof tenantSpecSchema>;

/** A Tenant's spec after defaulting (what the API server stores and the renderer reads). */
export type TenantSpec = OutputOf<typeof tenantSpecSchema>;

/** What the controller reports in status. */
export type TenantStatus = OutputOf<typeof tenantStatusSchema>;

export type TenantNamespace = TenantSpec["namespaces"][number];
export type TenantFlow = NonNullable<TenantSpec["network"]["flows"]>[number];
export type TenantNamespaceRef = TenantFlow["from"];
export type PostgresService = NonNullable<TenantSpec["services"]["postgresql"]>[number];
export type RabbitmqService = NonNullable<TenantSpec["services"]["rabbitmq"]>[number];
export type RedisService = NonNullable<TenantSpec["services"]["redis"]>[number];

/** A Tenant object (vakt.dev/v1alpha1, cluster-scoped) after defaulting. */
export interface Tenant {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: typeof TENANT.kind;
  readonly metadata: {
    readonly name: string;
    readonly generation?: number;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec: TenantSpec;
  readonly status?: TenantStatus;
}

/** Something wrong with a Tenant, at a field path (["spec", "namespaces", 0, "name"]). */
export interface TenantProblem {
  readonly path: FieldPath;
  readonly message: string;
  /** error: nothing is rendered; warning: rendered, but something will likely not work. */
  readonly severity: "error" | "warning";
}
