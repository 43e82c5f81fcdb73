/**
 * Container image references, normalised the way Docker/containerd do it:
 * - the first path component is a registry host when it contains "." or ":", is "localhost",
 *   or has upper-case letters; otherwise the image is on Docker Hub ("docker.io");
 * - a Docker Hub image with a single path component is an official image: "nginx" is
 *   "docker.io/library/nginx"; "index.docker.io" is the same registry as "docker.io";
 * - the tag is what follows the last ":" after the last "/" (so "localhost:5000/app" has no
 *   tag and "localhost:5000/app:1.2" has tag "1.2"); the digest follows "@".
 */
export interface ImageReference {
  /** Registry host, lower-cased, with port when given: "docker.io", "localhost:5000". */
  readonly registry: string;
  /** Repository path inside the registry: "library/nginx", "acme/app". */
  readonly repository: string;
  /** registry + "/" + repository: "docker.io/library/nginx". */
  readonly name: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const DOCKER_HUB = "docker.io";
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const WHITESPACE = /\s/;

/** Parses an image reference; undefined when it is not a syntactically valid reference. */
export function parseImageReference(reference: string): ImageReference | undefined {
  if (reference === "" || WHITESPACE.test(reference)) return undefined;
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (isRegistryHost(first)) {
      registry = normaliseHost(first);
      repository = rest.slice(slash + 1);
    }
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) return undefined;
  return { registry, repository, name: `${registry}/${repository}`, tag, digest };
}

function isRegistryHost(component: string): boolean {
  return (
    component.includes(".") ||
    component.includes(":") ||
    component === "localhost" ||
    component !== component.toLowerCase()
  );
}

function normaliseHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === "index.docker.io" ? DOCKER_HUB : lower;
}

/**
 * An allowed-registry entry ("ghcr.io/acme", "registry.example.com:5000", "https://quay.io/")
 * normalised for prefix matching: scheme and trailing slashes dropped, host lower-cased.
 */
export function normaliseRegistryEntry(entry: string): string {
  let value = entry.trim();
  const scheme = value.indexOf("://");
  if (scheme >= 0) value = value.slice(scheme + 3);
  while (value.endsWith("/")) value = value.slice(0, -1);
  const slash = value.indexOf("/");
  const host = slash >= 0 ? value.slice(0, slash) : value;
  const path = slash >= 0 ? value.slice(slash) : "";
  return normaliseHost(host) + path;
}

/**
 * Whether a normalised image name ("docker.io/library/nginx") is under a normalised entry: equal,
 * or the entry followed by "/" (so "ghcr.io/acme" allows "ghcr.io/acme/app" but not
 * "ghcr.io/acme-evil/app").
 */
export function isUnderRegistry(name: string, entry: string): boolean {
  if (entry === "") return false;
  return name === entry || (name.startsWith(entry) && name.charCodeAt(entry.length) === 47); /* "/" */
}
