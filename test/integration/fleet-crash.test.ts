// kill -9 of the hub during a local cluster's start: `vakt run --parts fleet` runs as a real
// child process and is SIGKILLed while the member's control plane is half started (its state
// file lists the API server, not yet vakt's webhook). The next leader (a second `vakt run`)
// continues that start in place: the same state directory, API server address and etcd, the
// processes that were running kept, the missing ones started, no second control plane and no
// process left over; deleting the Environment then stops every one of them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setting } from "../../src/config/settings.ts";
import { down, readState } from "../../src/devcluster/cluster.ts";
import type { DevClusterState } from "../../src/devcluster/cluster.ts";
import { isOurProcess } from "../../src/devcluster/processes.ts";
import { ENVIRONMENTS_PATH } from "../../src/fleet/watches.ts";
import { makeKubeClient } from "../../src/kube/client.ts";
import type { Json } from "../../src/kube/client.ts";
import { eventually, kubectl, testKubeConfig, testKubeconfigPath } from "../../src/testing/cluster.ts";
import { processesMentioning } from "../../src/testing/process.ts";
import { condition, installFleetCrds, localEnvironment, readObject } from "./fleet-crds.ts";

const run = randomBytes(2).toString("hex");
const leaseNamespace = `fleet-crash-${run}`;
const home = mkdtempSync(join(tmpdir(), "vakt-fleet-crash-"));
const name = `crash-${run}`;
const stateDir = join(home, "fleet", name);
const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");
const hub = makeKubeClient(testKubeConfig());
const hubs: ChildProcess[] = [];
// eslint-disable-next-line no-restricted-properties -- passed on to child processes, not read here
const hubEnv = { ...process.env, VAKT_HOME: home, VAKT_BIN_DIR: setting("testBinDir") };

/** `vakt run --parts fleet` against the shared control plane, its home in `home`. */
function startHub(): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "run",
      "--parts=fleet",
      `--kubeconfig=${testKubeconfigPath()}`,
      `--namespace=${leaseNamespace}`,
      "--probe-port=0",
      "--workers=1",
    ],
    {
      env: hubEnv,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  child.on("exit", (code, signal) => {
    if (code !== 0 && code !== null) process.stderr.write(`hub exited ${code} (${signal ?? ""}):\n${log}\n`);
  });
  hubs.push(child);
  return child;
}

describe("kill -9 of the hub while a local cluster starts", () => {
  before(async () => {
    await installFleetCrds();
    await kubectl(["create", "namespace", leaseNamespace]);
  });

  after(async () => {
    await kubectl(["delete", "environment", name, "--ignore-not-found", "--timeout=60s"]).catch(
      () => undefined,
    );
    for (const child of hubs) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await down(stateDir);
    rmSync(home, { recursive: true, force: true });
    await kubectl(["delete", "namespace", leaseNamespace, "--wait=false"]).catch(() => undefined);
  });

  it("the next leader continues the start in place: nothing started twice, nothing left over", async () => {
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      JSON.stringify(
        localEnvironment(name, {
          nodePools: [
            { name: "general", instanceTypes: ["local.small"], min: 1, max: 2, zones: ["local-a"] },
          ],
          baseline: { failOn: "warn" },
        }),
      ),
    );
    const first = startHub();
    // Mid-start: the API server is recorded, vakt's webhook (the last component) is not.
    const half = await eventually("the member's start under way", 120_000, () => {
      const state = readState(stateDir);
      const names = state?.components.map((c) => c.name) ?? [];
      return Promise.resolve(names.includes("kube-apiserver") && !names.includes("vakt") ? state : undefined);
    });
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    const recorded: DevClusterState = readState(stateDir) ?? half;
    const alive = recorded.components.filter((c) => isOurProcess(c.pid, stateDir));
    assert.ok(
      alive.some((c) => c.name === "etcd"),
      "the member's etcd outlives the hub",
    );

    startHub();
    const ready = await eventually(`${name} Ready under the next leader`, 180_000, async () => {
      const object = await readObject(hub, `${ENVIRONMENTS_PATH}/${name}`);
      return object !== undefined && condition(object, "Ready")?.status === "True" ? object : undefined;
    });
    assert.equal((ready["status"] as Json)["phase"], "Provisioned");
    const state = readState(stateDir);
    assert.ok(state);
    assert.equal(state.server, recorded.server, "the same API server address");
    assert.equal(state.startedAt, recorded.startedAt, "the same control plane, continued");
    for (const kept of alive)
      assert.equal(
        state.components.find((c) => c.name === kept.name)?.pid,
        kept.pid,
        `${kept.name}, running when the hub died, is kept`,
      );
    assert.deepEqual(
      state.components.map((c) => c.name),
      ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "vakt"],
    );
    assert.ok(state.components.every((c) => isOurProcess(c.pid, stateDir)));
    assert.deepEqual(
      processesMentioning(stateDir),
      state.components.map((c) => c.pid).sort((a, b) => a - b),
      "exactly the recorded processes run: no second control plane, no orphan",
    );
    const secret = await readObject(hub, `/api/v1/namespaces/env-${name}/secrets/${name}-kubeconfig`);
    assert.ok(secret);
    assert.match(
      Buffer.from((secret["data"] as { value: string }).value, "base64").toString(),
      new RegExp(`server: ${state.server}`),
    );

    await kubectl(["delete", "environment", name, "--wait=false"]);
    await eventually("the Environment gone", 90_000, async () =>
      (await readObject(hub, `${ENVIRONMENTS_PATH}/${name}`)) === undefined ? true : undefined,
    );
    assert.deepEqual(processesMentioning(stateDir), [], "no process of the member is left");
    assert.equal(existsSync(stateDir), false, "its state directory is removed");
  });
});
