// `vakt dev` in bad situations: the messages say what went wrong and how to fix it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { setting } from "../../src/config/settings.ts";
import { DevClusterError, down, status, up } from "../../src/devcluster/cluster.ts";
import { isOurProcess } from "../../src/devcluster/processes.ts";
import { eventually, testKubeconfigPath } from "../../src/testing/cluster.ts";

const binDir = setting("testBinDir");

function tempState(t: { after: (fn: () => Promise<void>) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "vakt-devcluster-test-"));
  t.after(async () => {
    await down(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

describe("vakt dev", () => {
  it("refuses a port that is in use, and says how to fix it", async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    t.after(() => blocker.close());
    const address = blocker.address();
    assert.ok(address !== null && typeof address === "object");
    await assert.rejects(
      up({ stateDir: tempState(t), binDir, apiServerPort: address.port, controllers: false }),
      (error: unknown) =>
        error instanceof DevClusterError &&
        error.message.includes(`port ${address.port}`) &&
        error.hint.includes("--port"),
    );
  });

  it("reports missing binaries with the command that builds them", async (t) => {
    const empty = mkdtempSync(join(tmpdir(), "vakt-nobin-"));
    t.after(() => {
      rmSync(empty, { recursive: true, force: true });
    });
    await assert.rejects(
      up({ stateDir: tempState(t), binDir: empty }),
      (error: unknown) =>
        error instanceof DevClusterError &&
        error.message.includes("kube-apiserver") &&
        error.hint.includes("npm run tools"),
    );
  });

  it("shows the log tail and likely cause when a component exits during start-up, and leaves nothing running", async (t) => {
    const stateDir = tempState(t);
    const error = await up({
      stateDir,
      binDir,
      controllers: false,
      extraArgs: { "kube-apiserver": ["--no-such-flag-for-vakt-test"] },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof DevClusterError, `expected a DevClusterError, got ${String(error)}`);
    assert.match(error.message, /kube-apiserver exited during start-up/);
    assert.match(error.message, /no-such-flag-for-vakt-test/);
    assert.match(error.hint, /unknown flag|different version/);
    const report = await status(stateDir);
    assert.ok(
      report.components.every((c) => !c.running),
      "etcd must have been stopped after the failed start",
    );
  });

  it("refuses a second `up` while a control plane runs from the same directory, without disturbing it", async () => {
    const stateDir = dirname(testKubeconfigPath());
    await assert.rejects(
      up({ stateDir, binDir }),
      (error: unknown) =>
        error instanceof DevClusterError &&
        /already running/.test(error.message) &&
        /vakt dev down/.test(error.hint),
    );
    assert.equal((await status(stateDir)).ready, true);
  });

  it("cleans up the leftovers of a crashed run and starts again; down stops everything", async (t) => {
    const stateDir = tempState(t);
    const first = await up({ stateDir, binDir, controllers: false });
    const apiserver = first.components.find((c) => c.name === "kube-apiserver");
    const etcd = first.components.find((c) => c.name === "etcd");
    assert.ok(apiserver !== undefined && etcd !== undefined);
    process.kill(apiserver.pid, "SIGKILL"); // a crash: etcd stays behind with its data dir
    // The signal is sent, not yet acted on: until the kernel has taken the process down, its
    // /proc entry still looks alive and `up` would rightly say the control plane is running.
    await eventually("the killed kube-apiserver to be gone", 10_000, () =>
      Promise.resolve(isOurProcess(apiserver.pid, stateDir) ? undefined : true),
    );
    const second = await up({ stateDir, binDir, controllers: false });
    assert.equal(isOurProcess(etcd.pid, stateDir), false, "the old etcd must have been stopped");
    assert.equal((await status(stateDir)).ready, true);
    const result = await down(stateDir);
    assert.deepEqual([...result.stopped].sort(), ["etcd", "kube-apiserver"]);
    for (const c of second.components) assert.equal(isOurProcess(c.pid, stateDir), false);
    assert.equal(existsSync(join(stateDir, "etcd")), false);
  });

  it("resume continues a control plane in place: the live components kept, a dead one restarted on its port", async (t) => {
    const stateDir = tempState(t);
    const first = await up({ stateDir, binDir, controllers: false });
    const apiserver = first.components.find((c) => c.name === "kube-apiserver");
    const etcd = first.components.find((c) => c.name === "etcd");
    assert.ok(apiserver !== undefined && etcd !== undefined);
    process.kill(apiserver.pid, "SIGKILL");
    await eventually("the killed kube-apiserver to be gone", 10_000, () =>
      Promise.resolve(isOurProcess(apiserver.pid, stateDir) ? undefined : true),
    );
    const second = await up({ stateDir, binDir, controllers: false, resume: true });
    assert.equal(second.server, first.server, "the same API server address");
    assert.equal(second.startedAt, first.startedAt);
    const etcdAgain = second.components.find((c) => c.name === "etcd");
    const apiserverAgain = second.components.find((c) => c.name === "kube-apiserver");
    assert.equal(etcdAgain?.pid, etcd.pid, "the live etcd is kept");
    assert.notEqual(apiserverAgain?.pid, apiserver.pid);
    assert.equal(apiserverAgain?.port, apiserver.port);
    assert.equal((await status(stateDir)).ready, true);
    // Everything runs: a resume changes nothing.
    const third = await up({ stateDir, binDir, controllers: false, resume: true });
    assert.deepEqual(
      third.components.map((c) => c.pid),
      second.components.map((c) => c.pid),
    );
  });
});
