import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubernetesObject } from "@kubernetes/client-node";
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
import { SelfSignedServing } from "./certs.ts";
import { watchCustomResources } from "./informer.ts";
import type { CustomResourceWatch } from "./informer.ts";
import { webhookConfigurations } from "./webhook-config.ts";

export const FIELD_MANAGER = "vakt";

/**
 * Rules that judge an object by the other objects around it (a PodDisruptionBudget or a
 * NetworkPolicy selecting a workload). At admission the order of creation decides the verdict
 * (a Deployment applied before its budget), so these run in `vakt check` and background audit,
 * not in the webhook. See docs/adr/0004-relational-rules-not-at-admission.md.
 */
export const RELATIONAL_RULES: ReadonlySet<string> = new Set([
  "network-policy-coverage",
  "pod-disruption-budget",
]);
export const ADMISSION_RULES = ALL_RULES.filter((rule) => !RELATIONAL_RULES.has(rule.id));

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
  /** Install vakt's CRDs at start (local mode). */
  readonly installCrds: boolean;
  readonly logger?: Logger;
  /** Name of the webhook configurations (default "vakt"). */
  readonly webhookName?: string;
  /** Only namespaces with these labels are judged (default: every namespace not excluded). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

export interface Manager {
  readonly webhook: WebhookServer;
  readonly state: AdmissionState;
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

async function apply(api: KubernetesObjectApi, object: KubeObject): Promise<void> {
  await api.patch(
    object as KubernetesObject,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
}

/**
 * `vakt run`: the admission webhook with live PolicyExceptions and configuration. Level-triggered:
 * everything it needs is re-read from the API server after a restart; nothing is kept only here.
 */
export async function startManager(options: ManagerOptions): Promise<Manager> {
  const logger = options.logger ?? pino({ level: setting("logLevel"), base: { component: "manager" } });
  const objects = KubernetesObjectApi.makeApiClient(options.kubeconfig);
  if (options.installCrds) {
    for (const crd of [POLICY_EXCEPTION_CRD, VAKT_CONFIGURATION_CRD]) await apply(objects, crd);
  }

  const state = new AdmissionState({ rules: ADMISSION_RULES, allRules: ALL_RULES });
  const watches: CustomResourceWatch[] = [
    watchCustomResources<KubernetesObject>(
      options.kubeconfig,
      { group: "vakt.dev", version: "v1alpha1", plural: "policyexceptions" },
      {
        onList: (list) => {
          state.setExceptions(list as unknown as KubeObject[]);
          logger.info({ exceptions: list.length }, "policy exceptions updated");
        },
      },
      logger,
    ),
    watchCustomResources<KubernetesObject>(
      options.kubeconfig,
      { group: "vakt.dev", version: "v1alpha1", plural: "vaktconfigurations" },
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
  if (options.tlsDir !== undefined) {
    tls = {
      cert: readFileSync(join(options.tlsDir, "tls.crt")),
      key: readFileSync(join(options.tlsDir, "tls.key")),
    };
  } else {
    selfSigned = new SelfSignedServing({
      dnsNames: ["localhost", "vakt"],
      ipAddresses: [options.webhookHost === "0.0.0.0" ? "127.0.0.1" : options.webhookHost],
      servingDays: 30,
      caDays: 365,
    });
    const material = await selfSigned.current();
    tls = { cert: material.certificatePem, key: material.privateKeyPem };
  }

  const webhook = await startWebhookServer({
    state,
    tls,
    host: options.webhookHost,
    port: options.webhookPort,
    logger: logger.child({ component: "webhook" }),
    ready: () => watches.every((w) => w.synced),
  });

  const register = async (): Promise<void> => {
    if (options.registerUrl === undefined || selfSigned === undefined) return;
    const material = await selfSigned.current();
    for (const object of webhookConfigurations({
      name: options.webhookName ?? "vakt",
      ...(options.namespaceLabels === undefined ? {} : { namespaceLabels: options.namespaceLabels }),
      target: { url: options.registerUrl.replace(/\/$/, "").replace(/:0$/, `:${webhook.port}`) },
      caBundle: material.caBundle,
      failurePolicy: options.failurePolicy,
      timeoutSeconds: options.timeoutSeconds,
      excludedNamespaces: options.excludedNamespaces,
      rules: ADMISSION_RULES,
      mutate: true,
    })) {
      await apply(objects, object);
    }
    logger.info(
      { url: options.registerUrl, failurePolicy: options.failurePolicy },
      "webhook configurations registered",
    );
  };
  await register();

  // Renew the serving certificate (and CA) before expiry: swap the TLS context, then caBundle.
  let rotation: NodeJS.Timeout | undefined;
  const scheduleRotation = (): void => {
    const next = selfSigned?.nextRotation();
    if (selfSigned === undefined || next === undefined) return;
    const delay = Math.min(Math.max(next.getTime() - Date.now(), 1_000), 2 ** 31 - 1);
    rotation = setTimeout(() => {
      void (async () => {
        if (await selfSigned.rotateIfDue()) {
          const material = await selfSigned.current();
          // Trust first, then serve: the API server must accept the new certificate when it sees it.
          await register();
          webhook.setSecureContext({ cert: material.certificatePem, key: material.privateKeyPem });
          logger.info({ notAfter: material.notAfter.toISOString() }, "webhook certificate rotated");
        }
        scheduleRotation();
      })().catch((error: unknown) => {
        logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          "certificate rotation failed; retrying in a minute",
        );
        rotation = setTimeout(scheduleRotation, 60_000);
      });
    }, delay);
    rotation.unref();
  };
  scheduleRotation();

  return {
    webhook,
    state,
    async close() {
      if (rotation !== undefined) clearTimeout(rotation);
      await webhook.close();
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}
