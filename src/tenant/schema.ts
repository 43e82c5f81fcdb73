/**
 * The Tenant API (vakt.dev/v1alpha1, cluster-scoped), defined once. The TypeScript types
 * (types.ts) and the CRD's openAPIV3Schema (`tenantCrd`) are both derived from the values
 * below, so they cannot drift.
 */
import { arr, bool, def, enumOf, int, map, obj, req, str, toOpenApi } from "./builder.ts";
import type { JsonSchema } from "./builder.ts";
import { API_VERSION, GROUP, TENANT, VERSION } from "../api/registry.ts";

export const TENANT_API_VERSION = API_VERSION;
export const TENANT_KIND = TENANT.kind;

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_LABEL_HINT = "a DNS label (lower-case letters, digits and '-', starting and ending alphanumeric)";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
const QUANTITY_HINT = "a Kubernetes quantity such as 500m, 2, 512Mi or 10Gi";
/** Five-field cron: minute hour day-of-month month day-of-week. */
const CRON = "^(\\S+\\s+){4}\\S+$";
const DURATION = "^([0-9]+h)?([0-9]+m)?([0-9]+s)?$";

const dnsLabel = (description: string) =>
  str({ description, pattern: DNS_LABEL, patternHint: DNS_LABEL_HINT, maxLength: 63 });
const quantity = (description: string) => str({ description, pattern: QUANTITY, patternHint: QUANTITY_HINT });
const cron = (description: string) =>
  str({
    description,
    pattern: CRON,
    patternHint: "a five-field cron expression (minute hour day month weekday)",
  });

const cpuMemory = (description: string) =>
  obj(
    { cpu: quantity("CPU, e.g. 500m or 2."), memory: quantity("Memory, e.g. 512Mi or 4Gi.") },
    { description },
  );

const ports = arr(
  obj(
    {
      port: req(int({ description: "Port number.", minimum: 1, maximum: 65535 })),
      protocol: def(enumOf(["TCP", "UDP", "SCTP"], { description: "Protocol." }), "TCP"),
    },
    { description: "A port." },
  ),
  { description: "Ports the flow is allowed on; empty or absent: all ports.", maxItems: 32 },
);

const namespaceRef = obj(
  {
    tenant: dnsLabel("Tenant owning the namespace; absent: this tenant."),
    namespace: req(dnsLabel("Namespace name.")),
  },
  { description: "A namespace of this tenant or of another tenant." },
);

const storage = obj(
  {
    size: def(quantity("Volume size per instance."), "10Gi"),
    storageClass: str({ description: "StorageClass; absent: the cluster default.", maxLength: 253 }),
  },
  { description: "Persistent storage of each instance." },
);

const serviceBase = {
  name: req(dnsLabel("Name of the service (and of the operator's custom resource).")),
  namespace: req(dnsLabel("Namespace of the tenant the service runs in.")),
};

const image = (fallback: string) =>
  str({
    description: `Container image; absent: ${fallback}. Must come from an allowed registry when spec.registries is set.`,
    minLength: 1,
    maxLength: 512,
  });

