// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export interface CertificatePem extends KeyPairPem {
  readonly certificatePem: string;
}

export interface IssuedCertificate extends CertificatePem {
  readonly keys: CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

export interface CertificateRequest {
  readonly commonName: string;
  readonly organization?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: "server" | "client" | "both";
  readonly validDays: number;
  /** Start of validity (minus a minute of clock slack); default now. */
  readonly now?: Date;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

function pem(label: string, der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, label) + "\n";
}

async function keyPem(keys: CryptoKeyPair): Promise<KeyPairPem> {
  return {
    privateKeyPem: pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
    publicKeyPem: pem("PUBLIC KEY", await webcrypto.subtle.exportKey("spki", keys.publicKey)),
  };
}

function subject(commonName: string, organization: readonly string[] = []): string {
  const escape = (value: string): string => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [...organization.map((o) => `O=${escape(o)}`), `CN=${escape(commonName)}`].join(", ");
}

function serial(): string {
  // Positive, 16 random bytes: unique per certificate as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/** A self-signed certificate authority. */
export async function createCertificateAuthority(
  commonName: string,
  validDays: number,
  now: Date = new Date(),
): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  // A minute of slack for clocks slightly behind ours.
  const notBefore = new Date(now.getTime() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(commonName),
    notBefore,
    notAfter: new Date(notBefore.getTime() + validDays * 86_400_000),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, certificate, certificatePem: certificate.toString("pem") + "\n", ...(await keyPem(keys)) };
}

/** A leaf certificate signed by `ca`. */
export async function issueCertificate(
  ca: IssuedCertificate,
  request: CertificateRequest,
): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  const notBefore = new Date((request.now ?? new Date()).getTime() - 60_000);
  const extendedUsages: x509.ExtendedKeyUsage[] = [];
  if (request.usage !== "client") extendedUsages.push(x509.ExtendedKeyUsage.serverAuth);
  if (request.usage !== "server") extendedUsages.push(x509.ExtendedKeyUsage.clientAuth);
  const altNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(request.commonName, request.organization),
    issuer: ca.certificate.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + request.validDays * 86_400_000),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(extendedUsages, false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames, false)] : []),
    ],
  });
  return { keys, certificate, certificatePem: certificate.toString("pem") + "\n", ...(await keyPem(keys)) };
}

/** A bare key pair (service-account token signing). */
export async function createKeyPair(): Promise<KeyPairPem> {
  return keyPem(await generateKeys());
}

/** A certificate authority from PEM (a CA stored in a Secret by an earlier run or another replica). */
export async function loadCertificateAuthority(
  certificatePem: string,
  privateKeyPem: string,
): Promise<IssuedCertificate> {
  const certificate = new x509.X509Certificate(certificatePem);
  const privateKey = await webcrypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(privateKeyPem),
    ALGORITHM,
    true,
    ["sign"],
  );
  const publicKey = await webcrypto.subtle.importKey("spki", certificate.publicKey.rawData, ALGORITHM, true, [
    "verify",
  ]);
  const keys: CryptoKeyPair = { privateKey, publicKey };
  return { keys, certificate, certificatePem, ...(await keyPem(keys)) };
}
