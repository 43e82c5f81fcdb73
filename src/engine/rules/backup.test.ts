import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { deployment, findingsOf, pathsOf } from "../../testing/rule-fixtures.ts";

const JUSTIFICATION = "vakt.dev/backup-justification";
const MISSING = ["metadata", "annotations", JUSTIFICATION];

function namespace(labels: Record<string, string>, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: "scratch", labels, annotations } };
}

describe("backup-opt-out", () => {
  it("reports an opted-out Namespace without a justification", () => {
    const found = findingsOf("backup-opt-out", namespace({ "vakt.dev/backup": "disabled" }));
    assert.deepEqual(
      found.map((finding) => finding.path),
      [MISSING],
    );
    assert.match(found[0]?.message ?? "", /Namespace/);
  });

  it("passes a justified opt-out and objects that do not opt out", () => {
    assert.deepEqual(
      pathsOf(
        "backup-opt-out",
        namespace({ "vakt.dev/backup": "disabled" }, { [JUSTIFICATION]: "scratch data" }),
      ),
      [],
    );
    assert.deepEqual(pathsOf("backup-opt-out", namespace({ "vakt.dev/backup": "enabled" })), []);
    assert.deepEqual(pathsOf("backup-opt-out", namespace({})), []);
  });

  it("rejects a blank justification", () => {
    assert.deepEqual(
      pathsOf("backup-opt-out", namespace({ "vakt.dev/backup": "disabled" }, { [JUSTIFICATION]: "  " })),
      [MISSING],
    );
  });

  it("checks PVCs and Velero's exclude label", () => {
    const claim: KubeObject = {
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "shop", labels: { "velero.io/exclude-from-backup": "true" } },
    };
    assert.deepEqual(pathsOf("backup-opt-out", claim), [MISSING]);
  });

  it("checks pod templates of workloads; a justification on the workload covers the template", () => {
    const labelled = deployment({
      templateMetadata: { labels: { app: "web", "vakt.dev/backup": "disabled" } },
    });
    assert.deepEqual(pathsOf("backup-opt-out", labelled), [
      ["spec", "template", "metadata", "annotations", JUSTIFICATION],
    ]);
    const covered = deployment({
      templateMetadata: { labels: { app: "web", "vakt.dev/backup": "disabled" } },
      metadata: { annotations: { [JUSTIFICATION]: "stateless" } },
    });
    assert.deepEqual(pathsOf("backup-opt-out", covered), []);
  });

  it("checks StatefulSet volume claim templates", () => {
    const set: KubeObject = {
      kind: "StatefulSet",
      metadata: { name: "cache", namespace: "shop" },
      spec: {
        template: { metadata: { labels: { app: "cache" } }, spec: { containers: [] } },
        volumeClaimTemplates: [
          { metadata: { name: "keep" } },
          { metadata: { name: "tmp", labels: { "vakt.dev/backup": "disabled" } } },
          {
            metadata: {
              name: "ok",
              labels: { "vakt.dev/backup": "disabled" },
              annotations: { [JUSTIFICATION]: "tmp" },
            },
          },
        ],
      },
    };
    assert.deepEqual(pathsOf("backup-opt-out", set), [
      ["spec", "volumeClaimTemplates", 1, "metadata", "annotations", JUSTIFICATION],
    ]);
  });
});
