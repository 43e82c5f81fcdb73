/**
 * The CRDs of Argo CD and Karpenter, read from their Go modules in the module cache (never copied
 * here) for the objects the fleet's bootstrap renders: Argo CD's ApplicationSet on the hub,
 * Karpenter's NodePool with its KWOK node class in a local member cluster, and with the AWS
 * provider's EC2NodeClass. These modules need a newer Go than the machine's: `go mod download`
 * runs with that toolchain (Go fetches it as a module).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { goModuleDir } from "../devcluster/go-modules.ts";

type Json = Record<string, unknown>;

export const BASELINE_CRDS = {
  argocd: {
    module: "github.com/argoproj/argo-cd/v3",
    version: "v3.6.2",
    toolchain: "go1.27.0",
    files: ["manifests/crds/applicationset-crd.yaml"],
  },
  karpenterKwok: {
    module: "sigs.k8s.io/karpenter",
    version: "v1.15.0",
    toolchain: "go1.27.0",
    files: [
      "pkg/apis/crds/karpenter.sh_nodepools.yaml",
      "kwok/apis/crds/karpenter.kwok.sh_kwoknodeclasses.yaml",
    ],
  },
  karpenterAws: {
    module: "github.com/aws/karpenter-provider-aws",
    version: "v1.15.2",
    toolchain: "go1.27.0",
    files: [
      "pkg/apis/crds/karpenter.sh_nodepools.yaml",
      "pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml",
    ],
  },
} as const;

/** The CRDs of one entry of BASELINE_CRDS, parsed. Needs `go` and the module proxy. */
export async function baselineCrds(entry: keyof typeof BASELINE_CRDS): Promise<Json[]> {
  const { module, version, toolchain, files } = BASELINE_CRDS[entry];
  const dir = await goModuleDir(module, version, { toolchain });
  const crds: Json[] = [];
  for (const file of files)
    for (const document of parseAllDocuments(await readFile(join(dir, file), "utf8"))) {
      const crd = document.toJS() as Json | null;
      if (crd !== null) crds.push(crd);
    }
  return crds;
}
