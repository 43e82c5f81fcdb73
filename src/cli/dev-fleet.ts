/**
 * `vakt dev up --fleet N`: the dev control plane as a hub (its vakt runs the fleet part) with N
 * `local` Environments, each a control plane of its own that the hub starts, baselines and runs
 * vakt's webhook in; waits until they are Ready. `vakt dev down` stops the members too.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, ENVIRONMENT, collectionPath } from "../api/registry.ts";
import { environmentCrd } from "../environment/schema.ts";
import { apply } from "../kube/apply.ts";
import { makeKubeClient } from "../kube/client.ts";
import type { Json, KubeClient } from "../kube/client.ts";

/** Names of the dev fleet's Environments: dev-1 .. dev-N. */
export function devEnvironment(index: number): Json {
  return {
    apiVersion: API_VERSION,
    kind: ENVIRONMENT.kind,
    metadata: { name: `dev-${index}` },
    spec: {
      customer: `customer-${index}`,
      provider: "local",
      region: "local",
      jurisdiction: "SE",
      kubernetesVersion: "v1.36",
      nodePools: [{ name: "general", instanceTypes: ["local.small"], min: 1, max: 3, zones: ["local-a"] }],
      backup: {
        provider: "s3",
        bucket: `customer-${index}-backups`,
        region: "se-sto",
        endpoint: "https://s3.example.se",
        jurisdiction: "SE",
      },
      baseline: { failOn: "warn" },
    },
  };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function readyOf(object: Json): { status?: string; reason?: string } | undefined {
  const conditions = ((object["status"] as Json | undefined)?.["conditions"] ?? []) as {
    type: string;
    status?: string;
    reason?: string;
  }[];
  return conditions.find((c) => c.type === "Ready");
}

/** Applies dev-1 .. dev-count and waits until each is Ready (progress lines as they become so). */
export async function applyDevFleet(
  kubeconfig: string,
  count: number,
  progress: (line: string) => void,
  timeoutMs = 300_000,
): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const client: KubeClient = makeKubeClient(config);
  try {
    // vakt installs the CRD at start; applied again here in case it runs without the fleet part.
    await apply(client, environmentCrd());
    await until("the Environment CRD was not served", 60_000, () =>
      client.request("GET", collectionPath(ENVIRONMENT)).then(() => true),
    );
    for (let index = 1; index <= count; index++) await apply(client, devEnvironment(index));
    progress(
      `${count} local Environment(s) applied (dev-1 .. dev-${count}); the hub starts a control plane with vakt's webhook for each`,
    );
    for (let index = 1; index <= count; index++) {
      const name = `dev-${index}`;
      await until(
        `Environment ${name} was not Ready (see \`vakt fleet status\` and the vakt log of the dev cluster)`,
        timeoutMs,
        async () => {
          const { body } = await client.request("GET", `${collectionPath(ENVIRONMENT)}/${name}`);
          return readyOf(body)?.status === "True" ? true : undefined;
        },
      );
      progress(`Environment ${name} is Ready`);
    }
  } finally {
    await client.close?.();
  }
}

/** The state directories of the hub's local members under <home>/fleet. */
export function devFleetMembers(home: string): string[] {
  const root = join(home, "fleet");
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => join(root, name))
    .filter((dir) => existsSync(join(dir, "state.json")));
}
