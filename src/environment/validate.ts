/**
 * Environment validation: the CRD schema's checks (for callers without an API server), then what
 * a schema cannot say. Residency first: the region, the node pools' zones, the backup bucket and
 * the image registries must all be inside the jurisdiction (problems of kind "residency", which
 * admission reports under GDPR Art. 44-49 and HSLF-FS 2016:40); then whether the environment can
 * be built at all (kind "spec"). Every problem names its field and the fix.
 */
import type { FieldPath } from "../engine/types.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import { applyDefaults, validateAgainst } from "../tenant/builder.ts";
import { API_VERSION, ENVIRONMENT } from "../api/registry.ts";
import { DNS_LABEL } from "../tenant/schema.ts";
import { problem } from "./provider.ts";
import type { Provider } from "./provider.ts";
import { DESIGNED_PROVIDERS, PROVIDERS } from "./providers/index.ts";
import {
  JURISDICTIONS,
  REGIONS,
  inside,
  regionLocation,
  regionOfZone,
  regionsInside,
  registryLocation,
  storageLocation,
  storageLocationNames,
} from "./residency.ts";
import type { Jurisdiction, Location } from "./residency.ts";
import { MAX_ENVIRONMENT_NAME, environmentSpecSchema } from "./schema.ts";
import type { Environment, EnvironmentProblem, EnvironmentSpec } from "./types.ts";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const KNOWN_RULES: ReadonlySet<string> = new Set(ALL_RULES.map((rule) => rule.id));

/**
 * Checks a parsed document as the API server would with the Environment CRD, fills in defaults,
 * then runs the semantic checks. Returns the defaulted Environment when there is no problem.
 */
export function parseEnvironment(value: unknown): {
  environment?: Environment;
  problems: EnvironmentProblem[];
} {
  const problems: EnvironmentProblem[] = [];
  const error = (path: FieldPath, message: string): void => {
    problems.push(problem(path, message));
  };
  if (!isRecord(value)) {
    error([], "an Environment must be an object");
    return { problems };
  }
  if (value["apiVersion"] !== API_VERSION)
    error(["apiVersion"], `must be ${API_VERSION}, not ${JSON.stringify(value["apiVersion"])}`);
  if (value["kind"] !== ENVIRONMENT.kind)
    error(["kind"], `must be ${ENVIRONMENT.kind}, not ${JSON.stringify(value["kind"])}`);
  const metadata = value["metadata"];
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  if (typeof name !== "string" || name === "") error(["metadata", "name"], "is required");
  else if (!new RegExp(DNS_LABEL).test(name) || name.length > MAX_ENVIRONMENT_NAME)
    error(
      ["metadata", "name"],
      `${JSON.stringify(name)} is not a valid environment name: a DNS label of at most ${MAX_ENVIRONMENT_NAME} ` +
        "characters (its node pools are named <environment>-<pool>)",
    );
  if (isRecord(metadata) && metadata["namespace"] !== undefined)
    error(["metadata", "namespace"], "Environment is cluster-scoped: remove metadata.namespace");
  if (value["spec"] === undefined) error(["spec"], "is required");
  else
    for (const found of validateAgainst(environmentSpecSchema, value["spec"], ["spec"]))
      error(found.path, found.message);
  if (problems.length > 0) return { problems };
  const environment = {
    ...value,
    spec: applyDefaults(environmentSpecSchema, value["spec"]) as EnvironmentSpec,
  } as unknown as Environment;
  problems.push(...validateEnvironment(environment));
  return problems.length > 0 ? { problems } : { environment, problems };
}

/** The served provider of an Environment, or why there is none. */
export function providerOf(environment: Environment): Provider | EnvironmentProblem {
  const name = environment.spec.provider;
  const provider = PROVIDERS.get(name);
  if (provider !== undefined) return provider;
  const designed = DESIGNED_PROVIDERS.get(name);
  const served = [...PROVIDERS.keys()].join(", ");
  return problem(
    ["spec", "provider"],
    designed === undefined
      ? `unknown provider ${JSON.stringify(name)}; use one of ${served}`
      : `provider ${name} is not served: it would build on ${designed.engine}, but ${designed.reason}; ` +
          `use one of ${served}`,
  );
}

