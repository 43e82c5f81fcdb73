import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { createCertificateAuthority } from "../devcluster/pki.ts";
import { SelfSignedServing, caCreatedAt, certificateLifetimes, memoryCaStore } from "./certs.ts";
import type { ServingMaterial } from "./certs.ts";

const DAY = 86_400_000;

function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

/** The CA in `bundle` that signed the serving certificate, by position; -1 when none did. */
function signerIndex(material: ServingMaterial): number {
  const leaf = certificates(material.certificatePem)[0];
  assert.ok(leaf !== undefined);
  return certificates(material.caBundle).findIndex((ca) => leaf.verify(ca.publicKey));
}

describe("certificateLifetimes", () => {
  it("defaults to a 365-day CA and 30-day serving certificates, renewed when a third remains", () => {
    const lifetimes = certificateLifetimes();
    assert.equal(lifetimes.caLifetimeMs, 365 * DAY);
    assert.equal(lifetimes.caRenewBeforeMs, Math.round((365 * DAY) / 3));
    assert.equal(lifetimes.caPublishAheadMs, 10 * 60_000);
    assert.equal(lifetimes.servingLifetimeMs, 30 * DAY);
    assert.equal(lifetimes.servingRenewBeforeMs, 10 * DAY);
  });

  it("derives the margins from a lifetime given alone", () => {
    const lifetimes = certificateLifetimes({ caLifetimeMs: 30_000, servingLifetimeMs: 9_000 });
    assert.equal(lifetimes.caRenewBeforeMs, 10_000);
    assert.equal(lifetimes.caPublishAheadMs, 2_500);
    assert.equal(lifetimes.servingRenewBeforeMs, 3_000);
  });

  it("refuses a renewal margin not below the lifetime, and a publish-ahead the rotation cannot fit", () => {
    assert.throws(
      () => certificateLifetimes({ caLifetimeMs: 20_000, caRenewBeforeMs: 20_000 }),
      /caRenewBeforeMs \(20000\) must be at least 2 s less than caLifetimeMs/,
    );
    assert.throws(
      () => certificateLifetimes({ servingLifetimeMs: 10_000, servingRenewBeforeMs: 12_000 }),
      /servingRenewBeforeMs \(12000\) must be at least 2 s less than servingLifetimeMs/,
    );
    assert.throws(
      () => certificateLifetimes({ caLifetimeMs: 30_000, caRenewBeforeMs: 10_000, caPublishAheadMs: 10_000 }),
      /caPublishAheadMs \(10000\) must be less than caRenewBeforeMs/,
    );
    assert.throws(
      () => certificateLifetimes({ caLifetimeMs: 30_000, caRenewBeforeMs: 25_000, caPublishAheadMs: 6_000 }),
      /caPublishAheadMs \(6000\) must be less than caLifetimeMs - caRenewBeforeMs \(5000\)/,
    );
    assert.throws(() => certificateLifetimes({ servingLifetimeMs: Number.NaN }), /at least 1000 ms/);
    assert.throws(() => certificateLifetimes({ caPublishAheadMs: 10 }), /caPublishAheadMs must be at least/);
  });
});

