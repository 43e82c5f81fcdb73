/**
 * The parts `vakt run --parts` knows, in start order: one table that the CLI's parsing and help
 * and the manager's construction (run.ts) all read. Kept free of heavy imports: `vakt --help`
 * reads it without loading the Kubernetes client.
 */
export const KNOWN_PARTS = [
  {
    name: "webhook",
    description: "the admission webhook, with live exceptions, configuration and inventory",
  },
  {
    name: "controller",
    description: "the Tenant controller, leader-elected, which waits for the Tenant CRD if absent",
  },
  {
    name: "audit",
    description:
      "the background audit, leader-elected: judges live objects, writes one OpenReports report per namespace",
  },
  {
    name: "backup",
    description:
      "off-site copies of completed Velero backups under S3 Object Lock, the lock check of each BackupLocation, scheduled restore drills and each Tenant's status.backup, leader-elected",
  },
  {
    name: "fleet",
    description:
      "the fleet controller, leader-elected: Environments become their provider's Cluster API objects on this hub",
  },
] as const;

export type PartName = (typeof KNOWN_PARTS)[number]["name"];

/** "webhook, controller" */
export const PART_NAMES: string = KNOWN_PARTS.map((part) => part.name).join(", ");

export function isPartName(name: string): name is PartName {
  return KNOWN_PARTS.some((part) => part.name === name);
}

/**
 * The parts a comma-separated list names, in start order (the table's), each once. Throws with
 * the known parts on an unknown name or an empty list.
 */
export function parsePartList(text: string): PartName[] {
  const named = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const known = KNOWN_PARTS.map((part) => `${part.name} (${part.description})`).join("; ");
  for (const name of named)
    if (!isPartName(name))
      throw new Error(`unknown part "${name.slice(0, 60)}"; the known parts are: ${known}`);
  if (named.length === 0) throw new Error(`name at least one part; the known parts are: ${known}`);
  return KNOWN_PARTS.map((part) => part.name).filter((name) => named.includes(name));
}
