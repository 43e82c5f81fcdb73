/**
 * The real CRDs of Cluster API and of its AWS and GCP providers, read from their Go modules in
 * the module cache (never copied here), for the kinds the fleet renders. Versions are pinned in
 * one table; they agree on the contract (docs/adr/0024): Cluster API v1.13 serves the v1beta2
 * contract and keeps v1beta1-contract providers working, and CAPA v2.13 and CAPG v1.13 are built
 * against Cluster API v1.13 and implement the v1beta1 contract.
 *
 * A provider's CRD files do not carry the contract labels (`cluster.x-k8s.io/<contract>: <its
 * versions>`) Cluster API resolves references by: the provider's kustomization adds them as
 * commonLabels. They are read from that kustomization and added, as `kustomize build` would.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { goModuleDir } from "../devcluster/go-modules.ts";

type Json = Record<string, unknown>;

export const CLUSTER_API_CRDS = [
  {
    project: "cluster-api",
    module: "sigs.k8s.io/cluster-api",
    version: "v1.13.6",
    files: [
      "config/crd/bases/cluster.x-k8s.io_clusters.yaml",
      "config/crd/bases/cluster.x-k8s.io_machinepools.yaml",
    ],
  },
  {
    project: "cluster-api-provider-aws",
    module: "sigs.k8s.io/cluster-api-provider-aws/v2",
    version: "v2.13.0",
    files: [
      "config/crd/bases/infrastructure.cluster.x-k8s.io_awsmanagedclusters.yaml",
      "config/crd/bases/controlplane.cluster.x-k8s.io_awsmanagedcontrolplanes.yaml",
      "config/crd/bases/infrastructure.cluster.x-k8s.io_awsmanagedmachinepools.yaml",
    ],
    kustomization: "config/crd/kustomization.yaml",
  },
  {
    project: "cluster-api-provider-gcp",
    module: "sigs.k8s.io/cluster-api-provider-gcp",
    version: "v1.13.1",
    files: [
      "config/crd/bases/infrastructure.cluster.x-k8s.io_gcpmanagedclusters.yaml",
      "config/crd/bases/infrastructure.cluster.x-k8s.io_gcpmanagedcontrolplanes.yaml",
      "config/crd/bases/infrastructure.cluster.x-k8s.io_gcpmanagedmachinepools.yaml",
    ],
    kustomization: "config/crd/kustomization.yaml",
  },
] as const;

export interface ClusterApiCrds {
  readonly project: string;
  readonly version: string;
  readonly crds: readonly Json[];
}

/** The CRDs, parsed, with their projects' contract labels. Needs `go` and the module proxy. */
export async function clusterApiCrds(): Promise<ClusterApiCrds[]> {
  const result: ClusterApiCrds[] = [];
  for (const entry of CLUSTER_API_CRDS) {
    const dir = await goModuleDir(entry.module, entry.version);
    let labels: Record<string, string> = {};
    if ("kustomization" in entry) {
      const kustomization = parse(await readFile(join(dir, entry.kustomization), "utf8")) as {
        commonLabels?: Record<string, string>;
      };
      labels = kustomization.commonLabels ?? {};
    }
    const crds: Json[] = [];
    for (const file of entry.files)
      for (const document of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
        const crd = document.toJS() as Json | null;
        if (crd === null) continue;
        const metadata = (crd["metadata"] ?? {}) as Json;
        crd["metadata"] = { ...metadata, labels: { ...(metadata["labels"] as Json | undefined), ...labels } };
        crds.push(crd);
      }
    result.push({ project: entry.project, version: entry.version, crds });
  }
  return result;
}
