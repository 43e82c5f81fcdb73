import { pino } from "pino";
import { getOk } from "../devcluster/cluster.ts";
import { startManager } from "../manager/run.ts";
import type { RunningManager } from "../manager/run.ts";
import { kubectl, testKubeConfig } from "./cluster.ts";

/**
 * vakt's webhook in the test process, as on a host next to the control plane: registered under
 * `name` (failurePolicy Fail) for the namespaces carrying `namespaceLabels` only, so that other
 * test files sharing the cluster are not judged.
 */
export function startTestWebhook(
  name: string,
  namespaceLabels: Readonly<Record<string, string>>,
): Promise<RunningManager> {
  return startManager({
    kubeconfig: testKubeConfig(),
    webhookHost: "127.0.0.1",
    webhookPort: 0,
    registerUrl: "https://127.0.0.1:0",
    failurePolicy: "Fail",
    timeoutSeconds: 5,
    excludedNamespaces: ["kube-system"],
    installCrds: true,
    webhookName: name,
    namespaceLabels,
    logger: pino({ level: "silent" }),
  });
}

/** Whether the webhook's /readyz answers 200 (its certificate is vakt's own: not verified). */
export async function webhookReady(manager: RunningManager | undefined): Promise<boolean> {
  const url = manager?.webhook.url;
  return url === undefined ? false : getOk(`${url}/readyz`, "insecure");
}

/** Deletes the webhook configurations registered under `name`. */
export async function unregisterTestWebhook(name: string): Promise<void> {
  await kubectl([
    "delete",
    "validatingwebhookconfiguration,mutatingwebhookconfiguration",
    name,
    "--ignore-not-found",
  ]);
}
