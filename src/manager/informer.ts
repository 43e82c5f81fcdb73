import { CustomObjectsApi, makeInformer } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesObject, ListPromise } from "@kubernetes/client-node";
import type { Logger } from "pino";

export interface WatchHandlers<T> {
  /** Every change: the full current list (simple and level-triggered). */
  readonly onList: (objects: readonly T[]) => void;
}

export interface CustomResourceWatch {
  /** True once the first list has arrived. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

/**
 * List-then-watch of a cluster-wide custom resource, re-established with capped exponential
 * backoff when the watch fails (API server restart, CRD not installed yet). Hands the whole
 * current list to `onList` after every change.
 */
export function watchCustomResources<T extends KubernetesObject>(
  config: KubeConfig,
  resource: { readonly group: string; readonly version: string; readonly plural: string },
  handlers: WatchHandlers<T>,
  logger: Logger,
): CustomResourceWatch {
  const api = config.makeApiClient(CustomObjectsApi);
  const list: ListPromise<T> = async () =>
    (await api.listClusterCustomObject({ ...resource })) as Awaited<ReturnType<ListPromise<T>>>;
  const informer = makeInformer(
    config,
    `/apis/${resource.group}/${resource.version}/${resource.plural}`,
    list,
  );
  let synced = false;
  let stopped = false;
  let delayMs = 200;
  let timer: NodeJS.Timeout | undefined;
  const publish = (): void => {
    synced = true;
    delayMs = 200;
    handlers.onList(informer.list());
  };
  informer.on("add", publish);
  informer.on("update", publish);
  informer.on("delete", publish);
  informer.on("connect", () => {
    // An empty list produces no add events; connect after a successful list means synced.
    publish();
  });
  informer.on("error", (error: unknown) => {
    if (stopped) return;
    logger.warn(
      {
        resource: resource.plural,
        error: error instanceof Error ? error.message : String(error),
        retryInMs: delayMs,
      },
      "watch failed; retrying",
    );
    timer = setTimeout(() => {
      void informer.start().catch(() => undefined);
    }, delayMs);
    delayMs = Math.min(delayMs * 2, 10_000);
  });
  void informer.start().catch((error: unknown) => {
    logger.warn(
      { resource: resource.plural, error: error instanceof Error ? error.message : String(error) },
      "initial list failed; retrying",
    );
  });
  return {
    get synced() {
      return synced;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await informer.stop();
    },
  };
}
