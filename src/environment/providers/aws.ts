/**
 * AWS: an EKS cluster through Cluster API Provider AWS (CAPA) v2.13, as its "EKS with managed
 * machine pools" flavour builds one: Cluster -> AWSManagedCluster + AWSManagedControlPlane (EKS),
 * and per node pool a MachinePool -> AWSManagedMachinePool (an EKS managed node group). CAPA's
 * own kinds are at its storage version v1beta2 (its API version, not the contract's).
 *
 * The managed VPC gets a private and a public subnet in exactly the zones the node pools name
 * (CAPA creates subnets it is given with an availability zone and a CIDR block; the id is a
 * placeholder it replaces), so the pools' zones are the zones the cluster uses.
 */
import { clusterProgress, managedClusterKinds, renderManagedCluster } from "../cluster-api.ts";
import type { ManagedClusterKinds } from "../cluster-api.ts";
import { problem } from "../provider.ts";
import type { MachineTypes, Provider, Rendered } from "../provider.ts";
import type { Environment, EnvironmentProblem } from "../types.ts";

const INFRASTRUCTURE = "infrastructure.cluster.x-k8s.io";
const CONTROL_PLANE = "controlplane.cluster.x-k8s.io";

/** The AMI a node group runs, decided by the instance family: one per node group. */
type AmiClass = "x86" | "arm" | "x86-nvidia" | "arm-nvidia" | "x86-neuron";

const AMI_TYPES: Readonly<Record<AmiClass, string>> = {
  x86: "AL2023_x86_64_STANDARD",
  arm: "AL2023_ARM_64_STANDARD",
  "x86-nvidia": "AL2023_x86_64_NVIDIA",
  "arm-nvidia": "AL2023_ARM_64_NVIDIA",
  "x86-neuron": "AL2023_x86_64_NEURON",
};

function families(amiClass: AmiClass, names: string): [string, AmiClass][] {
  return names.split(" ").map((name) => [name, amiClass]);
}

/** EC2 instance families (current generations and the common previous ones) and their AMI class. */
const FAMILIES: ReadonlyMap<string, AmiClass> = new Map([
  ...families(
    "x86",
    "t2 t3 t3a m5 m5a m5ad m5d m5dn m5n m5zn m6a m6i m6id m6idn m6in m7a m7i m7i-flex " +
      "c5 c5a c5ad c5d c5n c6a c6i c6id c6in c7a c7i c7i-flex r5 r5a r5ad r5b r5d r5dn r5n r6a r6i r6id " +
      "r6idn r6in r7a r7i r7iz x2idn x2iedn x2iezn z1d i3 i3en i4i d3 d3en",
  ),
  ...families(
    "arm",
    "t4g m6g m6gd m7g m7gd m8g c6g c6gd c6gn c7g c7gd c7gn c8g r6g r6gd r7g r7gd r8g x2gd x8g i4g im4gn is4gen",
  ),
  ...families("x86-nvidia", "g4dn g5 g6 g6e gr6 p3 p4d p5"),
  ...families("arm-nvidia", "g5g"),
  ...families("x86-neuron", "inf1 inf2 trn1"),
]);

const INSTANCE_TYPE =
  /^([a-z][a-z0-9]*(?:-flex)?)\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(?:-[0-9]+xl)?)$/;

const machineTypes: MachineTypes = {
  example: "m7i.large",
  family: (type) => INSTANCE_TYPE.exec(type)?.[1],
  families: new Set(FAMILIES.keys()),
};

function amiClassOf(type: string): AmiClass | undefined {
  const family = machineTypes.family(type);
  return family === undefined ? undefined : FAMILIES.get(family);
}

function validate(environment: Environment): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  if (environment.spec.gcp !== undefined)
    problems.push(problem(["spec", "gcp"], "Google Cloud settings on an aws environment: remove spec.gcp"));
  const zones = new Set(environment.spec.nodePools.flatMap((pool) => pool.zones));
  if (zones.size < 2)
    problems.push(
      problem(
        ["spec", "nodePools"],
        `the node pools use one zone (${[...zones].join("")}): EKS places its control plane in subnets of at ` +
          "least two availability zones, and vakt makes subnets in the pools' zones; add a second zone to a pool",
      ),
    );
  environment.spec.nodePools.forEach((pool, index) => {
    const classes = new Set(pool.instanceTypes.map(amiClassOf).filter((c) => c !== undefined));
    if (classes.size > 1)
      problems.push(
        problem(
          ["spec", "nodePools", index, "instanceTypes"],
          `pool "${pool.name}" mixes instance families that need different AMIs (${[...classes].join(", ")}): ` +
            "an EKS node group runs one AMI type; make one pool per architecture and accelerator",
        ),
      );
  });
  return problems;
}

/** The pools' zones in order, each with its private /19 and public /22 in 10.0.0.0/16. */
function subnets(environment: Environment): Record<string, unknown>[] {
  const zones = [...new Set(environment.spec.nodePools.flatMap((pool) => pool.zones))].sort();
  return zones.flatMap((zone, index) => [
    {
      id: `${environment.metadata.name}-private-${zone}`,
      availabilityZone: zone,
      cidrBlock: `10.0.${index * 32}.0/19`,
      isPublic: false,
    },
    {
      id: `${environment.metadata.name}-public-${zone}`,
      availabilityZone: zone,
      cidrBlock: `10.0.${192 + index * 4}.0/22`,
      isPublic: true,
    },
  ]);
}

const KINDS: ManagedClusterKinds = {
  infrastructure: { apiVersion: `${INFRASTRUCTURE}/v1beta2`, kind: "AWSManagedCluster" },
  controlPlane: { apiVersion: `${CONTROL_PLANE}/v1beta2`, kind: "AWSManagedControlPlane" },
  machinePool: { apiVersion: `${INFRASTRUCTURE}/v1beta2`, kind: "AWSManagedMachinePool" },
};

function render(environment: Environment): Rendered {
  const spec = environment.spec;
  return renderManagedCluster(environment, KINDS, {
    infrastructure: {},
    controlPlane: {
      eksClusterName: environment.metadata.name,
      region: spec.region,
      version: spec.kubernetesVersion,
      ...(spec.aws?.identityRef === undefined ? {} : { identityRef: { ...spec.aws.identityRef } }),
      // The API server's audit and authenticator logs go to CloudWatch in the same region.
      logging: {
        apiServer: true,
        audit: true,
        authenticator: true,
        controllerManager: false,
        scheduler: false,
      },
      network: { subnets: subnets(environment) },
    },
    pool: (pool, objectName) => ({
      eksNodegroupName: objectName,
      instanceType: pool.instanceTypes[0],
      amiType: AMI_TYPES[amiClassOf(pool.instanceTypes[0] ?? "") ?? "x86"],
      scaling: { minSize: pool.min, maxSize: pool.max },
      availabilityZones: [...pool.zones],
      availabilityZoneSubnetType: "private",
      ...(pool.labels === undefined ? {} : { labels: { ...pool.labels } }),
    }),
  });
}

export const AWS: Provider = {
  name: "aws",
  title: "Amazon EKS through Cluster API Provider AWS (CAPA) v2.13",
  machineTypes,
  validate,
  render,
  kinds: managedClusterKinds(KINDS),
  progress: clusterProgress,
};
