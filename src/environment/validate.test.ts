import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { formatFieldPath } from "../tenant/validate.ts";
import type { EnvironmentProblem } from "./types.ts";
import { parseEnvironment } from "./validate.ts";

const EXAMPLES = join(import.meta.dirname, "..", "..", "examples", "environments");

type Json = Record<string, unknown>;

/** A valid AWS environment in Stockholm, with `edit` applied to its spec. */
function aws(edit: (spec: Json) => void = () => undefined, name = "acme-prod"): Json {
  const spec: Json = {
    customer: "acme",
    provider: "aws",
    region: "eu-north-1",
    jurisdiction: "SE",
    kubernetesVersion: "v1.33",
    nodePools: [
      { name: "system", instanceTypes: ["m7i.large"], min: 1, max: 3, zones: ["eu-north-1a", "eu-north-1b"] },
    ],
    backup: { provider: "aws", bucket: "acme-backups", region: "eu-north-1" },
  };
  edit(spec);
  return { apiVersion: "vakt.dev/v1alpha1", kind: "Environment", metadata: { name }, spec };
}

/** A valid GKE environment in Stockholm. */
function gcp(edit: (spec: Json) => void = () => undefined, name = "acme-research"): Json {
  return aws((spec) => {
    spec["provider"] = "gcp";
    spec["region"] = "europe-north2";
    spec["gcp"] = { project: "acme-research-1" };
    spec["nodePools"] = [
      {
        name: "general",
        instanceTypes: ["n2-standard-4"],
        min: 3,
        max: 6,
        zones: ["europe-north2-a", "europe-north2-b", "europe-north2-c"],
      },
    ];
    spec["backup"] = { provider: "gcp", bucket: "acme-research-backups", region: "europe-north2" };
    edit(spec);
  }, name);
}

function pool(spec: Json): Json {
  return (spec["nodePools"] as Json[])[0] as Json;
}

function problemsOf(value: Json): EnvironmentProblem[] {
  const parsed = parseEnvironment(value);
  assert.equal(parsed.environment, undefined, "an environment with problems is not returned");
  return parsed.problems;
}

/** The one problem of `value`: its kind, its field and words of its message. */
function only(value: Json, kind: EnvironmentProblem["kind"], field: string, ...words: string[]): void {
  const problems = problemsOf(value);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  const [found] = problems;
  assert.ok(found);
  assert.equal(formatFieldPath(found.path), field);
  assert.equal(found.kind, kind);
  for (const word of words) assert.ok(found.message.includes(word), `"${found.message}" says ${word}`);
}

