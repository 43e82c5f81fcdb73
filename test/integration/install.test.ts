// The API server itself validates what `vakt install` prints: CRDs are created for real, the
// rest is applied with a server-side dry run (no vakt pod can run here: kwok nodes run nothing).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubectl } from "../../src/testing/cluster.ts";
import { vaktCli } from "./vakt-process.ts";

describe("vakt install on a real API server", () => {
  it("is accepted by the API server: CRDs established, everything else valid in a server-side dry run", async () => {
    const manifests = await vaktCli(["install", "--tls=self", "--namespace=vakt-install-test"]);
    const documents = manifests.split(/^---\n/m);
    const crds = documents.filter((d) => /^kind: CustomResourceDefinition$/m.test(d));
    const rest = documents.filter((d) => !/^kind: CustomResourceDefinition$/m.test(d));
    assert.ok(crds.length >= 3, "PolicyException, VaktConfiguration and Tenant CRDs");
    // Other tests on the shared control plane may have installed these CRDs as vakt (vakt run
    // --install-crds): take them over, as an upgrade by `kubectl apply --server-side` would.
    await kubectl(
      ["apply", "--server-side", "--force-conflicts", "--field-manager=vakt-test", "-f", "-"],
      crds.join("---\n"),
    );
    await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=30s",
      "crd/policyexceptions.vakt.dev",
      "crd/tenants.vakt.dev",
      "crd/vaktconfigurations.vakt.dev",
    ]);
    const namespace = rest.filter((d) => /^kind: Namespace$/m.test(d));
    await kubectl(
      ["apply", "--server-side", "--field-manager=vakt-test", "-f", "-"],
      namespace.join("---\n"),
    );
    const result = await kubectl(
      ["apply", "--server-side", "--dry-run=server", "--field-manager=vakt-test", "-f", "-"],
      rest.join("---\n"),
    );
    for (const kind of [
      "deployment.apps/vakt",
      "validatingwebhookconfiguration.admissionregistration.k8s.io/vakt",
      "clusterrole.rbac.authorization.k8s.io/vakt",
      "poddisruptionbudget.policy/vakt",
    ]) {
      assert.match(result.stdout, new RegExp(kind.replace(/\./g, "\\.")));
    }
    await kubectl(["delete", "namespace", "vakt-install-test", "--wait=false"]);
  });
});
