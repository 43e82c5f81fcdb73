import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** Creates `count` Node objects that kwok (started with the matching selector) keeps Ready. */
export async function createFakeNodes(kubeconfig: string, count: number): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const core = config.makeApiClient(CoreV1Api);
  for (let index = 0; index < count; index++) {
    const name = `kwok-node-${index}`;
    try {
      await core.createNode({
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
      if (!isConflict(error)) throw error;
    }
  }
}

function isConflict(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === 409;
}
