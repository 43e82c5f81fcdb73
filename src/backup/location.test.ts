import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backupLocationCrd, parseBackupLocation } from "./location.ts";
import { backupNamespaces, residencyProblems } from "./residency.ts";
import { ConfigError, parseAwsCredentials, parseVeleroLocation } from "./s3.ts";

const valid = {
  apiVersion: "vakt.dev/v1alpha1",
  kind: "BackupLocation",
  metadata: { name: "offsite-se", generation: 3 },
  spec: {
    s3: {
      bucket: "vakt-offsite",
      region: "eu-north-1",
      endpoint: "http://127.0.0.1:7070",
      forcePathStyle: true,
      credentialsSecret: { namespace: "vakt-system", name: "offsite" },
    },
    jurisdiction: "SE",
  },
};

describe("BackupLocation", () => {
  it("is defaulted as the API server would", () => {
    const { location, problems } = parseBackupLocation(valid);
    assert.deepEqual(problems, []);
    assert.equal(location?.generation, 3);
    assert.equal(location.spec.retention.minimumDays, 30);
    assert.equal(location.spec.retention.mode, "COMPLIANCE");
    assert.deepEqual(location.spec.source, { veleroNamespace: "velero", storageLocation: "default" });
    assert.equal(location.spec.lockCheck.intervalMinutes, 60);
    assert.equal(location.spec.suspend, false);
  });

  it("names the field of each problem", () => {
    const { location, problems } = parseBackupLocation({
      ...valid,
      spec: {
        ...valid.spec,
        s3: { ...valid.spec.s3, bucket: "Bad_Bucket", credentialsSecret: { name: "x" } },
        jurisdiction: "se",
      },
    });
    assert.equal(location, undefined);
    const paths = problems.map((p) => p.path.join("."));
    assert.ok(paths.includes("spec.s3.bucket"), paths.join(", "));
    assert.ok(paths.includes("spec.s3.credentialsSecret.namespace"), paths.join(", "));
    assert.ok(paths.includes("spec.jurisdiction"), paths.join(", "));
    assert.match(
      problems.find((p) => p.path.join(".") === "spec.s3.bucket")?.message ?? "",
      /S3 bucket name/,
    );
  });

  it("has a structural CRD schema with the status subresource", () => {
    const crd = backupLocationCrd() as { spec: { scope: string; versions: { subresources: unknown }[] } };
    assert.equal(crd.spec.scope, "Cluster");
    assert.deepEqual(crd.spec.versions[0]?.subresources, { status: {} });
  });
});

describe("residency of off-site copies", () => {
  const place = { name: "offsite-us", region: "us-east-1", jurisdiction: "US" };
  it("refuses a location outside a Tenant's regions and names both", () => {
    const problems = residencyProblems(place, [
      { namespace: "care", tenant: "carelink", regions: ["eu-north-1"] },
    ]);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? "",
      /namespace care \(Tenant carelink\) keeps its data in eu-north-1.*offsite-us is in us-east-1/,
    );
  });
  it("refuses a location under another jurisdiction than the namespace requires", () => {
    const problems = residencyProblems({ ...place, jurisdiction: undefined }, [
      { namespace: "care", jurisdiction: "SE" },
    ]);
    assert.match(problems[0] ?? "", /requires jurisdiction SE.*no declared jurisdiction/);
  });
  it("allows a location that meets every requirement, and namespaces without any", () => {
    const se = { name: "offsite-se", region: "eu-north-1", jurisdiction: "SE" };
    assert.deepEqual(
      residencyProblems(se, [
        {
          namespace: "care",
          tenant: "carelink",
          regions: ["eu-north-1", "eu-central-1"],
          jurisdiction: "SE",
        },
        { namespace: "free" },
        { namespace: "t", tenant: "any", regions: [] },
      ]),
      [],
    );
  });
  it("reads a backup's namespaces as Velero does (none or * is every namespace)", () => {
    assert.deepEqual(backupNamespaces(["b", "a"], undefined, ["x"]), ["a", "b"]);
    assert.deepEqual(backupNamespaces(undefined, ["kube-system"], ["x", "kube-system"]), ["x"]);
    assert.deepEqual(backupNamespaces(["*"], [], ["y", "x"]), ["x", "y"]);
  });
});

describe("the primary location's credentials", () => {
  it("reads a profile of an AWS shared credentials file", () => {
    const text =
      "[other]\naws_access_key_id = o\n\n[default]\naws_access_key_id=AK\naws_secret_access_key = SK\n";
    assert.deepEqual(parseAwsCredentials(text, "default", "Secret velero/cloud"), {
      accessKeyId: "AK",
      secretAccessKey: "SK",
    });
    assert.throws(
      () => parseAwsCredentials(text, "other", "Secret velero/cloud"),
      /Secret velero\/cloud: no aws_access_key_id.*\[other\]/,
    );
  });
  it("reads a Velero BackupStorageLocation and refuses other providers with the field", () => {
    const object = {
      metadata: { namespace: "velero", name: "default" },
      spec: {
        provider: "aws",
        objectStorage: { bucket: "velero", prefix: "cluster-a" },
        config: { region: "eu-north-1", s3Url: "http://127.0.0.1:1", s3ForcePathStyle: "true" },
        credential: { name: "cloud-credentials", key: "cloud" },
      },
    };
    const parsed = parseVeleroLocation(object);
    assert.equal(parsed.bucket, "velero");
    assert.equal(parsed.prefix, "cluster-a");
    assert.deepEqual(parsed.endpoint, {
      region: "eu-north-1",
      endpoint: "http://127.0.0.1:1",
      forcePathStyle: true,
    });
    assert.throws(
      () => parseVeleroLocation({ ...object, spec: { ...object.spec, provider: "azure" } }),
      (error: unknown) =>
        error instanceof ConfigError && /velero\/default: spec.provider is "azure"/.test(error.message),
    );
  });
});
