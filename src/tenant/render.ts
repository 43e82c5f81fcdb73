/**
 * Tenant -> the objects that make it real. Pure: no I/O, no clock, deterministic order. The
 * controller applies these objects and prunes what carries the tenant's labels but is no longer
 * rendered; `vakt render` prints them for GitOps.
 */
import type { KubeObject } from "../engine/types.ts";
import { BACKUP_JUSTIFICATION, BACKUP_LABEL } from "../engine/rules/backup.ts";
import type {
  PostgresService,
  RabbitmqService,
  RedisService,
  Tenant,
  TenantNamespace,
  TenantNamespaceRef,
  TenantProblem,
  TenantSpec,
} from "./types.ts";
import { DEFAULT_IMAGES, validateTenant } from "./validate.ts";
import { childKindRank } from "../api/registry.ts";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "vakt";
export const TENANT_LABEL = "vakt.dev/tenant";
export const REGISTRIES_ANNOTATION = "vakt.dev/allowed-registries";
export const REGIONS_ANNOTATION = "vakt.dev/allowed-regions";
const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
const REGION_LABEL = "topology.kubernetes.io/region";

type Json = Record<string, unknown>;

/** Labels every rendered object carries, so the controller can find and prune them. */
export function tenantLabels(tenant: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [TENANT_LABEL]: tenant };
}

/** The order objects are applied in: namespaces first, guardrails before workloads. */
function sortObjects(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number => childKindRank(String(o.apiVersion), String(o.kind));
  const meta = (o: KubeObject): { namespace: string; name: string } => {
    const m = o.metadata as { namespace?: string; name?: string };
    return { namespace: m.namespace ?? "", name: m.name ?? "" };
  };
  return objects.sort((a, b) => {
    const byKind = rank(a) - rank(b);
    if (byKind !== 0) return byKind;
    const ma = meta(a);
    const mb = meta(b);
    return ma.namespace.localeCompare(mb.namespace) || ma.name.localeCompare(mb.name);
  });
}

/**
 * Renders a defaulted, valid Tenant (see parseTenant). Semantic problems are re-checked: with
 * any error nothing is rendered.
 */
export function renderTenant(tenant: Tenant): { objects: KubeObject[]; problems: TenantProblem[] } {
  const problems = validateTenant(tenant);
  if (problems.some((problem) => problem.severity === "error")) return { objects: [], problems };
  return { objects: sortObjects(new Renderer(tenant).render()), problems };
}

class Renderer {
  readonly #tenant: string;
  readonly #spec: TenantSpec;
  readonly #objects: KubeObject[] = [];

  constructor(tenant: Tenant) {
    this.#tenant = tenant.metadata.name;
    this.#spec = tenant.spec;
  }

