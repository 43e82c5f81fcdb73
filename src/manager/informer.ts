import type { Logger } from "pino";
import type { Json, KubeClient } from "../kube/client.ts";
import { KubeError, errorMessage } from "../kube/client.ts";
import { Reflector } from "../kube/reflector.ts";

/** A custom object as the API server sends it (whole: spec and status included). */
export interface CustomObject extends Json {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly [key: string]: unknown;
  };
}

export interface WatchHandlers<T> {
  /** Every change: the full current list (simple and level-triggered). */
  readonly onList: (objects: readonly T[]) => void;
}

export interface CustomResourceWatch {
  /** True once the first list has arrived. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

function keyOf(object: CustomObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/**
 * List-then-watch of a cluster-wide custom resource (kube/reflector.ts: resumes from the last
 * resourceVersion, lists again after a 410, retries with capped exponential backoff when the
 * API server restarts or the CRD is not installed yet). Keeps the objects, few and small
 * (PolicyExceptions, VaktConfiguration), and hands the whole current list to `onList` after
 * every list and every change.
 */
export function watchCustomResources(
  client: KubeClient,
  resource: { readonly group: string; readonly version: string; readonly plural: string },
  handlers: WatchHandlers<CustomObject>,
  logger: Logger,
): CustomResourceWatch {
  const objects = new Map<string, CustomObject>();
  const publish = (): void => {
    handlers.onList([...objects.values()]);
  };
  let missing = false;
  const reflector = new Reflector<CustomObject>({
    client,
    path: `/apis/${resource.group}/${resource.version}/${resource.plural}`,
    logger: logger.child({ resource: resource.plural }),
    transform: (object) => object,
    onList: (items) => {
      missing = false;
      objects.clear();
      for (const item of items) objects.set(keyOf(item), item);
      publish();
    },
    onEvent: (type, item) => {
      if (type === "DELETED") objects.delete(keyOf(item));
      else objects.set(keyOf(item), item);
      publish();
    },
    onListError: (error) => {
      // The Reflector logs every retry at debug for a 404; say once that the CRD is missing.
      if (!(error instanceof KubeError && error.code === 404) || missing) return;
      missing = true;
      logger.warn(
        { resource: resource.plural, error: errorMessage(error) },
        "custom resource not served (CRD not installed?); retrying",
      );
    },
  });
  reflector.start();
  return {
    get synced() {
      return reflector.synced;
    },
    stop() {
      reflector.stop();
      return Promise.resolve();
    },
  };
}
