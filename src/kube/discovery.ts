/**
 * Which kinds the API server serves, from discovery (/api/v1, /apis/<group>/<version>), cached
 * per group version. A group version that is not served (its CRD is not installed) is
 * remembered for a short while only, so that installing cert-manager later is noticed.
 */
import type { ApiResource, KubeClient } from "./client.ts";
import { KubeError } from "./client.ts";

export interface DiscoveryOptions {
  /** How long "not installed" is believed (default 10 s). */
  readonly missingTtlMs?: number;
  readonly now?: () => number;
}

/** Looks up a kind; undefined when its API (CRD) is not installed. */
export type DiscoverFn = (apiVersion: string, kind: string) => Promise<ApiResource | undefined>;

export interface Discovery {
  readonly resourceFor: DiscoverFn;
  /** Forget what is known about a group version (after a 404 from a resource believed served). */
  readonly invalidate: (apiVersion: string) => void;
}

interface Entry {
  readonly kinds: ReadonlyMap<string, ApiResource>;
  readonly expires: number;
}

export function makeDiscovery(client: KubeClient, options: DiscoveryOptions = {}): Discovery {
  const missingTtlMs = options.missingTtlMs ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();

  const load = async (apiVersion: string): Promise<Entry> => {
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    try {
      const { body } = await client.request("GET", path);
      const kinds = new Map<string, ApiResource>();
      for (const resource of (body["resources"] ?? []) as {
        name: string;
        kind: string;
        namespaced: boolean;
      }[]) {
        if (resource.name.includes("/")) continue; // subresources such as tenants/status
        kinds.set(resource.kind, {
          apiVersion,
          kind: resource.kind,
          plural: resource.name,
          namespaced: resource.namespaced,
        });
      }
      // A served group version can gain kinds (one more CRD of the same group): re-read it now and then.
      return { kinds, expires: now() + (kinds.size === 0 ? missingTtlMs : 60_000) };
    } catch (error) {
      if (error instanceof KubeError && error.code === 404)
        return { kinds: new Map(), expires: now() + missingTtlMs };
      throw error;
    }
  };

  return {
    async resourceFor(apiVersion, kind) {
      let entry = cache.get(apiVersion);
      if (entry === undefined || entry.expires <= now()) {
        let pending = inflight.get(apiVersion);
        if (pending === undefined) {
          pending = load(apiVersion).finally(() => inflight.delete(apiVersion));
          inflight.set(apiVersion, pending);
        }
        entry = await pending;
        cache.set(apiVersion, entry);
      }
      return entry.kinds.get(kind);
    },
    invalidate: (apiVersion) => {
      cache.delete(apiVersion);
    },
  };
}
