/**
 * A deterministic corpus of Kubernetes manifests for benchmarks: applications (a workload and
 * what usually comes with it: Service, Ingress, ConfigMap, NetworkPolicy, PodDisruptionBudget,
 * HorizontalPodAutoscaler, PersistentVolumeClaim) in several namespaces, a realistic mix of
 * well-configured objects and common mistakes (privileged containers, `latest` or missing image
 * tags, missing resources or probes, secrets as literal env values, host namespaces, hostPath,
 * LoadBalancer Services, Ingresses without TLS, objects in `default`).
 *
 *   node bench/corpus.ts [dir] [--objects N] [--files N] [--seed N]
 *
 * The same seed, object count and file count give byte-identical files. Objects are written as
 * multi-document YAML (`---` separated, with `# Source:` comments as `helm template` prints),
 * spread evenly over dir/manifests/*.yaml; dir/vakt.yaml allows the registries and regions the
 * well-configured objects use.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface CorpusOptions {
  /** Objects to write in all (exactly). Default 10,000. */
  readonly objects?: number;
  /** Files to spread them over. Default 20. */
  readonly files?: number;
  /** PRNG seed. Default 20240611. */
  readonly seed?: number;
}

export interface Corpus {
  /** Absolute paths of the YAML files, in order. */
  readonly files: readonly string[];
  readonly objects: number;
  readonly bytes: number;
  /** Objects per kind. */
  readonly kinds: ReadonlyMap<string, number>;
  /** A vakt.yaml allowing the registries and regions the corpus's good objects use. */
  readonly config: string;
  /** The objects with a pod template (Pods and pod controllers), in order; names are unique. */
  readonly workloads: readonly CorpusWorkload[];
}

export interface CorpusWorkload {
  readonly kind: string;
  /** Undefined when the document has none (applied to the namespace of the context). */
  readonly namespace: string | undefined;
  readonly name: string;
}

/** mulberry32: small, fast, and the same everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = [
  "payments",
  "identity",
  "ledger",
  "storefront",
  "search",
  "data",
  "batch",
  "observability",
];
const TEAMS = ["core", "growth", "risk", "platform", "analytics"];
const REGISTRIES = ["registry.example.com", "ghcr.io/example-org"];
const REGIONS = ["eu-north-1", "eu-central-1"];
const APP_WORDS = [
  "api",
  "worker",
  "gateway",
  "ledger",
  "search",
  "auth",
  "cart",
  "billing",
  "notifier",
  "report",
];

class Generator {
  readonly #random: () => number;
  constructor(seed: number) {
    this.#random = prng(seed);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.#random() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
}

type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod";

interface App {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly team: string;
  readonly kind: WorkloadKind;
  readonly port: number;
}

/** One YAML document: its kind and text (without the leading `---`). */
interface Doc {
  readonly kind: string;
  readonly text: string;
  /** Set on the documents with a pod template. */
  readonly workload?: CorpusWorkload;
}

function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

function metadata(g: Generator, app: App, name: string, extraLabels = ""): string {
  const ns = app.namespace === undefined ? "" : `\n  namespace: ${app.namespace}`;
  const annotations = g.chance(0.4)
    ? `\n  annotations:\n    owner: team-${app.team}@example.com\n    example.com/ticket: "OPS-${g.int(100, 9999)}"`
    : "";
  return `metadata:
  name: ${name}${ns}
  labels:
    app.kubernetes.io/name: ${app.name}
    app.kubernetes.io/part-of: ${app.team}
    app.kubernetes.io/managed-by: Helm${extraLabels}${annotations}`;
}

function image(g: Generator, app: App, index: number): string {
  const roll = g.int(0, 99);
  if (roll < 6) return g.pick(["nginx:latest", "redis:latest", "busybox:latest"]);
  if (roll < 10) return g.pick(["nginx", "redis", "postgres"]);
  if (roll < 14)
    return `docker.io/library/${g.pick(["nginx", "postgres", "alpine"])}:${g.int(1, 16)}.${g.int(0, 9)}`;
  const registry = REGISTRIES[index % REGISTRIES.length] ?? "registry.example.com";
  const tag = `${g.int(1, 4)}.${g.int(0, 20)}.${g.int(0, 9)}`;
  if (roll < 24) return `${registry}/${app.team}/${app.name}@sha256:${"0123456789abcdef".repeat(4)}`;
  return `${registry}/${app.team}/${app.name}:${tag}`;
}

