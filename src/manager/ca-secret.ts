import { loadCertificateAuthority } from "../devcluster/pki.ts";
import { KubeError } from "../kube/client.ts";
import type { Json, KubeClient } from "../kube/client.ts";
import type { CaGeneration, CaStore } from "./certs.ts";

/** The fields of a Secret read here; the rest (metadata.resourceVersion) goes back as read. */
interface Secret extends Json {
  data?: Record<string, string>;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof KubeError ? error.code : undefined;
}

function decode(secret: Secret, key: string): string | undefined {
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

/**
 * The webhook CA in a Secret, shared by every replica: the first replica to start creates it,
 * the others (and later restarts) load it. Rotation replaces it with optimistic concurrency, so
 * two replicas rotating at once agree on one CA. The CA it replaced is kept beside it
 * (ca-previous.crt, ca-previous.key): every replica, including one started during the rollover,
 * keeps trusting it and signs with it until the new CA has been published long enough.
 */
export function secretCaStore(client: KubeClient, namespace: string, name: string): CaStore {
  const secrets = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const path = `${secrets}/${encodeURIComponent(name)}`;
  const read = async (): Promise<{ secret: Secret; generation: CaGeneration } | undefined> => {
    let secret: Secret;
    try {
      secret = (await client.request("GET", path)).body;
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
    const current = await loadCertificateAuthority(cert, key);
    const previousCert = decode(secret, "ca-previous.crt");
    const previousKey = decode(secret, "ca-previous.key");
    if (previousCert === undefined || previousKey === undefined) return { secret, generation: { current } };
    return {
      secret,
      generation: { current, previous: await loadCertificateAuthority(previousCert, previousKey) },
    };
  };
  const data = (generation: CaGeneration): Record<string, string> => {
    const base64 = (text: string): string => Buffer.from(text).toString("base64");
    return {
      "ca.crt": base64(generation.current.certificatePem),
      "ca.key": base64(generation.current.privateKeyPem),
      ...(generation.previous === undefined
        ? {}
        : {
            "ca-previous.crt": base64(generation.previous.certificatePem),
            "ca-previous.key": base64(generation.previous.privateKeyPem),
          }),
    };
  };
  return {
    async load() {
      return (await read())?.generation;
    },
    async save(ca, replacing) {
      const current = await read();
      if (current === undefined) {
        try {
          await client.request("POST", secrets, {
            body: {
              apiVersion: "v1",
              kind: "Secret",
              metadata: {
                name,
                namespace,
                labels: { "app.kubernetes.io/name": "vakt", "app.kubernetes.io/managed-by": "vakt" },
              },
              type: "Opaque",
              data: data({ current: ca }),
            },
          });
          return { current: ca };
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
          const winner = await read();
          if (winner === undefined)
            throw new Error(`Secret ${namespace}/${name} vanished while creating it`, { cause: error });
          return winner.generation;
        }
      }
      // Someone else already replaced the CA we meant to replace: use theirs.
      if (replacing === undefined || current.generation.current.certificatePem !== replacing.certificatePem)
        return current.generation;
      const generation = { current: ca, previous: current.generation.current };
      try {
        // resourceVersion from the read makes this a compare-and-swap.
        const body = current.secret;
        body.data = data(generation);
        await client.request("PUT", path, { body });
        return generation;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
        const winner = await read();
        if (winner === undefined)
          throw new Error(`Secret ${namespace}/${name} vanished while rotating the CA`, { cause: error });
        return winner.generation;
      }
    },
  };
}
