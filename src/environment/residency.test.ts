import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EEA_COUNTRIES,
  EU_COUNTRIES,
  JURISDICTIONS,
  REGIONS,
  countryName,
  inside,
  regionLocation,
  regionOfZone,
  registryLocation,
  storageLocation,
} from "./residency.ts";
import type { Jurisdiction, Region, RegionProvider } from "./residency.ts";

function region(provider: RegionProvider, name: string): Region {
  const found = REGIONS[provider].get(name);
  assert.ok(found, name);
  return found;
}

function jurisdiction(code: string): Jurisdiction {
  const found = JURISDICTIONS.get(code);
  assert.ok(found, code);
  return found;
}

/** What every provider's table must hold to. */
function checkTable(provider: RegionProvider, zonePattern: (region: string) => RegExp): void {
  const regions = [...REGIONS[provider].values()];
  assert.ok(regions.length > 0);
  const zones = new Set<string>();
  for (const region of regions) {
    assert.ok(region.zones.length > 0, `${region.name} has zones`);
    for (const zone of region.zones) {
      assert.match(zone, zonePattern(region.name), `${zone} is named after ${region.name}`);
      assert.ok(!zones.has(zone), `${zone} is in one region only`);
      zones.add(zone);
      assert.equal(regionOfZone(provider, zone)?.name, region.name);
    }
    if (provider !== "local")
      assert.notEqual(countryName(region.country), region.country, `${region.country} is named`);
  }
}

describe("residency table", () => {
  it("aws: regions with their country and zones named <region><letter>; Stockholm is in Sweden", () => {
    checkTable("aws", (region) => new RegExp(`^${region}[a-f]$`));
    const stockholm = region("aws", "eu-north-1");
    assert.equal(stockholm.country, "SE");
    assert.ok(inside(regionLocation("aws", stockholm), jurisdiction("SE")));
    assert.ok(!inside(regionLocation("aws", region("aws", "us-east-1")), jurisdiction("EU")));
    assert.ok(
      !inside(regionLocation("aws", region("aws", "eu-central-2")), jurisdiction("EEA")),
      "Switzerland is not in the EEA",
    );
  });

  it("gcp: regions with their country and zones named <region>-<letter>; europe-north1 is Finland, europe-north2 Sweden", () => {
    checkTable("gcp", (region) => new RegExp(`^${region}-[a-f]$`));
    assert.equal(region("gcp", "europe-north1").country, "FI");
    assert.equal(region("gcp", "europe-north2").country, "SE");
    assert.ok(
      !inside(regionLocation("gcp", region("gcp", "europe-west2")), jurisdiction("EU")),
      "the UK left the EU",
    );
  });

  it("local: one region on the hub's machine, inside any jurisdiction", () => {
    checkTable("local", () => /^local-[a-c]$/);
    const local = region("local", "local");
    for (const code of ["SE", "EU", "US"])
      assert.ok(inside(regionLocation("local", local), jurisdiction(code)));
  });

  it("jurisdictions: 27 EU members, the EEA adds Iceland, Liechtenstein and Norway; countries are their own", () => {
    assert.equal(new Set(EU_COUNTRIES).size, 27);
    assert.deepEqual(
      EEA_COUNTRIES.filter((c) => !EU_COUNTRIES.includes(c)),
      ["IS", "LI", "NO"],
    );
    assert.deepEqual(jurisdiction("SE").countries, ["SE"]);
    const euWide = { countries: EU_COUNTRIES, label: "EU" };
    assert.ok(inside(euWide, jurisdiction("EU")));
    assert.ok(inside(euWide, jurisdiction("EEA")));
    assert.ok(!inside(euWide, jurisdiction("SE")), "somewhere in the EU is not in Sweden");
  });

  it("storage: GCS multi-regions span countries; unknown locations are undefined", () => {
    assert.deepEqual(storageLocation("gcp", "EU")?.countries, EU_COUNTRIES);
    assert.deepEqual(storageLocation("gcp", "eur4")?.countries, ["FI", "NL"]);
    assert.deepEqual(storageLocation("aws", "eu-north-1")?.countries, ["SE"]);
    assert.equal(storageLocation("aws", "EU"), undefined);
    assert.equal(storageLocation("aws", "mars-1"), undefined);
  });

  it("registries: ECR and Artifact Registry hosts tell their region, global registries are anywhere", () => {
    assert.deepEqual(registryLocation("123456789012.dkr.ecr.eu-north-1.amazonaws.com")?.countries, ["SE"]);
    assert.deepEqual(registryLocation("123456789012.dkr.ecr.us-east-1.amazonaws.com/team")?.countries, [
      "US",
    ]);
    assert.deepEqual(registryLocation("europe-north2-docker.pkg.dev")?.countries, ["SE"]);
    assert.deepEqual(registryLocation("europe-docker.pkg.dev")?.countries, EU_COUNTRIES);
    assert.equal(registryLocation("docker.io")?.anywhere, true);
    assert.equal(registryLocation("ghcr.io/org")?.anywhere, true);
    assert.equal(registryLocation("registry.example.se"), undefined);
    assert.equal(registryLocation("123456789012.dkr.ecr.mars-1.amazonaws.com"), undefined);
  });
});