/** A container; `service` adds ports and probes (long-running), batch containers have neither. */
function container(g: Generator, app: App, name: string, index: number, service: boolean): string {
  const lines: string[] = [`- name: ${name}`, `  image: ${image(g, app, index)}`];
  if (g.chance(0.3)) lines.push("  imagePullPolicy: IfNotPresent");
  if (service) {
    lines.push("  ports:", `    - name: http`, `      containerPort: ${app.port}`, "      protocol: TCP");
    if (g.chance(0.03)) lines.push(`      hostPort: ${app.port}`);
  }
  if (g.chance(0.3))
    lines.push(
      "  args:",
      `    - --port=${app.port}`,
      `    - --log-level=${g.pick(["info", "debug", "warn"])}`,
    );
  // Environment: plain settings, references to Secrets (good), literal secrets (bad).
  const env: string[] = [
    `  - name: LOG_FORMAT`,
    `    value: json`,
    `  - name: APP_ENV`,
    `    value: production`,
  ];
  if (g.chance(0.5)) {
    env.push(
      "  - name: DATABASE_PASSWORD",
      "    valueFrom:",
      "      secretKeyRef:",
      `        name: ${app.name}-db`,
      "        key: password",
    );
  }
  if (g.chance(0.06)) env.push("  - name: DB_PASSWORD", `    value: "hunter2-${g.int(1000, 9999)}"`);
  if (g.chance(0.03))
    env.push(
      "  - name: AWS_SECRET_ACCESS_KEY",
      `    value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCY${g.int(100000, 999999)}"`,
    );
  if (g.chance(0.25)) {
    env.push("  - name: POD_NAME", "    valueFrom:", "      fieldRef:", "        fieldPath: metadata.name");
  }
  lines.push("  env:", ...env.map((line) => `  ${line}`));
  if (g.chance(0.2)) lines.push("  envFrom:", `    - configMapRef:`, `        name: ${app.name}-config`);
  if (!g.chance(0.12)) {
    const cpu = g.pick(["50m", "100m", "250m", "500m", "1"]);
    const memory = g.pick(["64Mi", "128Mi", "256Mi", "512Mi", "1Gi"]);
    lines.push("  resources:", "    requests:", `      cpu: ${cpu}`, `      memory: ${memory}`);
    if (g.chance(0.8)) {
      lines.push("    limits:", `      memory: ${memory}`);
      if (g.chance(0.3)) lines.push(`      cpu: ${cpu}`);
    }
  }
  if (service && !g.chance(0.15)) {
    lines.push(
      "  readinessProbe:",
      "    httpGet:",
      "      path: /healthz/ready",
      "      port: http",
      `    periodSeconds: ${g.int(5, 15)}`,
      "  livenessProbe:",
      "    httpGet:",
      "      path: /healthz/live",
      "      port: http",
      `    initialDelaySeconds: ${g.int(5, 30)}`,
    );
  }
  const security = g.int(0, 99);
  if (security < 5) {
    lines.push("  securityContext:", "    privileged: true");
  } else if (security < 9) {
    lines.push(
      "  securityContext:",
      "    capabilities:",
      "      add:",
      `        - ${g.pick(["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"])}`,
    );
  } else if (security < 25) {
    // Nothing at all: fails the restricted profile.
  } else if (security < 40) {
    lines.push("  securityContext:", "    runAsNonRoot: true", "    readOnlyRootFilesystem: true");
  } else {
    lines.push(
      "  securityContext:",
      "    allowPrivilegeEscalation: false",
      "    readOnlyRootFilesystem: true",
      "    runAsNonRoot: true",
      `    runAsUser: ${g.int(1000, 65000)}`,
      "    capabilities:",
      "      drop:",
      "        - ALL",
      "    seccompProfile:",
      "      type: RuntimeDefault",
    );
  }
  if (service || g.chance(0.5)) {
    lines.push("  volumeMounts:", "    - name: tmp", "      mountPath: /tmp");
    if (g.chance(0.3)) lines.push("    - name: config", "      mountPath: /etc/app", "      readOnly: true");
  }
  return lines.join("\n");
}

