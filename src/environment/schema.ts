/**
 * The Environment API (vakt.dev/v1alpha1, cluster-scoped, on the hub), defined once: one
 * standalone cluster of one customer, where it runs and which jurisdiction its data must stay
 * in. The TypeScript types (types.ts) and the CRD (`environmentCrd`) both come from the values
 * below, as for the Tenant (src/tenant/schema.ts).
 */
import { arr, def, enumOf, int, map, obj, req, str, toOpenApi } from "../tenant/builder.ts";
import type { JsonSchema } from "../tenant/builder.ts";
import { DNS_LABEL } from "../tenant/schema.ts";
import { ENVIRONMENT, GROUP, VERSION } from "../api/registry.ts";
import { JURISDICTION_CODES } from "./residency.ts";

/** Providers an Environment may name: served here, and designed for but refused (ADR 0024). */
export const PROVIDER_NAMES = ["aws", "gcp", "local", "azure", "openstack", "crossplane"] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Longest Environment name: its node pools are named <environment>-<pool> within 63 characters. */
export const MAX_ENVIRONMENT_NAME = 40;
export const MAX_POOL_NAME = 20;

const DNS_LABEL_HINT = "a DNS label (lower-case letters, digits and '-', starting and ending alphanumeric)";
const dnsLabel = (description: string, maxLength = 63) =>
  str({ description, pattern: DNS_LABEL, patternHint: DNS_LABEL_HINT, maxLength });

const jurisdiction = (description: string) => enumOf(JURISDICTION_CODES, { description });

const condition = obj(
  {
    type: req(str({ description: "Condition type, e.g. Ready.", minLength: 1, maxLength: 316 })),
    status: req(enumOf(["True", "False", "Unknown"], { description: "Condition status." })),
    reason: str({ description: "Machine-readable reason in CamelCase.", maxLength: 1024 }),
    message: str({ description: "Human-readable message.", maxLength: 32768 }),
    lastTransitionTime: str({ description: "When the status last changed.", format: "date-time" }),
    observedGeneration: int({ description: "Generation the condition was set for.", minimum: 0 }),
  },
  { description: "A condition." },
);

