import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { walk } from "../tenant/builder.ts";
import { JURISDICTION_CODES } from "./residency.ts";
import { environmentCrd, environmentSpecSchema, PROVIDER_NAMES } from "./schema.ts";

type Json = Record<string, unknown>;

describe("Environment CRD", () => {
  const crd = environmentCrd() as { spec: Json & { versions: Json[] } };
  const version = crd.spec.versions[0] as Json & { schema: { openAPIV3Schema: Json } };

  it("is cluster-scoped, one stored version with a status subresource and printer columns", () => {
    assert.equal(crd.spec["scope"], "Cluster");
    assert.equal(crd.spec.versions.length, 1);
    assert.deepEqual(version["subresources"], { status: {} });
    const columns = (version["additionalPrinterColumns"] as { name: string }[]).map((c) => c.name);
    for (const column of ["Provider", "Region", "Phase", "Ready"])
      assert.ok(columns.includes(column), column);
  });

  it("describes every field, and constrains provider, jurisdiction and node pool sizes", () => {
    for (const [path, node] of walk(environmentSpecSchema))
      assert.ok(node.data.description.trim() !== "", `spec.${path.join(".")} has a description`);
    const spec = (version.schema.openAPIV3Schema["properties"] as Record<string, Json>)["spec"] as Json;
    const properties = spec["properties"] as Record<string, Json>;
    assert.deepEqual(properties["provider"]?.["enum"], [...PROVIDER_NAMES]);
    assert.deepEqual(properties["jurisdiction"]?.["enum"], [...JURISDICTION_CODES]);
    assert.deepEqual(spec["required"], [
      "customer",
      "provider",
      "region",
      "jurisdiction",
      "kubernetesVersion",
      "nodePools",
      "backup",
    ]);
    const pool = (properties["nodePools"]?.["items"] as Json)["properties"] as Record<string, Json>;
    assert.equal(pool["min"]?.["minimum"], 0);
    assert.equal(pool["max"]?.["minimum"], 1);
    assert.equal(properties["nodePools"]?.["x-kubernetes-list-type"], "map");
  });
});
