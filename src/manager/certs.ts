import { createCertificateAuthority, issueCertificate } from "../devcluster/pki.ts";
import type { IssuedCertificate } from "../devcluster/pki.ts";

/** What the webhook server serves with, and what the webhook configurations must trust. */
export interface ServingMaterial {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** PEM bundle for caBundle: the current CA, plus the previous one during a CA rotation. */
  readonly caBundle: string;
  readonly notAfter: Date;
}

export interface SelfSignedOptions {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Serving certificate lifetime; renewed when a third of it remains. */
  readonly servingDays: number;
  /** CA lifetime; a new CA is made when a third remains, and both are trusted for a while. */
  readonly caDays: number;
  readonly now?: () => Date;
  /**
   * Where the CA lives when several replicas must trust the same one (a Secret). `save` returns
   * the CA that is stored after the call: the given one, or one another replica saved first.
   */
  readonly store?: CaStore;
}

export interface CaStore {
  load(): Promise<IssuedCertificate | undefined>;
  save(ca: IssuedCertificate, replacing: IssuedCertificate | undefined): Promise<IssuedCertificate>;
}

/**
 * A certificate authority vakt bootstraps for its own webhook, and the serving certificate it
 * signs. `rotateIfDue()` renews the serving certificate (and the CA) before expiry; the caller
 * then swaps the server's TLS context and updates the webhook configurations' caBundle.
 */
export class SelfSignedServing {
  readonly #options: SelfSignedOptions;
  #ca: IssuedCertificate | undefined;
  #previousCa: IssuedCertificate | undefined;
  #material: ServingMaterial | undefined;

  constructor(options: SelfSignedOptions) {
    this.#options = options;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  static dueAt(notBefore: Date, notAfter: Date): Date {
    const lifetime = notAfter.getTime() - notBefore.getTime();
    return new Date(notAfter.getTime() - lifetime / 3);
  }

  /** The current material, creating it on first use. */
  async current(): Promise<ServingMaterial> {
    if (this.#material === undefined) await this.rotateIfDue();
    if (this.#material === undefined) throw new Error("serving certificate could not be created");
    return this.#material;
  }

  /** When the next renewal is due. */
  nextRotation(): Date | undefined {
    if (this.#ca === undefined || this.#material === undefined) return undefined;
    const serving = SelfSignedServing.dueAt(
      new Date(this.#material.notAfter.getTime() - this.#options.servingDays * 86_400_000),
      this.#material.notAfter,
    );
    const ca = SelfSignedServing.dueAt(this.#ca.certificate.notBefore, this.#ca.certificate.notAfter);
    return serving < ca ? serving : ca;
  }

  /** Renews what is due; returns true when anything changed. */
  async rotateIfDue(): Promise<boolean> {
    const now = this.#now();
    let changed = false;
    const store = this.#options.store;
    if (this.#ca === undefined && store !== undefined) {
      this.#ca = await store.load();
      changed = this.#ca !== undefined;
    }
    if (
      this.#ca === undefined ||
      SelfSignedServing.dueAt(this.#ca.certificate.notBefore, this.#ca.certificate.notAfter) <= now
    ) {
      const replacing = this.#ca;
      const created = await createCertificateAuthority("vakt-webhook-ca", this.#options.caDays, now);
      this.#ca = store === undefined ? created : await store.save(created, replacing);
      this.#previousCa = replacing;
      changed = true;
    }
    const material = this.#material;
    const servingDue =
      material === undefined ||
      changed ||
      SelfSignedServing.dueAt(
        new Date(material.notAfter.getTime() - this.#options.servingDays * 86_400_000),
        material.notAfter,
      ) <= now;
    if (servingDue) {
      const serving = await issueCertificate(this.#ca, {
        commonName: this.#options.dnsNames[0] ?? "vakt-webhook",
        dnsNames: this.#options.dnsNames,
        ipAddresses: this.#options.ipAddresses,
        usage: "server",
        validDays: this.#options.servingDays,
        now,
      });
      const stillTrusted =
        this.#previousCa !== undefined && this.#previousCa.certificate.notAfter > now
          ? this.#previousCa.certificatePem
          : "";
      this.#material = {
        certificatePem: serving.certificatePem + this.#ca.certificatePem,
        privateKeyPem: serving.privateKeyPem,
        caBundle: this.#ca.certificatePem + stillTrusted,
        notAfter: serving.certificate.notAfter,
      };
      changed = true;
    }
    return changed;
  }
}
