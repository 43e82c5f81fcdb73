import { KubeConfig } from "@kubernetes/client-node";
import { KubeError, makeKubeClient } from "../kube/client.ts";

/** A node kwok simulates: its name and the labels it reports besides kwok's own. */
export interface FakeNode {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Creates Node objects that kwok (started with the matching selector) keeps Ready; existing ones stay. */
export async function createNodes(kubeconfig: string, nodes: readonly FakeNode[]): Promise<void> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  const client = makeKubeClient(config, { maxConnections: 1 });
  try {
    for (const node of nodes) {
      try {
        await client.request("POST", "/api/v1/nodes", {
          body: {
            apiVersion: "v1",
            kind: "Node",
            metadata: {
              name: node.name,
              annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
              labels: {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/agent": "",
                type: "kwok",
                ...node.labels,
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

/** Creates `count` Node objects kwok-node-<i> that kwok keeps Ready. */
export async function createFakeNodes(kubeconfig: string, count: number): Promise<void> {
  await createNodes(
    kubeconfig,
    Array.from({ length: count }, (_, index) => ({ name: `kwok-node-${index}` })),
  );
}
