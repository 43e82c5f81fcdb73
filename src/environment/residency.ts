/**
 * Where things are, as data: jurisdictions (countries, the EU, the EEA), each provider's regions
 * with the country they are in and their zones, object-storage locations, and the image
 * registries whose location can be told from their host name. Validation (validate.ts) judges an
 * Environment against these tables; nothing here decides anything.
 *
 * Facts, as the providers publish them (region pages of AWS and Google Cloud, GCS locations). A
 * region missing here is refused as unknown rather than guessed: adding one is adding a line.
 */

/** EU member states (ISO 3166-1 alpha-2). */
export const EU_COUNTRIES: readonly string[] = [
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
];

/** The EEA: the EU and Iceland, Liechtenstein, Norway (GDPR applies; no Chapter V transfer inside it). */
export const EEA_COUNTRIES: readonly string[] = [...EU_COUNTRIES, "IS", "LI", "NO"];

const COUNTRY_NAMES: Readonly<Record<string, string>> = {
  AT: "Austria",
  BE: "Belgium",
  BG: "Bulgaria",
  HR: "Croatia",
  CY: "Cyprus",
  CZ: "Czechia",
  DK: "Denmark",
  EE: "Estonia",
  FI: "Finland",
  FR: "France",
  DE: "Germany",
  GR: "Greece",
  HU: "Hungary",
  IE: "Ireland",
  IT: "Italy",
  LV: "Latvia",
  LT: "Lithuania",
  LU: "Luxembourg",
  MT: "Malta",
  NL: "the Netherlands",
  PL: "Poland",
  PT: "Portugal",
  RO: "Romania",
  SK: "Slovakia",
  SI: "Slovenia",
  ES: "Spain",
  SE: "Sweden",
  IS: "Iceland",
  LI: "Liechtenstein",
  NO: "Norway",
  CH: "Switzerland",
  GB: "the United Kingdom",
  US: "the United States",
  CA: "Canada",
  JP: "Japan",
  AU: "Australia",
};

export interface Jurisdiction {
  readonly code: string;
  readonly name: string;
  /** The countries data may be in. */
  readonly countries: readonly string[];
}

/** Every jurisdiction an Environment may name: EU, EEA, and single countries. */
export const JURISDICTIONS: ReadonlyMap<string, Jurisdiction> = new Map([
  ["EU", { code: "EU", name: "the European Union", countries: EU_COUNTRIES }],
  ["EEA", { code: "EEA", name: "the European Economic Area", countries: EEA_COUNTRIES }],
  ...Object.entries(COUNTRY_NAMES).map(
    ([code, name]) => [code, { code, name, countries: [code] }] as [string, Jurisdiction],
  ),
]);

export const JURISDICTION_CODES: readonly string[] = [...JURISDICTIONS.keys()];

/**
 * Where data is: the countries it may be in ("EU multi-region": any EU member state). `anywhere`
 * is a service with no fixed location (a global registry, a CDN-backed store).
 */
export interface Location {
  readonly countries: readonly string[];
  readonly anywhere?: boolean;
  /** The hub's own machine (the `local` provider): wherever vakt runs, not a place to check. */
  readonly hub?: boolean;
  /** How a person names it: "eu-north-1 (Stockholm, Sweden)". */
  readonly label: string;
}

/** Whether everything at `location` stays inside `jurisdiction`. */
export function inside(location: Location, jurisdiction: Jurisdiction): boolean {
  if (location.hub === true) return true;
  if (location.anywhere === true) return false;
  return location.countries.every((country) => jurisdiction.countries.includes(country));
}

export function countryName(code: string): string {
  return COUNTRY_NAMES[code] ?? code;
}

export interface Region {
  readonly name: string;
  readonly city: string;
  readonly country: string;
  readonly zones: readonly string[];
}

/** Providers with a region table. */
export type RegionProvider = "aws" | "gcp" | "local";