export const environmentSpecSchema = obj(
  {
    customer: req(dnsLabel("The customer this environment (one standalone cluster) is for.")),
    displayName: str({ description: "Human-readable name.", maxLength: 128 }),
    provider: req(
      enumOf(PROVIDER_NAMES, {
        description:
          "Where the cluster runs: aws (EKS through Cluster API), gcp (GKE through Cluster API), local (a control " +
          "plane on the hub's machine, for development). azure, openstack and crossplane are designed for but " +
          "not served yet: refused.",
      }),
    ),
    region: req(
      str({
        description: "The provider's region, e.g. eu-north-1 (aws), europe-north2 (gcp), local.",
        pattern: "^[a-z0-9][-a-z0-9]*$",
        patternHint: "a region name such as eu-north-1",
        maxLength: 64,
      }),
    ),
    jurisdiction: req(
      jurisdiction(
        "Where the customer's data must stay: a country (ISO 3166-1 alpha-2, e.g. SE), EU or EEA. The region, " +
          "zones, backup bucket and registries must all be inside it.",
      ),
    ),
    kubernetesVersion: req(
      str({
        description:
          "Kubernetes minor version of the cluster, e.g. v1.33 (managed providers pick the patch).",
        pattern: "^v1\\.[0-9]{1,2}$",
        patternHint: "a minor version such as v1.33",
      }),
    ),
    aws: obj(
      {
        identityRef: obj(
          {
            kind: req(
              enumOf(["AWSClusterRoleIdentity", "AWSClusterStaticIdentity", "AWSClusterControllerIdentity"], {
                description: "Kind of the CAPA identity.",
              }),
            ),
            name: req(str({ description: "Name of the identity.", minLength: 1, maxLength: 253 })),
          },
          {
            description:
              "The CAPA identity (the customer's AWS account role) the cluster is created with; absent: the " +
              "controller's own.",
          },
        ),
      },
      { description: "AWS settings (provider aws)." },
    ),
    gcp: obj(
      {
        project: req(
          str({
            description: "The customer's Google Cloud project id.",
            pattern: "^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
            patternHint: "a project id (6-30 lower-case letters, digits and '-', starting with a letter)",
          }),
        ),
        network: dnsLabel("VPC network name; absent: the provider's default for the cluster."),
      },
      { description: "Google Cloud settings (provider gcp); required for gcp." },
    ),
    nodePools: req(
      arr(
        obj(
          {
            name: req(dnsLabel("Pool name.", MAX_POOL_NAME)),
            instanceTypes: req(
              arr(
                str({
                  description: "A machine type of the provider, e.g. m7i.large (aws), n2-standard-4 (gcp).",
                  minLength: 1,
                  maxLength: 64,
                }),
                {
                  description:
                    "Machine types; the first is the managed pool's, all of them bound the autoscaler.",
                  minItems: 1,
                  maxItems: 20,
                  listType: "set",
                },
              ),
            ),
            min: req(int({ description: "Fewest nodes.", minimum: 0, maximum: 1000 })),
            max: req(int({ description: "Most nodes.", minimum: 1, maximum: 1000 })),
            zones: req(
              arr(
                str({
                  description: "A zone of the Environment's region, e.g. eu-north-1a.",
                  minLength: 1,
                  maxLength: 64,
                }),
                { description: "Zones the pool's nodes run in.", minItems: 1, maxItems: 8, listType: "set" },
              ),
            ),
            labels: map(str({ description: "Label value.", maxLength: 63 }), {
              description: "Labels of the pool's nodes.",
            }),
          },
          { description: "A pool of nodes." },
        ),
        {
          description: "Node pools of the cluster.",
          minItems: 1,
          maxItems: 20,
          listType: "map",
          listMapKeys: ["name"],
        },
      ),
    ),
    backup: req(
      obj(
        {
          provider: req(
            enumOf(["aws", "gcp", "s3"], {
              description: "aws: Amazon S3; gcp: Google Cloud Storage; s3: another S3-compatible store.",
            }),
          ),
          bucket: req(
            str({
              description: "Bucket the cluster's backups go to.",
              pattern: "^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$",
              patternHint: "a bucket name (3-63 lower-case letters, digits, '.', '-', '_')",
            }),
          ),
          region: req(
            str({
              description: "The bucket's region (GCS: location, e.g. europe-north2 or EU).",
              minLength: 1,
              maxLength: 64,
            }),
          ),
          endpoint: str({
            description: "Endpoint of an S3-compatible store (provider s3).",
            pattern: "^https://",
          }),
          jurisdiction: jurisdiction(
            "Where an S3-compatible store (provider s3) keeps its data, as its operator states it; required for s3.",
          ),
        },
        { description: "Where the cluster's backups are kept (inside the jurisdiction)." },
      ),
    ),
    registries: arr(
      obj(
        {
          host: req(
            str({
              description: "Registry host with optional path prefix, e.g. registry.example.se/team.",
              pattern: "^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$",
              patternHint: "a registry host with optional path, e.g. registry.example.se/team",
              maxLength: 253,
            }),
          ),
          jurisdiction: jurisdiction(
            "Where the registry keeps its images, as its operator states it; not needed where the host tells " +
              "(ECR, Artifact Registry).",
          ),
        },
        { description: "An image registry the cluster may pull from." },
      ),
      {
        description: "Image registries of the cluster (its baseline allows only these).",
        maxItems: 32,
        listType: "map",
        listMapKeys: ["host"],
      },
    ),
    tenants: arr(dnsLabel("A Tenant (on the hub) this environment hosts.", 40), {
      description: "Tenants hosted by this environment.",
      maxItems: 256,
      listType: "set",
    }),
    gitops: obj(
      {
        repoURL: req(str({ description: "Git repository of the customer's applications.", minLength: 1 })),
        path: def(str({ description: "Path in the repository.", minLength: 1 }), "."),
        revision: def(str({ description: "Branch, tag or commit.", minLength: 1 }), "HEAD"),
      },
      { description: "Where the customer's applications come from (registered with Argo CD)." },
    ),
    baseline: def(
      obj(
        {
          vaktVersion: str({
            description: "vakt version installed into the cluster; absent: the hub's own.",
            pattern: "^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$",
            patternHint: "a version such as 0.1.0",
          }),
          failOn: enumOf(["deny", "warn", "audit"], { description: "vakt's fail level in the cluster." }),
          rules: map(enumOf(["deny", "warn", "audit", "off"], { description: "Action." }), {
            description: "Rule id -> action in the cluster's VaktConfiguration.",
          }),
          frameworks: arr(
            enumOf(["iso27001", "gdpr", "pdl", "nis2", "hipaa"], { description: "A control framework." }),
            { description: "Frameworks the cluster reports on.", listType: "set" },
          ),
        },
        {
          description:
            "vakt's baseline in the cluster; its allowed registries and regions come from this Environment.",
        },
      ),
      {},
    ),
  },
  { description: "A standalone cluster for one customer, and where its data must stay." },
);

