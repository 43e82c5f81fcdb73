import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUnderRegistry, normaliseRegistryEntry, parseImageReference } from "./util/image.ts";
import { CONTAINERS, deployment, findingsOf, goodContainer, pathsOf } from "../../testing/rule-fixtures.ts";
import type { KubeObject } from "../types.ts";

describe("parseImageReference", () => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ["nginx", "docker.io/library/nginx", undefined, undefined],
    ["nginx:1.27", "docker.io/library/nginx", "1.27", undefined],
    ["bitnami/redis:7", "docker.io/bitnami/redis", "7", undefined],
    ["index.docker.io/library/nginx:1", "docker.io/library/nginx", "1", undefined],
    ["localhost:5000/app", "localhost:5000/app", undefined, undefined],
    ["localhost:5000/app:2.0", "localhost:5000/app", "2.0", undefined],
    ["localhost/app", "localhost/app", undefined, undefined],
    ["Registry.Example.com:443/team/app:v1", "registry.example.com:443/team/app", "v1", undefined],
    ["ghcr.io/acme/app@sha256:" + "a".repeat(64), "ghcr.io/acme/app", undefined, "sha256:" + "a".repeat(64)],
    ["ghcr.io/acme/app:1.0@sha256:" + "b".repeat(64), "ghcr.io/acme/app", "1.0", "sha256:" + "b".repeat(64)],
  ];
  for (const [input, name, tag, digest] of cases) {
    it(`parses ${input}`, () => {
      const reference = parseImageReference(input);
      assert.ok(reference !== undefined);
      assert.equal(reference.name, name);
      assert.equal(reference.tag, tag);
      assert.equal(reference.digest, digest);
    });
  }

  it("rejects malformed references", () => {
    for (const input of [
      "",
      "nginx:",
      "app@sha256:short",
      "UPPER",
      "a b",
      "{{ .Values.image }}",
      "ghcr.io/",
    ]) {
      assert.equal(parseImageReference(input), undefined, input);
    }
  });
});

describe("registry prefixes", () => {
  it("matches at path boundaries only", () => {
    assert.equal(isUnderRegistry("ghcr.io/acme/app", "ghcr.io/acme"), true);
    assert.equal(isUnderRegistry("ghcr.io/acme", "ghcr.io/acme"), true);
    assert.equal(isUnderRegistry("ghcr.io/acme-evil/app", "ghcr.io/acme"), false);
    assert.equal(isUnderRegistry("ghcr.io.evil.com/app", "ghcr.io"), false);
  });

  it("normalises entries", () => {
    assert.equal(normaliseRegistryEntry("https://Quay.IO/team/"), "quay.io/team");
    assert.equal(normaliseRegistryEntry("index.docker.io/library"), "docker.io/library");
  });
});

function withImages(...images: unknown[]): KubeObject {
  return deployment({
    containers: images.map((image, index) => goodContainer({ name: `c${index}`, image })),
  });
}

describe("trusted-registry", () => {
  const registries = ["registry.example.com", "docker.io/library", "localhost:5000"];

  it("reports an image from another registry at its image field", () => {
    const found = findingsOf("trusted-registry", withImages("registry.example.com/a:1", "quay.io/evil/x:1"), {
      registries,
    });
    assert.deepEqual(
      found.map((finding) => finding.path),
      [[...CONTAINERS, 1, "image"]],
    );
    assert.match(found[0]?.message ?? "", /quay\.io\/evil\/x/);
  });

  it("passes Docker Hub shorthand when docker.io/library is allowed, but not other Hub images", () => {
    assert.deepEqual(pathsOf("trusted-registry", withImages("nginx:1.27", "redis:7"), { registries }), []);
    assert.deepEqual(
      pathsOf("trusted-registry", withImages("nginx:1.27", "bitnami/redis:7"), { registries }),
      [[...CONTAINERS, 1, "image"]],
    );
  });

  it("treats a registry port as part of the host", () => {
    assert.deepEqual(pathsOf("trusted-registry", withImages("localhost:5000/app:1"), { registries }), []);
    assert.deepEqual(pathsOf("trusted-registry", withImages("localhost:5001/app:1"), { registries }), [
      [...CONTAINERS, 0, "image"],
    ]);
  });

  it("checks init and ephemeral containers of a CronJob", () => {
    const cronJob: KubeObject = {
      kind: "CronJob",
      metadata: { name: "nightly", namespace: "shop" },
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                initContainers: [{ name: "init", image: "evil.io/init:1" }],
                containers: [{ name: "main", image: "registry.example.com/main:1" }],
                ephemeralContainers: [{ name: "debug", image: "busybox.evil/debug:1" }],
              },
            },
          },
        },
      },
    };
    const podSpec = ["spec", "jobTemplate", "spec", "template", "spec"];
    assert.deepEqual(pathsOf("trusted-registry", cronJob, { registries }), [
      [...podSpec, "initContainers", 0, "image"],
      [...podSpec, "ephemeralContainers", 0, "image"],
    ]);
  });

  it("checks PodTemplate objects", () => {
    const template: KubeObject = {
      kind: "PodTemplate",
      metadata: { name: "t", namespace: "shop" },
      template: { spec: { containers: [{ name: "a", image: "evil.io/a:1" }] } },
    };
    assert.deepEqual(pathsOf("trusted-registry", template, { registries }), [
      ["template", "spec", "containers", 0, "image"],
    ]);
  });

  it("reports nothing when no registries are configured", () => {
    assert.deepEqual(pathsOf("trusted-registry", withImages("quay.io/evil/x:1"), { registries: [] }), []);
  });
});

describe("image-tag", () => {
  it("reports untagged and latest images, passes tags and digests", () => {
    const object = withImages(
      "nginx",
      "nginx:latest",
      "nginx:1.27",
      "nginx@sha256:" + "c".repeat(64),
      "localhost:5000/app",
      "localhost:5000/app:3",
      "ghcr.io/acme/app:latest@sha256:" + "d".repeat(64),
    );
    assert.deepEqual(pathsOf("image-tag", object), [
      [...CONTAINERS, 0, "image"],
      [...CONTAINERS, 1, "image"],
      [...CONTAINERS, 4, "image"],
    ]);
  });

  it("says why in the message", () => {
    const [untagged, latest] = findingsOf("image-tag", withImages("app.example.com/app", "nginx:latest"));
    assert.match(untagged?.message ?? "", /no tag/);
    assert.match(latest?.message ?? "", /"latest" tag/);
  });

  it("reports malformed references", () => {
    assert.deepEqual(pathsOf("image-tag", withImages("{{ .Values.image }}")), [[...CONTAINERS, 0, "image"]]);
  });
});
