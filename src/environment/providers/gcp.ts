/**
 * Google Cloud: a regional GKE cluster through Cluster API Provider GCP (CAPG) v1.13, as its
 * "gke" flavour builds one: Cluster -> GCPManagedCluster (project, region, VPC) +
 * GCPManagedControlPlane (the GKE cluster), and per node pool a MachinePool ->
 * GCPManagedMachinePool (a GKE node pool). CAPG's kinds are at its own v1beta1.
 *
 * GKE counts a regional pool's nodes per zone: min and max are spread over the pool's zones
 * (validate refuses totals that no whole per-zone number fits).
 */
import { clusterProgress, managedClusterKinds, renderManagedCluster } from "../cluster-api.ts";
import type { ManagedClusterKinds } from "../cluster-api.ts";
import { problem } from "../provider.ts";
import type { MachineTypes, Provider, Rendered } from "../provider.ts";
import type { Environment, EnvironmentProblem } from "../types.ts";

const INFRASTRUCTURE_VERSION = "infrastructure.cluster.x-k8s.io/v1beta1";

/** Compute Engine machine families (general purpose, compute, memory, accelerator optimized). */
const FAMILIES = new Set(
  "e2 n1 n2 n2d n4 c2 c2d c3 c3d c4 c4a c4d t2a t2d m1 m2 m3 a2 a3 g2 h3 z3 f1 g1".split(" "),
);

const MACHINE_TYPE =
  /^([a-z][0-9][a-z]?)-(?:(?:standard|highmem|highcpu|megamem|ultramem|hypermem|highgpu|megagpu|ultragpu|edgegpu)-[0-9]+(?:g|-lssd)?|custom-[0-9]+-[0-9]+(?:-ext)?|micro|small|medium)$/;

const machineTypes: MachineTypes = {
  example: "n2-standard-4",
  family: (type) => MACHINE_TYPE.exec(type)?.[1],
  families: FAMILIES,
};

/** GKE cluster and node pool names: a letter first (a DNS label may start with a digit). */
const GKE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Per-zone bounds of a pool: the totals spread over its zones. */
function perZone(min: number, max: number, zones: number): { min: number; max: number } {
  return { min: Math.ceil(min / zones), max: Math.floor(max / zones) };
}

function validate(environment: Environment): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  const spec = environment.spec;
  if (spec.gcp === undefined)
    problems.push(
      problem(
        ["spec", "gcp"],
        "a gcp environment needs spec.gcp.project: the customer's Google Cloud project id",
      ),
    );
  if (spec.aws !== undefined)
    problems.push(problem(["spec", "aws"], "AWS settings on a gcp environment: remove spec.aws"));
  if (!GKE_NAME.test(environment.metadata.name))
    problems.push(
      problem(
        ["metadata", "name"],
        `"${environment.metadata.name}" cannot name a GKE cluster (it must start with a letter): rename the environment`,
      ),
    );
  spec.nodePools.forEach((pool, index) => {
    const path = ["spec", "nodePools", index];
    if (!GKE_NAME.test(pool.name))
      problems.push(
        problem(
          [...path, "name"],
          `"${pool.name}" cannot name a GKE node pool (it must start with a letter)`,
        ),
      );
    if (pool.instanceTypes.length > 1)
      problems.push(
        problem(
          [...path, "instanceTypes"],
          `pool "${pool.name}" names ${pool.instanceTypes.length} machine types: a GKE node pool has one machine ` +
            "type; make one pool per type",
        ),
      );
    const zones = pool.zones.length;
    const bounds = perZone(pool.min, pool.max, zones);
    if (pool.min <= pool.max && (bounds.max < 1 || bounds.min > bounds.max))
      problems.push(
        problem(
          [...path, "max"],
          `GKE sizes a pool per zone: min ${pool.min} and max ${pool.max} over ${zones} zones leave no whole ` +
            `number of nodes per zone; use multiples of ${zones} (e.g. min ${zones * Math.ceil(pool.min / zones)}, ` +
            `max ${zones * Math.max(1, Math.ceil(pool.max / zones))}) or fewer zones`,
        ),
      );
  });
  return problems;
}

const KINDS: ManagedClusterKinds = {
  infrastructure: { apiVersion: INFRASTRUCTURE_VERSION, kind: "GCPManagedCluster" },
  controlPlane: { apiVersion: INFRASTRUCTURE_VERSION, kind: "GCPManagedControlPlane" },
  machinePool: { apiVersion: INFRASTRUCTURE_VERSION, kind: "GCPManagedMachinePool" },
};

function render(environment: Environment): Rendered {
  const name = environment.metadata.name;
  const spec = environment.spec;
  const project = spec.gcp?.project ?? "";
  return renderManagedCluster(environment, KINDS, {
    // A VPC of its own per customer unless the environment names one.
    infrastructure: { project, region: spec.region, network: { name: spec.gcp?.network ?? `vakt-${name}` } },
    controlPlane: {
      project,
      location: spec.region,
      clusterName: name,
      version: spec.kubernetesVersion.slice(1),
    },
    pool: (pool) => {
      const bounds = perZone(pool.min, pool.max, pool.zones.length);
      return {
        nodePoolName: pool.name,
        machineType: pool.instanceTypes[0],
        nodeLocations: [...pool.zones],
        scaling: {
          enableAutoscaling: true,
          minCount: bounds.min,
          maxCount: bounds.max,
          locationPolicy: "balanced",
        },
        ...(pool.labels === undefined ? {} : { kubernetesLabels: { ...pool.labels } }),
      };
    },
  });
}

export const GCP: Provider = {
  name: "gcp",
  title: "Google GKE through Cluster API Provider GCP (CAPG) v1.13",
  machineTypes,
  validate,
  render,
  kinds: managedClusterKinds(KINDS),
  progress: clusterProgress,
};
