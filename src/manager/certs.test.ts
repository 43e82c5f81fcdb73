import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { SelfSignedServing } from "./certs.ts";

describe("SelfSignedServing", () => {
  it("issues a serving certificate for the given names, signed by the CA in the bundle", async () => {
    const serving = new SelfSignedServing({
      dnsNames: ["vakt.vakt-system.svc"],
      ipAddresses: ["127.0.0.1"],
      servingDays: 30,
      caDays: 365,
    });
    const material = await serving.current();
    const leaf = new X509Certificate(material.certificatePem);
    const ca = new X509Certificate(material.caBundle);
    assert.ok(leaf.verify(ca.publicKey), "leaf must be signed by the CA in caBundle");
    assert.match(leaf.subjectAltName ?? "", /DNS:vakt\.vakt-system\.svc/);
    assert.match(leaf.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
  });

  it("renews the serving certificate when a third of its life remains, and not before", async () => {
    let now = new Date();
    const serving = new SelfSignedServing({
      dnsNames: ["a"],
      ipAddresses: [],
      servingDays: 30,
      caDays: 365,
      now: () => now,
    });
    const first = await serving.current();
    now = new Date(now.getTime() + 10 * 86_400_000);
    assert.equal(await serving.rotateIfDue(), false);
    assert.equal((await serving.current()).certificatePem, first.certificatePem);
    now = new Date(now.getTime() + 11 * 86_400_000);
    assert.equal(await serving.rotateIfDue(), true);
    const second = await serving.current();
    assert.notEqual(second.certificatePem, first.certificatePem);
    assert.equal(second.caBundle, first.caBundle, "the CA is not due yet");
  });

  it("rotates the CA before expiry and keeps trusting the previous CA meanwhile", async () => {
    let now = new Date();
    const serving = new SelfSignedServing({
      dnsNames: ["a"],
      ipAddresses: [],
      servingDays: 10,
      caDays: 30,
      now: () => now,
    });
    const first = await serving.current();
    now = new Date(now.getTime() + 21 * 86_400_000);
    assert.equal(await serving.rotateIfDue(), true);
    const second = await serving.current();
    assert.ok(
      second.caBundle.includes(first.caBundle.trim()),
      "the old CA stays in the bundle until it expires",
    );
    assert.equal(second.caBundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.ok((serving.nextRotation()?.getTime() ?? 0) > now.getTime());
  });
});
