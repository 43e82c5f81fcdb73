/**
 * The BackupLocation kind (vakt.dev/v1alpha1, cluster-scoped): an off-site S3 bucket under
 * Object Lock where vakt copies the completed Velero backups of one Velero storage location.
 * Defined once, with tenant/builder.ts: the schema yields the CRD, the TypeScript types and the
 * validator, so they cannot drift.
 *
 *   apiVersion: vakt.dev/v1alpha1
 *   kind: BackupLocation
 *   metadata: { name: offsite-se }
 *   spec:
 *     s3: { bucket: vakt-offsite, region: eu-north-1, endpoint: https://s3.example.se,
 *           credentialsSecret: { namespace: vakt-system, name: offsite-s3 } }
 *     jurisdiction: SE
 *     retention: { minimumDays: 30 }
 *     source: { veleroNamespace: velero, storageLocation: default }
 */
import { BACKUP_LOCATION, GROUP, VERSION } from "../api/registry.ts";
import type { FieldPath } from "../engine/types.ts";
import {
  applyDefaults,
  arr,
  bool,
  def,
  enumOf,
  int,
  obj,
  req,
  str,
  toOpenApi,
  validateAgainst,
} from "../tenant/builder.ts";
import type { JsonSchema, OutputOf } from "../tenant/builder.ts";

const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** daily, weekly, or a Go-style duration of hours, minutes and seconds (168h, 1h30m, 45s). */
export const DRILL_INTERVAL = "^(daily|weekly|[0-9]+h([0-9]+m)?([0-9]+s)?|[0-9]+m([0-9]+s)?|[0-9]+s)$";

export const backupLocationSpecSchema = obj(
  {
    s3: req(
      obj(
        {
          bucket: req(
            str({
              description:
                "The off-site bucket. It must have Object Lock enabled (vakt checks it and refuses to copy otherwise).",
              pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
              patternHint: "an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)",
            }),
          ),
          region: req(
            str({
              description: "The bucket's region (e.g. eu-north-1): what residency is judged on.",
              pattern: "^[a-z0-9][-a-z0-9.]*$",
              patternHint: "a region name such as eu-north-1",
            }),
          ),
          endpoint: str({
            description:
              "The S3 endpoint URL, for providers other than AWS (default: AWS's endpoint for the region).",
            pattern: "^https?://",
            patternHint: "a URL starting with https:// (http:// only for a local server)",
          }),
          forcePathStyle: def(
            bool({ description: "Address buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint>." }),
            false,
          ),
          prefix: str({
            description: "Key prefix inside the bucket (default none); copies go to <prefix>/<velero key>.",
            pattern: "^[^/].*[^/]$|^[^/]$",
            patternHint: "a prefix without a leading or trailing slash",
          }),
          credentialsSecret: req(
            obj(
              {
                namespace: req(
                  str({ description: "Namespace of the Secret.", pattern: DNS_LABEL, maxLength: 63 }),
                ),
                name: req(str({ description: "Name of the Secret.", minLength: 1, maxLength: 253 })),
              },
              {
                description:
                  "A Secret with the keys accessKeyId and secretAccessKey: credentials that may put objects with retention, and read the bucket's lock configuration.",
              },
            ),
          ),
        },
        { description: "The off-site bucket." },
      ),
    ),
    jurisdiction: str({
      description:
        "The legal jurisdiction the bucket's data lives under, e.g. SE or EU. A namespace labelled vakt.dev/backup-jurisdiction requires it.",
      pattern: "^[A-Z]{2,8}$",
      patternHint: "an upper-case code such as SE or EU",
    }),
    retention: def(
      obj(
        {
          minimumDays: def(
            int({
              description:
                "Policy: the bucket's default retention must be at least this many days (the lock check), and every copy is retained at least this long, or until the backup expires when that is later.",
              minimum: 1,
              maximum: 36_500,
            }),
            30,
          ),
          mode: def(
            enumOf(["COMPLIANCE"], {
              description:
                "The Object Lock mode copies are written in. Only COMPLIANCE: no user, root included, can shorten or remove it.",
            }),
            "COMPLIANCE",
          ),
        },
        { description: "The retention every copy gets." },
      ),
      {},
    ),
    source: def(
      obj(
        {
          veleroNamespace: def(
            str({ description: "Namespace Velero runs in.", pattern: DNS_LABEL }),
            "velero",
          ),
          storageLocation: def(
            str({
              description: "The Velero BackupStorageLocation whose completed backups are copied.",
              minLength: 1,
            }),
            "default",
          ),
        },
        { description: "Which Velero backups are copied here." },
      ),
      {},
    ),
    lockCheck: def(
      obj(
        {
          intervalMinutes: def(
            int({
              description: "How often the lock check runs (it writes one small canary object each time).",
              minimum: 1,
              maximum: 10_080,
            }),
            60,
          ),
        },
        { description: "The lock verification." },
      ),
      {},
    ),
    drill: obj(
      {
        interval: req(
          str({
            description:
              "How often each Tenant whose backups are copied here is drilled: daily, weekly, or a duration such as 168h or 30m (the first drill runs when a tenant's first copy is complete).",
            pattern: DRILL_INTERVAL,
            patternHint: "daily, weekly, or a duration such as 168h, 90m or 30s",
          }),
        ),
        veleroNamespace: def(
          str({
            description:
              "Namespace of the Velero that restores drills (its one location reads this bucket ReadOnly; ADR 0028).",
            pattern: DNS_LABEL,
          }),
          "vakt-drill",
        ),
        storageLocation: str({
          description:
            "That Velero's BackupStorageLocation on this bucket, accessMode ReadOnly (default: this BackupLocation's name).",
          minLength: 1,
        }),
        timeoutSeconds: def(
          int({ description: "How long one drill's restore may take.", minimum: 10, maximum: 86_400 }),
          600,
        ),
        tenants: arr(str({ description: "A Tenant name.", pattern: DNS_LABEL }), {
          description: "Only these Tenants (default: every Tenant with a backup copied here).",
          listType: "set",
        }),
      },
      {
        description:
          "Restore drills on a schedule, run by the backup part (leader only, one at a time), from this bucket's copies (ADR 0030).",
      },
    ),
    suspend: def(bool({ description: "Stop copying (the lock check still runs)." }), false),
    tenants: arr(str({ description: "A Tenant name.", pattern: DNS_LABEL }), {
      description: "Only backups of these Tenants' namespaces (default: every backup of the source).",
      listType: "set",
    }),
  },
  { description: "An off-site bucket under Object Lock for copies of completed Velero backups." },
);

