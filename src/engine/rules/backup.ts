import type { FieldPath, KubeObject, Rule, Violation } from "../types.ts";
import { arrayAt, isDict, WORKLOAD_KINDS } from "../workloads.ts";
import { stringEntry } from "./util/objects.ts";

export const BACKUP_LABEL = "vakt.dev/backup";
export const BACKUP_JUSTIFICATION = "vakt.dev/backup-justification";
/** Velero's own opt-out label counts as an opt-out too. */
const VELERO_EXCLUDE = "velero.io/exclude-from-backup";

/** Which opt-out label a metadata block carries, if any. */
function optOutLabel(metadata: unknown): string | undefined {
  const labels = isDict(metadata) ? metadata["labels"] : undefined;
  if (stringEntry(labels, BACKUP_LABEL)?.trim().toLowerCase() === "disabled")
    return `${BACKUP_LABEL}: disabled`;
  if (stringEntry(labels, VELERO_EXCLUDE)?.trim().toLowerCase() === "true")
    return `${VELERO_EXCLUDE}: "true"`;
  return undefined;
}

function justified(metadata: unknown): boolean {
  const annotations = isDict(metadata) ? metadata["annotations"] : undefined;
  return (stringEntry(annotations, BACKUP_JUSTIFICATION)?.trim() ?? "") !== "";
}

function metadataOf(object: KubeObject): unknown {
  return object.metadata;
}

export const backupOptOut: Rule = {
  id: "backup-opt-out",
  title: "Opting out of backup is justified",
  severity: "medium",
  defaultAction: "deny",
  kinds: ["Namespace", "PersistentVolumeClaim", ...WORKLOAD_KINDS],
  sets: ["platform", "platform-backup"],
  rationale:
    "The platform backs up namespaces and volumes by default; excluding one means its data cannot be " +
    `restored after loss, so the decision must be recorded with a reason. Labels \`${BACKUP_LABEL}: disabled\` ` +
    `and \`${VELERO_EXCLUDE}: "true"\` are opt-outs (on the object, a pod template or a StatefulSet volume ` +
    "claim template).",
  fix:
    `Next to the label, add the annotation \`${BACKUP_JUSTIFICATION}: "<why the data need no backup, ` +
    'e.g. cache rebuilt from the primary database>"`, or remove the opt-out label.',
  controls: ["iso27001:A.8.13", "nis2:21.2.c", "gdpr:32", "pdl:3.12"],
  evidenceBoundary:
    "A pass shows that every opt-out carries a non-empty reason, not that the reason is valid, nor that " +
    "objects without the label are actually backed up, restorable, or backed up outside the region.",
  check(object, context) {
    const violations: Violation[] = [];
    const objectJustified = justified(metadataOf(object));
    const report = (label: string, what: string, path: FieldPath): void => {
      violations.push({
        path,
        message: `${what} is labelled ${label} but has no ${BACKUP_JUSTIFICATION} annotation giving a reason`,
      });
    };
    const own = optOutLabel(metadataOf(object));
    if (own !== undefined && !objectJustified) {
      report(own, String(object.kind), ["metadata", "annotations", BACKUP_JUSTIFICATION]);
    }
    const template = context.view.pod?.template;
    if (template !== undefined && template.path.length > 0) {
      const label = optOutLabel(template.metadata);
      if (label !== undefined && !objectJustified && !justified(template.metadata)) {
        report(label, "the pod template", [
          ...template.path,
          "metadata",
          "annotations",
          BACKUP_JUSTIFICATION,
        ]);
      }
    }
    if (object.kind === "StatefulSet") {
      arrayAt(object, ["spec", "volumeClaimTemplates"]).forEach((claim, index) => {
        const metadata = isDict(claim) ? claim["metadata"] : undefined;
        const label = optOutLabel(metadata);
        if (label === undefined || objectJustified || justified(metadata)) return;
        const claimName =
          isDict(metadata) && typeof metadata["name"] === "string" ? metadata["name"] : `#${index}`;
        report(label, `volume claim template "${claimName}"`, [
          "spec",
          "volumeClaimTemplates",
          index,
          "metadata",
          "annotations",
          BACKUP_JUSTIFICATION,
        ]);
      });
    }
    return violations;
  },
};

export const BACKUP_RULES: readonly Rule[] = [backupOptOut];
