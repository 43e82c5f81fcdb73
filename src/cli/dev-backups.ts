/**
 * `vakt dev up --backups`: the BackupLocation that points vakt's backup part at the local
 * stack's off-site bucket (devcluster/backups.ts), with its credentials Secret and a daily drill
 * of every tenant through the drills' Velero.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { API_VERSION, BACKUP_LOCATION } from "../api/registry.ts";
import { backupLocationCrd } from "../backup/location.ts";
import type { BackupStack } from "../devcluster/backups.ts";
import { apply } from "../kube/apply.ts";
import { makeKubeClient } from "../kube/client.ts";

/** The BackupLocation's name in a dev cluster. */
export const DEV_BACKUP_LOCATION = "offsite";

export async function applyDevBackupLocation(kubeconfig: string, stack: BackupStack): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const client = makeKubeClient(config);
  try {
    await apply(client, backupLocationCrd());
    const deadline = Date.now() + 60_000;
    for (;;) {
      const served = await client
        .request("GET", `/apis/${API_VERSION}/${BACKUP_LOCATION.plural}`)
        .then(() => true)
        .catch(() => false);
      if (served) break;
      if (Date.now() > deadline)
        throw new Error(
          `the BackupLocation CRD was not served within 60 s; see ${kubeconfig}'s API server log`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const secret = { namespace: stack.velero.namespace, name: `${DEV_BACKUP_LOCATION}-s3` };
    await apply(client, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: secret,
      stringData: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
    });
    await apply(client, {
      apiVersion: API_VERSION,
      kind: BACKUP_LOCATION.kind,
      metadata: { name: DEV_BACKUP_LOCATION },
      spec: {
        s3: {
          bucket: stack.offsiteBucket,
          region: stack.region,
          endpoint: stack.endpoint,
          forcePathStyle: true,
          credentialsSecret: secret,
        },
        jurisdiction: "SE",
        retention: { minimumDays: 1 },
        source: { veleroNamespace: stack.velero.namespace, storageLocation: stack.velero.location },
        drill: {
          interval: "daily",
          veleroNamespace: stack.drillVelero.namespace,
          storageLocation: stack.drillVelero.location,
        },
      },
    });
  } finally {
    await client.close?.();
  }
}
