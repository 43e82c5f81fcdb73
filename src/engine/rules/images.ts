import type { Rule, Violation } from "../types.ts";
import { WORKLOAD_KINDS } from "../workloads.ts";
import { isUnderRegistry, normaliseRegistryEntry, parseImageReference } from "./util/image.ts";

const SETS = ["platform", "platform-images"] as const;

/** The allow-list normalised (derived once per settings array: context.memo). */
function allowedRegistries(registries: readonly string[]): readonly string[] {
  return registries.map(normaliseRegistryEntry).filter((entry) => entry !== "");
}

export const trustedRegistry: Rule = {
  id: "trusted-registry",
  title: "Images come from a trusted registry",
  severity: "high",
  defaultAction: "deny",
  kinds: WORKLOAD_KINDS,
  sets: SETS,
  rationale:
    "Only images from registries the platform controls or vets (scanned, mirrored, signed) may run; an image " +
    "pulled from an arbitrary registry bypasses the software supply-chain controls. When no registries are " +
    "configured (settings.registries is empty) the rule is not configured and reports nothing.",
  fix:
    "Pull the image through an allowed registry, e.g. `image: registry.example.com/mirror/nginx:1.27.0`, " +
    "or add the registry (host[/path] prefix) to `registries:` in vakt.yaml if it is trusted.",
  controls: ["iso27001:A.8.19", "iso27001:A.8.32", "nis2:21.2.d", "nis2:21.2.e", "hipaa:164.312(c)(1)"],
  evidenceBoundary:
    "A pass shows only that the image name starts with an allowed registry prefix. It does not prove that " +
    "the image is free of vulnerabilities, signed, or built from reviewed source, nor that the registry " +
    "itself is well run; with an empty registry list nothing is checked at all.",
  reference: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
  check(_object, context) {
    const registries = context.settings.registries;
    if (registries.length === 0) return [];
    const view = context.view.pod;
    if (view === undefined) return [];
    const allowed = context.memo.of(allowedRegistries, registries);
    const violations: Violation[] = [];
    for (const { name, container, path } of view.containers) {
      const image = container["image"];
      if (typeof image !== "string") continue;
      const reference = parseImageReference(image);
      if (reference === undefined) {
        violations.push({
          path: [...path, "image"],
          message: `container "${name}" image ${JSON.stringify(image)} is not a valid image reference, so its registry cannot be verified`,
        });
        continue;
      }
      if (allowed.some((entry) => isUnderRegistry(reference.name, entry))) continue;
      violations.push({
        path: [...path, "image"],
        message: `container "${name}" image ${JSON.stringify(image)} (${reference.name}) is not from a trusted registry; allowed: ${allowed.join(", ")}`,
      });
    }
    return violations;
  },
};

export const imageTag: Rule = {
  id: "image-tag",
  title: "Images are pinned to a tag other than latest or to a digest",
  severity: "medium",
  defaultAction: "deny",
  kinds: WORKLOAD_KINDS,
  sets: SETS,
  rationale:
    "An image without a tag, or tagged `latest`, can change under a running workload: what was reviewed is " +
    "not what runs, rollbacks are not reproducible, and nodes may run different versions.",
  fix:
    "Pin the image to an explicit version tag, e.g. `image: ghcr.io/acme/app:1.4.2`, or better to a digest, " +
    "e.g. `image: ghcr.io/acme/app:1.4.2@sha256:<64 hex digits>`.",
  controls: ["iso27001:A.8.32", "iso27001:A.8.9", "iso27001:A.8.19", "nis2:21.2.e", "hipaa:164.312(c)(1)"],
  evidenceBoundary:
    "A pass shows the reference names a tag or digest. A tag other than `latest` can still be moved in the " +
    "registry; only a digest pins the content. It says nothing about what the image contains.",
  reference: "https://kubernetes.io/docs/concepts/containers/images/#image-names",
  check(_object, context) {
    const view = context.view.pod;
    if (view === undefined) return [];
    const violations: Violation[] = [];
    for (const { name, container, path } of view.containers) {
      const image = container["image"];
      if (typeof image !== "string") continue;
      const reference = parseImageReference(image);
      let problem: string | undefined;
      if (reference === undefined) problem = "is not a valid image reference";
      else if (reference.digest !== undefined) continue;
      else if (reference.tag === undefined) problem = 'has no tag, so it resolves to "latest"';
      else if (reference.tag === "latest") problem = 'uses the "latest" tag';
      else continue;
      violations.push({
        path: [...path, "image"],
        message: `container "${name}" image ${JSON.stringify(image)} ${problem}; pin a version tag or a digest`,
      });
    }
    return violations;
  },
};

export const IMAGE_RULES: readonly Rule[] = [trustedRegistry, imageTag];
