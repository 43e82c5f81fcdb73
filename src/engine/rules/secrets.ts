import type { FieldPath, KubeObject, Rule, RuleContext, Violation } from "../types.ts";
import { arrayAt, isDict, WORKLOAD_KINDS } from "../workloads.ts";
import { effectiveNamespace } from "./util/inventory.ts";
import { objectsWithKey } from "./util/index.ts";
import { annotationOf, nameOf, stringEntry } from "./util/objects.ts";

export const NEEDS_TOKEN = "vakt.dev/needs-service-account-token";

function tokenJustification(object: unknown, templateMetadata: unknown): string | undefined {
  const onObject = annotationOf(object, NEEDS_TOKEN);
  if (onObject !== undefined && onObject.trim() !== "") return onObject;
  const onTemplate = isDict(templateMetadata)
    ? stringEntry(templateMetadata["annotations"], NEEDS_TOKEN)
    : undefined;
  if (onTemplate !== undefined && onTemplate.trim() !== "") return onTemplate;
  return undefined;
}

/** The pod's ServiceAccount from the inventory, if it is there. */
function serviceAccountOf(object: KubeObject, spec: Readonly<Record<string, unknown>>, context: RuleContext) {
  const named = spec["serviceAccountName"] ?? spec["serviceAccount"];
  const name = typeof named === "string" && named !== "" ? named : "default";
  const accounts = context.inventory.byKind("ServiceAccount", effectiveNamespace(object));
  return objectsWithKey(context.memo, accounts, nameOf, name)[0];
}

export const serviceAccountToken: Rule = {
  id: "service-account-token",
  title: "Pods do not mount a service account token unless they need one",
  severity: "medium",
  defaultAction: "warn",
  kinds: [...WORKLOAD_KINDS, "ServiceAccount"],
  sets: ["platform", "platform-secrets"],
  rationale:
    "Kubernetes mounts an API token into every pod by default. Most applications never call the API, and a " +
    "token they do not need is a credential an attacker who compromises the pod can use against the cluster.",
  fix:
    "Set `automountServiceAccountToken: false` in the pod spec (spec.template.spec for workloads) or on the " +
    `ServiceAccount; if the pod calls the Kubernetes API, annotate the workload \`${NEEDS_TOKEN}: "<reason>"\`.`,
  controls: [
    "iso27001:A.5.15",
    "iso27001:A.8.2",
    "iso27001:A.5.17",
    "nis2:21.2.i",
    "gdpr:25",
    "hipaa:164.312(a)(1)",
  ],
  evidenceBoundary:
    "A pass shows no token is mounted automatically (pod spec, or the pod's ServiceAccount when it is in the " +
    "input set) or that a reason was given; vakt does not verify the reason, the RBAC permissions of the " +
    "account, or tokens mounted explicitly through projected volumes.",
  reference:
    "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
  inventoryKinds: ["ServiceAccount"],
  check(object, context) {
    if (object.kind === "ServiceAccount") {
      if (object["automountServiceAccountToken"] === false) return [];
      if (tokenJustification(object, undefined) !== undefined) return [];
      return [
        {
          path: ["automountServiceAccountToken"],
          message: `ServiceAccount "${nameOf(object)}" does not set automountServiceAccountToken: false, so pods using it get an API token by default`,
        },
      ];
    }
    const view = context.view.pod;
    if (view === undefined) return [];
    const template = view.template;
    const setting = template.spec["automountServiceAccountToken"];
    if (setting === false) return [];
    const path: FieldPath = [...template.path, "spec", "automountServiceAccountToken"];
    const justification = tokenJustification(object, template.metadata);
    if (justification !== undefined) return [];
    if (
      setting === undefined &&
      serviceAccountOf(object, template.spec, context)?.["automountServiceAccountToken"] === false
    ) {
      return [];
    }
    const annotated =
      annotationOf(object, NEEDS_TOKEN) ?? stringEntry(template.metadata["annotations"], NEEDS_TOKEN);
    const hint = annotated === undefined ? "" : ` (the ${NEEDS_TOKEN} annotation is empty: give a reason)`;
    const how =
      setting === true
        ? "sets automountServiceAccountToken: true"
        : "does not set automountServiceAccountToken: false";
    return [{ path, message: `pod spec ${how}, so the pod gets a Kubernetes API token${hint}` }];
  },
};

