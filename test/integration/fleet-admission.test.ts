// Environments refused at admission: kube-apiserver calls vakt's webhook (running in this process)
// for environments.vakt.dev, and an Environment whose region, backup bucket or registries lie
// outside its jurisdiction, or whose node pool cannot be built, is refused with the rule, the
// field, the fix and the controls; a valid one is admitted. Dry runs: nothing is stored.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RunningManager } from "../../src/manager/run.ts";
import { eventually, kubectl } from "../../src/testing/cluster.ts";
import { startTestWebhook, unregisterTestWebhook, webhookReady } from "../../src/testing/webhook.ts";
import type { Json } from "../../src/kube/client.ts";
import { exampleEnvironment, installFleetCrds } from "./fleet-crds.ts";

const id = randomBytes(3).toString("hex");
const webhook = `vakt-fleet-${id}`;
let manager: RunningManager | undefined;

/** kubectl's answer to a server-side dry run of the Environment: "" when admitted. */
async function refusal(environment: Json): Promise<string> {
  try {
    await kubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(environment));
    return "";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function withSpec(environment: Json, spec: Json): Json {
  return { ...environment, spec: { ...(environment["spec"] as Json), ...spec } };
}

describe("Environment admission through kube-apiserver", () => {
  before(async () => {
    await installFleetCrds();
    // Environments are cluster-scoped: a namespace selector does not narrow them.
    manager = await startTestWebhook(webhook, { "vakt.dev/e2e": id });
    await eventually("the webhook is ready", 30_000, async () =>
      (await webhookReady(manager)) ? true : undefined,
    );
  });

  after(async () => {
    await unregisterTestWebhook(webhook);
    await manager?.close();
  });

  it("admits a valid Environment", async () => {
    assert.equal(await refusal(exampleEnvironment("carelink-aws.yaml", "adm-ok")), "");
    assert.equal(await refusal(exampleEnvironment("nordlab-gcp.yaml", "adm-ok")), "");
  });

  it("refuses a region, a backup bucket and a registry outside the jurisdiction, naming field, fix and controls", async () => {
    const base = exampleEnvironment("carelink-aws.yaml", "adm-out");
    const message = await refusal(
      withSpec(base, {
        region: "us-east-1",
        nodePools: [
          {
            name: "system",
            instanceTypes: ["m7i.large"],
            min: 1,
            max: 3,
            zones: ["us-east-1a", "us-east-1b"],
          },
        ],
        backup: { provider: "aws", bucket: "carelink-backups", region: "us-west-2" },
        registries: [{ host: "docker.io" }],
      }),
    );
    for (const words of [
      "denied the request",
      "[environment-residency]",
      "(field spec.region)",
      "N. Virginia, the United States, outside the jurisdiction SE (Sweden)",
      "eu-north-1",
      "(field spec.backup.region)",
      "(field spec.registries[0].host)",
      "Controls: gdpr:44, gdpr:45, gdpr:46, pdl:3.1",
    ])
      assert.ok(message.includes(words), `refusal says ${words}: ${message}`);
  });

  it("refuses an unknown or unserved provider and an impossible node pool", async () => {
    const base = exampleEnvironment("nordlab-gcp.yaml", "adm-bad");
    assert.match(
      await refusal(withSpec(base, { provider: "azure" })),
      /\[environment-valid\].*provider azure is not served.*Cluster API Provider Azure/,
    );
    assert.match(
      await refusal(withSpec(base, { provider: "vsphere" })),
      /spec\.provider: Unsupported value: "vsphere"/,
    );
    const pool = {
      name: "general",
      instanceTypes: ["n2-standard-4"],
      min: 9,
      max: 3,
      zones: ["europe-north2-a"],
    };
    assert.match(
      await refusal(withSpec(base, { nodePools: [pool] })),
      /min 9 above max 3: set min <= max \(field spec\.nodePools\[0\]\.min\)/,
    );
  });
});
