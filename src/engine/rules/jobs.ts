import type { FieldPath, Rule } from "../types.ts";
import { get } from "../workloads.ts";
import { isOwnedBy } from "./util/objects.ts";

const JOB_SPEC: Readonly<Record<string, FieldPath>> = {
  Job: ["spec"],
  CronJob: ["spec", "jobTemplate", "spec"],
};

export const jobTtl: Rule = {
  id: "job-ttl",
  title: "Jobs are cleaned up after they finish",
  severity: "low",
  defaultAction: "warn",
  kinds: ["Job", "CronJob"],
  sets: ["platform", "platform-jobs"],
  rationale:
    "Finished Jobs and their pods stay in the cluster until deleted, keeping logs, environment and output " +
    "(which may contain personal data) around indefinitely and consuming API and node resources.",
  fix:
    "Set `spec.ttlSecondsAfterFinished: 86400` on the Job (for a CronJob: " +
    "`spec.jobTemplate.spec.ttlSecondsAfterFinished`), choosing a retention that fits how long the results " +
    "are needed.",
  controls: ["iso27001:A.8.6", "gdpr:5"],
  evidenceBoundary:
    "A pass shows finished Jobs are deleted after the TTL; it does not prove that data the Job wrote " +
    "elsewhere (volumes, databases, logging systems) is deleted. Jobs created by a CronJob are judged " +
    "through the CronJob's job template.",
  reference: "https://kubernetes.io/docs/concepts/workloads/controllers/ttlafterfinished/",
  check(object) {
    if (typeof object.kind !== "string") return [];
    const specPath = JOB_SPEC[object.kind];
    if (specPath === undefined) return [];
    if (object.kind === "Job" && isOwnedBy(object, "CronJob")) return [];
    const path = [...specPath, "ttlSecondsAfterFinished"];
    const ttl = get(object, path);
    if (typeof ttl === "number" && Number.isInteger(ttl) && ttl >= 0) return [];
    const message =
      ttl === undefined || ttl === null
        ? `${path.join(".")} is not set, so the finished Job and its pods are kept forever`
        : `${path.join(".")} ${JSON.stringify(ttl)} is not a non-negative integer`;
    return [{ path, message }];
  },
};

export const JOB_RULES: readonly Rule[] = [jobTtl];