export const tenantSpecSchema = obj(
  {
    displayName: str({ description: "Human-readable name of the tenant.", maxLength: 128 }),
    owners: req(
      arr(
        obj(
          {
            kind: req(enumOf(["Group", "User"], { description: "Subject kind." })),
            name: req(
              str({ description: "Group or user name as the API server authenticates it.", minLength: 1 }),
            ),
            role: def(
              enumOf(["admin", "edit", "view"], {
                description: "Role in every namespace of the tenant (the built-in ClusterRole of that name).",
              }),
              "view",
            ),
          },
          { description: "An owner of the tenant." },
        ),
        {
          description: "People and groups that own the tenant, and their roles.",
          minItems: 1,
          listType: "map",
          listMapKeys: ["kind", "name"],
        },
      ),
    ),
    namespaces: req(
      arr(
        obj(
          {
            name: req(
              dnsLabel(
                "Namespace name: the tenant's name, or the tenant's name followed by '-' and a suffix.",
              ),
            ),
            backup: def(
              obj(
                {
                  enabled: def(bool({ description: "Back the namespace up (on by default)." }), true),
                  justification: str({
                    description: "Why the namespace needs no backup; required when enabled is false.",
                    maxLength: 1024,
                  }),
                },
                { description: "Backup of this namespace." },
              ),
              {},
            ),
            labels: map(str({ description: "Label value.", maxLength: 63 }), {
              description: "Extra labels for the namespace (vakt's own labels win).",
            }),
          },
          { description: "A namespace of the tenant." },
        ),
        {
          description: "Namespaces the tenant owns.",
          minItems: 1,
          maxItems: 64,
          listType: "map",
          listMapKeys: ["name"],
        },
      ),
    ),
    quota: def(
      obj(
        {
          requests: def(cpuMemory("Total requests per namespace."), { cpu: "4", memory: "8Gi" }),
          limits: def(cpuMemory("Total limits per namespace."), { cpu: "8", memory: "16Gi" }),
          storage: def(quantity("Total requested storage per namespace."), "100Gi"),
          pods: def(int({ description: "Pods per namespace.", minimum: 1, maximum: 10000 }), 100),
          persistentVolumeClaims: def(
            int({ description: "PersistentVolumeClaims per namespace.", minimum: 0, maximum: 10000 }),
            20,
          ),
          loadBalancers: def(
            int({ description: "Services of type LoadBalancer per namespace.", minimum: 0, maximum: 100 }),
            0,
          ),
          nodePorts: def(
            int({ description: "Services of type NodePort per namespace.", minimum: 0, maximum: 100 }),
            0,
          ),
        },
        { description: "ResourceQuota applied to each namespace." },
      ),
      {},
    ),
    limits: def(
      obj(
        {
          defaultRequest: def(cpuMemory("Requests of containers that set none."), {
            cpu: "100m",
            memory: "128Mi",
          }),
          default: def(cpuMemory("Limits of containers that set none."), { cpu: "500m", memory: "512Mi" }),
          max: def(cpuMemory("Largest limits a container may set."), { cpu: "4", memory: "8Gi" }),
        },
        { description: "LimitRange applied to each namespace." },
      ),
      {},
    ),
    network: def(
      obj(
        {
          ingressControllerNamespace: def(
            dnsLabel("Namespace of the ingress controller, allowed to reach every pod of the tenant."),
            "ingress-nginx",
          ),
          dnsNamespace: def(
            dnsLabel("Namespace of the cluster DNS (pods labelled k8s-app=kube-dns)."),
            "kube-system",
          ),
          allowSameNamespace: def(
            bool({ description: "Allow traffic between pods of the same namespace." }),
            true,
          ),
          flows: arr(
            obj(
              {
                from: req(namespaceRef),
                to: req(namespaceRef),
                ports,
              },
              { description: "Traffic allowed from one namespace to another; one end is in this tenant." },
            ),
            {
              description: "Declared flows between namespaces of this tenant and of other tenants.",
              maxItems: 128,
            },
          ),
          egress: arr(
            obj(
              {
                name: req(dnsLabel("Name of the destination (names the NetworkPolicy).")),
                cidr: req(
                  str({
                    description: "Destination IPv4 or IPv6 CIDR.",
                    pattern: "^([0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$",
                    patternHint: "a CIDR such as 10.0.0.0/16",
                  }),
                ),
                except: arr(str({ description: "A CIDR inside cidr.", minLength: 1 }), {
                  description: "Ranges inside cidr that stay blocked.",
                  maxItems: 32,
                }),
                ports,
                namespaces: arr(dnsLabel("Namespace of the tenant."), {
                  description: "Namespaces allowed to reach the destination; absent: all of the tenant's.",
                  listType: "set",
                }),
                description: str({ description: "What the destination is.", maxLength: 256 }),
              },
              { description: "A destination outside the cluster." },
            ),
            {
              description: "Declared egress destinations.",
              maxItems: 64,
              listType: "map",
              listMapKeys: ["name"],
            },
          ),
          operatorNamespaces: def(
            obj(
              {
                postgresql: def(dnsLabel("CloudNativePG operator namespace."), "cnpg-system"),
                rabbitmq: def(dnsLabel("RabbitMQ cluster operator namespace."), "rabbitmq-system"),
                redis: def(dnsLabel("Redis operator namespace."), "redis-operator"),
              },
              { description: "Namespaces of the service operators, allowed to reach their instances." },
            ),
            {},
          ),
        },
        {
          description:
            "Network isolation: every namespace denies all ingress and egress except DNS, the ingress controller, " +
            "and what is declared here.",
        },
      ),
      {},
    ),
    tls: obj(
      {
        issuerRef: req(
          obj(
            {
              name: req(str({ description: "Issuer name.", minLength: 1 })),
              kind: def(
                enumOf(["ClusterIssuer", "Issuer"], { description: "Issuer kind." }),
                "ClusterIssuer",
              ),
              group: def(str({ description: "Issuer API group.", minLength: 1 }), "cert-manager.io"),
            },
            { description: "The cert-manager issuer that signs the tenant's certificates." },
          ),
        ),
        certificates: arr(
          obj(
            {
              name: req(dnsLabel("Certificate name; the key pair is stored in the Secret <name>-tls.")),
              namespace: req(dnsLabel("Namespace of the tenant.")),
              hosts: req(
                arr(
                  str({
                    description: "DNS name, optionally with a leading wildcard label.",
                    pattern: "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$",
                    patternHint: "a fully qualified host name such as app.example.com",
                    maxLength: 253,
                  }),
                  {
                    description: "Host names of the certificate.",
                    minItems: 1,
                    maxItems: 100,
                    listType: "set",
                  },
                ),
              ),
            },
            { description: "A certificate." },
          ),
          { description: "Certificates to issue.", maxItems: 64 },
        ),
      },
      { description: "TLS certificates from cert-manager." },
    ),
    backup: def(
      obj(
        {
          schedule: def(cron("When Velero backs the tenant's namespaces up (cron, UTC)."), "0 2 * * *"),
          retention: def(
            str({
              description: "How long backups are kept (Go duration in hours/minutes, e.g. 720h).",
              pattern: DURATION,
              patternHint: "a duration such as 720h",
              minLength: 2,
            }),
            "720h",
          ),
          storageLocation: def(
            str({ description: "Velero BackupStorageLocation.", minLength: 1 }),
            "default",
          ),
          veleroNamespace: def(dnsLabel("Namespace Velero runs in."), "velero"),
          volumes: def(
            enumOf(["snapshot", "filesystem"], {
              description: "How volumes are backed up: CSI/provider snapshots or file-system backup.",
            }),
            "snapshot",
          ),
        },
        {
          description:
            "Velero backup of the tenant's namespaces; on by default. A namespace opts out with backup.enabled: false " +
            "and a justification (rendered as the label vakt.dev/backup: disabled and an annotation).",
        },
      ),
      {},
    ),
    monitoring: def(
      obj(
        {
          alerts: def(bool({ description: "Render the tenant's PrometheusRule." }), true),
          labels: map(str({ description: "Label value.", maxLength: 63 }), {
            description:
              "Labels the Prometheus instance selects monitoring objects by, e.g. release: prometheus.",
          }),
          serviceMonitors: arr(
            obj(
              {
                name: req(dnsLabel("Name of the ServiceMonitor.")),
                namespace: req(dnsLabel("Namespace of the tenant.")),
                selector: req(
                  map(str({ description: "Label value." }), { description: "Service labels to match." }),
                ),
                port: req(str({ description: "Name of the service port.", minLength: 1 })),
                path: def(str({ description: "Metrics path.", pattern: "^/" }), "/metrics"),
                interval: def(
                  str({
                    description: "Scrape interval.",
                    pattern: "^[0-9]+(ms|s|m|h)$",
                    patternHint: "e.g. 30s",
                  }),
                  "30s",
                ),
              },
              { description: "A ServiceMonitor for the tenant's own services." },
            ),
            { description: "Scrape targets of the tenant's applications.", maxItems: 64 },
          ),
        },
        { description: "Prometheus operator objects." },
      ),
      {},
    ),
    services: def(
      obj(
        {
          postgresql: arr(
            obj(
              {
                ...serviceBase,
                instances: def(
                  int({
                    description: "PostgreSQL instances (1 primary + replicas).",
                    minimum: 1,
                    maximum: 9,
                  }),
                  3,
                ),
                image: image("CloudNativePG's PostgreSQL 17 image"),
                storage: def(storage, {}),
                resources: cpuMemory("Requests (and memory limit) of each instance."),
                backup: req(
                  obj(
                    {
                      destinationPath: req(
                        str({
                          description:
                            "Object store path for base backups and WAL, e.g. s3://bucket/tenant/db.",
                          pattern: "^(s3|gs)://[^/]+(/.*)?$|^https://.+$",
                          patternHint: "an s3://, gs:// or https:// (Azure) URL",
                        }),
                      ),
                      endpointURL: str({
                        description: "S3 endpoint for non-AWS object stores.",
                        pattern: "^https://",
                      }),
                      credentialsSecret: str({
                        description:
                          "Secret with keys ACCESS_KEY_ID and ACCESS_SECRET_KEY; absent: use the pod's cloud identity.",
                        minLength: 1,
                      }),
                      retention: def(
                        str({
                          description: "How long base backups and WAL are kept (PITR window), e.g. 30d.",
                          pattern: "^[1-9][0-9]*[dwm]$",
                          patternHint: "a retention such as 30d, 4w or 3m",
                        }),
                        "30d",
                      ),
                      schedule: def(cron("When base backups are taken (cron, UTC)."), "0 3 * * *"),
                    },
                    {
                      description:
                        "Continuous WAL archiving and scheduled base backups to object storage: point-in-time recovery.",
                    },
                  ),
                ),
              },
              { description: "A PostgreSQL cluster run by CloudNativePG." },
            ),
            { description: "PostgreSQL clusters.", maxItems: 16 },
          ),
          rabbitmq: arr(
            obj(
              {
                ...serviceBase,
                replicas: def(
                  int({ description: "RabbitMQ nodes (odd, for quorum queues).", minimum: 1, maximum: 9 }),
                  3,
                ),
                image: image("the cluster operator's default image"),
                storage: def(storage, {}),
                resources: cpuMemory("Requests (and memory limit) of each node."),
              },
              { description: "A RabbitMQ cluster run by the RabbitMQ cluster operator." },
            ),
            { description: "RabbitMQ clusters.", maxItems: 16 },
          ),
          redis: arr(
            obj(
              {
                ...serviceBase,
                replicas: def(
                  int({ description: "Redis instances (1 master + replicas).", minimum: 1, maximum: 9 }),
                  3,
                ),
                sentinels: def(int({ description: "Sentinel instances.", minimum: 1, maximum: 9 }), 3),
                image: image("the operator's default image"),
                storage: def(storage, {}),
                resources: cpuMemory("Requests (and memory limit) of each Redis instance."),
                passwordSecret: req(
                  str({
                    description: "Secret holding the Redis password under the key 'password'.",
                    minLength: 1,
                  }),
                ),
              },
              { description: "A Redis failover (Redis + Sentinel) run by the Spotahome redis-operator." },
            ),
            { description: "Redis failovers.", maxItems: 16 },
          ),
        },
        { description: "Managed services run by operators in the tenant's namespaces." },
      ),
      {},
    ),
    registries: arr(
      str({
        description: "Registry host with optional path prefix, e.g. registry.example.com/team.",
        pattern: "^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$",
        patternHint: "a registry host with optional path, e.g. registry.example.com/team",
      }),
      {
        description: "Image registries the tenant may pull from (annotated on its namespaces).",
        listType: "set",
      },
    ),
    regions: arr(
      str({ description: "A topology.kubernetes.io/region value.", pattern: "^[a-z0-9][-a-z0-9.]*$" }),
      {
        description: "Regions the tenant's data may live in: managed services are pinned to them.",
        listType: "set",
      },
    ),
    gitops: obj(
      {
        repoURL: req(str({ description: "Git repository of the tenant's applications.", minLength: 1 })),
        path: def(str({ description: "Path in the repository.", minLength: 1 }), "."),
        targetRevision: def(str({ description: "Branch, tag or commit.", minLength: 1 }), "HEAD"),
        namespace: req(dnsLabel("Namespace of the tenant the Application deploys into by default.")),
        argocdNamespace: def(dnsLabel("Namespace Argo CD runs in."), "argocd"),
        server: def(
          str({ description: "Destination cluster API URL.", pattern: "^https://" }),
          "https://kubernetes.default.svc",
        ),
        automated: def(bool({ description: "Sync automatically, with prune and self-heal." }), true),
      },
      {
        description:
          "An Argo CD Application for the tenant's own apps, in an AppProject limited to the tenant's namespaces.",
      },
    ),
  },
  { description: "What the platform provides to the tenant." },
);

