/**
 * The caBundle of admission webhook configurations that someone else created (`vakt install`),
 * kept current by the process that serves the webhook with a CA it made itself.
 */
import type { Json, KubeClient } from "./client.ts";
import { KubeError } from "./client.ts";

const ADMISSION_PATH = "/apis/admissionregistration.k8s.io/v1";

interface WebhookConfiguration extends Json {
  webhooks?: { clientConfig: { caBundle?: string } }[];
}

/**
 * Sets caBundle on every webhook of the validating and mutating configurations named `name`.
 * A configuration that does not exist is skipped.
 */
export async function updateCaBundles(client: KubeClient, name: string, caBundle: string): Promise<void> {
  const encoded = Buffer.from(caBundle).toString("base64");
  for (const plural of ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]) {
    await updateCaBundle(client, `${ADMISSION_PATH}/${plural}/${encodeURIComponent(name)}`, encoded);
  }
}

async function updateCaBundle(client: KubeClient, path: string, encoded: string): Promise<void> {
  // Read-modify-write with the object's resourceVersion: replicas updating at the same time get
  // a 409 and retry on the fresh object, so no write is lost.
  for (let attempt = 0; ; attempt++) {
    let object: WebhookConfiguration;
    try {
      object = (await client.request("GET", path)).body;
    } catch (error) {
      if (error instanceof KubeError && error.code === 404) return;
      throw error;
    }
    const webhooks = object.webhooks ?? [];
    if (webhooks.every((webhook) => webhook.clientConfig.caBundle === encoded)) return;
    for (const webhook of webhooks) webhook.clientConfig.caBundle = encoded;
    try {
      await client.request("PUT", path, { body: object });
      return;
    } catch (error) {
      if (!(error instanceof KubeError && error.code === 409) || attempt >= 10) throw error;
    }
  }
}
