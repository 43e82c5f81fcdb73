/**
 * The YAML vakt prints for a person or a tool to read and apply (`vakt install`, `vakt render`,
 * `vakt crds`). The `yaml` package writes an object it meets twice as an anchor and an alias
 * (`verbs: &a1 [...]`, later `verbs: *a1`); a reviewer or auditor has to look up what an alias
 * stands for, and some tools refuse them. Here every value is written out where it applies.
 * Lines are not wrapped (a long message or command stays one line).
 */
import { stringify } from "yaml";

/** One value as one YAML document (ending in a newline), with no anchors or aliases. */
export function yamlDocument(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** Objects as a YAML stream: documents separated by `---`, with no anchors or aliases. */
export function yamlStream(objects: readonly unknown[]): string {
  return objects.map(yamlDocument).join("---\n");
}
