// Two local Environments provisioned from the hub (the shared test control plane), each a real
// control plane with vakt's webhook as a host process registered at 127.0.0.1: a privileged pod is
// refused in EACH member by vakt's rule; a baseline object deleted in one is healed; a member
// whose API server stops answering (SIGSTOP: its processes run, nothing answers) is Degraded with
// the reason while the other stays Ready, and once it answers again the baseline changed meanwhile
// on the hub is in it; deleting an Environment stops its control plane and vakt and removes its
// state.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { setting } from "../../src/config/settings.ts";
import { down, readState } from "../../src/devcluster/cluster.ts";
import type { DevClusterState } from "../../src/devcluster/cluster.ts";
import { isOurProcess } from "../../src/devcluster/processes.ts";
import { FleetPart } from "../../src/fleet/part.ts";
import { ENVIRONMENTS_PATH } from "../../src/fleet/watches.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import type { Manager } from "../../src/manager/manager.ts";
import { eventually, kubectl, testKubeConfig, testKubeconfigPath } from "../../src/testing/cluster.ts";
import { VERSION } from "../../src/version.ts";
import { condition, installFleetCrds, localEnvironment, readObject, startFleet } from "./fleet-crds.ts";

const run = randomBytes(2).toString("hex");
const infra = `fleet-members-${run}`;
const root = mkdtempSync(join(tmpdir(), "vakt-fleet-members-"));
const names = [`mem-a-${run}`, `mem-b-${run}`] as const;
const [first, second] = names;
const START_MS = 240_000;
const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const hub = makeKubeClient(testKubeConfig());
const run$ = promisify(execFile);
let manager: Manager | undefined;

function environment(name: string, baseline: Json): Json {
  return localEnvironment(name, {
    nodePools: [{ name: "general", instanceTypes: ["local.small"], min: 1, max: 3, zones: ["local-a"] }],
    baseline,
  });
}

function stateOf(name: string): DevClusterState {
  const state = readState(join(root, name));
  assert.ok(state, `the state file of ${name}'s cluster exists`);
  return state;
}

/** kubectl against a member's API server. */
function memberKubectl(name: string, args: string[], input?: string): Promise<{ stdout: string }> {
  const child = run$(join(setting("testBinDir"), "kubectl"), [
    `--kubeconfig=${stateOf(name).kubeconfig}`,
    ...args,
  ]);
  if (input !== undefined) child.child.stdin?.end(input);
  return child;
}

function memberRead(name: string, path: string): Promise<Json | undefined> {
  const config = new KubeConfig();
  config.loadFromFile(stateOf(name).kubeconfig);
  const client = makeKubeClient(config);
  return readObject(client, path).finally(() => client.close?.());
}

async function ready(name: string): Promise<Json> {
  return eventually(`${name} Ready`, START_MS, async () => {
    const object = await readObject(hub, `${ENVIRONMENTS_PATH}/${name}`);
    return object !== undefined && condition(object, "Ready")?.status === "True" ? object : undefined;
  });
}

const privilegedPod = JSON.stringify({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "root-shell", namespace: "default" },
  spec: {
    containers: [
      { name: "shell", image: "registry.example/shell:1.0.0", securityContext: { privileged: true } },
    ],
  },
});

