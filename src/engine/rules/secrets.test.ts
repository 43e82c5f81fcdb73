import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../types.ts";
import { CONTAINERS, deployment, findingsOf, goodContainer, pathsOf } from "../../testing/rule-fixtures.ts";

const AUTOMOUNT = ["spec", "template", "spec", "automountServiceAccountToken"];

function serviceAccount(
  name: string,
  extra: Record<string, unknown> = {},
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace: "shop", annotations },
    ...extra,
  };
}

describe("service-account-token", () => {
  it("passes a pod spec that disables the token", () => {
    assert.deepEqual(pathsOf("service-account-token", deployment()), []);
  });

  it("reports a pod spec that leaves it unset or enables it", () => {
    const unset = deployment({ podSpec: { automountServiceAccountToken: undefined } });
    assert.deepEqual(pathsOf("service-account-token", unset), [AUTOMOUNT]);
    const enabled = findingsOf(
      "service-account-token",
      deployment({ podSpec: { automountServiceAccountToken: true } }),
    );
    assert.deepEqual(
      enabled.map((finding) => finding.path),
      [AUTOMOUNT],
    );
    assert.match(enabled[0]?.message ?? "", /true/);
  });

  it("accepts a reason on the workload or the pod template, not an empty one", () => {
    const reason = { "vakt.dev/needs-service-account-token": "operator watches ConfigMaps" };
    const onWorkload = deployment({
      podSpec: { automountServiceAccountToken: true },
      metadata: { annotations: reason },
    });
    assert.deepEqual(pathsOf("service-account-token", onWorkload), []);
    const onTemplate = deployment({
      podSpec: { automountServiceAccountToken: true },
      templateMetadata: { annotations: reason },
    });
    assert.deepEqual(pathsOf("service-account-token", onTemplate), []);
    const empty = findingsOf(
      "service-account-token",
      deployment({
        podSpec: { automountServiceAccountToken: true },
        metadata: { annotations: { "vakt.dev/needs-service-account-token": "" } },
      }),
    );
    assert.deepEqual(
      empty.map((finding) => finding.path),
      [AUTOMOUNT],
    );
    assert.match(empty[0]?.message ?? "", /empty/);
  });

  it("follows the pod's ServiceAccount when the pod spec leaves it unset", () => {
    const unset = deployment({
      podSpec: { automountServiceAccountToken: undefined, serviceAccountName: "web" },
    });
    const off = serviceAccount("web", { automountServiceAccountToken: false });
    assert.deepEqual(pathsOf("service-account-token", unset, { objects: [off] }), []);
    const otherName = serviceAccount("api", { automountServiceAccountToken: false });
    assert.deepEqual(pathsOf("service-account-token", unset, { objects: [otherName] }), [AUTOMOUNT]);
    const explicitTrue = deployment({
      podSpec: { automountServiceAccountToken: true, serviceAccountName: "web" },
    });
    assert.deepEqual(pathsOf("service-account-token", explicitTrue, { objects: [off] }), [AUTOMOUNT]);
  });

  it("reports ServiceAccounts that do not disable automounting", () => {
    assert.deepEqual(pathsOf("service-account-token", serviceAccount("web")), [
      ["automountServiceAccountToken"],
    ]);
    assert.deepEqual(
      pathsOf("service-account-token", serviceAccount("web", { automountServiceAccountToken: false })),
      [],
    );
    const justified = serviceAccount("web", {}, { "vakt.dev/needs-service-account-token": "controller" });
    assert.deepEqual(pathsOf("service-account-token", justified), []);
  });
});

function withEnv(...env: unknown[]): KubeObject {
  return deployment({ containers: [goodContainer({ env })] });
}

describe("secret-literals", () => {
  it("reports a secret-looking env var with a literal value, without the value in the message", () => {
    const found = findingsOf(
      "secret-literals",
      withEnv({ name: "LOG_LEVEL", value: "debug" }, { name: "DB_PASSWORD", value: "hunter2-very-secret" }),
    );
    assert.deepEqual(
      found.map((finding) => finding.path),
      [[...CONTAINERS, 0, "env", 1, "value"]],
    );
    assert.match(found[0]?.message ?? "", /DB_PASSWORD/);
    assert.doesNotMatch(found[0]?.message ?? "", /hunter2/);
  });

  it("matches the secret name patterns case-insensitively", () => {
    const names = [
      "db_passwd",
      "ClientSecret",
      "GITHUB_TOKEN",
      "APIKEY",
      "api_key",
      "PRIVATE_KEY",
      "GCP_CREDENTIALS",
      "S3_ACCESS_KEY",
    ];
    const object = withEnv(...names.map((name) => ({ name, value: "x1y2z3" })));
    assert.deepEqual(
      pathsOf("secret-literals", object),
      names.map((_, index) => [...CONTAINERS, 0, "env", index, "value"]),
    );
  });

  it("passes references, placeholders, empty values and names that only mention a secret", () => {
    const object = withEnv(
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
      { name: "DB_PASSWORD", value: "" },
      { name: "DB_PASSWORD", value: "$(DB_PASSWORD_FROM_SECRET)" },
      { name: "DSN_PASSWORD", value: "$(USER):$(PASS)" },
      { name: "API_TOKEN", value: "{{ .Values.token }}" },
      { name: "DB_PASSWORD_FILE", value: "/run/secrets/db-password" },
      { name: "TOKEN_TTL", value: "3600" },
      { name: "SECRET_NAME", value: "db-credentials" },
      { name: "REQUIRE_TOKEN", value: "true" },
    );
    assert.deepEqual(pathsOf("secret-literals", object), []);
  });

  it("finds known key formats under any name", () => {
    const object = withEnv(
      { name: "AWS_ID", value: "AKIAIOSFODNN7EXAMPLE" },
      { name: "KEY_PEM", value: "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----" },
      { name: "GH", value: `ghp_${"a1B2".repeat(9)}` },
      { name: "DATABASE_URL", value: "postgres://app:s3cr3t@db:5432/app" },
      { name: "SAFE_URL", value: "postgres://app@db:5432/app" },
      { name: "REF_URL", value: "postgres://app:$(DB_PASSWORD)@db:5432/app" },
    );
    const found = findingsOf("secret-literals", object);
    assert.deepEqual(
      found.map((finding) => finding.path),
      [0, 1, 2, 3].map((index) => [...CONTAINERS, 0, "env", index, "value"]),
    );
    assert.match(found[0]?.message ?? "", /AWS access key/);
    assert.match(found[1]?.message ?? "", /private key/);
    assert.match(found[2]?.message ?? "", /GitHub token/);
    for (const finding of found) assert.doesNotMatch(finding.message, /AKIA|BEGIN|ghp_|s3cr3t/);
  });

  it("finds known key formats in args of init containers", () => {
    const object = deployment({
      podSpec: {
        initContainers: [
          { name: "init", image: "x.io/i:1", args: ["--verbose", "--token=ghp_" + "Z".repeat(36)] },
        ],
      },
    });
    assert.deepEqual(pathsOf("secret-literals", object), [
      ["spec", "template", "spec", "initContainers", 0, "args", 1],
    ]);
  });
});
