/**
 * The `local` provider's engine: one real control plane per Environment on the hub's machine
 * (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, started by
 * devcluster/ on free 127.0.0.1 ports, state in <root>/<environment>), with a kwok node per
 * pool minimum (at least one per pool) labelled with the pool's zone and instance type. What
 * Cluster API does for a cloud cluster, this does for a local one: it writes the kubeconfig
 * Secret in Cluster API's convention (<name>-kubeconfig, key "value", in the Environment's hub
 * namespace), and reports a phase.
 *
 * The processes outlive a hub restart (devcluster starts them detached): a new leader finds them
 * by their state file and reuses them, so nothing is started twice. A start cut short (the hub
 * killed during it) or a component that died is continued in place (devcluster's resume: same
 * certificates, ports and data). A cluster whose processes all run but whose API server does not
 * answer is reported unreachable, not restarted: the hub cannot tell a stalled server from a slow
 * one, and a second control plane for the same Environment would be worse than waiting.
 *
 * kwok nodes run no pods, so vakt's webhook cannot run in the member as a Deployment: with
 * `vakt`, each member gets `vakt run` (the webhook) as a host process of its control plane,
 * registered at 127.0.0.1, started and stopped with it.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { DevClusterError, down, status, up } from "../devcluster/cluster.ts";
import type { ComponentName } from "../devcluster/cluster.ts";
import type { Progress } from "../environment/provider.ts";
import type { Environment } from "../environment/types.ts";
import { createNodes } from "../devcluster/nodes.ts";
import { errorMessage } from "../kube/client.ts";

export interface LocalClustersOptions {
  /** Directory of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
  readonly binDir: string;
  /** One state directory per Environment below it. */
  readonly root: string;
  /**
   * Run vakt's webhook in each member as a host process: the node binary and vakt's CLI script
   * (absent: members have no webhook).
   */
  readonly vakt?: { readonly command: string; readonly script: string };
}

/** The parts of `vakt run` each member runs. */
export const MEMBER_VAKT_ARGS: readonly string[] = ["--parts=webhook"];

/** A started local cluster: where it is and how to reach it. */
export interface LocalCluster {
  readonly server: string;
  readonly kubeconfig: string;
  /** False when every process runs but the API server does not answer. */
  readonly reachable: boolean;
  /** vakt's webhook in the member (its HTTPS base URL), when it runs one. */
  readonly vaktUrl?: string;
}

const ZONE = "topology.kubernetes.io/zone";
const INSTANCE_TYPE = "node.kubernetes.io/instance-type";

export class LocalClusters {
  readonly #options: LocalClustersOptions;
  /** Starts in flight, per Environment: a second reconcile waits for the first start. */
  readonly #starting = new Map<string, Promise<LocalCluster>>();

  constructor(options: LocalClustersOptions) {
    this.#options = options;
  }

  stateDir(environment: string): string {
    return join(this.#options.root, environment);
  }

  /** The running cluster of the Environment, started when it does not run. */
  ensure(environment: Environment): Promise<LocalCluster> {
    const name = environment.metadata.name;
    const inFlight = this.#starting.get(name);
    if (inFlight !== undefined) return inFlight;
    const started = this.#ensure(environment).finally(() => this.#starting.delete(name));
    this.#starting.set(name, started);
    return started;
  }

  /** The components a member runs, in devcluster's start order. */
  #wanted(): ComponentName[] {
    return [
      "etcd",
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kwok",
      ...(this.#options.vakt === undefined ? [] : (["vakt"] as const)),
    ];
  }

  async #ensure(environment: Environment): Promise<LocalCluster> {
    const stateDir = this.stateDir(environment.metadata.name);
    const current = await status(stateDir);
    const wanted = this.#wanted();
    const complete =
      current.state !== undefined &&
      wanted.every((name) => current.components.some((c) => c.name === name && c.running));
    if (complete) {
      const found = clusterOf(current.state, current.ready);
      if (current.ready) await this.#nodes(environment, current.state.kubeconfig);
      return found;
    }
    const vakt = this.#options.vakt;
    const state = await up({
      stateDir,
      binDir: this.#options.binDir,
      nodes: nodeCount(environment),
      resume: true,
      ...(vakt === undefined ? {} : { vakt: { ...vakt, args: MEMBER_VAKT_ARGS } }),
    });
    await this.#nodes(environment, state.kubeconfig);
    return clusterOf(state, true);
  }

  /** kwok nodes for the pools: min of each (at least one), spread over its zones. */
  async #nodes(environment: Environment, kubeconfigFile: string): Promise<void> {
    await createNodes(
      kubeconfigFile,
      environment.spec.nodePools.flatMap((pool) =>
        Array.from({ length: Math.max(pool.min, 1) }, (_, index) => ({
          name: `${pool.name}-${index}`,
          labels: {
            [ZONE]: pool.zones[index % pool.zones.length] ?? "local-a",
            [INSTANCE_TYPE]: pool.instanceTypes[0] ?? "local.small",
            "vakt.dev/node-pool": pool.name,
          },
        })),
      ),
    );
  }

  /** Stops the Environment's cluster and removes its state; nothing to do when none runs. */
  async remove(environment: string): Promise<void> {
    const stateDir = this.stateDir(environment);
    await this.#starting.get(environment)?.catch(() => undefined);
    await down(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  }
}

function clusterOf(
  state: { server: string; kubeconfig: string; components: readonly { name: string; port: number }[] },
  reachable: boolean,
): LocalCluster {
  const vakt = state.components.find((c) => c.name === "vakt");
  return {
    server: state.server,
    kubeconfig: state.kubeconfig,
    reachable,
    ...(vakt === undefined ? {} : { vaktUrl: `https://127.0.0.1:${vakt.port}` }),
  };
}

function nodeCount(environment: Environment): number {
  return environment.spec.nodePools.reduce((sum, pool) => sum + Math.max(pool.min, 1), 0);
}

/** The local cluster's progress in Cluster API's words (phase and an Available condition). */
export function localProgress(result: { cluster?: LocalCluster; error?: unknown }): Progress {
  if (result.cluster !== undefined)
    return {
      phase: "Provisioned",
      available: {
        type: "Available",
        status: "True",
        reason: "ControlPlaneReady",
        message: `the local control plane answers at ${result.cluster.server}`,
      },
      conditions: [],
    };
  const error = result.error;
  const hint = error instanceof DevClusterError ? ` (${error.hint})` : "";
  return {
    phase: "Failed",
    available: {
      type: "Available",
      status: "False",
      reason: "LocalClusterFailed",
      message: `the local control plane did not start: ${errorMessage(error)}${hint}`,
    },
    conditions: [],
  };
}
