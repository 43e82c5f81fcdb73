import type { MutationConfig } from "../config/vakt-config.ts";
import type { FieldPath, KubeObject } from "../engine/types.ts";
import { containersOf, dictAt, get, isDict, metaOf, podTemplateOf } from "../engine/workloads.ts";
import type { Dict } from "../engine/workloads.ts";

/**
 * Safe defaults applied by the mutating webhook, as an RFC 6902 JSON Patch. PURE.
 *
 * Every default is added only where the field is ABSENT: a value the workload declared is never
 * changed, and a default that could contradict something the workload declared is skipped (a
 * privileged container keeps its privilege escalation, a container that adds capabilities keeps
 * its capability set, a pod that names its own service account keeps its token). Applying the
 * patch and computing the mutations again yields no operations (idempotent).
 */

/** The one operation the mutations need: add (which also replaces a `null` member). */
export interface JsonPatchOperation {
  readonly op: "add";
  /** RFC 6901 JSON Pointer. */
  readonly path: string;
  readonly value: unknown;
}

/** The operations plus the names of the mutations they carry (for audit annotations and logs). */
export interface MutationPlan {
  readonly operations: readonly JsonPatchOperation[];
  /** Mutation names applied, each once, in the order first applied. */
  readonly applied: readonly (keyof MutationConfig)[];
}

/** Annotation (on the object or its pod template) that keeps the service-account token mounted. */
export const NEEDS_TOKEN_ANNOTATION = "vakt.dev/needs-service-account-token";

const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
const LEGACY_SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod";
const LEGACY_SECCOMP_CONTAINER_PREFIX = "container.seccomp.security.alpha.kubernetes.io/";

