/**
 * Every provider an Environment may name: the served ones (their objects checked by the real
 * CRDs here) and the designed-for ones, refused with what they would build on (docs/adr/0024).
 */
import type { DesignedProvider, Provider } from "../provider.ts";
import { AWS } from "./aws.ts";
import { GCP } from "./gcp.ts";
import { LOCAL } from "./local.ts";

export const PROVIDERS: ReadonlyMap<string, Provider> = new Map([AWS, GCP, LOCAL].map((p) => [p.name, p]));

export const DESIGNED_PROVIDERS: ReadonlyMap<string, DesignedProvider> = new Map(
  (
    [
      {
        name: "azure",
        engine:
          "Cluster API Provider Azure (sigs.k8s.io/cluster-api-provider-azure: AzureManagedControlPlane, AKS)",
        reason:
          "its module is not served to this hub, so no real schema checks what vakt would render for it",
      },
      {
        name: "openstack",
        engine: "Cluster API Provider OpenStack (sigs.k8s.io/cluster-api-provider-openstack), for EU clouds",
        reason:
          "its module is not served to this hub, so no real schema checks what vakt would render for it",
      },
      {
        name: "crossplane",
        engine: "a Crossplane composite resource (cluster, database, buckets, network) of a composition",
        reason:
          "Crossplane's modules are not served to this hub, so no real schema checks what vakt would render",
      },
    ] as const
  ).map((p) => [p.name, p]),
);
