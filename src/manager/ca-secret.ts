import { CoreV1Api } from "@kubernetes/client-node";
import type { V1Secret } from "@kubernetes/client-node";
import { loadCertificateAuthority } from "../devcluster/pki.ts";
import type { IssuedCertificate } from "../devcluster/pki.ts";
import type { CaStore } from "./certs.ts";

function statusOf(error: unknown): number | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "number"
    ? error.code
    : undefined;
}

function decode(secret: V1Secret, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/**
 * The webhook CA in a Secret, shared by every replica: the first replica to start creates it,
 * the others (and later restarts) load it. Rotation replaces it with optimistic concurrency, so
 * two replicas rotating at once agree on one CA.
 */
export function secretCaStore(core: CoreV1Api, namespace: string, name: string): CaStore {
  const read = async (): Promise<{ secret: V1Secret; ca: IssuedCertificate } | undefined> => {
    let secret: V1Secret;
    try {
      secret = await core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    const cert = decode(secret, "ca.crt");
    const key = decode(secret, "ca.key");
    if (cert === undefined || key === undefined) {
      throw new Error(
        `Secret ${namespace}/${name} lacks ca.crt or ca.key; delete it to let vakt create a new CA`,
      );
    }
    return { secret, ca: await loadCertificateAuthority(cert, key) };
  };
  const data = (ca: IssuedCertificate): Record<string, string> => ({
    "ca.crt": Buffer.from(ca.certificatePem).toString("base64"),
    "ca.key": Buffer.from(ca.privateKeyPem).toString("base64"),
  });
  return {
    async load() {
      return (await read())?.ca;
    },
    async save(ca, replacing) {
      const current = await read();
      if (current === undefined) {
        try {
          await core.createNamespacedSecret({
            namespace,
            body: {
              metadata: {
                name,
                namespace,
                labels: { "app.kubernetes.io/name": "vakt", "app.kubernetes.io/managed-by": "vakt" },
              },
              type: "Opaque",
              data: data(ca),
            },
          });
          return ca;
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
          const winner = await read();
          if (winner === undefined)
            throw new Error(`Secret ${namespace}/${name} vanished while creating it`, { cause: error });
          return winner.ca;
        }
      }
      // Someone else already replaced the CA we meant to replace: use theirs.
      if (replacing === undefined || current.ca.certificatePem !== replacing.certificatePem)
        return current.ca;
      try {
        // resourceVersion from the read makes this a compare-and-swap.
        const body = current.secret;
        body.data = data(ca);
        await core.replaceNamespacedSecret({ name, namespace, body });
        return ca;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        return (await read())?.ca ?? ca;
      }
    },
  };
}