const when = (description: string) => str({ description, format: "date-time" });
const named = (description: string) => str({ description, maxLength: 253 });

/**
 * What the backup part writes (field manager vakt-backup) and what a restore drill writes
 * (vakt-drill) into a Tenant's status: each owns its own fields, the Tenant controller none.
 */
export const tenantBackupStatusSchema = obj(
  {
    lastBackup: obj(
      {
        namespace: named("Velero's namespace."),
        name: named("The Velero Backup."),
        phase: str({
          description: "Its phase (New, InProgress, Completed, PartiallyFailed, Failed, ...).",
          maxLength: 64,
        }),
        time: when("When it completed, or started when it has not."),
      },
      { description: "The tenant's latest Velero Backup, whatever its phase." },
    ),
    lastCompletedBackup: obj(
      {
        namespace: named("Velero's namespace."),
        name: named("The Velero Backup."),
        time: when("When it completed."),
      },
      { description: "The tenant's latest Completed Velero Backup." },
    ),
    policy: obj(
      {
        schedule: str({
          description: "The tenant's backup schedule (spec.backup.schedule).",
          maxLength: 256,
        }),
        maxAgeSeconds: int({
          description: "The age a completed backup may reach: the longest gap of the schedule plus one hour.",
          minimum: 0,
        }),
      },
      { description: "The backup policy the age is judged against." },
    ),
    withinPolicy: bool({ description: "A completed backup younger than policy.maxAgeSeconds exists." }),
    dueBy: when("When the latest completed backup becomes older than the policy allows."),
    lastCopy: obj(
      {
        backup: named("The Velero Backup as <namespace>/<name>."),
        location: named("The BackupLocation the copy is in."),
        time: when("When the copy completed (or failed)."),
        verified: bool({
          description: "Every object of the copy was checked against the primary (size, checksums).",
        }),
        message: str({ description: "Why the copy is not verified.", maxLength: 4096 }),
      },
      { description: "The tenant's latest off-site copy." },
    ),
    lastDrill: obj(
      {
        id: str({ description: "The drill's id.", maxLength: 64 }),
        time: when("When the drill finished."),
        passed: bool({ description: "Everything the backup holds came back identical." }),
        backup: named("The Velero Backup restored, as <namespace>/<name>."),
        location: named("The BackupLocation the copy was restored from."),
        rpoSeconds: int({
          description: "Recovery point: the backup's age when the drill started.",
          minimum: 0,
        }),
        rtoSeconds: int({ description: "Recovery time: the restore's duration, rounded up.", minimum: 0 }),
        problems: arr(str({ description: "A problem.", maxLength: 4096 }), {
          description: "Why the drill failed (the first 10).",
          maxItems: 10,
        }),
      },
      { description: "The tenant's latest restore drill." },
    ),
    lastPassedDrill: obj(
      { id: str({ description: "The drill's id.", maxLength: 64 }), time: when("When the drill finished.") },
      { description: "The tenant's latest restore drill that passed." },
    ),
  },
  { description: "Backups, off-site copies and restore drills of the tenant." },
);

