/**
 * local: a cluster on the hub's own machine, for development and tests (a control plane of
 * etcd, kube-apiserver, controller-manager and scheduler with kwok nodes, started by vakt, its
 * kubeconfig in the Cluster API convention <name>-kubeconfig). The hub starts those control planes
 * itself (src/fleet/local.ts): this renders the Environment's namespace and where the kubeconfig
 * goes; progress without a running hub says so.
 */
import { CLUSTER_API_KINDS, environmentNamespace, namespaceObject } from "../cluster-api.ts";
import { problem } from "../provider.ts";
import type { MachineTypes, Provider } from "../provider.ts";
import type { Environment, EnvironmentProblem } from "../types.ts";

/** kwok nodes: a size says how much CPU and memory the fake node reports. */
const machineTypes: MachineTypes = {
  example: "local.small",
  family: (type) => /^(local)\.(small|medium|large|xlarge)$/.exec(type)?.[1],
  families: new Set(["local"]),
};

/** More fake nodes than this per pool only slow the hub down. */
const MAX_LOCAL_NODES = 100;

function validate(environment: Environment): EnvironmentProblem[] {
  const problems: EnvironmentProblem[] = [];
  for (const key of ["aws", "gcp"] as const)
    if (environment.spec[key] !== undefined)
      problems.push(problem(["spec", key], `${key} settings on a local environment: remove spec.${key}`));
  environment.spec.nodePools.forEach((pool, index) => {
    if (pool.max > MAX_LOCAL_NODES)
      problems.push(
        problem(
          ["spec", "nodePools", index, "max"],
          `${pool.max} nodes: a local pool runs at most ${MAX_LOCAL_NODES} kwok nodes on the hub's machine`,
        ),
      );
  });
  return problems;
}

export const LOCAL: Provider = {
  name: "local",
  title: "a local control plane with kwok nodes on the hub's machine",
  machineTypes,
  validate,
  render: (environment) => ({
    namespace: environmentNamespace(environment.metadata.name),
    objects: [namespaceObject(environment)],
    kubeconfigSecret: {
      namespace: environmentNamespace(environment.metadata.name),
      name: `${environment.metadata.name}-kubeconfig`,
      key: "value",
    },
  }),
  kinds: CLUSTER_API_KINDS.slice(0, 1),
  progress: () => ({
    phase: "Pending",
    available: {
      type: "Available",
      status: "Unknown",
      reason: "LocalClustersNotRun",
      message: "this fleet controller does not start local control planes (give it a binary directory)",
    },
    conditions: [],
  }),
};
