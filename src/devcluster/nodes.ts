import { KubeConfig } from "@kubernetes/client-node";
import { KubeError, makeKubeClient } from "../kube/client.ts";

/** Creates `count` Node objects that kwok (started with the matching selector) keeps Ready. */
export async function createFakeNodes(kubeconfig: string, count: number): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const client = makeKubeClient(config, { maxConnections: 1 });
  try {
    for (let index = 0; index < count; index++) {
      const name = `kwok-node-${index}`;
      try {
        await client.request("POST", "/api/v1/nodes", {
          body: {
            apiVersion: "v1",
            kind: "Node",
            metadata: {
              name,
              annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
              labels: {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
                type: "kwok",
              },
            },
            spec: { taints: [] },
          },
        });
      } catch (error) {
        // Already there (a second `vakt dev up` on the same state): kwok keeps it Ready.
        if (!(error instanceof KubeError && error.code === 409)) throw error;
      }
    }
  } finally {
    await client.close?.();
  }
}
