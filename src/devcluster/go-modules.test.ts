import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { replacedVersion } from "./go-modules.ts";

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

test("the control plane's go.mod pins pod-security-admission to the release scripts/build-tools.sh builds", async () => {
  const script = await readFile(path.join(REPO_ROOT, "scripts/build-tools.sh"), "utf8");
  const release = /^K8S_VERSION=v1\.(\d+\.\d+)$/m.exec(script)?.[1];
  assert.ok(release !== undefined, "K8S_VERSION=v1.N.M in scripts/build-tools.sh");
  // Staging modules are versioned v0.N.M for Kubernetes v1.N.M.
  assert.equal(await replacedVersion("k8s.io/pod-security-admission"), `v0.${release}`);
});

test("replacedVersion reads block and single-line replace directives and names the file when none fits", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "vakt-gomod-test-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const goMod = path.join(dir, "go.mod");
  await writeFile(
    goMod,
    [
      "module example.com/x",
      "",
      "replace (",
      "\tk8s.io/api => k8s.io/api v0.30.1",
      "\tk8s.io/apimachinery v0.0.0 => k8s.io/apimachinery v0.30.2",
      ")",
      "",
      "replace k8s.io/client-go => k8s.io/client-go v0.30.3",
      "replace k8s.io/kubelet => ../kubelet",
      "",
    ].join("\n"),
  );
  assert.equal(await replacedVersion("k8s.io/api", goMod), "v0.30.1");
  assert.equal(await replacedVersion("k8s.io/apimachinery", goMod), "v0.30.2");
  assert.equal(await replacedVersion("k8s.io/client-go", goMod), "v0.30.3");
  // A dot in the module path must not match any character.
  await assert.rejects(replacedVersion("k8sXio/api", goMod), /no "replace k8sXio\/api => /);
  await assert.rejects(replacedVersion("k8s.io/kubelet", goMod), (error: Error) =>
    error.message.startsWith(`${goMod}: no "replace k8s.io/kubelet => k8s.io/kubelet vX.Y.Z" line`),
  );
});