/** Semantic checks of a defaulted Environment. */
export function validateEnvironment(environment: Environment): EnvironmentProblem[] {
  const provider = providerOf(environment);
  if (!("render" in provider)) return [provider];
  const jurisdiction = JURISDICTIONS.get(environment.spec.jurisdiction);
  if (jurisdiction === undefined)
    return [
      problem(
        ["spec", "jurisdiction"],
        `unknown jurisdiction ${JSON.stringify(environment.spec.jurisdiction)}`,
      ),
    ];
  const check = new Checks(environment, provider, jurisdiction);
  check.region();
  check.nodePools();
  check.backup();
  check.registries();
  check.baseline();
  check.problems.push(...provider.validate(environment));
  return check.problems;
}

class Checks {
  readonly problems: EnvironmentProblem[] = [];
  readonly #spec: EnvironmentSpec;
  readonly #provider: Provider;
  readonly #jurisdiction: Jurisdiction;

  constructor(environment: Environment, provider: Provider, jurisdiction: Jurisdiction) {
    this.#spec = environment.spec;
    this.#provider = provider;
    this.#jurisdiction = jurisdiction;
  }

  #residency(path: FieldPath, what: string, location: Location, fix: string): void {
    this.problems.push(
      problem(
        path,
        `${what} is in ${location.label}, outside the jurisdiction ${this.#jurisdictionText()}: ` +
          `the customer's data would leave it; ${fix}`,
        "residency",
      ),
    );
  }

  #jurisdictionText(): string {
    const j = this.#jurisdiction;
    return j.code === j.name ? j.code : `${j.code} (${j.name})`;
  }

  /** "use a region inside SE: eu-north-1" or, when the provider has none there, which provider does. */
  #regionFix(): string {
    const provider = this.#provider.name;
    const regions = regionsInside(provider, this.#jurisdiction);
    if (regions.length > 0) return `use one of ${provider}'s regions inside it: ${regions.join(", ")}`;
    const elsewhere = (["aws", "gcp"] as const)
      .filter((other) => other !== provider)
      .map((other) => [other, regionsInside(other, this.#jurisdiction)] as const)
      .filter(([, list]) => list.length > 0)
      .map(([other, list]) => `${other} (${list.join(", ")})`);
    return elsewhere.length > 0
      ? `${provider} has no region inside it here; use ${elsewhere.join(" or ")}`
      : `no provider here has a region inside it`;
  }

  /** The region is known and inside the jurisdiction: zones are checked against it. */
  #regionOk = false;

  region(): void {
    const { region } = this.#spec;
    const provider = this.#provider.name;
    const known = REGIONS[provider].get(region);
    if (known === undefined) {
      this.problems.push(
        problem(
          ["spec", "region"],
          `unknown ${provider} region ${JSON.stringify(region)}; ${this.#regionFix()}`,
        ),
      );
      return;
    }
    const location = regionLocation(provider, known);
    if (!inside(location, this.#jurisdiction))
      this.#residency(["spec", "region"], `region ${region}`, location, this.#regionFix());
    else this.#regionOk = true;
  }

  nodePools(): void {
    const provider = this.#provider;
    const region = REGIONS[provider.name].get(this.#spec.region);
    this.#spec.nodePools.forEach((pool, index) => {
      const path = ["spec", "nodePools", index];
      if (pool.min > pool.max)
        this.problems.push(
          problem(
            [...path, "min"],
            `pool "${pool.name}" has min ${pool.min} above max ${pool.max}: set min <= max`,
          ),
        );
      pool.instanceTypes.forEach((type, i) => {
        const family = provider.machineTypes.family(type);
        if (family === undefined || !provider.machineTypes.families.has(family))
          this.problems.push(
            problem(
              [...path, "instanceTypes", i],
              family === undefined
                ? `${JSON.stringify(type)} is not a ${provider.name} machine type; write one like ${provider.machineTypes.example}`
                : `unknown ${provider.name} machine family "${family}" (of ${JSON.stringify(type)}); ` +
                    `known: ${[...provider.machineTypes.families].join(", ")}`,
            ),
          );
      });
      pool.zones.forEach((zone, i) => {
        this.#zone(zone, [...path, "zones", i], region?.zones ?? []);
      });
    });
  }

  #zone(zone: string, path: FieldPath, regionZones: readonly string[]): void {
    if (regionZones.includes(zone)) return;
    const provider = this.#provider.name;
    const owner = regionOfZone(provider, zone);
    const zonesText =
      regionZones.length > 0 ? `; the zones of ${this.#spec.region}: ${regionZones.join(", ")}` : "";
    if (owner === undefined) {
      if (this.#regionOk)
        this.problems.push(problem(path, `unknown ${provider} zone ${JSON.stringify(zone)}${zonesText}`));
      return;
    }
    const location = regionLocation(provider, owner);
    if (!inside(location, this.#jurisdiction))
      this.#residency(
        path,
        `zone ${zone} (region ${owner.name})`,
        location,
        `use a zone of ${this.#spec.region}${zonesText}`,
      );
    // Against a region that is itself refused, a zone's mismatch is noise: the region's fix comes first.
    else if (this.#regionOk)
      this.problems.push(
        problem(
          path,
          `zone ${zone} is in region ${owner.name}, not in the environment's region ${this.#spec.region}${zonesText}`,
        ),
      );
  }

  backup(): void {
    const backup = this.#spec.backup;
    const path = ["spec", "backup"];
    if (backup.provider === "s3") {
      if (backup.endpoint === undefined)
        this.problems.push(
          problem([...path, "endpoint"], "an S3-compatible store needs its endpoint (https://...)"),
        );
      const declared = backup.jurisdiction === undefined ? undefined : JURISDICTIONS.get(backup.jurisdiction);
      if (declared === undefined) {
        this.problems.push(
          problem(
            [...path, "jurisdiction"],
            "say where the S3-compatible store keeps its data (its operator's statement), e.g. SE",
          ),
        );
        return;
      }
      const location: Location = {
        countries: declared.countries,
        label: `${backup.endpoint ?? "the store"} (${declared.name}, as declared)`,
      };
      if (!inside(location, this.#jurisdiction))
        this.#residency(
          [...path, "jurisdiction"],
          `backup bucket ${backup.bucket}`,
          location,
          "use a store inside it",
        );
      return;
    }
    if (backup.endpoint !== undefined || backup.jurisdiction !== undefined)
      this.problems.push(
        problem(
          path,
          `endpoint and jurisdiction are for provider s3; a ${backup.provider} bucket's location is its region: remove them`,
        ),
      );
    const store = backup.provider;
    const location = storageLocation(store, backup.region);
    if (location === undefined) {
      this.problems.push(
        problem(
          [...path, "region"],
          `unknown ${backup.provider} storage location ${JSON.stringify(backup.region)}; known: ${storageLocationNames(backup.provider).join(", ")}`,
        ),
      );
      return;
    }
    if (!inside(location, this.#jurisdiction)) {
      const inJurisdiction = storageLocationNames(store).filter((name) => {
        const l = storageLocation(store, name);
        return l !== undefined && inside(l, this.#jurisdiction);
      });
      this.#residency(
        [...path, "region"],
        `backup bucket ${backup.bucket}`,
        location,
        inJurisdiction.length > 0
          ? `keep backups in ${inJurisdiction.join(", ")}`
          : `${backup.provider} has no storage location inside it here; use provider s3 with a store inside it`,
      );
    }
  }

  registries(): void {
    (this.#spec.registries ?? []).forEach((registry, index) => {
      const path = ["spec", "registries", index];
      const known = registryLocation(registry.host);
      const declared =
        registry.jurisdiction === undefined ? undefined : JURISDICTIONS.get(registry.jurisdiction);
      if (known !== undefined) {
        if (!inside(known, this.#jurisdiction)) {
          this.#residency(
            [...path, "host"],
            `registry ${registry.host}`,
            known,
            "mirror the images into a registry inside it",
          );
          return;
        }
        if (declared !== undefined && !inside(known, declared))
          this.problems.push(
            problem(
              [...path, "jurisdiction"],
              `registry ${registry.host} is in ${known.label}, not in ${declared.code} as declared: correct or remove jurisdiction`,
            ),
          );
        return;
      }
      if (declared === undefined) {
        this.problems.push(
          problem(
            [...path, "jurisdiction"],
            `the host ${registry.host} does not tell where the registry keeps its images: set jurisdiction (its operator's statement)`,
          ),
        );
        return;
      }
      const location: Location = { countries: declared.countries, label: `${declared.name} (as declared)` };
      if (!inside(location, this.#jurisdiction))
        this.#residency(
          [...path, "jurisdiction"],
          `registry ${registry.host}`,
          location,
          "mirror the images into a registry inside it",
        );
    });
  }

  baseline(): void {
    for (const id of Object.keys(this.#spec.baseline.rules ?? {}))
      if (!KNOWN_RULES.has(id))
        this.problems.push(
          problem(
            ["spec", "baseline", "rules", id],
            `unknown rule ${JSON.stringify(id)}; \`vakt rules\` lists them`,
          ),
        );
  }
}
