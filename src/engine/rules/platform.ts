import type { Rule } from "../types.ts";
import { AVAILABILITY_RULES } from "./availability.ts";
import { BACKUP_RULES } from "./backup.ts";
import { IMAGE_RULES } from "./images.ts";
import { JOB_RULES } from "./jobs.ts";
import { NAMESPACE_RULES } from "./namespaces.ts";
import { NETWORK_RULES } from "./network.ts";
import { RESIDENCY_RULES } from "./residency.ts";
import { RESOURCE_RULES } from "./resources.ts";
import { SECRET_RULES } from "./secrets.ts";
import { SERVICE_RULES } from "./services.ts";

/** vakt's platform rules (everything except Pod Security Standards), in a stable order. */
export const PLATFORM_RULES: readonly Rule[] = [
  ...IMAGE_RULES,
  ...RESOURCE_RULES,
  ...AVAILABILITY_RULES,
  ...NETWORK_RULES,
  ...SERVICE_RULES,
  ...SECRET_RULES,
  ...BACKUP_RULES,
  ...RESIDENCY_RULES,
  ...JOB_RULES,
  ...NAMESPACE_RULES,
];
