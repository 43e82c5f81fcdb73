/**
 * `vakt run`: the parts `--parts` names (manager/parts.ts), built from one set of options and
 * run by one Manager (manager.ts) with one client, one registry and one Lease.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { hostname } from "node:os";
import { join } from "node:path";
import { AuditPart } from "../audit/part.ts";
import { backupLocationCrd } from "../backup/location.ts";
import { BackupPart } from "../backup/part.ts";
import type { BackupPartOptions } from "../backup/part.ts";
import type { AuditPartOptions } from "../audit/part.ts";
import { TenantControllerPart } from "../controllers/tenant/part.ts";
import { environmentCrd } from "../environment/schema.ts";
import { FleetPart } from "../fleet/part.ts";
import { setting } from "../config/settings.ts";
import { POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD } from "../crds/vakt.ts";
import { apply } from "../kube/apply.ts";
import type { KubeClient } from "../kube/client.ts";
import { openReportsCrds } from "../audit/crds.ts";
import { openEvidenceStore } from "../evidence/store.ts";
import type { EvidenceStore } from "../evidence/types.ts";
import { tenantCrd } from "../tenant/schema.ts";
import type { AdmissionState } from "../webhook/admission.ts";
import type { WebhookServer } from "../webhook/server.ts";
import type { LiveInventory } from "./inventory.ts";
import { LiveJudgingInputs } from "./judging-inputs.ts";
import { Manager } from "./manager.ts";
import type { Part } from "../kube/part.ts";
import type { PartName } from "./parts.ts";
import { WebhookPart } from "./webhook-part.ts";
import type { WebhookPartOptions } from "./webhook-part.ts";

export interface ManagerOptions extends WebhookPartOptions {
  readonly kubeconfig: KubeConfig;
  /** Install vakt's CRDs at start (local mode); with the controller, the Lease's namespace too. */
  readonly installCrds: boolean;
  readonly logger?: Logger;
  /** Which parts run (default: the webhook only). */
  readonly parts?: readonly PartName[];
  /** The leader election of the leader parts (the Tenant controller) and its workers. */
  readonly controller?: {
    /** Namespace of the Lease (default "vakt-system"; created with installCrds). */
    readonly leaseNamespace?: string;
    /** This replica's identity (default <hostname>-<pid>). */
    readonly identity?: string;
    readonly workers?: number;
  };
  /** Plain-HTTP /healthz, /readyz and /metrics when the webhook does not run (ADR 0017). */
  readonly probes?: { readonly host?: string; readonly port?: number };
  /** The background audit (with the audit part); it skips the namespaces the webhook excludes. */
  readonly audit?: Omit<AuditPartOptions, "inputs" | "excludedNamespaces" | "evidence">;
  /** The off-site backup copies (with the backup part); evidence as the audit's. */
  readonly backup?: Omit<BackupPartOptions, "evidence">;
  /**
   * The audit's evidence history: a postgres:// URL or a PGlite directory (`memory://` in
   * tests), and the cluster's name in its records. Without it the audit writes reports only.
   */
  readonly evidence?: { readonly url: string; readonly cluster: string };
}

/** What the parts of one `vakt run` share. */
interface Shared {
  readonly identity: string;
  /** Exceptions, configuration and inventory, watched once for the webhook and the audit. */
  readonly inputs: LiveJudgingInputs;
  /** Opens the one evidence store the parts share (options.evidence must be set). */
  readonly openEvidence: () => Promise<EvidenceStore>;
}

/**
 * One evidence store for the parts of a process that write evidence (the audit, the backup part):
 * a PGlite directory opens once per process. Each part's close releases its use; the last one
 * closes the store. A database that is down buffers (connect: background); it stops no part.
 */
function sharedEvidence(options: ManagerOptions): () => Promise<EvidenceStore> {
  let opened: Promise<EvidenceStore> | undefined;
  let users = 0;
  return async () => {
    const evidence = options.evidence;
    if (evidence === undefined) throw new Error("vakt run: no evidence history is configured");
    opened ??= openEvidenceStore({
      url: evidence.url,
      connect: "background",
      ...(options.logger === undefined ? {} : { log: options.logger }),
    });
    const current = opened;
    let store: EvidenceStore;
    try {
      store = await current;
    } catch (error) {
      if (opened === current) opened = undefined;
      throw error;
    }
    users++;
    let released = false;
    return {
      append: (event) => store.append(event),
      writable: () => store.writable(),
      flush: () => store.flush(),
      query: (query) => store.query(query),
      verify: (verifyOptions) => store.verify(verifyOptions),
      health: () => store.health(),
      close: async (closeOptions) => {
        if (released) return;
        released = true;
        users--;
        if (users === 0) {
          opened = undefined;
          await store.close(closeOptions);
        }
      },
    };
  };
}