  render(): KubeObject[] {
    for (const namespace of this.#spec.namespaces) this.#namespace(namespace);
    this.#flows();
    this.#egress();
    this.#certificates();
    for (const db of this.#spec.services.postgresql ?? []) this.#postgresql(db);
    for (const mq of this.#spec.services.rabbitmq ?? []) this.#rabbitmq(mq);
    for (const redis of this.#spec.services.redis ?? []) this.#redis(redis);
    this.#monitoring();
    this.#backup();
    this.#gitops();
    return this.#objects;
  }

  #metadata(name: string, namespace?: string, extra: Record<string, string> = {}): Json {
    return {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      labels: { ...extra, ...tenantLabels(this.#tenant) },
    };
  }

  #add(apiVersion: string, kind: string, metadata: Json, body: Json): void {
    this.#objects.push({ apiVersion, kind, metadata, ...body });
  }

  #namespaceSelector(ref: TenantNamespaceRef): Json {
    return {
      matchLabels: {
        [NAMESPACE_NAME_LABEL]: ref.namespace,
        [TENANT_LABEL]: ref.tenant ?? this.#tenant,
      },
    };
  }

  #networkPolicy(namespace: string, name: string, spec: Json): void {
    this.#add("networking.k8s.io/v1", "NetworkPolicy", this.#metadata(name, namespace), { spec });
  }

  #namespace(namespace: TenantNamespace): void {
    const spec = this.#spec;
    const name = namespace.name;
    const labels: Record<string, string> = {
      ...namespace.labels,
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    };
    const annotations: Record<string, string> = {};
    if (spec.displayName !== undefined) annotations["vakt.dev/display-name"] = spec.displayName;
    if (!namespace.backup.enabled) {
      labels[BACKUP_LABEL] = "disabled";
      annotations[BACKUP_JUSTIFICATION] = namespace.backup.justification ?? "";
    }
    if ((spec.registries ?? []).length > 0)
      annotations[REGISTRIES_ANNOTATION] = (spec.registries ?? []).join(",");
    if ((spec.regions ?? []).length > 0) annotations[REGIONS_ANNOTATION] = (spec.regions ?? []).join(",");
    const metadata = this.#metadata(name, undefined, labels);
    if (Object.keys(annotations).length > 0) metadata["annotations"] = annotations;
    this.#add("v1", "Namespace", metadata, {});

    const quota = spec.quota;
    this.#add("v1", "ResourceQuota", this.#metadata("tenant-quota", name), {
      spec: {
        hard: {
          "requests.cpu": quota.requests.cpu,
          "requests.memory": quota.requests.memory,
          "limits.cpu": quota.limits.cpu,
          "limits.memory": quota.limits.memory,
          "requests.storage": quota.storage,
          pods: String(quota.pods),
          persistentvolumeclaims: String(quota.persistentVolumeClaims),
          "services.loadbalancers": String(quota.loadBalancers),
          "services.nodeports": String(quota.nodePorts),
        },
      },
    });
    const limits = spec.limits;
    this.#add("v1", "LimitRange", this.#metadata("tenant-limits", name), {
      spec: {
        limits: [
          {
            type: "Container",
            defaultRequest: { ...limits.defaultRequest },
            default: { ...limits.default },
            max: { ...limits.max },
          },
        ],
      },
    });

    for (const role of ["admin", "edit", "view"] as const) {
      const subjects = spec.owners
        .filter((owner) => owner.role === role)
        .map((owner) => ({ kind: owner.kind, apiGroup: "rbac.authorization.k8s.io", name: owner.name }));
      if (subjects.length === 0) continue;
      this.#add("rbac.authorization.k8s.io/v1", "RoleBinding", this.#metadata(`tenant-${role}`, name), {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects,
      });
    }

    const network = spec.network;
    this.#networkPolicy(name, "default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    this.#networkPolicy(name, "allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: network.dnsNamespace } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { port: 53, protocol: "UDP" },
            { port: 53, protocol: "TCP" },
          ],
        },
      ],
    });
    this.#networkPolicy(name, "allow-ingress-controller", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchLabels: { [NAMESPACE_NAME_LABEL]: network.ingressControllerNamespace },
              },
            },
          ],
        },
      ],
    });
    if (network.allowSameNamespace)
      this.#networkPolicy(name, "allow-same-namespace", {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      });
  }

  #flows(): void {
    const own = (ref: TenantNamespaceRef): boolean => ref.tenant === undefined || ref.tenant === this.#tenant;
    const describe = (ref: TenantNamespaceRef): string =>
      own(ref) ? ref.namespace : `${ref.tenant ?? this.#tenant}-${ref.namespace}`;
    for (const flow of this.#spec.network.flows ?? []) {
      const ports = (flow.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol }));
      const portsPart = ports.length > 0 ? { ports } : {};
      if (own(flow.to))
        this.#networkPolicy(flow.to.namespace, `allow-from-${describe(flow.from)}`.slice(0, 253), {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ namespaceSelector: this.#namespaceSelector(flow.from) }], ...portsPart }],
        });
      if (own(flow.from))
        this.#networkPolicy(flow.from.namespace, `allow-to-${describe(flow.to)}`.slice(0, 253), {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [{ to: [{ namespaceSelector: this.#namespaceSelector(flow.to) }], ...portsPart }],
        });
    }
  }

  #egress(): void {
    const all = this.#spec.namespaces.map((n) => n.name);
    for (const egress of this.#spec.network.egress ?? []) {
      const ports = (egress.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol }));
      const ipBlock = {
        cidr: egress.cidr,
        ...(egress.except === undefined ? {} : { except: [...egress.except] }),
      };
      for (const namespace of egress.namespaces ?? all) {
        this.#networkPolicy(namespace, `allow-egress-${egress.name}`, {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [{ to: [{ ipBlock }], ...(ports.length > 0 ? { ports } : {}) }],
        });
      }
    }
  }

  /** Lets an operator reach the pods of one managed-service instance. */
  #operatorAccess(
    namespace: string,
    name: string,
    operatorNamespace: string,
    selector: Json,
    ports: number[],
  ): void {
    this.#networkPolicy(namespace, `allow-operator-${name}`, {
      podSelector: { matchLabels: selector },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: operatorNamespace } } }],
          ports: ports.map((port) => ({ port, protocol: "TCP" })),
        },
      ],
    });
  }

  #certificates(): void {
    const tls = this.#spec.tls;
    if (tls === undefined) return;
    for (const certificate of tls.certificates ?? []) {
      this.#add(
        "cert-manager.io/v1",
        "Certificate",
        this.#metadata(certificate.name, certificate.namespace),
        {
          spec: {
            secretName: `${certificate.name}-tls`,
            dnsNames: [...certificate.hosts],
            issuerRef: { name: tls.issuerRef.name, kind: tls.issuerRef.kind, group: tls.issuerRef.group },
            duration: "2160h",
            renewBefore: "720h",
            privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            secretTemplate: { labels: tenantLabels(this.#tenant) },
          },
        },
      );
    }
  }

  /** Node affinity pinning pods to the allowed regions (data residency); undefined when unrestricted. */
  #regionAffinity(): Json | undefined {
    const regions = this.#spec.regions ?? [];
    if (regions.length === 0) return undefined;
    return {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: REGION_LABEL, operator: "In", values: [...regions] }] },
        ],
      },
    };
  }

  #resources(resources: { readonly cpu?: string; readonly memory?: string } | undefined): Json | undefined {
    if (resources === undefined || Object.keys(resources).length === 0) return undefined;
    return {
      requests: { ...resources },
      ...(resources.memory === undefined ? {} : { limits: { memory: resources.memory } }),
    };
  }

  #postgresql(db: PostgresService): void {
    const backup = db.backup;
    const nodeAffinity = this.#regionAffinity();
    const resources = this.#resources(db.resources);
    const barmanObjectStore: Json = {
      destinationPath: backup.destinationPath,
      ...(backup.endpointURL === undefined ? {} : { endpointURL: backup.endpointURL }),
      wal: { compression: "gzip", maxParallel: 2 },
      data: { compression: "gzip", jobs: 2 },
    };
    if (backup.credentialsSecret !== undefined) {
      barmanObjectStore["s3Credentials"] = {
        accessKeyId: { name: backup.credentialsSecret, key: "ACCESS_KEY_ID" },
        secretAccessKey: { name: backup.credentialsSecret, key: "ACCESS_SECRET_KEY" },
      };
    } else if (backup.destinationPath.startsWith("s3://")) {
      barmanObjectStore["s3Credentials"] = { inheritFromIAMRole: true };
    } else if (backup.destinationPath.startsWith("gs://")) {
      barmanObjectStore["googleCredentials"] = { gkeEnvironment: true };
    } else {
      barmanObjectStore["azureCredentials"] = { inheritFromAzureAD: true };
    }
    this.#add("postgresql.cnpg.io/v1", "Cluster", this.#metadata(db.name, db.namespace), {
      spec: {
        instances: db.instances,
        imageName: db.image ?? DEFAULT_IMAGES.postgresql,
        primaryUpdateStrategy: "unsupervised",
        enablePDB: true,
        storage: {
          size: db.storage.size,
          ...(db.storage.storageClass === undefined ? {} : { storageClass: db.storage.storageClass }),
        },
        ...(resources === undefined ? {} : { resources }),
        affinity: {
          enablePodAntiAffinity: true,
          topologyKey: "kubernetes.io/hostname",
          ...(nodeAffinity === undefined ? {} : { nodeAffinity }),
        },
        inheritedMetadata: { labels: tenantLabels(this.#tenant) },
        backup: { retentionPolicy: backup.retention, barmanObjectStore },
      },
    });
    this.#add("postgresql.cnpg.io/v1", "ScheduledBackup", this.#metadata(`${db.name}-daily`, db.namespace), {
      spec: {
        // CloudNativePG's cron has a leading seconds field.
        schedule: `0 ${backup.schedule}`,
        cluster: { name: db.name },
        method: "barmanObjectStore",
        backupOwnerReference: "self",
        immediate: true,
      },
    });
    this.#operatorAccess(
      db.namespace,
      db.name,
      this.#spec.network.operatorNamespaces.postgresql,
      { "cnpg.io/cluster": db.name },
      [8000],
    );
  }

  #rabbitmq(mq: RabbitmqService): void {
    const nodeAffinity = this.#regionAffinity();
    const resources = this.#resources(mq.resources);
    this.#add("rabbitmq.com/v1beta1", "RabbitmqCluster", this.#metadata(mq.name, mq.namespace), {
      spec: {
        replicas: mq.replicas,
        image: mq.image ?? DEFAULT_IMAGES.rabbitmq,
        persistence: {
          storage: mq.storage.size,
          ...(mq.storage.storageClass === undefined ? {} : { storageClassName: mq.storage.storageClass }),
        },
        ...(resources === undefined ? {} : { resources }),
        ...(nodeAffinity === undefined ? {} : { affinity: { nodeAffinity } }),
        override: { statefulSet: { metadata: { labels: tenantLabels(this.#tenant) } } },
      },
    });
    this.#operatorAccess(
      mq.namespace,
      mq.name,
      this.#spec.network.operatorNamespaces.rabbitmq,
      { "app.kubernetes.io/name": mq.name },
      [15672, 15671],
    );
  }

  #redis(redis: RedisService): void {
    const nodeAffinity = this.#regionAffinity();
    const resources = this.#resources(redis.resources);
    const image = redis.image ?? DEFAULT_IMAGES.redis;
    const affinity = nodeAffinity === undefined ? {} : { affinity: { nodeAffinity } };
    this.#add("databases.spotahome.com/v1", "RedisFailover", this.#metadata(redis.name, redis.namespace), {
      spec: {
        auth: { secretPath: redis.passwordSecret },
        redis: {
          replicas: redis.replicas,
          image,
          ...(resources === undefined ? {} : { resources }),
          ...affinity,
          storage: {
            keepAfterDeletion: true,
            persistentVolumeClaim: {
              metadata: { name: `${redis.name}-data`, labels: tenantLabels(this.#tenant) },
              spec: {
                accessModes: ["ReadWriteOnce"],
                resources: { requests: { storage: redis.storage.size } },
                ...(redis.storage.storageClass === undefined
                  ? {}
                  : { storageClassName: redis.storage.storageClass }),
              },
            },
          },
        },
        sentinel: { replicas: redis.sentinels, image, ...affinity },
      },
    });
    this.#operatorAccess(
      redis.namespace,
      redis.name,
      this.#spec.network.operatorNamespaces.redis,
      { "app.kubernetes.io/name": redis.name },
      [6379, 26379],
    );
  }

  #monitoring(): void {
    const monitoring = this.#spec.monitoring;
    const extra = { ...monitoring.labels };
    for (const monitor of monitoring.serviceMonitors ?? []) {
      this.#add(
        "monitoring.coreos.com/v1",
        "ServiceMonitor",
        this.#metadata(monitor.name, monitor.namespace, extra),
        {
          spec: {
            selector: { matchLabels: { ...monitor.selector } },
            endpoints: [{ port: monitor.port, path: monitor.path, interval: monitor.interval }],
          },
        },
      );
    }
    for (const db of this.#spec.services.postgresql ?? []) {
      this.#add("monitoring.coreos.com/v1", "PodMonitor", this.#metadata(db.name, db.namespace, extra), {
        spec: {
          selector: { matchLabels: { "cnpg.io/cluster": db.name, "cnpg.io/podRole": "instance" } },
          podMetricsEndpoints: [{ port: "metrics" }],
        },
      });
    }
    for (const mq of this.#spec.services.rabbitmq ?? []) {
      this.#add("monitoring.coreos.com/v1", "ServiceMonitor", this.#metadata(mq.name, mq.namespace, extra), {
        spec: {
          selector: {
            matchLabels: { "app.kubernetes.io/name": mq.name, "app.kubernetes.io/component": "rabbitmq" },
          },
          endpoints: [{ port: "prometheus", interval: "30s" }],
        },
      });
    }
    if (!monitoring.alerts) return;
    const first = this.#spec.namespaces[0];
    if (first === undefined) return;
    const namespaces = this.#spec.namespaces.map((n) => n.name).join("|");
    const selector = `namespace=~"${namespaces}"`;
    const rules: Json[] = [
      {
        alert: "TenantQuotaNearlyExhausted",
        expr: `kube_resourcequota{${selector},type="used"} / ignoring(type) kube_resourcequota{${selector},type="hard"} > 0.9`,
        for: "15m",
        labels: { severity: "warning", tenant: this.#tenant },
        annotations: { summary: "{{ $labels.namespace }} uses over 90% of its {{ $labels.resource }} quota" },
      },
      {
        alert: "TenantPodCrashLooping",
        expr: `increase(kube_pod_container_status_restarts_total{${selector}}[15m]) > 3`,
        for: "5m",
        labels: { severity: "warning", tenant: this.#tenant },
        annotations: { summary: "{{ $labels.namespace }}/{{ $labels.pod }} restarts repeatedly" },
      },
    ];
    if ((this.#spec.services.postgresql ?? []).length > 0)
      rules.push(
        {
          alert: "TenantPostgresWalArchivingFailing",
          expr: `cnpg_pg_stat_archiver_seconds_since_last_archival{${selector}} > 600`,
          for: "10m",
          labels: { severity: "critical", tenant: this.#tenant },
          annotations: {
            summary:
              "{{ $labels.namespace }}/{{ $labels.pod }}: no WAL archived for 10 minutes (PITR at risk)",
          },
        },
        {
          alert: "TenantPostgresBackupTooOld",
          expr: `time() - cnpg_collector_last_available_backup_timestamp{${selector}} > 129600`,
          for: "30m",
          labels: { severity: "critical", tenant: this.#tenant },
          annotations: { summary: "{{ $labels.namespace }}: the last base backup is older than 36 hours" },
        },
      );
    this.#add(
      "monitoring.coreos.com/v1",
      "PrometheusRule",
      this.#metadata("tenant-alerts", first.name, extra),
      {
        spec: { groups: [{ name: `tenant-${this.#tenant}`, rules }] },
      },
    );
  }

  #backup(): void {
    const included = this.#spec.namespaces.filter((n) => n.backup.enabled).map((n) => n.name);
    if (included.length === 0) return;
    const backup = this.#spec.backup;
    this.#add("velero.io/v1", "Schedule", this.#metadata(`tenant-${this.#tenant}`, backup.veleroNamespace), {
      spec: {
        schedule: backup.schedule,
        useOwnerReferencesInBackup: false,
        template: {
          includedNamespaces: included,
          ttl: backup.retention,
          storageLocation: backup.storageLocation,
          snapshotVolumes: backup.volumes === "snapshot",
          defaultVolumesToFsBackup: backup.volumes === "filesystem",
          metadata: { labels: tenantLabels(this.#tenant) },
        },
      },
    });
  }

  #gitops(): void {
    const gitops = this.#spec.gitops;
    if (gitops === undefined) return;
    this.#add("argoproj.io/v1alpha1", "AppProject", this.#metadata(this.#tenant, gitops.argocdNamespace), {
      spec: {
        description: `Applications of tenant ${this.#tenant}`,
        sourceRepos: [gitops.repoURL],
        destinations: this.#spec.namespaces.map((n) => ({ server: gitops.server, namespace: n.name })),
        // No cluster-scoped objects, and the platform's guardrails stay the platform's.
        clusterResourceWhitelist: [],
        namespaceResourceBlacklist: [
          { group: "", kind: "ResourceQuota" },
          { group: "", kind: "LimitRange" },
          { group: "networking.k8s.io", kind: "NetworkPolicy" },
          { group: "rbac.authorization.k8s.io", kind: "RoleBinding" },
          { group: "rbac.authorization.k8s.io", kind: "Role" },
        ],
      },
    });
    this.#add("argoproj.io/v1alpha1", "Application", this.#metadata(this.#tenant, gitops.argocdNamespace), {
      spec: {
        project: this.#tenant,
        source: { repoURL: gitops.repoURL, path: gitops.path, targetRevision: gitops.targetRevision },
        destination: { server: gitops.server, namespace: gitops.namespace },
        ...(gitops.automated
          ? {
              syncPolicy: {
                automated: { prune: true, selfHeal: true },
                syncOptions: ["CreateNamespace=false"],
              },
            }
          : {}),
      },
    });
  }
}
