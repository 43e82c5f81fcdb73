/**
 * Residency of off-site copies (pure): where a backup's copy may live, from what its namespaces
 * require, judged against a BackupLocation's region and jurisdiction.
 *
 * - A namespace owned by a Tenant (label vakt.dev/tenant) whose spec.regions is not empty: the
 *   copy must be in one of those regions (the Tenant's data may live only there; its backups
 *   are its data).
 * - A namespace labelled vakt.dev/backup-jurisdiction=<code> (e.g. SE, EU): the location's
 *   spec.jurisdiction must be that code.
 *
 * A location that fails either is refused for that backup: nothing is copied there, and the
 * refusal is a status condition and an evidence record naming the namespace and the rule.
 */

export const JURISDICTION_LABEL = "vakt.dev/backup-jurisdiction";

/** What one namespace of a backup requires. */
export interface NamespaceNeeds {
  readonly namespace: string;
  readonly tenant?: string | undefined;
  /** The owning Tenant's spec.regions (empty or absent: no constraint). */
  readonly regions?: readonly string[] | undefined;
  /** The namespace's vakt.dev/backup-jurisdiction label. */
  readonly jurisdiction?: string | undefined;
}

export interface LocationPlace {
  readonly name: string;
  readonly region: string;
  readonly jurisdiction?: string | undefined;
}

/** Why the location may not hold a copy of a backup of these namespaces; empty when it may. */
export function residencyProblems(location: LocationPlace, needs: readonly NamespaceNeeds[]): string[] {
  const problems: string[] = [];
  for (const need of needs) {
    const owner =
      need.tenant === undefined
        ? `namespace ${need.namespace}`
        : `namespace ${need.namespace} (Tenant ${need.tenant})`;
    if (need.regions !== undefined && need.regions.length > 0 && !need.regions.includes(location.region))
      problems.push(
        `${owner} keeps its data in ${need.regions.join(", ")} (the Tenant's spec.regions); BackupLocation ${location.name} is in ${location.region}. ` +
          `Copy to a location in one of those regions, or exclude the tenant with the location's spec.tenants`,
      );
    if (need.jurisdiction !== undefined && need.jurisdiction !== location.jurisdiction)
      problems.push(
        `${owner} requires jurisdiction ${need.jurisdiction} (label ${JURISDICTION_LABEL}); BackupLocation ${location.name} is ` +
          (location.jurisdiction === undefined
            ? "under no declared jurisdiction (spec.jurisdiction)"
            : `under ${location.jurisdiction}`),
      );
  }
  return problems;
}

/** The namespaces a Velero Backup covers, from its spec and the namespaces known ("*" or none: all). */
export function backupNamespaces(
  included: readonly string[] | undefined,
  excluded: readonly string[] | undefined,
  known: Iterable<string>,
): string[] {
  const all = included === undefined || included.length === 0 || included.includes("*");
  const names = all ? [...known] : [...included];
  const skip = new Set(excluded ?? []);
  return names.filter((name) => !skip.has(name)).sort();
}
