/**
 * Tenant validation: the CRD schema's checks (for `vakt render`, which runs without an API
 * server) and the semantic checks a schema cannot express, each with a precise field path.
 */
import type { FieldPath } from "../engine/types.ts";
import { applyDefaults, validateAgainst } from "./builder.ts";
import { DNS_LABEL, TENANT_API_VERSION, TENANT_KIND, tenantSpecSchema } from "./schema.ts";
import type { Tenant, TenantNamespaceRef, TenantProblem, TenantSpec } from "./types.ts";

export const MAX_TENANT_NAME = 40;

/** Default images of the managed services (used when a service sets none). */
export const DEFAULT_IMAGES = {
  postgresql: "ghcr.io/cloudnative-pg/postgresql:17.5",
  rabbitmq: "docker.io/rabbitmq:4.1.3-management",
  redis: "docker.io/redis:7.4.5-alpine",
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** "spec.namespaces[0].name" */
export function formatFieldPath(path: FieldPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out === "" ? "(object)" : out;
}

/**
 * Checks a parsed document as the API server would with the Tenant CRD, fills in defaults, then
 * runs the semantic checks. Returns the defaulted Tenant when there is no error.
 */
export function parseTenant(value: unknown): { tenant?: Tenant; problems: TenantProblem[] } {
  const problems: TenantProblem[] = [];
  const error = (path: FieldPath, message: string): void => {
    problems.push({ path, message, severity: "error" });
  };
  if (!isRecord(value)) {
    error([], "a Tenant must be an object");
    return { problems };
  }
  if (value["apiVersion"] !== TENANT_API_VERSION)
    error(["apiVersion"], `must be ${TENANT_API_VERSION}, not ${JSON.stringify(value["apiVersion"])}`);
  if (value["kind"] !== TENANT_KIND)
    error(["kind"], `must be ${TENANT_KIND}, not ${JSON.stringify(value["kind"])}`);
  const metadata = value["metadata"];
  const name = isRecord(metadata) ? metadata["name"] : undefined;
  if (typeof name !== "string" || name === "") error(["metadata", "name"], "is required");
  else if (!new RegExp(DNS_LABEL).test(name) || name.length > MAX_TENANT_NAME)
    error(
      ["metadata", "name"],
      `${JSON.stringify(name)} is not a valid tenant name: a DNS label of at most ${MAX_TENANT_NAME} characters ` +
        "(so that '<tenant>-<suffix>' namespace names fit in 63)",
    );
  if (isRecord(metadata) && metadata["namespace"] !== undefined)
    error(["metadata", "namespace"], "Tenant is cluster-scoped: remove metadata.namespace");
  if (value["spec"] === undefined) error(["spec"], "is required");
  else
    for (const problem of validateAgainst(tenantSpecSchema, value["spec"], ["spec"]))
      error(problem.path, problem.message);
  if (problems.length > 0) return { problems };

  const tenant = {
    ...value,
    spec: applyDefaults(tenantSpecSchema, value["spec"]) as TenantSpec,
  } as unknown as Tenant;
  problems.push(...validateTenant(tenant));
  return problems.some((problem) => problem.severity === "error") ? { problems } : { tenant, problems };
}

// ---------------------------------------------------------------------------------------------

const QUANTITY_SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity as a number (the schema's pattern has already been checked). */
export function parseQuantity(value: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(value);
  if (match === null) return undefined;
  const factor = QUANTITY_SUFFIX[match[2] ?? ""];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

function parseCidr(cidr: string): { v4: boolean; prefix: number } | undefined {
  const [address, prefixText] = cidr.split("/");
  if (address === undefined || prefixText === undefined) return undefined;
  const prefix = Number(prefixText);
  if (address.includes(".")) {
    const octets = address.split(".").map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o > 255) || prefix > 32)
      return undefined;
    return { v4: true, prefix };
  }
  if (prefix > 128 || !/^[0-9a-fA-F:]+$/.test(address) || !address.includes(":")) return undefined;
  return { v4: false, prefix };
}

function matchesRegistry(image: string, registry: string): boolean {
  return image === registry || image.startsWith(`${registry}/`) || image.startsWith(`${registry}:`);
}

/** Semantic checks on a defaulted Tenant. */
export function validateTenant(tenant: Tenant): TenantProblem[] {
  const problems: TenantProblem[] = [];
  const error = (path: FieldPath, message: string): void => {
    problems.push({ path, message, severity: "error" });
  };
  const warn = (path: FieldPath, message: string): void => {
    problems.push({ path, message, severity: "warning" });
  };
  const name = tenant.metadata.name;
  const spec = tenant.spec;

  // Namespaces: owned by name, unique, backup opt-out justified.
  const declared = new Set<string>();
  spec.namespaces.forEach((namespace, index) => {
    const path = ["spec", "namespaces", index];
    if (namespace.name !== name && !namespace.name.startsWith(`${name}-`))
      error(
        [...path, "name"],
        `namespace ${JSON.stringify(namespace.name)} must be named after the tenant: "${name}" or "${name}-<suffix>"`,
      );
    if (declared.has(namespace.name))
      error([...path, "name"], `namespace ${JSON.stringify(namespace.name)} is declared twice`);
    declared.add(namespace.name);
    if (!namespace.backup.enabled && (namespace.backup.justification?.trim() ?? "") === "")
      error(
        [...path, "backup", "justification"],
        `namespace ${JSON.stringify(namespace.name)} opts out of backup without a justification: say why its data need none`,
      );
    for (const key of Object.keys(namespace.labels ?? {})) {
      if (key.startsWith("vakt.dev/") || key.startsWith("pod-security.kubernetes.io/"))
        error(
          [...path, "labels", key],
          `label ${JSON.stringify(key)} is set by vakt; use backup.enabled for backups`,
        );
    }
  });
  const ownNamespace = (value: string, path: FieldPath): void => {
    if (!declared.has(value))
      error(
        path,
        `namespace ${JSON.stringify(value)} is not one of the tenant's namespaces (spec.namespaces)`,
      );
  };

  // Quota and limits consistency.
  const compare = (
    small: string | undefined,
    smallPath: FieldPath,
    large: string | undefined,
    what: string,
  ): void => {
    if (small === undefined || large === undefined) return;
    const a = parseQuantity(small);
    const b = parseQuantity(large);
    if (a !== undefined && b !== undefined && a > b)
      error(smallPath, `${small} is more than ${what} (${large})`);
  };
  for (const resource of ["cpu", "memory"] as const) {
    compare(
      spec.quota.requests[resource],
      ["spec", "quota", "requests", resource],
      spec.quota.limits[resource],
      `the quota's limits.${resource}`,
    );
    compare(
      spec.limits.defaultRequest[resource],
      ["spec", "limits", "defaultRequest", resource],
      spec.limits.default[resource],
      `the default limit ${resource}`,
    );
    compare(
      spec.limits.default[resource],
      ["spec", "limits", "default", resource],
      spec.limits.max[resource],
      `the maximum ${resource}`,
    );
    compare(
      spec.limits.max[resource],
      ["spec", "limits", "max", resource],
      spec.quota.limits[resource],
      `the namespace quota's limits.${resource}`,
    );
  }

  // Network.
  const flowEnd = (ref: TenantNamespaceRef, path: FieldPath): boolean => {
    const own = ref.tenant === undefined || ref.tenant === name;
    if (own) ownNamespace(ref.namespace, [...path, "namespace"]);
    return own;
  };
  (spec.network.flows ?? []).forEach((flow, index) => {
    const path = ["spec", "network", "flows", index];
    const fromOwn = flowEnd(flow.from, [...path, "from"]);
    const toOwn = flowEnd(flow.to, [...path, "to"]);
    if (!fromOwn && !toOwn)
      error(
        path,
        "a flow must start or end in one of this tenant's namespaces; the other tenant declares its own",
      );
    if (fromOwn && toOwn && flow.from.namespace === flow.to.namespace && spec.network.allowSameNamespace)
      warn(path, `traffic inside namespace "${flow.from.namespace}" is already allowed (allowSameNamespace)`);
  });
  (spec.network.egress ?? []).forEach((egress, index) => {
    const path = ["spec", "network", "egress", index];
    const cidr = parseCidr(egress.cidr);
    if (cidr === undefined) error([...path, "cidr"], `${JSON.stringify(egress.cidr)} is not a valid CIDR`);
    else if (cidr.prefix === 0)
      error(
        [...path, "cidr"],
        `${egress.cidr} allows the whole internet; declare the destinations the tenant needs`,
      );
    (egress.except ?? []).forEach((except, i) => {
      if (parseCidr(except) === undefined)
        error([...path, "except", i], `${JSON.stringify(except)} is not a valid CIDR`);
    });
    (egress.namespaces ?? []).forEach((namespace, i) => {
      ownNamespace(namespace, [...path, "namespaces", i]);
    });
  });

  // TLS.
  (spec.tls?.certificates ?? []).forEach((certificate, index) => {
    ownNamespace(certificate.namespace, ["spec", "tls", "certificates", index, "namespace"]);
  });

  // Monitoring.
  (spec.monitoring.serviceMonitors ?? []).forEach((monitor, index) => {
    const path = ["spec", "monitoring", "serviceMonitors", index];
    ownNamespace(monitor.namespace, [...path, "namespace"]);
    if (Object.keys(monitor.selector).length === 0)
      error(
        [...path, "selector"],
        "an empty selector would scrape every service of the namespace; name labels",
      );
  });

  // Services: namespaces, unique names, registries.
  const registries = spec.registries ?? [];
  const services = [
    ["postgresql", spec.services.postgresql ?? []],
    ["rabbitmq", spec.services.rabbitmq ?? []],
    ["redis", spec.services.redis ?? []],
  ] as const;
  for (const [kind, list] of services) {
    const seen = new Set<string>();
    list.forEach((service, index) => {
      const path = ["spec", "services", kind, index];
      ownNamespace(service.namespace, [...path, "namespace"]);
      const key = `${service.namespace}/${service.name}`;
      if (seen.has(key)) error([...path, "name"], `${kind} service ${JSON.stringify(key)} is declared twice`);
      seen.add(key);
      const image = service.image ?? DEFAULT_IMAGES[kind];
      if (registries.length > 0 && !registries.some((registry) => matchesRegistry(image, registry)))
        error(
          service.image === undefined ? path : [...path, "image"],
          `image ${JSON.stringify(image)}${service.image === undefined ? " (the default)" : ""} is not from an ` +
            `allowed registry (${registries.join(", ")}); set image to a mirror in one of them`,
        );
    });
  }
  (spec.services.postgresql ?? []).forEach((db, index) => {
    const path = ["spec", "services", "postgresql", index];
    if (db.backup.destinationPath.startsWith("s3://") && db.backup.credentialsSecret === undefined)
      warn(
        [...path, "backup", "credentialsSecret"],
        "no credentials Secret: the instances must get object-store access from their cloud identity (IAM role)",
      );
    if (db.instances === 1)
      warn([...path, "instances"], "a single instance has no standby: a node failure stops the database");
    const namespace = spec.namespaces.find((n) => n.name === db.namespace);
    if (namespace !== undefined && !namespace.backup.enabled)
      warn(
        [...path, "namespace"],
        `namespace "${db.namespace}" opts out of Velero backup; the database is still backed up by CloudNativePG`,
      );
  });
  (spec.services.rabbitmq ?? []).forEach((mq, index) => {
    if (mq.replicas % 2 === 0)
      warn(
        ["spec", "services", "rabbitmq", index, "replicas"],
        `${mq.replicas} nodes: use an odd number so quorum queues survive a partition`,
      );
  });
  if ((spec.services.postgresql ?? []).length > 0 && (spec.network.egress ?? []).length === 0)
    warn(
      ["spec", "network", "egress"],
      "CloudNativePG instances need egress to the Kubernetes API and to object storage for WAL archiving; " +
        "none is declared, so the default-deny policy cuts them off",
    );

  // GitOps.
  if (spec.gitops !== undefined) ownNamespace(spec.gitops.namespace, ["spec", "gitops", "namespace"]);

  return problems;
}
