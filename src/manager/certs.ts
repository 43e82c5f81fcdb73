import { createCertificateAuthority, issueCertificate } from "../devcluster/pki.ts";
import type { IssuedCertificate } from "../devcluster/pki.ts";

const DAY_MS = 86_400_000;
/** devcluster/pki.ts starts every certificate's validity this much before `now` (clock slack). */
export const CLOCK_SLACK_MS = 60_000;

/** What the webhook server serves with, and what the webhook configurations must trust. */
export interface ServingMaterial {
  /** The serving certificate followed by the CA that signed it. */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** PEM bundle for caBundle: the current CA, plus the previous one until it expires. */
  readonly caBundle: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly issuerPem: string;
  readonly notAfter: Date;
}

/**
 * How long the self-made certificates live and when they are renewed. Renewal happens when
 * `*RenewBeforeMs` of a certificate's life remains. A new CA is published in caBundle (next to
 * the current one) `caPublishAheadMs` before any replica serves a certificate it signed, so that
 * every API server trusts it by then; the previous CA stays in caBundle until it expires.
 */
export interface CertificateLifetimes {
  readonly caLifetimeMs: number;
  readonly caRenewBeforeMs: number;
  readonly caPublishAheadMs: number;
  readonly servingLifetimeMs: number;
  readonly servingRenewBeforeMs: number;
}

/**
 * The lifetimes with defaults filled in, validated. Defaults: a CA for 365 days renewed when a
 * third remains, published 10 minutes ahead; serving certificates for 30 days renewed when a third
 * remains. A margin not given is derived from the lifetime given (a third of it), so overriding a
 * lifetime alone stays valid.
 */
export function certificateLifetimes(overrides: Partial<CertificateLifetimes> = {}): CertificateLifetimes {
  const caLifetimeMs = overrides.caLifetimeMs ?? 365 * DAY_MS;
  const caRenewBeforeMs = overrides.caRenewBeforeMs ?? Math.round(caLifetimeMs / 3);
  const servingLifetimeMs = overrides.servingLifetimeMs ?? 30 * DAY_MS;
  const lifetimes: CertificateLifetimes = {
    caLifetimeMs,
    caRenewBeforeMs,
    caPublishAheadMs:
      overrides.caPublishAheadMs ??
      Math.min(10 * 60_000, Math.round(Math.min(caRenewBeforeMs, caLifetimeMs - caRenewBeforeMs) / 4)),
    servingLifetimeMs,
    servingRenewBeforeMs: overrides.servingRenewBeforeMs ?? Math.round(servingLifetimeMs / 3),
  };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(lifetimes) as [keyof CertificateLifetimes, number][]) {
    // Certificates carry whole seconds; shorter figures would be rounded away.
    if (!Number.isFinite(value) || value < 1_000)
      problems.push(`${key} must be at least 1000 ms, got ${value}`);
  }
  if (lifetimes.caLifetimeMs - lifetimes.caRenewBeforeMs < 2_000)
    problems.push(
      `caRenewBeforeMs (${lifetimes.caRenewBeforeMs}) must be at least 2 s less than caLifetimeMs (${lifetimes.caLifetimeMs})`,
    );
  if (lifetimes.servingLifetimeMs - lifetimes.servingRenewBeforeMs < 2_000)
    problems.push(
      `servingRenewBeforeMs (${lifetimes.servingRenewBeforeMs}) must be at least 2 s less than servingLifetimeMs (${lifetimes.servingLifetimeMs})`,
    );
  // The switch to a new CA must happen while the previous one is still valid, and before the
  // next rotation (which drops the CA before the previous one from the Secret).
  if (lifetimes.caPublishAheadMs >= lifetimes.caRenewBeforeMs)
    problems.push(
      `caPublishAheadMs (${lifetimes.caPublishAheadMs}) must be less than caRenewBeforeMs (${lifetimes.caRenewBeforeMs})`,
    );
  if (lifetimes.caPublishAheadMs >= lifetimes.caLifetimeMs - lifetimes.caRenewBeforeMs)
    problems.push(
      `caPublishAheadMs (${lifetimes.caPublishAheadMs}) must be less than caLifetimeMs - caRenewBeforeMs (${lifetimes.caLifetimeMs - lifetimes.caRenewBeforeMs})`,
    );
  if (problems.length > 0) throw new Error(`invalid certificate lifetimes: ${problems.join("; ")}`);
  return lifetimes;
}

/** The CA replicas sign with (`current`, the newest) and the one it replaced, if any. */
export interface CaGeneration {
  readonly current: IssuedCertificate;
  readonly previous?: IssuedCertificate;
}

export interface CaStore {
  load(): Promise<CaGeneration | undefined>;
  /**
   * Makes `ca` the current CA, the one it replaces becoming the previous, if the stored current
   * CA is still `replacing` (compare-and-swap). Returns what is stored after the call: the given
   * CA, or the one another replica saved first.
   */
  save(ca: IssuedCertificate, replacing: IssuedCertificate | undefined): Promise<CaGeneration>;
}

/** A CA store for one process (vakt as a host process next to a local control plane). */
export function memoryCaStore(): CaStore {
  let stored: CaGeneration | undefined;
  return {
    load() {
      return Promise.resolve(stored);
    },
    save(ca, replacing) {
      if (stored === undefined || stored.current.certificatePem === replacing?.certificatePem)
        stored = stored === undefined ? { current: ca } : { current: ca, previous: stored.current };
      return Promise.resolve(stored);
    },
  };
}