export const tenantStatusSchema = obj(
  {
    backup: tenantBackupStatusSchema,
    observedGeneration: int({ description: "Generation of the spec last reconciled.", minimum: 0 }),
    namespaceCount: int({ description: "Namespaces the tenant owns.", minimum: 0 }),
    objectCount: int({ description: "Objects rendered for the tenant.", minimum: 0 }),
    children: map(int({ description: "Objects of this kind.", minimum: 0 }), {
      description: "Objects applied for the tenant, counted per kind.",
    }),
    skippedKinds: arr(
      str({ description: "A kind as <kind>.<group> (e.g. Certificate.cert-manager.io).", maxLength: 316 }),
      { description: "Rendered kinds whose CRD is not installed; their objects were skipped.", maxItems: 64 },
    ),
    conditions: arr(
      obj(
        {
          type: req(str({ description: "Condition type, e.g. Ready.", minLength: 1, maxLength: 316 })),
          status: req(enumOf(["True", "False", "Unknown"], { description: "Condition status." })),
          reason: str({ description: "Machine-readable reason in CamelCase.", maxLength: 1024 }),
          message: str({ description: "Human-readable message.", maxLength: 32768 }),
          lastTransitionTime: str({ description: "When the status last changed.", format: "date-time" }),
          observedGeneration: int({ description: "Generation the condition was set for.", minimum: 0 }),
        },
        { description: "A condition." },
      ),
      { description: "Current conditions.", listType: "map", listMapKeys: ["type"] },
    ),
  },
  { description: "What the controller observed." },
);

/** The CustomResourceDefinition of Tenant. */
export function tenantCrd(): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${TENANT.plural}.${GROUP}`, labels: { "app.kubernetes.io/managed-by": "vakt" } },
    spec: {
      group: GROUP,
      scope: TENANT.scope,
      names: {
        kind: TENANT.kind,
        listKind: `${TENANT.kind}List`,
        plural: TENANT.plural,
        singular: TENANT.singular,
        shortNames: ["tnt"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Namespaces", type: "integer", jsonPath: ".status.namespaceCount" },
            { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            {
              name: "Reason",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
              priority: 1,
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: "A tenant of the platform: its namespaces, guardrails and managed services.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "APIVersion of the object." },
                kind: { type: "string", description: "Kind of the object." },
                metadata: {
                  type: "object",
                  properties: {
                    name: { type: "string", maxLength: 40, pattern: DNS_LABEL },
                  },
                },
                spec: toOpenApi(tenantSpecSchema),
                status: toOpenApi(tenantStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

export { DNS_LABEL, DNS_SUBDOMAIN };