function podSpec(g: Generator, app: App, service: boolean, restartPolicy?: string): string {
  const lines: string[] = [];
  if (!g.chance(0.4)) lines.push("automountServiceAccountToken: false");
  if (g.chance(0.6)) lines.push(`serviceAccountName: ${app.name}`);
  if (restartPolicy !== undefined) lines.push(`restartPolicy: ${restartPolicy}`);
  if (g.chance(0.04)) lines.push("hostNetwork: true");
  if (g.chance(0.02)) lines.push("hostPID: true");
  if (g.chance(0.6)) {
    lines.push(
      "securityContext:",
      "  runAsNonRoot: true",
      `  fsGroup: ${g.int(1000, 65000)}`,
      "  seccompProfile:",
      "    type: RuntimeDefault",
    );
  }
  if (g.chance(0.3))
    lines.push(
      "nodeSelector:",
      `  topology.kubernetes.io/region: ${g.chance(0.9) ? g.pick(REGIONS) : "us-east-1"}`,
    );
  if (g.chance(0.2)) {
    lines.push(
      "tolerations:",
      "  - key: dedicated",
      "    operator: Equal",
      `    value: ${app.team}`,
      "    effect: NoSchedule",
    );
  }
  if (g.chance(0.15)) {
    lines.push("initContainers:", indent(container(g, app, "migrate", 0, false), 2));
  }
  lines.push("containers:", indent(container(g, app, app.name, 0, service), 2));
  if (g.chance(0.2)) lines.push(indent(container(g, app, "sidecar", 1, false), 2));
  lines.push(
    "volumes:",
    "  - name: tmp",
    "    emptyDir: {}",
    "  - name: config",
    "    configMap:",
    `      name: ${app.name}-config`,
  );
  if (g.chance(0.03)) lines.push("  - name: host", "    hostPath:", "      path: /var/run/docker.sock");
  return lines.join("\n");
}

function template(g: Generator, app: App, service: boolean, restartPolicy?: string): string {
  const annotations = g.chance(0.3)
    ? `\n  annotations:\n    checksum/config: "${g.int(1e8, 9e8).toString(16)}"`
    : "";
  const backup = g.chance(0.03) ? `\n    vakt.dev/backup: disabled` : "";
  return `metadata:
  labels:
    app.kubernetes.io/name: ${app.name}
    app.kubernetes.io/part-of: ${app.team}${backup}${annotations}
spec:
${indent(podSpec(g, app, service, restartPolicy), 2)}`;
}

function selector(app: App): string {
  return `selector:\n  matchLabels:\n    app.kubernetes.io/name: ${app.name}`;
}

function workload(g: Generator, app: App): Doc {
  const head = (apiVersion: string): string =>
    `apiVersion: ${apiVersion}\nkind: ${app.kind}\n${metadata(g, app, app.name)}`;
  switch (app.kind) {
    case "Deployment":
      return {
        kind: app.kind,
        text: `${head("apps/v1")}
spec:
  replicas: ${g.pick([1, 2, 3, 3, 3, 5])}
  revisionHistoryLimit: 5
${indent(selector(app), 2)}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
${indent(template(g, app, true), 4)}
`,
      };
    case "StatefulSet":
      return {
        kind: app.kind,
        text: `${head("apps/v1")}
spec:
  serviceName: ${app.name}
  replicas: ${g.pick([1, 3, 3])}
${indent(selector(app), 2)}
  template:
${indent(template(g, app, true), 4)}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: ${g.pick(["standard", "fast-ssd"])}
        resources:
          requests:
            storage: ${g.pick(["1Gi", "10Gi", "50Gi"])}
`,
      };
    case "DaemonSet":
      return {
        kind: app.kind,
        text: `${head("apps/v1")}
spec:
${indent(selector(app), 2)}
  updateStrategy:
    type: RollingUpdate
  template:
${indent(template(g, app, true), 4)}
`,
      };
    case "Job":
      return {
        kind: app.kind,
        text: `${head("batch/v1")}
spec:
  backoffLimit: ${g.int(0, 6)}${g.chance(0.6) ? `\n  ttlSecondsAfterFinished: ${g.pick([300, 3600, 86400])}` : ""}
  template:
${indent(template(g, app, false, "Never"), 4)}
`,
      };
    case "CronJob":
      return {
        kind: app.kind,
        text: `${head("batch/v1")}
spec:
  schedule: "${g.int(0, 59)} ${g.int(0, 23)} * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  jobTemplate:
    spec:${g.chance(0.6) ? `\n      ttlSecondsAfterFinished: ${g.pick([300, 3600])}` : ""}
      template:
${indent(template(g, app, false, "OnFailure"), 8)}
`,
      };
    case "Pod":
      return {
        kind: app.kind,
        text: `apiVersion: v1
kind: Pod
${metadata(g, app, app.name)}
spec:
${indent(podSpec(g, app, true), 2)}
`,
      };
  }
}

