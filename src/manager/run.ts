import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import type { Logger } from "pino";
import { setting } from "../config/settings.ts";
import { DEFAULT_CONFIG, parseConfig } from "../config/vakt-config.ts";
import type { VaktConfig } from "../config/vakt-config.ts";
import { POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD } from "../crds/vakt.ts";
import { ALL_RULES } from "../engine/rules/index.ts";
import type { KubeObject } from "../engine/types.ts";
import { AdmissionState } from "../webhook/admission.ts";
import { startWebhookServer } from "../webhook/server.ts";
import type { TlsMaterial, WebhookServer } from "../webhook/server.ts";
import { stringify } from "yaml";
import { secretCaStore } from "./ca-secret.ts";
import { SelfSignedServing, certificateLifetimes } from "./certs.ts";
import type { CertificateLifetimes, ServingMaterial } from "./certs.ts";
import { watchCustomResources } from "./informer.ts";
import type { CustomResourceWatch } from "./informer.ts";
import { LiveInventory } from "./inventory.ts";
import { webhookConfigurations } from "./webhook-config.ts";
import { startTenantController } from "../controllers/tenant/elected.ts";
import { makeKubeClient } from "../kube/client.ts";
import { apply } from "../kube/apply.ts";
import { updateCaBundles } from "../kube/ca-bundle.ts";
import type { TenantController } from "../controllers/tenant/elected.ts";
import { tenantCrd } from "../tenant/schema.ts";
import { hostname } from "node:os";
import { GROUP, POLICY_EXCEPTION, VAKT_CONFIGURATION, VERSION } from "../api/registry.ts";

export interface ManagerOptions {
  readonly kubeconfig: KubeConfig;
  readonly webhookHost: string;
  readonly webhookPort: number;
  /**
   * Register the webhook configurations pointing at https://<webhookHost>:<port> (vakt as a host
   * process next to a local control plane). In a cluster, `vakt install` registers them.
   */
  readonly registerUrl?: string;
  readonly failurePolicy: "Fail" | "Ignore";
  readonly timeoutSeconds: number;
  /** Namespaces the webhook never judges (vakt's own, kube-system). */
  readonly excludedNamespaces: readonly string[];
  /** tls.crt / tls.key from a mounted Secret (cert-manager); otherwise vakt bootstraps its own CA. */
  readonly tlsDir?: string;
  /**
   * vakt's namespace. In a cluster without --tls-dir and --register-url, the CA vakt bootstraps is
   * kept in the Secret vakt-webhook-ca here so every replica trusts the same one, and vakt keeps
   * the caBundle of the webhook configurations that `vakt install` created current.
   */
  readonly namespace?: string;
  /** The CA vakt bootstraps (without tlsDir): lifetimes, and names its serving certificate adds. */
  readonly selfSigned?: {
    /** Defaults and validation: certificateLifetimes() in certs.ts. */
    readonly lifetimes?: Partial<CertificateLifetimes>;
    /** Besides vakt.<namespace>.svc (in a cluster) or localhost and webhookHost (local mode). */
    readonly dnsNames?: readonly string[];
    readonly ipAddresses?: readonly string[];
  };
  /** Install vakt's CRDs at start (local mode). */
  readonly installCrds: boolean;
  readonly logger?: Logger;
  /** Name of the webhook configurations (default "vakt"). */
  readonly webhookName?: string;
  /** Only namespaces with these labels are judged (default: every namespace not excluded). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
  /** Which parts run (default: the webhook only). */
  readonly parts?: ManagerParts;
  /** The Tenant controller's leader election (with parts.controller). */
  readonly controller?: {
    /** Namespace of the Lease (default "vakt-system"; created with installCrds). */
    readonly leaseNamespace?: string;
    /** This replica's identity (default <hostname>-<pid>). */
    readonly identity?: string;
    readonly workers?: number;
  };
}

export interface ManagerParts {
  readonly webhook: boolean;
  readonly controller: boolean;
}

/** `vakt run --parts controller`: the Tenant controller without the webhook. */
export interface ControllerManager {
  readonly controller: TenantController;
  close(): Promise<void>;
}

export interface Manager {
  readonly webhook: WebhookServer;
  readonly state: AdmissionState;
  /** The objects relational rules look up (NetworkPolicies, PodDisruptionBudgets, ...). */
  readonly inventory: LiveInventory;
  /** With parts.controller. */
  readonly controller?: TenantController;
  close(): Promise<void>;
}

