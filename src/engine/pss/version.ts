/**
 * Pod Security Standards policy versions. Upstream pins a namespace to "v1.N" or "latest"; a
 * version newer than the newest one any check was revised at behaves like that newest one, and
 * "latest" is always that newest one. Only the minor number matters (there is no v2).
 */

/** The newest policy version any check was revised at (sysctls, v1.37). "latest" means this. */
export const PSS_LATEST_MINOR = 37;

const VERSION_PATTERN = /^v1\.(0|[1-9][0-9]*)$/;

/**
 * The minor version a setting selects: "v1.25" -> 25, "latest" -> 37, "v1.40" -> 37 (clamped
 * like upstream). Anything unparseable is treated as "latest", the strictest reading, so a typo
 * never switches checks off.
 */
export function pssMinor(version: string): number {
  // Every PSS rule asks, for every workload: the usual setting answers without the pattern.
  if (version === "latest") return PSS_LATEST_MINOR;
  const match = VERSION_PATTERN.exec(version);
  return match?.[1] === undefined ? PSS_LATEST_MINOR : Math.min(Number(match[1]), PSS_LATEST_MINOR);
}
