/**
 * Environment checks as rules, so that admission refuses a bad Environment with the same kind of
 * message as any other object (rule, field, fix, controls) and PolicyExceptions, configuration
 * and reports treat them alike. Two rules: data leaving the jurisdiction, and an environment that
 * cannot be built as written. Both evaluate the whole Environment once per rule (a few
 * microseconds: the tables are small).
 */
import type { KubeObject, Rule, Violation } from "../engine/types.ts";
import { ENVIRONMENT } from "../api/registry.ts";
import type { EnvironmentProblem } from "./types.ts";
import { parseEnvironment } from "./validate.ts";

function violations(object: KubeObject, kind: EnvironmentProblem["kind"]): Violation[] {
  return parseEnvironment(object)
    .problems.filter((found) => found.kind === kind)
    .map((found) => ({ path: found.path, message: found.message }));
}

export const environmentResidency: Rule = {
  id: "environment-residency",
  title: "An Environment keeps its customer's data inside its jurisdiction",
  severity: "critical",
  defaultAction: "deny",
  kinds: [ENVIRONMENT.kind],
  sets: ["fleet", "platform-residency"],
  rationale:
    "A customer's personal data, including health data, may leave the country or the EU/EEA only under the " +
    "conditions of GDPR Chapter V. An Environment whose region, node pool zones, backup bucket or image " +
    "registries lie outside its jurisdiction would move data out as a matter of course.",
  fix:
    "Pick the region, zones, backup location and registries inside spec.jurisdiction (the message names the " +
    "ones vakt knows there), or correct the jurisdiction if the contract allows more.",
  controls: ["gdpr:44", "gdpr:45", "gdpr:46", "pdl:3.1", "pdl:3.12", "iso27001:A.5.34"],
  evidenceBoundary:
    "A pass shows that the locations the Environment declares are inside its jurisdiction by vakt's table of " +
    "provider regions and known registries; for S3-compatible stores and registries whose host does not tell, " +
    "the operator's declared jurisdiction is taken as stated. It does not prove where a provider actually " +
    "stores data, that support staff or sub-processors outside the jurisdiction have no access, nor that " +
    "applications do not send data elsewhere.",
  check: (object) => violations(object, "residency"),
};

export const environmentValid: Rule = {
  id: "environment-valid",
  title: "An Environment can be built as written",
  severity: "high",
  defaultAction: "deny",
  kinds: [ENVIRONMENT.kind],
  sets: ["fleet"],
  rationale:
    "An Environment with an unknown provider or region, an impossible node pool or a missing provider setting " +
    "would fail in the provider's API long after it was accepted; refused at once, it names what to change.",
  fix: "Change the field the message names as it says.",
  controls: ["iso27001:A.8.32", "pdl:3.10"],
  evidenceBoundary:
    "A pass shows the Environment is consistent with vakt's provider tables (regions, zones, machine families); " +
    "it does not prove the provider has capacity, quota or the machine type in every zone.",
  check: (object) => violations(object, "spec"),
};

export const ENVIRONMENT_RULES: readonly Rule[] = [environmentResidency, environmentValid];