function regions(
  zoneOf: (region: string, letter: string) => string,
  rows: readonly (readonly [string, string, string, string])[],
): ReadonlyMap<string, Region> {
  return new Map(
    rows.map(([name, city, country, letters]) => [
      name,
      { name, city, country, zones: letters.split(/(?=.)/u).map((letter) => zoneOf(name, letter)) },
    ]),
  );
}

/**
 * Provider -> region -> country and zones. AWS zone names are the region plus a letter
 * (eu-north-1a); Google Cloud zones the region, a dash and a letter (europe-north2-a).
 */
export const REGIONS: { readonly [P in RegionProvider]: ReadonlyMap<string, Region> } = {
  aws: regions(
    (region, letter) => `${region}${letter}`,
    [
      ["eu-north-1", "Stockholm", "SE", "abc"],
      ["eu-west-1", "Dublin", "IE", "abc"],
      ["eu-west-2", "London", "GB", "abc"],
      ["eu-west-3", "Paris", "FR", "abc"],
      ["eu-central-1", "Frankfurt", "DE", "abc"],
      ["eu-central-2", "Zurich", "CH", "abc"],
      ["eu-south-1", "Milan", "IT", "abc"],
      ["eu-south-2", "Aragón", "ES", "abc"],
      ["us-east-1", "N. Virginia", "US", "abcdef"],
      ["us-east-2", "Ohio", "US", "abc"],
      ["us-west-2", "Oregon", "US", "abcd"],
      ["ca-central-1", "Montréal", "CA", "abd"],
      ["ap-northeast-1", "Tokyo", "JP", "acd"],
      ["ap-southeast-2", "Sydney", "AU", "abc"],
    ],
  ),
  gcp: regions(
    (region, letter) => `${region}-${letter}`,
    [
      ["europe-north1", "Hamina", "FI", "abc"],
      ["europe-north2", "Stockholm", "SE", "abc"],
      ["europe-west1", "St. Ghislain", "BE", "bcd"],
      ["europe-west2", "London", "GB", "abc"],
      ["europe-west3", "Frankfurt", "DE", "abc"],
      ["europe-west4", "Eemshaven", "NL", "abc"],
      ["europe-west6", "Zurich", "CH", "abc"],
      ["europe-west8", "Milan", "IT", "abc"],
      ["europe-west9", "Paris", "FR", "abc"],
      ["europe-west10", "Berlin", "DE", "abc"],
      ["europe-west12", "Turin", "IT", "abc"],
      ["europe-central2", "Warsaw", "PL", "abc"],
      ["europe-southwest1", "Madrid", "ES", "abc"],
      ["us-central1", "Iowa", "US", "abcf"],
      ["us-east1", "South Carolina", "US", "bcd"],
      ["us-west1", "Oregon", "US", "abc"],
      ["asia-northeast1", "Tokyo", "JP", "abc"],
    ],
  ),
  // The local provider runs a control plane and kwok nodes on the hub's machine.
  local: new Map([
    ["local", { name: "local", city: "the hub", country: "", zones: ["local-a", "local-b", "local-c"] }],
  ]),
};

export function regionLocation(provider: RegionProvider, region: Region): Location {
  if (provider === "local") return { countries: [], hub: true, label: "local (the hub's machine)" };
  return {
    countries: [region.country],
    label: `${region.city}, ${countryName(region.country)}`,
  };
}

/** The region a zone belongs to, in any region of the provider. */
export function regionOfZone(provider: RegionProvider, zone: string): Region | undefined {
  for (const region of REGIONS[provider].values()) if (region.zones.includes(zone)) return region;
  return undefined;
}

/**
 * Google Cloud Storage locations that span regions: multi-regions and the predefined dual-region
 * EUR4 (Finland and the Netherlands). Bucket locations are case-insensitive.
 */
const GCS_MULTI_REGIONS: ReadonlyMap<string, Location> = new Map([
  ["eu", { countries: EU_COUNTRIES, label: "EU (GCS multi-region: any EU member state)" }],
  ["eur4", { countries: ["FI", "NL"], label: "EUR4 (GCS dual-region: Finland and the Netherlands)" }],
  ["us", { countries: ["US"], label: "US (GCS multi-region: the United States)" }],
  ["asia", { countries: [], anywhere: true, label: "ASIA (GCS multi-region: several Asian countries)" }],
]);