function service(g: Generator, app: App): Doc {
  const roll = g.int(0, 99);
  const type = roll < 15 ? "LoadBalancer" : roll < 20 ? "NodePort" : "ClusterIP";
  const internal =
    type === "LoadBalancer" && g.chance(0.5)
      ? `\n  annotations:\n    service.beta.kubernetes.io/aws-load-balancer-internal: "true"`
      : "";
  const ns = app.namespace === undefined ? "" : `\n  namespace: ${app.namespace}`;
  return {
    kind: "Service",
    text: `apiVersion: v1
kind: Service
metadata:
  name: ${app.name}${ns}
  labels:
    app.kubernetes.io/name: ${app.name}${internal}
spec:
  type: ${type}
  selector:
    app.kubernetes.io/name: ${app.name}
  ports:
    - name: http
      port: ${g.pick([80, 443, 8080])}
      targetPort: http
      protocol: TCP
`,
  };
}

function ingress(g: Generator, app: App): Doc {
  const host = `${app.name}.${app.namespace ?? "default"}.example.com`;
  const tls = g.chance(0.7)
    ? `\n  tls:\n    - hosts:\n        - ${host}\n      secretName: ${app.name}-tls`
    : "";
  return {
    kind: "Ingress",
    text: `apiVersion: networking.k8s.io/v1
kind: Ingress
${metadata(g, app, app.name)}
spec:
  ingressClassName: ${g.pick(["nginx", "traefik"])}${tls}
  rules:
    - host: ${host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ${app.name}
                port:
                  name: http
`,
  };
}

function configMap(g: Generator, app: App): Doc {
  const entries = [
    `  LOG_LEVEL: ${g.pick(["info", "debug"])}`,
    `  FEATURE_FLAGS: "checkout-v2,${g.pick(["search", "beta"])}"`,
  ];
  if (g.chance(0.5))
    entries.push(
      `  config.yaml: |\n    server:\n      port: ${app.port}\n      timeout: ${g.int(1, 60)}s\n    cache:\n      ttl: ${g.int(10, 600)}`,
    );
  return {
    kind: "ConfigMap",
    text: `apiVersion: v1
kind: ConfigMap
${metadata(g, app, `${app.name}-config`)}
data:
${entries.join("\n")}
`,
  };
}

