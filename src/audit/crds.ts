/**
 * The OpenReports CRDs (Report, ClusterReport) the background audit writes, from the project's
 * own files in its Go module (`config/crd/`), read where Go keeps them (the module cache,
 * downloaded on first use) instead of copies in this repository. The version is pinned here.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { goModuleDir } from "../devcluster/go-modules.ts";
import type { KubeObject } from "../engine/types.ts";

export const OPENREPORTS_MODULE = "github.com/openreports/reports-api";
export const OPENREPORTS_VERSION = "v0.2.1";
export const OPENREPORTS_CRD_FILES = [
  "config/crd/openreports.io_reports.yaml",
  "config/crd/openreports.io_clusterreports.yaml",
] as const;

/**
 * The two CRDs as objects. Needs `go` on PATH and the module proxy (or the module already in
 * the cache); the error says so.
 */
export async function openReportsCrds(): Promise<KubeObject[]> {
  let dir: string;
  try {
    dir = await goModuleDir(OPENREPORTS_MODULE, OPENREPORTS_VERSION);
  } catch (error) {
    throw Object.assign(
      new Error(
        `cannot read the OpenReports CRDs (${OPENREPORTS_MODULE}@${OPENREPORTS_VERSION}, needed by the audit): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      ),
      {
        hint: `vakt reads them from the Go module cache: put Go >= 1.26 on PATH with access to the module proxy (or run \`go mod download ${OPENREPORTS_MODULE}@${OPENREPORTS_VERSION}\` once where it has), then run this again`,
      },
    );
  }
  const crds: KubeObject[] = [];
  for (const file of OPENREPORTS_CRD_FILES) {
    const path = join(dir, file);
    for (const document of parseAllDocuments(await readFile(path, "utf8"))) {
      if (document.errors.length > 0)
        throw new Error(`${path}: ${document.errors[0]?.message ?? "invalid YAML"}`);
      const object = document.toJS() as unknown;
      if (
        object !== null &&
        typeof object === "object" &&
        (object as KubeObject).kind === "CustomResourceDefinition"
      )
        crds.push(object as KubeObject);
    }
  }
  if (crds.length !== OPENREPORTS_CRD_FILES.length)
    throw new Error(
      `expected ${OPENREPORTS_CRD_FILES.length} CRDs in ${OPENREPORTS_MODULE}@${OPENREPORTS_VERSION}, found ${crds.length}`,
    );
  return crds;
}