const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY/i;
/** Names that talk about a secret without holding one: DB_PASSWORD_FILE, TOKEN_TTL, SECRET_NAME. */
const NOT_A_SECRET_NAME =
  /[_.-](?:FILE|PATH|DIR|NAME|REF|TTL|TIMEOUT|EXPIRY|EXPIRATION|LENGTH|HEADER|ENABLED|ID)$/i;
/** Variable references and template expressions: $(VAR), ${VAR}, {{ .Values.x }}. */
const REFERENCES = /\$\([^)]*\)|\$\{[^}]*\}|\{\{.*?\}\}/g;
const ALPHANUMERIC = /[A-Za-z0-9]/;
const BOOLEAN_OR_SMALL_NUMBER = /^(?:true|false|yes|no|\d{1,5})$/i;

/** Known credential formats, found anywhere in a value. */
const KNOWN_FORMATS: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: "an AWS access key", pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/ },
  { what: "a private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { what: "a GitHub token", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { what: "a GitLab token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { what: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { what: "a Stripe live key", pattern: /\b[rs]k_live_[A-Za-z0-9]{16,}/ },
  { what: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  {
    what: "a URL with an embedded password",
    pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:(?![$][({])[^\s/@]+@/i,
  },
];

function knownFormat(value: string): string | undefined {
  for (const { what, pattern } of KNOWN_FORMATS) if (pattern.test(value)) return what;
  return undefined;
}

/** True when the value holds something other than references to other variables or templates. */
function isLiteral(value: string): boolean {
  if (value.trim() === "" || BOOLEAN_OR_SMALL_NUMBER.test(value)) return false;
  return ALPHANUMERIC.test(value.replace(REFERENCES, ""));
}

export const secretLiterals: Rule = {
  id: "secret-literals",
  title: "Secrets are not written as literal values in manifests",
  severity: "critical",
  defaultAction: "deny",
  kinds: WORKLOAD_KINDS,
  sets: ["platform", "platform-secrets"],
  rationale:
    "A password, token or key written into a manifest is readable by everyone who can read the repository, " +
    "the object or its history, cannot be rotated without a deploy, and escapes the controls on Secrets.",
  fix:
    "Move the value into a Secret (or an external secret store) and reference it: `env: [{name: DB_PASSWORD, " +
    "valueFrom: {secretKeyRef: {name: db, key: password}}}]`; rotate the exposed credential.",
  controls: ["iso27001:A.5.17", "iso27001:A.8.24", "iso27001:A.8.12", "nis2:21.2.h", "gdpr:32"],
  evidenceBoundary:
    "Detection is heuristic: env var names that suggest a secret, and a few well-known credential formats in " +
    "env values, command and args. A pass does not prove that no secret is present (in other fields, " +
    "ConfigMaps, or encoded), nor that Secrets themselves are encrypted at rest or access-controlled.",
  reference: "https://kubernetes.io/docs/concepts/configuration/secret/",
  check(_object, context) {
    const view = context.view.pod;
    if (view === undefined) return [];
    const violations: Violation[] = [];
    for (const { name, container, path } of view.containers) {
      arrayAt(container, ["env"]).forEach((env, index) => {
        if (!isDict(env)) return;
        const value = env["value"];
        if (typeof value !== "string" || value === "") return;
        const envName = typeof env["name"] === "string" ? env["name"] : `#${index}`;
        const format = knownFormat(value);
        const byName = SECRET_NAME.test(envName) && !NOT_A_SECRET_NAME.test(envName) && isLiteral(value);
        if (format === undefined && !byName) return;
        const looks = format ?? "a secret";
        violations.push({
          path: [...path, "env", index, "value"],
          message: `container "${name}" env var "${envName}" has a literal value that looks like ${looks}; reference a Secret instead`,
        });
      });
      for (const field of ["command", "args"] as const) {
        arrayAt(container, [field]).forEach((argument, index) => {
          if (typeof argument !== "string") return;
          const format = knownFormat(argument);
          if (format === undefined) return;
          violations.push({
            path: [...path, field, index],
            message: `container "${name}" ${field}[${index}] contains what looks like ${format}; reference a Secret instead`,
          });
        });
      }
    }
    return violations;
  },
};

export const SECRET_RULES: readonly Rule[] = [serviceAccountToken, secretLiterals];
