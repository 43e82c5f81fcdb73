/**
 * A member cluster's posture as the hub rolls it up into the Environment (pure: what was read in
 * the member in, status fields and conditions out): whether vakt's webhook is registered there and
 * answers, which vakt version answers it against the one the Environment wants (the hub's unless
 * spec.baseline.vaktVersion pins one), and how many findings vakt's audit reports there (summed
 * over its OpenReports Report and ClusterReport summaries; unknown when the audit does not run).
 */

/** What the hub read in the member. */
export interface MemberPosture {
  /** Ready: answers its readiness probe; NotAnswering; NotRegistered: no webhook configuration of vakt; Registered: behind a Service the hub cannot reach. */
  readonly webhook: "Ready" | "NotAnswering" | "NotRegistered" | "Registered";
  readonly webhookMessage: string;
  /** The version label of vakt's webhook configuration in the member. */
  readonly vaktVersion?: string;
  /** fail + warn + error over vakt's reports in the member; undefined when it has none to read. */
  readonly findings?: number;
}

/** status.posture of an Environment. */
export interface PostureStatus {
  readonly webhook: string;
  readonly vaktVersion?: string;
  readonly wantedVersion: string;
  readonly findings?: number;
}

export interface PostureCondition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason: string;
  readonly message: string;
}

export function rollUp(
  posture: MemberPosture,
  wantedVersion: string,
): { status: PostureStatus; conditions: PostureCondition[] } {
  const webhook: PostureCondition =
    posture.webhook === "Ready"
      ? { type: "WebhookReady", status: "True", reason: "Answering", message: posture.webhookMessage }
      : posture.webhook === "Registered"
        ? { type: "WebhookReady", status: "Unknown", reason: "Registered", message: posture.webhookMessage }
        : { type: "WebhookReady", status: "False", reason: posture.webhook, message: posture.webhookMessage };
  const version: PostureCondition =
    posture.vaktVersion === undefined
      ? {
          type: "VersionMatched",
          status: "Unknown",
          reason: "VersionUnknown",
          message: `no vakt webhook configuration with a version label in the cluster; vakt ${wantedVersion} is wanted`,
        }
      : posture.vaktVersion === wantedVersion
        ? {
            type: "VersionMatched",
            status: "True",
            reason: "SameVersion",
            message: `vakt ${posture.vaktVersion} answers in the cluster, as wanted`,
          }
        : {
            type: "VersionMatched",
            status: "False",
            reason: "VersionSkew",
            message: `vakt ${posture.vaktVersion} answers in the cluster, ${wantedVersion} is wanted: upgrade vakt there (or set spec.baseline.vaktVersion)`,
          };
  return {
    status: {
      webhook: posture.webhook,
      wantedVersion,
      ...(posture.vaktVersion === undefined ? {} : { vaktVersion: posture.vaktVersion }),
      ...(posture.findings === undefined ? {} : { findings: posture.findings }),
    },
    conditions: [webhook, version],
  };
}

/** Findings in a report's summary: what did not pass (fail, warn, error). */
export function summaryFindings(summary: unknown): number {
  if (typeof summary !== "object" || summary === null) return 0;
  const counts = summary as Record<string, unknown>;
  const count = (key: string): number => {
    const value = counts[key];
    return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
  };
  return count("fail") + count("warn") + count("error");
}
