/**
 * The webhook's serving material and its registration with the API server: a certificate from a
 * mounted Secret, or one vakt signs with a CA it bootstraps (kept in a Secret in a cluster, in
 * memory next to a local control plane); the webhook configurations (registered by vakt itself
 * with --register-url, by `vakt install` otherwise, vakt then keeping their caBundle current);
 * and the renewal that rotates certificate and CA ahead of their expiry.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { apply } from "../kube/apply.ts";
import { updateCaBundles } from "../kube/ca-bundle.ts";
import type { KubeClient } from "../kube/client.ts";
import type { TlsMaterial } from "../webhook/server.ts";
import { secretCaStore } from "./ca-secret.ts";
import { SelfSignedServing } from "./certs.ts";
import type { CertificateLifetimes, ServingMaterial } from "./certs.ts";
import { ADMISSION_RULES } from "../webhook/admission.ts";
import { webhookConfigurations } from "../webhook/registration.ts";

export interface WebhookTlsOptions {
  readonly webhookHost: string;
  /** tls.crt / tls.key from a mounted Secret (cert-manager); otherwise vakt bootstraps its own CA. */
  readonly tlsDir?: string;
  readonly registerUrl?: string;
  /** vakt's namespace (the CA Secret's, and the service name's). */
  readonly namespace?: string;
  readonly lifetimes: CertificateLifetimes;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** What the webhook serves first, and the CA that renews it when vakt signs its own. */
export interface ServingStart {
  readonly tls: TlsMaterial;
  readonly selfSigned?: SelfSignedServing;
}

export async function servingMaterial(client: KubeClient, options: WebhookTlsOptions): Promise<ServingStart> {
  if (options.tlsDir !== undefined)
    return {
      tls: {
        cert: readFileSync(join(options.tlsDir, "tls.crt")),
        key: readFileSync(join(options.tlsDir, "tls.key")),
      },
    };
  const extraDnsNames = options.dnsNames ?? [];
  const extraIpAddresses = options.ipAddresses ?? [];
  let selfSigned: SelfSignedServing;
  if (options.registerUrl === undefined) {
    const namespace = options.namespace ?? "vakt-system";
    selfSigned = new SelfSignedServing({
      dnsNames: [`vakt.${namespace}.svc`, `vakt.${namespace}.svc.cluster.local`, ...extraDnsNames],
      ipAddresses: extraIpAddresses,
      lifetimes: options.lifetimes,
      store: secretCaStore(client, namespace, "vakt-webhook-ca"),
    });
  } else {
    selfSigned = new SelfSignedServing({
      dnsNames: ["localhost", "vakt", ...extraDnsNames],
      ipAddresses: [
        options.webhookHost === "0.0.0.0" ? "127.0.0.1" : options.webhookHost,
        ...extraIpAddresses,
      ],
      lifetimes: options.lifetimes,
    });
  }
  const material = await selfSigned.current();
  return { tls: { cert: material.certificatePem, key: material.privateKeyPem }, selfSigned };
}

export interface RegistrationOptions {
  /** Name of the webhook configurations. */
  readonly name: string;
  /** Register them pointing here (":0" becomes the port the server listens on). */
  readonly registerUrl?: string;
  readonly failurePolicy: "Fail" | "Ignore";
  readonly timeoutSeconds: number;
  readonly excludedNamespaces: readonly string[];
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/**
 * Publishes `material`'s caBundle: applies the webhook configurations with --register-url, or
 * else updates the caBundle of those `vakt install` created.
 */
export async function register(
  client: KubeClient,
  options: RegistrationOptions,
  port: number,
  material: ServingMaterial,
  logger: Logger,
): Promise<void> {
  if (options.registerUrl === undefined) {
    await updateCaBundles(client, options.name, material.caBundle);
    logger.debug({ webhookConfigurations: options.name }, "caBundle checked");
    return;
  }
  for (const object of webhookConfigurations({
    name: options.name,
    ...(options.namespaceLabels === undefined ? {} : { namespaceLabels: options.namespaceLabels }),
    target: { url: options.registerUrl.replace(/\/$/, "").replace(/:0$/, `:${port}`) },
    caBundle: material.caBundle,
    failurePolicy: options.failurePolicy,
    timeoutSeconds: options.timeoutSeconds,
    excludedNamespaces: options.excludedNamespaces,
    rules: ADMISSION_RULES,
    mutate: true,
  })) {
    await apply(client, object);
  }
  logger.info(
    { url: options.registerUrl, failurePolicy: options.failurePolicy },
    "webhook configurations registered",
  );
}

/**
 * Level-triggered renewal: every tick re-reads the CA from its store, publishes caBundle (a
 * no-op when it is current), and only then serves a new certificate, so the API server trusts a
 * certificate before it sees it. A new CA is published caPublishAheadMs before it signs.
 */
export class CertificateRotation {
  readonly #serving: SelfSignedServing;
  readonly #publish: (material: ServingMaterial) => Promise<void>;
  readonly #serve: (tls: TlsMaterial) => void;
  readonly #logger: Logger;
  #servedCertificate: string;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;

  constructor(options: {
    readonly serving: SelfSignedServing;
    /** The certificate served now. */
    readonly served: TlsMaterial;
    readonly publish: (material: ServingMaterial) => Promise<void>;
    readonly serve: (tls: TlsMaterial) => void;
    readonly logger: Logger;
  }) {
    this.#serving = options.serving;
    this.#publish = options.publish;
    this.#serve = options.serve;
    this.#logger = options.logger;
    const cert = options.served.cert;
    this.#servedCertificate = typeof cert === "string" ? cert : cert.toString();
  }

  start(): void {
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#ticking?.catch(() => undefined);
  }

  async #tick(): Promise<void> {
    const serving = this.#serving;
    await serving.rotateIfDue();
    const material = await serving.current();
    if (this.#closed) return;
    await this.#publish(material);
    if (this.#isClosed() || material.certificatePem === this.#servedCertificate) return;
    this.#serve({ cert: material.certificatePem, key: material.privateKeyPem });
    this.#servedCertificate = material.certificatePem;
    this.#logger.info(
      {
        notAfter: material.notAfter.toISOString(),
        caBundleCertificates: material.caBundle.split("BEGIN").length - 1,
      },
      "webhook certificate rotated",
    );
  }

  /** Read again after an await: stop() may have run meanwhile. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #retryMs(): number {
    const l = this.#serving.lifetimes;
    return Math.min(60_000, Math.max(1_000, Math.min(l.caPublishAheadMs, l.servingRenewBeforeMs) / 4));
  }

  #schedule(delayMs?: number): void {
    if (this.#closed) return;
    const next = this.#serving.nextRotation();
    const delay =
      delayMs ??
      (next === undefined
        ? this.#retryMs()
        : Math.min(Math.max(next.getTime() - Date.now(), 250), 2 ** 31 - 1));
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().then(
        () => {
          this.#schedule();
        },
        (error: unknown) => {
          this.#logger.error(
            { error: error instanceof Error ? error.message : String(error), retryMs: this.#retryMs() },
            "certificate rotation failed; retrying",
          );
          this.#schedule(this.#retryMs());
        },
      );
    }, delay);
    this.#timer.unref();
  }
}