describe("SelfSignedServing", () => {
  it("dates a CA from when it was made (pki.ts backdates validity by the clock slack)", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const ca = await createCertificateAuthority("t", 1, now);
    assert.equal(caCreatedAt(ca), now.getTime());
  });

  it("issues a serving certificate for the given names, signed by the CA in the bundle", async () => {
    const serving = new SelfSignedServing({ dnsNames: ["vakt.vakt-system.svc"], ipAddresses: ["127.0.0.1"] });
    const material = await serving.current();
    const leaf = new X509Certificate(material.certificatePem);
    const ca = new X509Certificate(material.caBundle);
    assert.ok(leaf.verify(ca.publicKey), "leaf must be signed by the CA in caBundle");
    assert.equal(material.issuerPem, material.caBundle);
    assert.match(leaf.subjectAltName ?? "", /DNS:vakt\.vakt-system\.svc/);
    assert.match(leaf.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  });

  it("makes certificates that live the configured time from now, also when it is seconds", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const serving = new SelfSignedServing({
      dnsNames: ["a"],
      ipAddresses: [],
      lifetimes: { caLifetimeMs: 30_000, servingLifetimeMs: 9_000 },
      now: () => now,
    });
    const material = await serving.current();
    assert.equal(material.notAfter.getTime(), now.getTime() + 9_000);
    const ca = certificates(material.caBundle)[0];
    assert.equal(ca?.validToDate.getTime(), now.getTime() + 30_000);
    assert.equal(serving.nextRotation()?.getTime(), now.getTime() + 6_000, "serving renewal first");
  });

  it("renews the serving certificate when a third of its life remains, and not before", async () => {
    let now = new Date();
    const serving = new SelfSignedServing({ dnsNames: ["a"], ipAddresses: [], now: () => now });
    const first = await serving.current();
    now = new Date(now.getTime() + 10 * DAY);
    assert.equal(await serving.rotateIfDue(), false);
    assert.equal((await serving.current()).certificatePem, first.certificatePem);
    now = new Date(now.getTime() + 11 * DAY);
    assert.equal(await serving.rotateIfDue(), true);
    const second = await serving.current();
    assert.notEqual(second.certificatePem, first.certificatePem);
    assert.equal(second.caBundle, first.caBundle, "the CA is not due yet");
  });

  it("publishes a new CA before signing with it, and trusts the previous one until it expires", async () => {
    const start = new Date("2030-01-01T00:00:00Z").getTime();
    let now = new Date(start);
    const serving = new SelfSignedServing({
      dnsNames: ["a"],
      ipAddresses: [],
      lifetimes: {
        caLifetimeMs: 30 * DAY,
        caRenewBeforeMs: 10 * DAY,
        caPublishAheadMs: DAY,
        servingLifetimeMs: 9 * DAY,
        servingRenewBeforeMs: 3 * DAY,
      },
      now: () => now,
    });
    const first = await serving.current();
    assert.equal(certificates(first.caBundle).length, 1);

    // Day 20: the CA is due. The new one is published next to the old, which still signs.
    now = new Date(start + 20 * DAY);
    assert.equal(await serving.rotateIfDue(), true);
    const published = await serving.current();
    const bundle = certificates(published.caBundle);
    assert.equal(bundle.length, 2, "new and previous CA");
    assert.ok(published.caBundle.endsWith(first.caBundle), "the previous CA stays in the bundle");
    assert.equal(signerIndex(published), 1, "still signed by the previous CA");
    assert.equal(serving.nextRotation()?.getTime(), start + 21 * DAY, "wakes up to switch");

    // A day later every API server trusts the new CA: serve a certificate it signed.
    now = new Date(start + 21 * DAY);
    assert.equal(await serving.rotateIfDue(), true);
    const switched = await serving.current();
    assert.equal(switched.caBundle, published.caBundle);
    assert.equal(signerIndex(switched), 0, "signed by the new CA");
    assert.equal(serving.nextRotation()?.getTime(), start + 27 * DAY, "serving renewal");

    // Day 30: the previous CA expires and leaves the bundle.
    now = new Date(start + 27 * DAY);
    assert.equal(await serving.rotateIfDue(), true);
    assert.equal(serving.nextRotation()?.getTime(), start + 30 * DAY, "previous CA expiry");
    now = new Date(start + 30 * DAY + 1);
    assert.equal(await serving.rotateIfDue(), true);
    const after = await serving.current();
    assert.equal(certificates(after.caBundle).length, 1);
    assert.equal(after.caBundle, switched.issuerPem);
  });

  it("replicas sharing a store agree on one CA, the bundle and the signer, also one started mid-rollover", async () => {
    const start = new Date("2030-01-01T00:00:00Z").getTime();
    let now = new Date(start);
    const store = memoryCaStore();
    const lifetimes = { caLifetimeMs: 30 * DAY, caRenewBeforeMs: 10 * DAY, caPublishAheadMs: DAY };
    const replica = (): SelfSignedServing =>
      new SelfSignedServing({ dnsNames: ["a"], ipAddresses: [], lifetimes, store, now: () => now });
    const a = replica();
    const b = replica();
    const [first, firstB] = await Promise.all([a.current(), b.current()]);
    assert.equal(first.caBundle, firstB.caBundle, "one CA for both");

    now = new Date(start + 20 * DAY);
    await Promise.all([a.rotateIfDue(), b.rotateIfDue()]);
    const late = replica();
    const [ma, mb, ml] = await Promise.all([a.current(), b.current(), late.current()]);
    assert.equal(certificates(ma.caBundle).length, 2);
    assert.equal(mb.caBundle, ma.caBundle);
    assert.equal(ml.caBundle, ma.caBundle, "a replica started mid-rollover still trusts the previous CA");
    for (const m of [ma, mb, ml]) assert.equal(m.issuerPem, first.issuerPem, "the previous CA signs");

    now = new Date(start + 21 * DAY);
    await Promise.all([a.rotateIfDue(), b.rotateIfDue(), late.rotateIfDue()]);
    const issuers = new Set(await Promise.all([a, b, late].map(async (r) => (await r.current()).issuerPem)));
    assert.equal(issuers.size, 1);
    assert.notEqual([...issuers][0], first.issuerPem);
  });
});