/** Where a bucket of `provider` in `region` keeps its data; undefined when the region is unknown. */
export function storageLocation(provider: "aws" | "gcp", region: string): Location | undefined {
  if (provider === "gcp") {
    const multi = GCS_MULTI_REGIONS.get(region.toLowerCase());
    if (multi !== undefined) return multi;
  }
  const known = REGIONS[provider].get(provider === "gcp" ? region.toLowerCase() : region);
  return known === undefined ? undefined : regionLocation(provider, known);
}

/** Storage locations of a provider, for messages ("known: ..."). */
export function storageLocationNames(provider: "aws" | "gcp"): string[] {
  const names = [...REGIONS[provider].keys()];
  return provider === "gcp"
    ? [...names, ...[...GCS_MULTI_REGIONS.keys()].map((n) => n.toUpperCase())]
    : names;
}

/** Registries with no fixed location: content served worldwide, stored where the operator likes. */
const GLOBAL_REGISTRIES: readonly string[] = [
  "docker.io",
  "registry-1.docker.io",
  "index.docker.io",
  "ghcr.io",
  "quay.io",
  "registry.k8s.io",
  "k8s.gcr.io",
  "gcr.io",
  "public.ecr.aws",
  "mcr.microsoft.com",
  "registry.gitlab.com",
];

/**
 * Where a registry keeps images when its host name says so: Amazon ECR
 * (<account>.dkr.ecr.<region>.amazonaws.com), Google Artifact Registry
 * (<region>-docker.pkg.dev, europe-docker.pkg.dev), the regional Container Registry hosts, and the
 * global registries. Undefined when the host does not tell: the Environment declares it.
 */
export function registryLocation(host: string): Location | undefined {
  const bare = host.split("/")[0]?.replace(/:[0-9]+$/, "") ?? host;
  if (GLOBAL_REGISTRIES.includes(bare))
    return { countries: [], anywhere: true, label: `${bare} (a global registry with no fixed location)` };
  const ecr = /^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(bare);
  if (ecr?.[1] !== undefined) {
    const region = REGIONS.aws.get(ecr[1]);
    return region === undefined ? undefined : regionLocation("aws", region);
  }
  const artifact = /^([a-z0-9-]+)-docker\.pkg\.dev$/.exec(bare);
  if (artifact?.[1] !== undefined) {
    const name = artifact[1];
    if (name === "europe")
      return {
        countries: EU_COUNTRIES,
        label: "europe-docker.pkg.dev (Artifact Registry multi-region: EU member states)",
      };
    if (name === "us")
      return { countries: ["US"], label: "us-docker.pkg.dev (Artifact Registry multi-region: US)" };
    if (name === "asia")
      return {
        countries: [],
        anywhere: true,
        label: "asia-docker.pkg.dev (Artifact Registry multi-region: Asia)",
      };
    const region = REGIONS.gcp.get(name);
    return region === undefined ? undefined : regionLocation("gcp", region);
  }
  if (bare === "eu.gcr.io") return { countries: EU_COUNTRIES, label: "eu.gcr.io (Container Registry: EU)" };
  if (bare === "us.gcr.io") return { countries: ["US"], label: "us.gcr.io (Container Registry: US)" };
  if (bare === "asia.gcr.io")
    return { countries: [], anywhere: true, label: "asia.gcr.io (Container Registry: Asia)" };
  return undefined;
}

/** Regions of a provider inside a jurisdiction, for the fix in a message. */
export function regionsInside(provider: RegionProvider, jurisdiction: Jurisdiction): string[] {
  return [...REGIONS[provider].values()]
    .filter((region) => inside(regionLocation(provider, region), jurisdiction) && provider !== "local")
    .map((region) => region.name);
}