/** One entry per known part: how `vakt run` builds it from its options. */
const PART_BUILDERS: { readonly [name in PartName]: (options: ManagerOptions, shared: Shared) => Part } = {
  webhook: (options, { inputs }) => new WebhookPart(options, inputs),
  controller: (options, { identity }) =>
    new TenantControllerPart({
      identity,
      ...(options.controller?.workers === undefined ? {} : { workers: options.controller.workers }),
    }),
  fleet: (options, { identity }) =>
    new FleetPart({
      identity,
      // local Environments: control planes from the same binaries as `vakt dev`, state in <home>/fleet.
      // Each member runs vakt's webhook from the same entry point as this process (bin/vakt.js or
      // src/cli/main.ts), as `vakt dev up` does.
      local: {
        binDir: setting("binDir"),
        root: join(setting("home"), "fleet"),
        ...(process.argv[1] === undefined
          ? {}
          : { vakt: { command: process.execPath, script: process.argv[1] } }),
      },
      ...(options.controller?.workers === undefined ? {} : { workers: options.controller.workers }),
    }),
  audit: (options, { inputs, openEvidence }) => {
    const evidence = options.evidence;
    return new AuditPart({
      ...options.audit,
      inputs,
      excludedNamespaces: options.excludedNamespaces,
      ...(evidence === undefined
        ? {}
        : {
            evidence: { cluster: evidence.cluster, open: openEvidence },
          }),
    });
  },
  backup: (options, { openEvidence }) =>
    new BackupPart({
      ...options.backup,
      ...(options.evidence === undefined
        ? {}
        : { evidence: { cluster: options.evidence.cluster, open: openEvidence } }),
    }),
};

export interface RunningManager {
  readonly manager: Manager;
  /** The webhook's HTTPS server (with the webhook part; throws without it). */
  readonly webhook: WebhookServer;
  readonly state: AdmissionState;
  /** The objects relational rules look up (NetworkPolicies, PodDisruptionBudgets, ...). */
  readonly inventory: LiveInventory;
  /** With the controller part. */
  readonly controller?: TenantControllerPart;
  /** With the audit part. */
  readonly audit?: AuditPart;
  /** With the backup part. */
  readonly backup?: BackupPart;
  close(): Promise<void>;
}

/** Applies vakt's CRDs (those of the parts that run) and, with a leader part, the Lease's namespace. */
async function installCrds(
  client: KubeClient,
  parts: readonly PartName[],
  leaseNamespace: string,
): Promise<void> {
  const crds = [POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD];
  if (parts.includes("controller")) crds.push(tenantCrd());
  if (parts.includes("audit")) crds.push(...(await openReportsCrds()));
  if (parts.includes("backup")) crds.push(backupLocationCrd());
  if (parts.includes("fleet")) crds.push(environmentCrd());
  for (const crd of crds) await apply(client, crd);
  if (
    parts.includes("controller") ||
    parts.includes("audit") ||
    parts.includes("fleet") ||
    parts.includes("backup")
  )
    await apply(client, { apiVersion: "v1", kind: "Namespace", metadata: { name: leaseNamespace } });
}

/** Builds the parts `options.parts` names and starts them under one manager. */
export async function startManager(options: ManagerOptions): Promise<RunningManager> {
  const names = options.parts ?? ["webhook"];
  const identity = options.controller?.identity ?? `${hostname()}-${process.pid}`;
  const leaseNamespace = options.controller?.leaseNamespace ?? "vakt-system";
  const shared: Shared = {
    identity,
    inputs: new LiveJudgingInputs(),
    openEvidence: sharedEvidence(options),
  };
  const parts = names.map((name) => PART_BUILDERS[name](options, shared));
  const manager = new Manager({
    kubeconfig: options.kubeconfig,
    parts,
    lease: { namespace: leaseNamespace, identity },
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.probes === undefined ? {} : { probes: options.probes }),
  });
  try {
    if (options.installCrds) await installCrds(manager.client, names, leaseNamespace);
    // Without the Tenant CRD the controller waits (its watch retries) instead of failing.
    await manager.start();
  } catch (error) {
    await manager.stop();
    throw error;
  }
  const webhook = parts.find((part) => part instanceof WebhookPart);
  const controller = parts.find((part) => part instanceof TenantControllerPart);
  const audit = parts.find((part) => part instanceof AuditPart);
  const backup = parts.find((part) => part instanceof BackupPart);
  const webhookPart = (): WebhookPart => {
    if (webhook === undefined) throw new Error("vakt run: the webhook part does not run (--parts)");
    return webhook;
  };
  const server = webhook?.server;
  const inventory = webhook?.inventory;
  return {
    manager,
    get webhook() {
      return server ?? webhookPart().server;
    },
    get state() {
      return webhookPart().state;
    },
    get inventory() {
      return inventory ?? webhookPart().inventory;
    },
    ...(controller === undefined ? {} : { controller }),
    ...(audit === undefined ? {} : { audit }),
    ...(backup === undefined ? {} : { backup }),
    close: () => manager.stop(),
  };
}