export interface SelfSignedOptions {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Defaults: see certificateLifetimes(). */
  readonly lifetimes?: Partial<CertificateLifetimes>;
  readonly now?: () => Date;
  /**
   * Where the CA lives; a Secret when several replicas must trust the same one. Default: in
   * memory, for this process only.
   */
  readonly store?: CaStore;
}

/** When a CA was made: pki.ts dates its validity from a minute before (to whole seconds). */
export function caCreatedAt(ca: IssuedCertificate): number {
  return ca.certificate.notBefore.getTime() + CLOCK_SLACK_MS;
}

/**
 * A certificate authority vakt bootstraps for its own webhook, and the serving certificate it
 * signs. Everything is derived from the stored CA generation and the clock, so replicas sharing
 * the store agree on caBundle and on which CA signs, without talking to each other:
 *
 * - when `caRenewBeforeMs` of the current CA's life remains, a replica makes a new CA (the
 *   store's compare-and-swap lets one win); caBundle becomes new + previous;
 * - serving certificates are still signed by the previous CA until `caPublishAheadMs` after the
 *   new one was made, so every API server trusts the new CA before it is served;
 * - the previous CA leaves caBundle when it expires.
 *
 * `rotateIfDue()` re-reads the store and renews what is due; the caller then publishes caBundle
 * and, after that, swaps the server's TLS context.
 */
export class SelfSignedServing {
  readonly #options: SelfSignedOptions;
  readonly #lifetimes: CertificateLifetimes;
  readonly #store: CaStore;
  #generation: CaGeneration | undefined;
  #material: ServingMaterial | undefined;

  constructor(options: SelfSignedOptions) {
    this.#options = options;
    this.#lifetimes = certificateLifetimes(options.lifetimes);
    this.#store = options.store ?? memoryCaStore();
  }

  get lifetimes(): CertificateLifetimes {
    return this.#lifetimes;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** The current material, creating it on first use. */
  async current(): Promise<ServingMaterial> {
    if (this.#material === undefined) await this.rotateIfDue();
    if (this.#material === undefined) throw new Error("serving certificate could not be created");
    return this.#material;
  }

  /** The previous CA while it is still valid. */
  static #previous(generation: CaGeneration, now: number): IssuedCertificate | undefined {
    const previous = generation.previous;
    return previous !== undefined && previous.certificate.notAfter.getTime() > now ? previous : undefined;
  }

  /** The CA that signs serving certificates at `now`. */
  #signer(generation: CaGeneration, now: number): IssuedCertificate {
    const previous = SelfSignedServing.#previous(generation, now);
    const published = caCreatedAt(generation.current) + this.#lifetimes.caPublishAheadMs;
    return previous !== undefined && now < published ? previous : generation.current;
  }

  /** When something is next due: a new CA, the switch to it, the old CA's expiry, a new serving certificate. */
  nextRotation(): Date | undefined {
    const generation = this.#generation;
    const material = this.#material;
    if (generation === undefined || material === undefined) return undefined;
    const now = this.#now().getTime();
    const times = [
      generation.current.certificate.notAfter.getTime() - this.#lifetimes.caRenewBeforeMs,
      material.notAfter.getTime() - this.#lifetimes.servingRenewBeforeMs,
    ];
    const previous = SelfSignedServing.#previous(generation, now);
    if (previous !== undefined) {
      times.push(previous.certificate.notAfter.getTime());
      if (this.#signer(generation, now) === previous)
        times.push(caCreatedAt(generation.current) + this.#lifetimes.caPublishAheadMs);
    }
    return new Date(Math.min(...times));
  }

  /** Re-reads the store and renews what is due; returns true when the material changed. */
  async rotateIfDue(): Promise<boolean> {
    const now = this.#now();
    const lifetimes = this.#lifetimes;
    let generation = await this.#store.load();
    if (
      generation === undefined ||
      generation.current.certificate.notAfter.getTime() - lifetimes.caRenewBeforeMs <= now.getTime()
    ) {
      // pki.ts dates validity from a minute before `now`: add it so the CA lives caLifetimeMs from now.
      const created = await createCertificateAuthority(
        "vakt-webhook-ca",
        (lifetimes.caLifetimeMs + CLOCK_SLACK_MS) / DAY_MS,
        now,
      );
      generation = await this.#store.save(created, generation?.current);
    }
    this.#generation = generation;

    const previous = SelfSignedServing.#previous(generation, now.getTime());
    const caBundle = generation.current.certificatePem + (previous?.certificatePem ?? "");
    const signer = this.#signer(generation, now.getTime());
    const material = this.#material;
    const servingDue =
      material === undefined ||
      material.issuerPem !== signer.certificatePem ||
      material.notAfter.getTime() - lifetimes.servingRenewBeforeMs <= now.getTime();
    if (!servingDue) {
      if (material.caBundle === caBundle) return false;
      this.#material = { ...material, caBundle };
      return true;
    }
    const serving = await issueCertificate(signer, {
      commonName: this.#options.dnsNames[0] ?? "vakt-webhook",
      dnsNames: this.#options.dnsNames,
      ipAddresses: this.#options.ipAddresses,
      usage: "server",
      validDays: (lifetimes.servingLifetimeMs + CLOCK_SLACK_MS) / DAY_MS,
      now,
    });
    this.#material = {
      certificatePem: serving.certificatePem + signer.certificatePem,
      privateKeyPem: serving.privateKeyPem,
      caBundle,
      issuerPem: signer.certificatePem,
      notAfter: serving.certificate.notAfter,
    };
    return true;
  }
}
