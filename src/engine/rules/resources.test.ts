import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTAINERS, deployment, goodContainer, pathsOf } from "../../testing/rule-fixtures.ts";

describe("resource-requests", () => {
  it("passes a container with requests and a memory limit", () => {
    assert.deepEqual(pathsOf("resource-requests", deployment()), []);
  });

  it("reports each missing request and limit at the path where it belongs", () => {
    const object = deployment({
      containers: [
        goodContainer({ resources: { requests: { cpu: "100m" } } }),
        goodContainer({ name: "b", resources: undefined }),
      ],
    });
    assert.deepEqual(pathsOf("resource-requests", object), [
      [...CONTAINERS, 0, "resources", "requests", "memory"],
      [...CONTAINERS, 0, "resources", "limits", "memory"],
      [...CONTAINERS, 1, "resources", "requests", "cpu"],
      [...CONTAINERS, 1, "resources", "requests", "memory"],
      [...CONTAINERS, 1, "resources", "limits", "memory"],
    ]);
  });

  it("treats requests defaulted from limits as declared, but empty strings as missing", () => {
    const object = deployment({
      containers: [
        goodContainer({ resources: { requests: { memory: "" }, limits: { cpu: 1, memory: "1Gi" } } }),
      ],
    });
    assert.deepEqual(pathsOf("resource-requests", object), []);
    const empty = deployment({
      containers: [
        goodContainer({ resources: { requests: { cpu: "", memory: "1Gi" }, limits: { memory: "1Gi" } } }),
      ],
    });
    assert.deepEqual(pathsOf("resource-requests", empty), [
      [...CONTAINERS, 0, "resources", "requests", "cpu"],
    ]);
  });

  it("checks init containers but not ephemeral containers", () => {
    const object = deployment({
      podSpec: {
        initContainers: [{ name: "init", image: "x.io/i:1" }],
        ephemeralContainers: [{ name: "debug", image: "x.io/d:1" }],
      },
    });
    const init = ["spec", "template", "spec", "initContainers", 0, "resources"];
    assert.deepEqual(pathsOf("resource-requests", object), [
      [...init, "requests", "cpu"],
      [...init, "requests", "memory"],
      [...init, "limits", "memory"],
    ]);
  });
});
