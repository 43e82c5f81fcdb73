/** Shared by the fleet's integration tests: the CRDs a hub needs, and Environments to provision. */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { environmentCrd } from "../../src/environment/schema.ts";
import type { Json } from "../../src/kube/client.ts";
import { kubectl } from "../../src/testing/cluster.ts";
import { clusterApiCrds } from "../../src/testing/capi-crds.ts";
import { tenantCrd } from "../../src/tenant/schema.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "environments");

/**
 * Applies Cluster API's and its AWS and GCP providers' own CRDs (from the Go module cache, with
 * their contract labels), the Environment CRD and the Tenant CRD, and waits until all are served.
 */
export async function installFleetCrds(): Promise<void> {
  const crds: Json[] = (await clusterApiCrds()).flatMap((project) => [...project.crds]);
  crds.push(environmentCrd(), tenantCrd());
  const { stdout } = await kubectl(
    ["apply", "--server-side", "--force-conflicts", "-o", "name", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: crds }),
  );
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", ...stdout.trim().split("\n")]);
}

/**
 * An example Environment (examples/environments/<file>) under a name of its own, hosting no
 * tenants (a tenant lives in one Environment: tests that need one name their own).
 */
export function exampleEnvironment(file: string, prefix: string): Json {
  const value = parse(readFileSync(join(EXAMPLES, file), "utf8")) as Json;
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  return {
    ...value,
    metadata: { ...(value["metadata"] as Json), name },
    spec: { ...(value["spec"] as Json), tenants: [] },
  };
}