function networkPolicy(g: Generator, app: App): Doc {
  return {
    kind: "NetworkPolicy",
    text: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
${metadata(g, app, `${app.name}-ingress`)}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: ${app.name}
  policyTypes: [Ingress${g.chance(0.5) ? ", Egress" : ""}]
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
      ports:
        - port: ${app.port}
          protocol: TCP
`,
  };
}

function podDisruptionBudget(g: Generator, app: App): Doc {
  return {
    kind: "PodDisruptionBudget",
    text: `apiVersion: policy/v1
kind: PodDisruptionBudget
${metadata(g, app, app.name)}
spec:
  ${g.chance(0.5) ? "minAvailable: 1" : "maxUnavailable: 1"}
${indent(selector(app), 2)}
`,
  };
}

function autoscaler(g: Generator, app: App): Doc {
  return {
    kind: "HorizontalPodAutoscaler",
    text: `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
${metadata(g, app, app.name)}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: ${app.kind}
    name: ${app.name}
  minReplicas: ${g.int(2, 3)}
  maxReplicas: ${g.int(4, 20)}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: ${g.pick([60, 70, 80])}
`,
  };
}

function claim(g: Generator, app: App): Doc {
  const backup = g.chance(0.05) ? "\n    vakt.dev/backup: disabled" : "";
  return {
    kind: "PersistentVolumeClaim",
    text: `apiVersion: v1
kind: PersistentVolumeClaim
${metadata(g, app, `${app.name}-data`, backup)}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ${g.pick(["standard", "fast-ssd"])}
  resources:
    requests:
      storage: ${g.pick(["1Gi", "5Gi", "20Gi"])}
`,
  };
}

const WORKLOAD_MIX: readonly WorkloadKind[] = [
  ...Array<WorkloadKind>(9).fill("Deployment"),
  ...Array<WorkloadKind>(2).fill("StatefulSet"),
  "DaemonSet",
  ...Array<WorkloadKind>(2).fill("Job"),
  ...Array<WorkloadKind>(2).fill("CronJob"),
  ...Array<WorkloadKind>(2).fill("Pod"),
];

/** The documents of one application: its workload, then what usually ships with it. */
function application(g: Generator, index: number): Doc[] {
  const kind = g.pick(WORKLOAD_MIX);
  const roll = g.int(0, 99);
  const namespace = roll < 3 ? undefined : roll < 6 ? "default" : g.pick(NAMESPACES);
  const app: App = {
    name: `${g.pick(APP_WORDS)}-${index}`,
    namespace,
    team: g.pick(TEAMS),
    kind,
    port: g.pick([8080, 8443, 9090, 3000]),
  };
  const docs: Doc[] = [{ ...workload(g, app), workload: { kind, namespace: app.namespace, name: app.name } }];
  const longRunning =
    kind === "Deployment" || kind === "StatefulSet" || kind === "DaemonSet" || kind === "Pod";
  if (longRunning && kind !== "DaemonSet") docs.push(service(g, app));
  if ((kind === "Deployment" || kind === "StatefulSet") && g.chance(0.45)) docs.push(ingress(g, app));
  if (g.chance(0.8)) docs.push(configMap(g, app));
  if (longRunning && g.chance(0.55)) docs.push(networkPolicy(g, app));
  if ((kind === "Deployment" || kind === "StatefulSet") && g.chance(0.7))
    docs.push(podDisruptionBudget(g, app));
  if (kind === "Deployment" && g.chance(0.5)) docs.push(autoscaler(g, app));
  if ((kind === "Deployment" || kind === "StatefulSet") && g.chance(0.3)) docs.push(claim(g, app));
  return docs;
}

/**
 * Writes the corpus into `dir` (created if missing): `dir/manifests/manifests-NN.yaml`, and
 * `dir/vakt.yaml` allowing the corpus's registries and regions, as a configured project would.
 */
export function writeCorpus(dir: string, options: CorpusOptions = {}): Corpus {
  const total = options.objects ?? 10_000;
  const fileCount = Math.max(1, Math.min(options.files ?? 20, total));
  const g = new Generator(options.seed ?? 20240611);
  const docs: Doc[] = [];
  for (let index = 0; docs.length < total; index++) docs.push(...application(g, index));
  docs.length = total;

  const manifests = join(dir, "manifests");
  mkdirSync(manifests, { recursive: true });
  const files: string[] = [];
  const kinds = new Map<string, number>();
  let bytes = 0;
  const perFile = Math.ceil(total / fileCount);
  for (let f = 0; f < fileCount; f++) {
    const slice = docs.slice(f * perFile, (f + 1) * perFile);
    if (slice.length === 0) break;
    const text = slice
      .map((doc, i) => {
        kinds.set(doc.kind, (kinds.get(doc.kind) ?? 0) + 1);
        return `---\n# Source: bench/templates/${doc.kind.toLowerCase()}-${f * perFile + i}.yaml\n${doc.text}`;
      })
      .join("");
    const file = join(manifests, `manifests-${String(f + 1).padStart(2, "0")}.yaml`);
    writeFileSync(file, text);
    bytes += Buffer.byteLength(text);
    files.push(file);
  }
  const config = join(dir, "vakt.yaml");
  writeFileSync(config, vaktConfig(REGISTRIES, REGIONS));
  const workloads = docs.flatMap((doc) => (doc.workload === undefined ? [] : [doc.workload]));
  return { files, config, objects: total, bytes, kinds, workloads };
}

function vaktConfig(registries: readonly string[], regions: readonly string[]): string {
  return `apiVersion: vakt.dev/v1alpha1
kind: VaktConfiguration
spec:
  registries:
${registries.map((registry) => `    - ${registry}`).join("\n")}
  allowedRegions:
${regions.map((region) => `    - ${region}`).join("\n")}
`;
}

export function describeCorpus(corpus: Corpus): string {
  const kinds = [...corpus.kinds]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
  return `${corpus.objects.toLocaleString("en")} objects in ${corpus.files.length} files, ${(corpus.bytes / 1e6).toFixed(1)} MB (${kinds})`;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string): number | undefined => {
    const at = args.indexOf(name);
    if (at === -1) return undefined;
    const value = Number(args[at + 1]);
    args.splice(at, 2);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer`);
    return value;
  };
  const objects = flag("--objects");
  const files = flag("--files");
  const seed = flag("--seed");
  const dir = args[0] ?? "bench-corpus";
  const corpus = writeCorpus(dir, {
    ...(objects === undefined ? {} : { objects }),
    ...(files === undefined ? {} : { files }),
    ...(seed === undefined ? {} : { seed }),
  });
  console.log(`${dir}: ${describeCorpus(corpus)}`);
}
