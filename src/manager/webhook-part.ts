/**
 * The admission webhook as a part of `vakt run` (`--parts webhook`): live PolicyExceptions,
 * configuration and inventory (the objects relational rules look up) feed the AdmissionState
 * that the HTTPS server judges with; it serves /healthz, /readyz (the manager's readiness: every
 * part's, its own first lists included) and /metrics on its port. Level-triggered: everything it
 * needs is re-read from the API server after a restart; nothing is kept only here. Not
 * leader-elected: every replica serves.
 */
import type { AdmissionState } from "../webhook/admission.ts";
import { startWebhookServer } from "../webhook/server.ts";
import type { WebhookServer } from "../webhook/server.ts";
import { certificateLifetimes } from "./certs.ts";
import type { CertificateLifetimes, ServingMaterial } from "./certs.ts";
import type { LiveInventory } from "./inventory.ts";
import { LiveJudgingInputs } from "./judging-inputs.ts";
import type { Part, PartContext } from "../kube/part.ts";
import { CertificateRotation, register, servingMaterial } from "./webhook-tls.ts";
import type { RegistrationOptions } from "./webhook-tls.ts";

export interface WebhookPartOptions {
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
  /** Name of the webhook configurations (default "vakt"). */
  readonly webhookName?: string;
  /** Only namespaces with these labels are judged (default: every namespace not excluded). */
  readonly namespaceLabels?: Readonly<Record<string, string>>;
}

/** What runs while the part runs. */
interface Running {
  readonly server: WebhookServer;
  readonly rotation?: CertificateRotation;
}

export class WebhookPart implements Part {
  readonly name = "webhook";
  readonly leaderElection = false;
  readonly servesProbes = true;
  /** Exceptions, configuration and inventory, live (shared with the audit when both run). */
  readonly inputs: LiveJudgingInputs;
  readonly #options: WebhookPartOptions;
  readonly #lifetimes: CertificateLifetimes;
  #running: Running | undefined;

  constructor(options: WebhookPartOptions, inputs: LiveJudgingInputs = new LiveJudgingInputs()) {
    this.#options = options;
    this.inputs = inputs;
    // Validated before anything starts; used when vakt makes its own CA (no tlsDir).
    this.#lifetimes = certificateLifetimes(options.selfSigned?.lifetimes);
  }

  /** The HTTPS server, once started. */
  get server(): WebhookServer {
    if (this.#running === undefined) throw new Error("the webhook part is not running");
    return this.#running.server;
  }

  /** Every rule runs at admission; relational ones read the live inventory (ADR 0008). */
  get state(): AdmissionState {
    return this.inputs.state;
  }

  /** The objects relational rules look up (NetworkPolicies, PodDisruptionBudgets, ...). */
  get inventory(): LiveInventory {
    const inventory = this.inputs.inventory;
    if (this.#running === undefined || inventory === undefined)
      throw new Error("the webhook part is not running");
    return inventory;
  }

  async start(context: PartContext): Promise<void> {
    this.inputs.acquire(context.client, context.logger);
    try {
      await this.#serve(context);
    } catch (error) {
      // What started is stopped again: a part that fails to start holds nothing.
      if (this.#running !== undefined) await this.stop();
      else await this.inputs.release();
      throw error;
    }
  }

  /** Starts the HTTPS server, then registers it and renews its certificate when vakt signs it. */
  async #serve(context: PartContext): Promise<void> {
    const { client, logger } = context;
    const options = this.#options;
    const { tls, selfSigned } = await servingMaterial(client, {
      webhookHost: options.webhookHost,
      lifetimes: this.#lifetimes,
      ...(options.tlsDir === undefined ? {} : { tlsDir: options.tlsDir }),
      ...(options.registerUrl === undefined ? {} : { registerUrl: options.registerUrl }),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.selfSigned?.dnsNames === undefined ? {} : { dnsNames: options.selfSigned.dnsNames }),
      ...(options.selfSigned?.ipAddresses === undefined
        ? {}
        : { ipAddresses: options.selfSigned.ipAddresses }),
    });
    const server = await startWebhookServer({
      state: this.state,
      tls,
      host: options.webhookHost,
      port: options.webhookPort,
      logger: logger.child({ component: "webhook" }),
      registry: context.registry,
      ready: () => context.allReady(),
      conditions: () => context.allConditions(),
    });
    this.#running = { server };
    if (selfSigned === undefined) return;
    const registration = this.#registration();
    const publish = (material: ServingMaterial): Promise<void> =>
      register(client, registration, server.port, material, logger);
    await publish(await selfSigned.current());
    logger.info({ webhookConfigurations: registration.name }, "caBundle published");
    const rotation = new CertificateRotation({
      serving: selfSigned,
      served: tls,
      publish,
      serve: (material) => {
        server.setSecureContext(material);
      },
      logger,
    });
    rotation.start();
    this.#running = { ...this.#running, rotation };
  }

  /** The first lists of exceptions, configuration and inventory have arrived. */
  ready(): boolean {
    return this.#running !== undefined && this.inputs.synced;
  }

  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    if (running === undefined) return;
    await running.rotation?.stop();
    await running.server.close();
    await this.inputs.release();
  }

  #registration(): RegistrationOptions {
    const options = this.#options;
    return {
      name: options.webhookName ?? "vakt",
      failurePolicy: options.failurePolicy,
      timeoutSeconds: options.timeoutSeconds,
      excludedNamespaces: options.excludedNamespaces,
      ...(options.registerUrl === undefined ? {} : { registerUrl: options.registerUrl }),
      ...(options.namespaceLabels === undefined ? {} : { namespaceLabels: options.namespaceLabels }),
    };
  }
}
