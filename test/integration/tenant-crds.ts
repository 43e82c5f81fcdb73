/** Shared by the Tenant controller's integration tests. */
import { KubeError } from "../../src/controllers/kube.ts";
import type { Json, KubeClient } from "../../src/controllers/kube.ts";
import { thirdPartyCrdFiles } from "../../src/tenant/crds.ts";
import { tenantCrd } from "../../src/tenant/schema.ts";
import { kubectl } from "../../src/testing/cluster.ts";

/**
 * Applies the operators' own published CRDs (from the Go module cache) and the Tenant CRD, and
 * waits until the API server serves all of them.
 */
export async function installTenantCrds(): Promise<void> {
  const names: string[] = [];
  for (const file of (await thirdPartyCrdFiles()).flatMap((entry) => entry.files)) {
    const { stdout } = await kubectl([
      "apply",
      "--server-side",
      "--force-conflicts",
      "-o",
      "name",
      "-f",
      file,
    ]);
    names.push(...stdout.trim().split("\n"));
  }
  const { stdout } = await kubectl(
    ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-"],
    JSON.stringify(tenantCrd()),
  );
  names.push(stdout.trim());
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...names]);
}

/** The object at `path`, or undefined when the API server says it does not exist. */
export async function readObject(client: KubeClient, path: string): Promise<Json | undefined> {
  try {
    return (await client.request("GET", path)).body;
  } catch (error) {
    if (error instanceof KubeError && error.code === 404) return undefined;
    throw error;
  }
}