/** RFC 6901: "~" becomes "~0" and "/" becomes "~1" in each reference token. */
export function jsonPointer(path: FieldPath): string {
  return path.map((key) => "/" + String(key).replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

/** A member is absent when missing or null (an RFC 6902 "add" replaces a null member). */
function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** The securityContext of a container or pod: a dict, absent (undefined), or a bad shape (null: leave alone). */
function securityContextOf(holder: Dict): Dict | undefined | null {
  const value = holder["securityContext"];
  if (absent(value)) return undefined;
  return isDict(value) ? value : null;
}

function capabilityNames(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function runsAsNonRoot(container: Dict | undefined, pod: Dict | undefined): boolean {
  const user = container?.["runAsUser"] ?? pod?.["runAsUser"];
  if (typeof user === "number") return user > 0;
  return (container?.["runAsNonRoot"] ?? pod?.["runAsNonRoot"]) === true;
}

/**
 * The JSON Patch operations that add the configured safe defaults to `object`, for every
 * workload kind (Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * ReplicationController, Job, CronJob). Other kinds yield [].
 */
export function mutations(object: KubeObject, config: MutationConfig): JsonPatchOperation[] {
  return [...planMutations(object, config).operations];
}

/** Like mutations(), also naming the mutations applied. */
export function planMutations(object: KubeObject, config: MutationConfig): MutationPlan {
  const operations: JsonPatchOperation[] = [];
  const applied = new Set<keyof MutationConfig>();
  const done = (): MutationPlan => ({ operations, applied: [...applied] });
  const add = (names: readonly (keyof MutationConfig)[], path: FieldPath, value: unknown): void => {
    operations.push({ op: "add", path: jsonPointer(path), value });
    for (const name of names) applied.add(name);
  };

  // Job TTL: only Jobs that no CronJob owns (a CronJob's history limits govern its Jobs).
  if (object.kind === "Job" && config.jobTtlSeconds !== null && isDict(object["spec"])) {
    const ownedByCronJob = ownerKinds(object).includes("CronJob");
    if (!ownedByCronJob && absent(object["spec"]["ttlSecondsAfterFinished"]))
      add(["jobTtlSeconds"], ["spec", "ttlSecondsAfterFinished"], config.jobTtlSeconds);
  }

  const template = podTemplateOf(object);
  if (template === undefined) return done();
  // The template itself must exist as an object to be patched (podTemplateOf tolerates its absence).
  const templateValue = template.path.length === 0 ? object : get(object, template.path);
  if (!isDict(templateValue) || !isDict(templateValue["spec"])) return done();
  const spec = template.spec;
  const annotations = {
    ...metaOf(object).annotations,
    ...metaOf({ metadata: template.metadata }).annotations,
  };
  // Static pods' mirrors must match the kubelet's manifest; never touch them.
  if (annotations[MIRROR_POD_ANNOTATION] !== undefined) return done();
  // Windows pods reject the Linux-only fields (seccomp, privilege escalation, capabilities).
  const windows = dictAt(spec, ["os"])?.["name"] === "windows";
  const specPath: FieldPath = [...template.path, "spec"];
  const podContext = securityContextOf(spec);
  const containers = containersOf(template).filter((ref) => ref.kind !== "ephemeralContainers");

  if (config.seccompRuntimeDefault && !windows && podContext !== null) {
    const declared =
      !absent(podContext?.["seccompProfile"]) ||
      containers.some((ref) => {
        const context = securityContextOf(ref.container);
        return context === null || !absent(context?.["seccompProfile"]);
      }) ||
      Object.keys(annotations).some(
        (key) => key === LEGACY_SECCOMP_POD || key.startsWith(LEGACY_SECCOMP_CONTAINER_PREFIX),
      );
    if (!declared) {
      const profile = { type: "RuntimeDefault" };
      if (podContext === undefined)
        add(["seccompRuntimeDefault"], [...specPath, "securityContext"], { seccompProfile: profile });
      else add(["seccompRuntimeDefault"], [...specPath, "securityContext", "seccompProfile"], profile);
    }
  }

  if (!windows && (config.disallowPrivilegeEscalation || config.dropAllCapabilities)) {
    for (const ref of containers) {
      const context = securityContextOf(ref.container);
      if (context === null) continue;
      const privileged = context?.["privileged"] === true;
      const capabilitiesValue = context?.["capabilities"];
      if (!absent(capabilitiesValue) && !isDict(capabilitiesValue)) continue;
      const capabilities = isDict(capabilitiesValue) ? capabilitiesValue : undefined;
      const added = capabilityNames(capabilities?.["add"]);
      const addsSysAdmin = added.some((name) => name === "SYS_ADMIN" || name === "CAP_SYS_ADMIN");

      // The API server rejects allowPrivilegeEscalation: false next to privileged or CAP_SYS_ADMIN.
      const escalation =
        config.disallowPrivilegeEscalation &&
        absent(context?.["allowPrivilegeEscalation"]) &&
        !privileged &&
        !addsSysAdmin;
      // Dropping ALL only for a container that adds nothing and runs as non-root: a root process
      // (nginx binding :80, an entrypoint switching users) may rely on the default set.
      const drop =
        config.dropAllCapabilities &&
        !privileged &&
        absent(capabilities?.["drop"]) &&
        added.length === 0 &&
        (capabilities?.["add"] === undefined || Array.isArray(capabilities["add"])) &&
        runsAsNonRoot(context, podContext ?? undefined);

      const containerContext: FieldPath = [...ref.path, "securityContext"];
      if (context === undefined) {
        if (!escalation && !drop) continue;
        const value: Record<string, unknown> = {};
        if (escalation) value["allowPrivilegeEscalation"] = false;
        if (drop) value["capabilities"] = { drop: ["ALL"] };
        const names: (keyof MutationConfig)[] = [];
        if (escalation) names.push("disallowPrivilegeEscalation");
        if (drop) names.push("dropAllCapabilities");
        add(names, containerContext, value);
        continue;
      }
      if (escalation)
        add(["disallowPrivilegeEscalation"], [...containerContext, "allowPrivilegeEscalation"], false);
      if (drop) {
        if (capabilities === undefined)
          add(["dropAllCapabilities"], [...containerContext, "capabilities"], { drop: ["ALL"] });
        else add(["dropAllCapabilities"], [...containerContext, "capabilities", "drop"], ["ALL"]);
      }
    }
  }

  if (config.disableServiceAccountToken && absent(spec["automountServiceAccountToken"])) {
    const account = spec["serviceAccountName"] ?? spec["serviceAccount"];
    // A pod that names its own service account wants its identity: leave its token alone.
    const namedAccount = typeof account === "string" && account !== "" && account !== "default";
    if (!namedAccount && annotations[NEEDS_TOKEN_ANNOTATION] === undefined)
      add(["disableServiceAccountToken"], [...specPath, "automountServiceAccountToken"], false);
  }
  return done();
}

function ownerKinds(object: KubeObject): string[] {
  const metadata = isDict(object.metadata) ? object.metadata : {};
  const owners = metadata["ownerReferences"];
  if (!Array.isArray(owners)) return [];
  return owners.flatMap((owner) =>
    isDict(owner) && typeof owner["kind"] === "string" ? [owner["kind"]] : [],
  );
}