export type BackupLocationSpec = OutputOf<typeof backupLocationSpecSchema>;

export interface BackupLocation {
  readonly name: string;
  readonly generation: number;
  readonly spec: BackupLocationSpec;
}

export interface LocationProblem {
  readonly path: FieldPath;
  readonly message: string;
}

const condition = {
  type: "object",
  required: ["type", "status"],
  properties: {
    type: { type: "string" },
    status: { type: "string", enum: ["True", "False", "Unknown"] },
    reason: { type: "string" },
    message: { type: "string" },
    lastTransitionTime: { type: "string", format: "date-time" },
    observedGeneration: { type: "integer" },
  },
} as const;

/** The CustomResourceDefinition of BackupLocation. */
export function backupLocationCrd(): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${BACKUP_LOCATION.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/part-of": "vakt" },
    },
    spec: {
      group: GROUP,
      scope: BACKUP_LOCATION.scope,
      names: {
        kind: BACKUP_LOCATION.kind,
        listKind: `${BACKUP_LOCATION.kind}List`,
        plural: BACKUP_LOCATION.plural,
        singular: BACKUP_LOCATION.singular,
        categories: ["vakt"],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: "Bucket", type: "string", jsonPath: ".spec.s3.bucket" },
            { name: "Region", type: "string", jsonPath: ".spec.s3.region" },
            {
              name: "Locked",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="LockVerified")].status',
            },
            {
              name: "Copies",
              type: "string",
              jsonPath: '.status.conditions[?(@.type=="CopiesUpToDate")].status',
            },
            { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
          ],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "An off-site bucket under S3 Object Lock where vakt copies completed Velero backups.",
              required: ["spec"],
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: toOpenApi(backupLocationSpecSchema),
                status: {
                  type: "object",
                  properties: {
                    observedGeneration: { type: "integer" },
                    conditions: {
                      type: "array",
                      items: condition,
                      "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["type"],
                    },
                    lastLockCheck: {
                      type: "object",
                      properties: {
                        time: { type: "string", format: "date-time" },
                        passed: { type: "boolean" },
                        problems: { type: "array", items: { type: "string" } },
                      },
                    },
                    lastCopy: {
                      type: "object",
                      properties: {
                        backup: { type: "string" },
                        time: { type: "string", format: "date-time" },
                        objects: { type: "integer" },
                        bytes: { type: "integer" },
                      },
                    },
                    copiedBackups: { type: "integer" },
                    drills: {
                      type: "array",
                      description: "The last restore drill of each Tenant from this location (backup part).",
                      "x-kubernetes-list-type": "map",
                      "x-kubernetes-list-map-keys": ["tenant"],
                      items: {
                        type: "object",
                        required: ["tenant"],
                        properties: {
                          tenant: { type: "string" },
                          id: { type: "string" },
                          backup: { type: "string" },
                          startedAt: { type: "string", format: "date-time" },
                          finishedAt: { type: "string", format: "date-time" },
                          passed: { type: "boolean" },
                          interrupted: { type: "boolean" },
                          rpoSeconds: { type: "number" },
                          rtoSeconds: { type: "number" },
                          problems: { type: "array", items: { type: "string" } },
                          nextAt: { type: "string", format: "date-time" },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A BackupLocation object as read from the API server (or a file), checked against its schema
 * and defaulted. Problems carry field paths (spec.s3.bucket).
 */
export function parseBackupLocation(value: unknown): {
  location?: BackupLocation;
  problems: LocationProblem[];
} {
  const problems: LocationProblem[] = [];
  if (!isRecord(value)) return { problems: [{ path: [], message: "a BackupLocation must be an object" }] };
  const metadata = isRecord(value["metadata"]) ? value["metadata"] : {};
  const name = metadata["name"];
  if (typeof name !== "string" || name === "")
    problems.push({ path: ["metadata", "name"], message: "is required" });
  if (value["spec"] === undefined) problems.push({ path: ["spec"], message: "is required" });
  else problems.push(...validateAgainst(backupLocationSpecSchema, value["spec"], ["spec"]));
  if (problems.length > 0 || typeof name !== "string") return { problems };
  const spec = applyDefaults(backupLocationSpecSchema, value["spec"]) as BackupLocationSpec;
  const generation = typeof metadata["generation"] === "number" ? metadata["generation"] : 0;
  return { location: { name, generation, spec }, problems };
}
