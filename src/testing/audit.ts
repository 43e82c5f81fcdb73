/**
 * `vakt run --parts audit` in-process, as the audit's integration tests and bench/audit.ts start
 * it: vakt's CRDs and the OpenReports CRDs installed, the probe port on 127.0.0.1 (a free port),
 * warnings only in the log. The webhook's options are required by ManagerOptions but unused
 * without the webhook part; they are fixed here once.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { startManager } from "../manager/run.ts";
import type { ManagerOptions, RunningManager } from "../manager/run.ts";

export interface AuditRunOptions {
  readonly kubeconfig: KubeConfig;
  /** Namespace of the Lease the audit is elected by. */
  readonly leaseNamespace: string;
  readonly identity?: string;
  /** Namespaces the audit skips besides kube-system. */
  readonly alsoExcluded?: readonly string[];
  readonly audit?: ManagerOptions["audit"];
  readonly evidence?: ManagerOptions["evidence"];
}

export function startAuditRun(options: AuditRunOptions): Promise<RunningManager> {
  return startManager({
    kubeconfig: options.kubeconfig,
    parts: ["audit"],
    installCrds: true,
    webhookHost: "127.0.0.1",
    webhookPort: 0,
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system", ...(options.alsoExcluded ?? [])],
    controller: {
      leaseNamespace: options.leaseNamespace,
      ...(options.identity === undefined ? {} : { identity: options.identity }),
    },
    probes: { host: "127.0.0.1", port: 0 },
    logger: pino({ level: "warn" }),
    ...(options.audit === undefined ? {} : { audit: options.audit }),
    ...(options.evidence === undefined ? {} : { evidence: options.evidence }),
  });
}