describe("Environment validation", () => {
  it("accepts the examples and the base environments, filling in defaults", () => {
    for (const file of readdirSync(EXAMPLES)) {
      const parsed = parseEnvironment(parse(readFileSync(join(EXAMPLES, file), "utf8")));
      assert.deepEqual(parsed.problems, [], file);
      assert.ok(parsed.environment, file);
    }
    for (const value of [aws(), gcp()]) {
      const parsed = parseEnvironment(value);
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(parsed.environment?.spec.baseline, {});
    }
  });

  describe("residency: refused with the field, the place, the jurisdiction and where to go instead", () => {
    it("a region outside the jurisdiction", () => {
      only(
        aws((s) => (s["region"] = "us-east-1")),
        "residency",
        "spec.region",
        "United States",
        "SE",
        "eu-north-1",
      );
    });

    it("a region outside the EU names every EU region of the provider", () => {
      only(
        gcp((s) => {
          s["jurisdiction"] = "EU";
          s["region"] = "europe-west2";
          pool(s)["zones"] = ["europe-west2-a", "europe-west2-b", "europe-west2-c"];
        }),
        "residency",
        "spec.region",
        "London",
        "europe-north1",
        "europe-west4",
      );
    });

    it("a provider with no region in the jurisdiction: says which provider has one", () => {
      only(
        gcp((s) => {
          s["jurisdiction"] = "IE";
          s["region"] = "europe-north1";
          pool(s)["zones"] = ["europe-north1-a", "europe-north1-b", "europe-north1-c"];
          s["backup"] = {
            provider: "s3",
            bucket: "b-ie",
            region: "dub",
            endpoint: "https://s3.example.ie",
            jurisdiction: "IE",
          };
        }),
        "residency",
        "spec.region",
        "gcp has no region inside it here; use aws (eu-west-1)",
      );
    });

    it("a node pool zone in another country", () => {
      only(
        aws((s) => (pool(s)["zones"] = ["eu-north-1a", "eu-west-1a"])),
        "residency",
        "spec.nodePools[0].zones[1]",
        "eu-west-1a",
        "Ireland",
        "eu-north-1a, eu-north-1b, eu-north-1c",
      );
    });

    it("a backup bucket in another region, and a GCS multi-region wider than the jurisdiction", () => {
      only(
        aws((s) => (s["backup"] = { provider: "aws", bucket: "acme-backups", region: "eu-central-1" })),
        "residency",
        "spec.backup.region",
        "backup bucket acme-backups",
        "Frankfurt",
        "eu-north-1",
      );
      only(
        gcp((s) => (s["backup"] = { provider: "gcp", bucket: "acme-backups", region: "EU" })),
        "residency",
        "spec.backup.region",
        "any EU member state",
        "europe-north2",
      );
      assert.deepEqual(
        parseEnvironment(
          gcp((s) => {
            s["jurisdiction"] = "EU";
            s["backup"] = { provider: "gcp", bucket: "acme-backups", region: "EU" };
          }),
        ).problems,
        [],
      );
    });

    it("an S3-compatible store declared elsewhere", () => {
      only(
        aws(
          (s) =>
            (s["backup"] = {
              provider: "s3",
              bucket: "acme",
              region: "fra",
              endpoint: "https://s3.example.de",
              jurisdiction: "DE",
            }),
        ),
        "residency",
        "spec.backup.jurisdiction",
        "Germany",
      );
    });

    it("registries: a global one, an ECR in another region, one declared elsewhere", () => {
      only(
        aws((s) => (s["registries"] = [{ host: "docker.io" }])),
        "residency",
        "spec.registries[0].host",
        "global registry",
        "mirror",
      );
      only(
        aws((s) => (s["registries"] = [{ host: "123456789012.dkr.ecr.us-east-1.amazonaws.com" }])),
        "residency",
        "spec.registries[0].host",
        "N. Virginia",
      );
      only(
        aws((s) => (s["registries"] = [{ host: "registry.example.eu", jurisdiction: "EU" }])),
        "residency",
        "spec.registries[0].jurisdiction",
        "the European Union (as declared)",
        "SE",
      );
    });
  });

  describe("an environment that cannot be built: refused with the field and the fix", () => {
    it("an unknown provider (schema) and a designed-for one that is not served", () => {
      only(
        aws((s) => (s["provider"] = "digitalocean")),
        "spec",
        "spec.provider",
        "is not one of",
      );
      only(
        aws((s) => (s["provider"] = "azure")),
        "spec",
        "spec.provider",
        "not served",
        "Cluster API Provider Azure",
        "aws, gcp, local",
      );
      only(
        aws((s) => (s["provider"] = "crossplane")),
        "spec",
        "spec.provider",
        "Crossplane",
      );
    });

    it("an unknown region and a zone of another region in the same country", () => {
      only(
        aws((s) => (s["region"] = "eu-north-9")),
        "spec",
        "spec.region",
        "unknown aws region",
        "eu-north-1",
      );
      only(
        gcp((s) => {
          s["jurisdiction"] = "IT";
          s["region"] = "europe-west8";
          pool(s)["zones"] = ["europe-west8-a", "europe-west8-b", "europe-west12-a"];
          s["backup"] = { provider: "gcp", bucket: "acme-backups", region: "europe-west8" };
        }),
        "spec",
        "spec.nodePools[0].zones[2]",
        "in region europe-west12, not in the environment's region europe-west8",
      );
      only(
        aws((s) => (pool(s)["zones"] = ["eu-north-1a", "eu-north-1z"])),
        "spec",
        "spec.nodePools[0].zones[1]",
        "unknown aws zone",
      );
    });

    it("impossible node pools: min above max, unknown machine family, a malformed machine type", () => {
      only(
        aws((s) => Object.assign(pool(s), { min: 5, max: 2 })),
        "spec",
        "spec.nodePools[0].min",
        "min 5 above max 2",
      );
      only(
        aws((s) => (pool(s)["instanceTypes"] = ["zz9.large"])),
        "spec",
        "spec.nodePools[0].instanceTypes[0]",
        'family "zz9"',
      );
      only(
        aws((s) => (pool(s)["instanceTypes"] = ["n2-standard-4"])),
        "spec",
        "spec.nodePools[0].instanceTypes[0]",
        "like m7i.large",
      );
      only(
        gcp((s) => (pool(s)["instanceTypes"] = ["m7i.large"])),
        "spec",
        "spec.nodePools[0].instanceTypes[0]",
        "like n2-standard-4",
      );
    });

    it("overlapping names: two pools of one name, a tenant listed twice (schema)", () => {
      only(
        aws((s) => (s["nodePools"] = [pool(s), { ...pool(s), instanceTypes: ["m7i.xlarge"] }])),
        "spec",
        "spec.nodePools[1]",
        "duplicate entry",
        "name",
      );
      only(
        aws((s) => (s["tenants"] = ["a", "a"])),
        "spec",
        "spec.tenants[1]",
        "duplicate entry",
      );
    });

    it("aws: a single zone for the whole cluster, one pool mixing Graviton and x86", () => {
      only(
        aws((s) => (pool(s)["zones"] = ["eu-north-1a"])),
        "spec",
        "spec.nodePools",
        "two availability zones",
      );
      only(
        aws((s) => (pool(s)["instanceTypes"] = ["m7i.large", "m7g.large"])),
        "spec",
        "spec.nodePools[0].instanceTypes",
        "one AMI type",
      );
    });

    it("gcp: the project, one machine type per pool, whole nodes per zone, names starting with a letter", () => {
      only(
        gcp((s) => delete s["gcp"]),
        "spec",
        "spec.gcp",
        "project",
      );
      only(
        gcp((s) => (pool(s)["instanceTypes"] = ["n2-standard-4", "n2-standard-8"])),
        "spec",
        "spec.nodePools[0].instanceTypes",
        "one machine type",
      );
      only(
        gcp((s) => Object.assign(pool(s), { min: 4, max: 5 })),
        "spec",
        "spec.nodePools[0].max",
        "per zone",
        "multiples of 3",
      );
      only(
        gcp(() => undefined, "1st-research"),
        "spec",
        "metadata.name",
        "start with a letter",
      );
    });

    it("settings of another provider, an S3 store without its location, registries that do not say where", () => {
      only(
        aws((s) => (s["gcp"] = { project: "acme-research-1" })),
        "spec",
        "spec.gcp",
        "remove spec.gcp",
      );
      only(
        aws(
          (s) =>
            (s["backup"] = {
              provider: "s3",
              bucket: "acme",
              region: "sto",
              endpoint: "https://s3.example.se",
            }),
        ),
        "spec",
        "spec.backup.jurisdiction",
        "say where",
      );
      only(
        aws((s) => (s["registries"] = [{ host: "registry.example.se" }])),
        "spec",
        "spec.registries[0].jurisdiction",
        "set jurisdiction",
      );
    });

    it("an unknown rule in the baseline, a name too long, a namespace on a cluster-scoped object", () => {
      only(
        aws((s) => (s["baseline"] = { rules: { "no-such-rule": "off" } })),
        "spec",
        "spec.baseline.rules.no-such-rule",
        "vakt rules",
      );
      only(
        aws(() => undefined, "a".repeat(41)),
        "spec",
        "metadata.name",
        "at most 40",
      );
      const namespaced = aws();
      (namespaced["metadata"] as Json)["namespace"] = "default";
      only(namespaced, "spec", "metadata.namespace", "cluster-scoped");
    });
  });
});
