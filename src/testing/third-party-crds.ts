/**
 * The real CRDs of the third-party projects whose objects a Tenant renders, fetched from their
 * Go modules into the Go module cache (never copied into this repository). Versions are pinned
 * here, in one table. Used by the schema tests and by integration tests that install the CRDs
 * into a real API server.
 */
import { join } from "node:path";
import { goModuleDir } from "../devcluster/go-modules.ts";

export interface ThirdPartyCrds {
  readonly project: string;
  readonly module: string;
  readonly version: string;
  /** Absolute paths of plain CRD YAML files in the module cache. */
  readonly files: string[];
}

/** Pinned versions and the CRD files (relative to the module root) vakt renders objects for. */
export const THIRD_PARTY_CRDS = [
  {
    project: "cert-manager",
    module: "github.com/cert-manager/cert-manager",
    version: "v1.21.2",
    files: ["deploy/crds/cert-manager.io_certificates.yaml"],
  },
  {
    project: "velero",
    module: "github.com/vmware-tanzu/velero",
    version: "v1.18.3",
    files: ["config/crd/v1/bases/velero.io_schedules.yaml"],
  },
  {
    project: "cloudnative-pg",
    module: "github.com/cloudnative-pg/cloudnative-pg",
    version: "v1.27.1",
    files: [
      "config/crd/bases/postgresql.cnpg.io_clusters.yaml",
      "config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml",
    ],
  },
  {
    project: "rabbitmq-cluster-operator",
    module: "github.com/rabbitmq/cluster-operator/v2",
    version: "v2.16.0",
    files: ["config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml"],
  },
  {
    project: "spotahome-redis-operator",
    module: "github.com/spotahome/redis-operator",
    version: "v1.2.4",
    files: ["manifests/databases.spotahome.com_redisfailovers.yaml"],
  },
  {
    project: "prometheus-operator",
    module: "github.com/prometheus-operator/prometheus-operator",
    version: "v0.85.0",
    files: [
      "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
      "example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml",
      "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
    ],
  },
  {
    project: "argo-cd",
    module: "github.com/argoproj/argo-cd/v3",
    version: "v3.5.7",
    files: ["manifests/crds/application-crd.yaml", "manifests/crds/appproject-crd.yaml"],
  },
] as const;

/**
 * Downloads (or finds in the cache) each pinned module and returns the absolute paths of its CRD
 * files. Needs `go` on PATH and access to the module proxy.
 */
export async function thirdPartyCrdFiles(): Promise<ThirdPartyCrds[]> {
  const result: ThirdPartyCrds[] = [];
  for (const entry of THIRD_PARTY_CRDS) {
    const moduleDir = await goModuleDir(entry.module, entry.version);
    result.push({
      project: entry.project,
      module: entry.module,
      version: entry.version,
      files: entry.files.map((file) => join(moduleDir, file)),
    });
  }
  return result;
}