function configFromObject(object: KubeObject | undefined, logger: Logger): VaktConfig {
  if (object === undefined) return DEFAULT_CONFIG;
  try {
    // One schema for vakt.yaml and the in-cluster object: validate through the same parser.
    return parseConfig(
      stringify({ apiVersion: object.apiVersion, kind: object.kind, spec: object["spec"] }),
      "VaktConfiguration/default",
      new Set(ALL_RULES.map((r) => r.id)),
    );
  } catch (error) {
    logger.error(
      { error: error instanceof Error ? error.message : String(error) },
      "VaktConfiguration default is invalid; keeping the previous configuration",
    );
    throw error;
  }
}

/**
 * `vakt run`: the admission webhook with live PolicyExceptions, configuration and inventory (the
 * objects relational rules look up; /readyz waits for their first lists). Level-triggered:
 * everything it needs is re-read from the API server after a restart; nothing is kept only here.
 */
export function startManager(
  options: ManagerOptions & { readonly parts: { readonly webhook: false; readonly controller: true } },
): Promise<ControllerManager>;
export function startManager(options: ManagerOptions): Promise<Manager>;
export async function startManager(options: ManagerOptions): Promise<Manager | ControllerManager> {
  const logger = options.logger ?? pino({ level: setting("logLevel"), base: { component: "manager" } });
  // Validated before anything starts; used when vakt makes its own CA (no tlsDir).
  const lifetimes = certificateLifetimes(options.selfSigned?.lifetimes);
  // One keep-alive client for the manager's requests and watches (four inventory kinds, two
  // custom resources): a few connections are enough.
  const client = makeKubeClient(options.kubeconfig, { maxConnections: 4 });
  const parts = options.parts ?? { webhook: true, controller: false };
  const leaseNamespace = options.controller?.leaseNamespace ?? "vakt-system";
  if (options.installCrds) {
    const crds = [POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD];
    if (parts.controller) crds.push(tenantCrd());
    for (const crd of crds) await apply(client, crd);
    if (parts.controller)
      await apply(client, { apiVersion: "v1", kind: "Namespace", metadata: { name: leaseNamespace } });
  }
  // Without the Tenant CRD the controller waits (its watch retries) instead of failing.
  const controller = parts.controller
    ? await startTenantController({
        kubeconfig: options.kubeconfig,
        logger,
        identity: options.controller?.identity ?? `${hostname()}-${process.pid}`,
        leaseNamespace,
        ...(options.controller?.workers === undefined ? {} : { workers: options.controller.workers }),
      })
    : undefined;
  if (!parts.webhook) {
    if (controller === undefined)
      throw new Error("vakt run: no part to run (parts.webhook and parts.controller are both false)");
    return {
      controller,
      close: async () => {
        await controller.close();
        await client.close?.();
      },
    };
  }

  // Every rule runs at admission; relational ones read the live inventory (ADR 0008).
  const state = new AdmissionState({ rules: ALL_RULES, allRules: ALL_RULES });
  const inventory = new LiveInventory({
    client,
    logger: logger.child({ component: "inventory" }),
    publish: (current) => {
      state.setInventory(current);
    },
  });
  inventory.start();
  const watches: CustomResourceWatch[] = [
    watchCustomResources(
      client,
      { group: GROUP, version: VERSION, plural: POLICY_EXCEPTION.plural },
      {
        onList: (list) => {
          state.setExceptions(list);
          logger.info({ exceptions: list.length }, "policy exceptions updated");
        },
      },
      logger,
    ),
    watchCustomResources(
      client,
      { group: GROUP, version: VERSION, plural: VAKT_CONFIGURATION.plural },
      {
        onList: (list) => {
          const object = list.find((o) => o.metadata?.name === "default") as KubeObject | undefined;
          try {
            state.setConfig(configFromObject(object, logger));
            logger.info({ configured: object !== undefined }, "configuration updated");
          } catch {
            // keep the previous configuration; the error is logged
          }
        },
      },
      logger,
    ),
  ];

  let tls: TlsMaterial;
  let selfSigned: SelfSignedServing | undefined;
  const extraDnsNames = options.selfSigned?.dnsNames ?? [];
  const extraIpAddresses = options.selfSigned?.ipAddresses ?? [];
  if (options.tlsDir !== undefined) {
    tls = {
      cert: readFileSync(join(options.tlsDir, "tls.crt")),
      key: readFileSync(join(options.tlsDir, "tls.key")),
    };
  } else {
    if (options.registerUrl === undefined) {
      const namespace = options.namespace ?? "vakt-system";
      selfSigned = new SelfSignedServing({
        dnsNames: [`vakt.${namespace}.svc`, `vakt.${namespace}.svc.cluster.local`, ...extraDnsNames],
        ipAddresses: extraIpAddresses,
        lifetimes,
        store: secretCaStore(client, namespace, "vakt-webhook-ca"),
      });
    } else {
      selfSigned = new SelfSignedServing({
        dnsNames: ["localhost", "vakt", ...extraDnsNames],
        ipAddresses: [
          options.webhookHost === "0.0.0.0" ? "127.0.0.1" : options.webhookHost,
          ...extraIpAddresses,
        ],
        lifetimes,
      });
    }
    const material = await selfSigned.current();
    tls = { cert: material.certificatePem, key: material.privateKeyPem };
  }

  const webhook = await startWebhookServer({
    state,
    tls,
    host: options.webhookHost,
    port: options.webhookPort,
    logger: logger.child({ component: "webhook" }),
    ready: () => watches.every((w) => w.synced) && inventory.synced,
  });

  const register = async (material: ServingMaterial): Promise<void> => {
    if (options.registerUrl === undefined) {
      await updateCaBundles(client, options.webhookName ?? "vakt", material.caBundle);
      logger.debug({ webhookConfigurations: options.webhookName ?? "vakt" }, "caBundle checked");
      return;
    }
    for (const object of webhookConfigurations({
      name: options.webhookName ?? "vakt",
      ...(options.namespaceLabels === undefined ? {} : { namespaceLabels: options.namespaceLabels }),
      target: { url: options.registerUrl.replace(/\/$/, "").replace(/:0$/, `:${webhook.port}`) },
      caBundle: material.caBundle,
      failurePolicy: options.failurePolicy,
      timeoutSeconds: options.timeoutSeconds,
      excludedNamespaces: options.excludedNamespaces,
      rules: ALL_RULES,
      mutate: true,
    })) {
      await apply(client, object);
    }
    logger.info(
      { url: options.registerUrl, failurePolicy: options.failurePolicy },
      "webhook configurations registered",
    );
  };

  // Level-triggered renewal: every tick re-reads the CA from its store, publishes caBundle (a
  // no-op when it is current), and only then serves a new certificate, so the API server trusts
  // a certificate before it sees it. A new CA is published caPublishAheadMs before it signs.
  let servedCertificate = typeof tls.cert === "string" ? tls.cert : tls.cert.toString();
  let closed = false;
  const isClosed = (): boolean => closed;
  let rotation: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const tick = async (serving: SelfSignedServing): Promise<void> => {
    await serving.rotateIfDue();
    const material = await serving.current();
    if (isClosed()) return;
    await register(material);
    if (isClosed() || material.certificatePem === servedCertificate) return;
    webhook.setSecureContext({ cert: material.certificatePem, key: material.privateKeyPem });
    servedCertificate = material.certificatePem;
    logger.info(
      {
        notAfter: material.notAfter.toISOString(),
        caBundleCertificates: material.caBundle.split("BEGIN").length - 1,
      },
      "webhook certificate rotated",
    );
  };
  const retryMs = (serving: SelfSignedServing): number => {
    const l = serving.lifetimes;
    return Math.min(60_000, Math.max(1_000, Math.min(l.caPublishAheadMs, l.servingRenewBeforeMs) / 4));
  };
  const scheduleRotation = (serving: SelfSignedServing, delayMs?: number): void => {
    if (isClosed()) return;
    const next = serving.nextRotation();
    const delay =
      delayMs ??
      (next === undefined
        ? retryMs(serving)
        : Math.min(Math.max(next.getTime() - Date.now(), 250), 2 ** 31 - 1));
    rotation = setTimeout(() => {
      ticking = tick(serving).then(
        () => {
          scheduleRotation(serving);
        },
        (error: unknown) => {
          logger.error(
            { error: error instanceof Error ? error.message : String(error), retryMs: retryMs(serving) },
            "certificate rotation failed; retrying",
          );
          scheduleRotation(serving, retryMs(serving));
        },
      );
    }, delay);
    rotation.unref();
  };
  if (selfSigned !== undefined) {
    await register(await selfSigned.current());
    logger.info({ webhookConfigurations: options.webhookName ?? "vakt" }, "caBundle published");
    scheduleRotation(selfSigned);
  }

  return {
    webhook,
    state,
    inventory,
    ...(controller === undefined ? {} : { controller }),
    async close() {
      closed = true;
      if (rotation !== undefined) clearTimeout(rotation);
      await ticking?.catch(() => undefined);
      await controller?.close();
      await webhook.close();
      await Promise.all(watches.map((w) => w.stop()));
      inventory.stop();
      await client.close?.();
    },
  };
}