describe("local members: vakt's webhook in each, healed, unreachable, deleted", () => {
  before(async () => {
    await installFleetCrds();
    manager = await startFleet(
      new FleetPart({
        workers: 2,
        local: {
          binDir: setting("testBinDir"),
          root,
          vakt: { command: process.execPath, script: CLI },
        },
      }),
      infra,
      `fleet-members-${run}`,
    );
  });

  after(async () => {
    for (const name of names) {
      // A member left stopped by a failed assertion must not stay stopped.
      for (const component of readState(join(root, name))?.components ?? [])
        if (isOurProcess(component.pid, join(root, name))) process.kill(component.pid, "SIGCONT");
      await kubectl(["delete", "environment", name, "--ignore-not-found", "--timeout=60s"]).catch(
        () => undefined,
      );
    }
    await manager?.stop();
    for (const name of names) await down(join(root, name));
    rmSync(root, { recursive: true, force: true });
    await kubectl(["delete", "namespace", infra, "--wait=false"]).catch(() => undefined);
  });

  it("provisions two members, each with vakt's webhook refusing a privileged pod", async () => {
    for (const name of names)
      await kubectl(
        ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
        JSON.stringify(environment(name, { failOn: "warn" })),
      );
    for (const name of names) {
      const object = await ready(name);
      assert.equal((object["status"] as { phase: string }).phase, "Provisioned");
      const state = stateOf(name);
      const vakt = state.components.find((c) => c.name === "vakt");
      assert.ok(
        vakt !== undefined && isOurProcess(vakt.pid, join(root, name)),
        "vakt runs beside the member",
      );
      const webhooks = await memberRead(
        name,
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
      );
      const urls = (
        (webhooks?.["items"] ?? []) as { webhooks: { clientConfig: { url?: string } }[] }[]
      ).flatMap((item) => item.webhooks.map((w) => w.clientConfig.url));
      assert.ok(
        urls.includes(`https://127.0.0.1:${vakt.port}/validate`),
        `the member's webhook points at vakt on 127.0.0.1:${vakt.port}: ${urls.join(", ")}`,
      );
      await assert.rejects(memberKubectl(name, ["create", "-f", "-"], privilegedPod), (error: Error) => {
        assert.match(error.message, /denied the request/);
        assert.match(error.message, /\[pss-privileged\] Pod\/default\/root-shell/);
        return true;
      });
      assert.equal(await memberRead(name, "/api/v1/namespaces/default/pods/root-shell"), undefined);
    }
  });

  it("rolls each member's posture up: its webhook answers, the same vakt version; vakt fleet status shows both", async () => {
    for (const name of names) {
      const object = await eventually(`${name}'s posture`, 60_000, async () => {
        const read = await readObject(hub, `${ENVIRONMENTS_PATH}/${name}`);
        return read !== undefined && (read["status"] as Json)["posture"] !== undefined ? read : undefined;
      });
      assert.deepEqual((object["status"] as Json)["posture"], {
        webhook: "Ready",
        vaktVersion: VERSION,
        wantedVersion: VERSION,
      });
      assert.equal(condition(object, "WebhookReady")?.status, "True");
      assert.equal(condition(object, "VersionMatched")?.reason, "SameVersion");
    }
    const { stdout } = await run$(process.execPath, [
      CLI,
      "fleet",
      "status",
      `--kubeconfig=${testKubeconfigPath()}`,
    ]);
    for (const name of names)
      assert.match(
        stdout,
        new RegExp(
          `^${name}\\s+local\\s+local\\s+Provisioned\\s+True\\s+${VERSION.replaceAll(".", "\\.")}\\s+Ready\\s+-\\s+`,
          "m",
        ),
        stdout,
      );
  });

  it("heals a baseline object deleted in one member", async () => {
    const path = "/apis/vakt.dev/v1alpha1/vaktconfigurations/default";
    const before = await memberRead(first, path);
    const uid = (before?.["metadata"] as { uid: string }).uid;
    await memberKubectl(first, ["delete", "vaktconfiguration", "default"]);
    const back = await eventually("the VaktConfiguration back", 30_000, async () => {
      const object = await memberRead(first, path);
      return object !== undefined && (object["metadata"] as { uid: string }).uid !== uid ? object : undefined;
    });
    assert.deepEqual(back["spec"], { failOn: "warn" });
  });

  it("an unreachable member is Degraded with the reason, the other stays Ready; back, it gets what changed", async () => {
    const apiserver = stateOf(first).components.find((c) => c.name === "kube-apiserver");
    assert.ok(apiserver);
    process.kill(apiserver.pid, "SIGSTOP");
    try {
      const degraded = await eventually(`${first} Degraded`, 120_000, async () => {
        const object = await readObject(hub, `${ENVIRONMENTS_PATH}/${first}`);
        return object !== undefined && (object["status"] as { phase?: string }).phase === "Degraded"
          ? object
          : undefined;
      });
      const baselined = condition(degraded, "Baselined");
      assert.ok(baselined);
      assert.equal(baselined.status, "False");
      assert.equal(baselined.reason, "MemberUnreachable");
      assert.ok(baselined.message.includes(stateOf(first).server), baselined.message);
      assert.equal(condition(degraded, "Ready")?.reason, "MemberUnreachable");
      // The baseline changes on the hub while the member cannot hear it.
      await kubectl(
        ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
        JSON.stringify(environment(first, { failOn: "deny", rules: { "image-tag": "deny" } })),
      );
      const other = await readObject(hub, `${ENVIRONMENTS_PATH}/${second}`);
      assert.ok(other);
      assert.equal(condition(other, "Ready")?.status, "True", "the other member is served as before");
      // The other member's baseline is still kept: a deleted object there comes back meanwhile.
      const path = "/apis/vakt.dev/v1alpha1/vaktconfigurations/default";
      await memberKubectl(second, ["delete", "vaktconfiguration", "default"]);
      await eventually("the other member's VaktConfiguration back", 30_000, () => memberRead(second, path));
    } finally {
      process.kill(apiserver.pid, "SIGCONT");
    }
    const healed = await eventually(`${first}'s new baseline in the member`, 120_000, async () => {
      const object = await memberRead(first, "/apis/vakt.dev/v1alpha1/vaktconfigurations/default").catch(
        () => undefined,
      );
      const spec = object?.["spec"] as Json | undefined;
      return spec?.["failOn"] === "deny" ? spec : undefined;
    });
    assert.deepEqual(healed, { failOn: "deny", rules: { "image-tag": "deny" } });
    const object = await ready(first);
    assert.equal((object["status"] as { phase: string }).phase, "Provisioned");
    assert.equal(stateOf(first).components.find((c) => c.name === "kube-apiserver")?.pid, apiserver.pid);
  });

  it("deleting an Environment stops its control plane and vakt, and removes its state", async () => {
    const state = stateOf(second);
    await kubectl(["delete", "environment", second, "--wait=false"]);
    await eventually("the Environment gone", 90_000, async () =>
      (await readObject(hub, `${ENVIRONMENTS_PATH}/${second}`)) === undefined ? true : undefined,
    );
    assert.deepEqual(
      state.components.filter((c) => isOurProcess(c.pid, join(root, second))).map((c) => c.name),
      [],
      "no process of the member runs",
    );
    assert.ok(state.components.some((c) => c.name === "vakt"));
    assert.equal(existsSync(join(root, second)), false, "its state directory is removed");
    // The other member is untouched.
    assert.ok(stateOf(first).components.every((c) => isOurProcess(c.pid, join(root, first))));
  });
});
