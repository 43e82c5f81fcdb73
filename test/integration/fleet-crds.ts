/** Shared by the fleet's integration tests: the CRDs a hub needs, and Environments to provision. */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { parse } from "yaml";
import type { FleetPart } from "../../src/fleet/part.ts";
import { Manager } from "../../src/manager/manager.ts";
import { environmentCrd } from "../../src/environment/schema.ts";
import type { Json } from "../../src/kube/client.ts";
import { kubectl, testKubeConfig } from "../../src/testing/cluster.ts";
import { clusterApiCrds } from "../../src/testing/capi-crds.ts";
import { tenantCrd } from "../../src/tenant/schema.ts";

export { readObject } from "./tenant-crds.ts";

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

/**
 * Runs the fleet part under a Manager that holds a short Lease in `namespace` (created here), as
 * `vakt run --parts fleet` runs it; the caller stops the manager.
 */
export async function startFleet(part: FleetPart, namespace: string, identity: string): Promise<Manager> {
  await kubectl(["create", "namespace", namespace]);
  const manager = new Manager({
    kubeconfig: testKubeConfig(),
    parts: [part],
    lease: {
      namespace,
      name: "fleet",
      identity,
      leaseDurationMs: 4_000,
      renewDeadlineMs: 3_000,
      retryPeriodMs: 500,
    },
    probes: { port: 0 },
    logger: pino({ level: "warn" }),
  });
  await manager.start();
  return manager;
}

export type Condition = { type: string; status: string; reason: string; message: string };

/** A condition of an object's status by type. */
export function condition(object: Json, type: string): Condition | undefined {
  const conditions = ((object["status"] as Json | undefined)?.["conditions"] ?? []) as Condition[];
  return conditions.find((c) => c.type === type);
}

/** A `local` Environment in Sweden with a backup bucket there; `spec` adds to or replaces fields. */
export function localEnvironment(name: string, spec: Json): Json {
  return {
    apiVersion: "vakt.dev/v1alpha1",
    kind: "Environment",
    metadata: { name },
    spec: {
      customer: "nordlab",
      provider: "local",
      region: "local",
      jurisdiction: "SE",
      kubernetesVersion: "v1.36",
      backup: {
        provider: "s3",
        bucket: "nordlab-backups",
        region: "se-sto",
        endpoint: "https://s3.example.se",
        jurisdiction: "SE",
      },
      ...spec,
    },
  };
}