export const environmentStatusSchema = obj(
  {
    observedGeneration: int({ description: "Generation of the spec last reconciled.", minimum: 0 }),
    phase: str({
      description:
        "Pending, Provisioning, Provisioned, Deleting, Failed (the Cluster's phase), Invalid, or NotServed.",
      maxLength: 64,
    }),
    cluster: obj(
      {
        namespace: dnsLabel("Namespace of the provider's objects on the hub."),
        name: str({ description: "Name of the Cluster.", maxLength: 253 }),
        phase: str({ description: "The Cluster's phase as Cluster API reports it.", maxLength: 64 }),
      },
      { description: "The Cluster API Cluster that provisions this environment." },
    ),
    posture: obj(
      {
        webhook: enumOf(["Ready", "NotAnswering", "NotRegistered", "Registered"], {
          description:
            "vakt's webhook in the cluster: Ready (answers), NotAnswering, NotRegistered, or Registered behind a Service the hub cannot probe.",
        }),
        vaktVersion: str({
          description: "The vakt version that answers the cluster's webhook.",
          maxLength: 63,
        }),
        wantedVersion: str({
          description: "The vakt version wanted there (spec.baseline.vaktVersion or the hub's).",
          maxLength: 63,
        }),
        findings: int({
          description:
            "Findings (fail, warn, error) in vakt's audit reports in the cluster; absent: none to read.",
          minimum: 0,
        }),
      },
      { description: "The member cluster's posture as the hub last read it." },
    ),
    objectCount: int({ description: "Objects rendered for the environment.", minimum: 0 }),
    children: map(int({ description: "Objects of this kind.", minimum: 0 }), {
      description: "Objects applied for the environment, counted per kind.",
    }),
    conditions: arr(condition, {
      description: "Current conditions.",
      listType: "map",
      listMapKeys: ["type"],
    }),
  },
  { description: "What the fleet controller observed." },
);

/** The CustomResourceDefinition of Environment. */
export function environmentCrd(): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${ENVIRONMENT.plural}.${GROUP}`, labels: { "app.kubernetes.io/managed-by": "vakt" } },
    spec: {
      group: GROUP,
      scope: ENVIRONMENT.scope,
      names: {
        kind: ENVIRONMENT.kind,
        listKind: `${ENVIRONMENT.kind}List`,
        plural: ENVIRONMENT.plural,
        singular: ENVIRONMENT.singular,
        shortNames: ["env"],
        categories: ["vakt"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Customer", type: "string", jsonPath: ".spec.customer" },
            { name: "Provider", type: "string", jsonPath: ".spec.provider" },
            { name: "Region", type: "string", jsonPath: ".spec.region" },
            { name: "Phase", type: "string", jsonPath: ".status.phase" },
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
              description: "A standalone cluster of one customer, provisioned and kept in line by the hub.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string", description: "APIVersion of the object." },
                kind: { type: "string", description: "Kind of the object." },
                metadata: {
                  type: "object",
                  properties: {
                    name: { type: "string", maxLength: MAX_ENVIRONMENT_NAME, pattern: DNS_LABEL },
                  },
                },
                spec: toOpenApi(environmentSpecSchema),
                status: toOpenApi(environmentStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
