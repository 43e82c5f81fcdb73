import { DEFAULT_EXCEPTION_POLICY, MAX_EXPIRY_DAYS_LIMIT } from "../engine/exceptions.ts";
import type { KubeObject } from "../engine/types.ts";
import { GROUP, POLICY_EXCEPTION, VAKT_CONFIGURATION, VERSION } from "../api/registry.ts";

/**
 * vakt's own CustomResourceDefinitions besides Tenant: PolicyException (namespaced, governed
 * exceptions) and VaktConfiguration (cluster-scoped, the in-cluster form of vakt.yaml). The
 * schemas are structural so the API server validates them; semantic checks (known rule ids,
 * dates) happen in vakt, which reports problems as findings of the exception rules.
 */

const stringList = { type: "array", items: { type: "string", minLength: 1 } } as const;

const labelSelector = {
  type: "object",
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        required: ["key", "operator"],
        properties: {
          key: { type: "string" },
          operator: { type: "string", enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: stringList,
        },
      },
    },
  },
} as const;

export const POLICY_EXCEPTION_CRD: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${POLICY_EXCEPTION.plural}.${GROUP}`, labels: { "app.kubernetes.io/part-of": "vakt" } },
  spec: {
    group: GROUP,
    scope: POLICY_EXCEPTION.scope,
    names: {
      plural: POLICY_EXCEPTION.plural,
      singular: POLICY_EXCEPTION.singular,
      kind: POLICY_EXCEPTION.kind,
      shortNames: ["pex"],
      categories: ["vakt"],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        additionalPrinterColumns: [
          { name: "Rules", type: "string", jsonPath: ".spec.rules" },
          { name: "Approved-By", type: "string", jsonPath: ".spec.approvedBy" },
          { name: "Expires", type: "string", jsonPath: ".spec.expires" },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            description:
              "A governed exception from vakt rules: which rules, which objects, why, who approved it, until when. Unless the VaktConfiguration's spec.exceptions allows more, an exception covers one namespace and named rules and expires within 365 days; beyond that it suppresses nothing and is reported (rule exception-scope).",
            required: ["spec"],
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                required: ["rules", "match", "justification", "approvedBy", "expires"],
                properties: {
                  rules: {
                    ...stringList,
                    minItems: 1,
                    description:
                      "Rule ids (see `vakt rules`); rule sets only where spec.exceptions.allowWide.ruleSets in the VaktConfiguration allows them.",
                  },
                  match: {
                    type: "object",
                    description: "What the exception covers; every given criterion must hold.",
                    properties: {
                      kinds: stringList,
                      namespaces: {
                        ...stringList,
                        description:
                          "Namespaces; * matches any characters. An exception in a namespace other than vakt's covers only its own namespace; one in vakt's namespace must name exactly one namespace here unless spec.exceptions.allowWide.namespaces in the VaktConfiguration allows more.",
                      },
                      names: { ...stringList, description: "Object names; * matches any characters." },
                      selector: labelSelector,
                    },
                  },
                  justification: {
                    type: "string",
                    minLength: 10,
                    description: "Why the exception is acceptable and what compensates for it.",
                  },
                  approvedBy: { type: "string", minLength: 1 },
                  expires: {
                    type: "string",
                    pattern: "^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2}))?$",
                    description:
                      "A date (valid through the end of that day, UTC) or an RFC 3339 timestamp; at most spec.exceptions.maxExpiryDays (VaktConfiguration, default 365) days ahead.",
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

const action = { type: "string", enum: ["deny", "warn", "audit", "off"] } as const;

export const VAKT_CONFIGURATION_CRD: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: {
    name: `${VAKT_CONFIGURATION.plural}.${GROUP}`,
    labels: { "app.kubernetes.io/part-of": "vakt" },
  },
  spec: {
    group: GROUP,
    scope: VAKT_CONFIGURATION.scope,
    names: {
      plural: VAKT_CONFIGURATION.plural,
      singular: VAKT_CONFIGURATION.singular,
      kind: VAKT_CONFIGURATION.kind,
      categories: ["vakt"],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            description:
              'vakt\'s configuration for this cluster (the object named "default"); the same schema as vakt.yaml.',
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: {
                type: "object",
                properties: {
                  failOn: { type: "string", enum: ["deny", "warn", "audit"] },
                  rules: { type: "object", additionalProperties: action, description: "Rule id -> action." },
                  registries: stringList,
                  allowedRegions: stringList,
                  frameworks: {
                    type: "array",
                    items: { type: "string", enum: ["iso27001", "gdpr", "pdl", "nis2", "hipaa"] },
                  },
                  pssVersion: { type: "string", pattern: "^(latest|v1\\.(0|[1-9][0-9]?))$" },
                  mutations: {
                    type: "object",
                    properties: {
                      seccompRuntimeDefault: { type: "boolean" },
                      disallowPrivilegeEscalation: { type: "boolean" },
                      dropAllCapabilities: { type: "boolean" },
                      jobTtlSeconds: { type: "integer", minimum: 0, nullable: true },
                      disableServiceAccountToken: { type: "boolean" },
                    },
                  },
                  exceptions: {
                    type: "object",
                    description:
                      "How far a PolicyException may reach. One beyond it suppresses nothing and is reported (rule exception-scope).",
                    properties: {
                      allowWide: {
                        type: "object",
                        properties: {
                          namespaces: {
                            type: "boolean",
                            description:
                              "Exceptions in vakt's namespace may cover several namespaces, a pattern such as team-*, or every namespace (default false).",
                          },
                          ruleSets: {
                            type: "boolean",
                            description:
                              "Exceptions may name rule sets (which cover rules added later) instead of rule ids (default false).",
                          },
                        },
                      },
                      maxExpiryDays: {
                        type: "integer",
                        minimum: 1,
                        maximum: MAX_EXPIRY_DAYS_LIMIT,
                        description: `The latest spec.expires allowed, in days after the day of evaluation (UTC); default ${DEFAULT_EXCEPTION_POLICY.maxExpiryDays}.`,
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
