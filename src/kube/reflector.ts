/**
 * List-then-watch of one resource without an object cache (client-node's informer keeps every
 * object body; 20,000 children would cost the controller most of its memory budget). Each
 * object is handed to `transform` as soon as it is parsed and only what that returns is kept,
 * so a list of thousands of objects never sits in memory whole. The list is paginated; the
 * watch resumes from the last resourceVersion (bookmarks keep it fresh) and a 410 Gone falls
 * back to a fresh list. Failures are retried with capped exponential backoff, which also covers
 * a CRD that is not installed yet.
 */
import type { Logger } from "pino";
import type { Json, KubeClient } from "./client.ts";
import { KubeError, METADATA_LIST_ONLY, METADATA_ONLY, errorMessage } from "./client.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ReflectorOptions<T> {
  readonly client: KubeClient;
  /** Collection path, e.g. /apis/networking.k8s.io/v1/networkpolicies (all namespaces). */
  readonly path: string;
  readonly labelSelector?: string;
  /** Objects per list page (default 500); a page of whole objects is held while it is transformed. */
  readonly pageSize?: number;
  /**
   * Metadata only (PartialObjectMetadata): no spec or status is sent or parsed. Such objects do
   * not say what they are, so `type` fills in apiVersion and kind.
   */
  readonly metadataOnly?: { readonly apiVersion: string; readonly kind: string };
  readonly logger: Logger;
  /**
   * What to keep of an object (with apiVersion and kind filled in); undefined skips it. Called
   * once per listed object and per event.
   */
  readonly transform: (object: Json) => T | undefined;
  /** Every object of a (re)list, transformed; then `onEvent` for changes. */
  readonly onList: (items: readonly T[]) => void;
  readonly onEvent: (type: WatchEventType, item: T) => void;
  /** Called for each failed list (e.g. 404: the CRD is not installed). */
  readonly onListError?: (error: unknown) => void;
}

export class Reflector<T> {
  readonly #options: ReflectorOptions<T>;
  #resourceVersion: string | undefined;
  #stopped = false;
  #abort: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = 250;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
  }

  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first successful list, or after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  #retry(why: string, error: unknown): void {
    if (this.#stopped) return;
    const level = error instanceof KubeError && error.code === 404 ? "debug" : "warn";
    this.#options.logger[level](
      { path: this.#options.path, error: errorMessage(error), retryInMs: this.#delayMs },
      why,
    );
    this.#timer = setTimeout(() => {
      void this.#run();
    }, this.#delayMs);
    this.#delayMs = Math.min(this.#delayMs * 2, 10_000);
  }

  /** A method, not the field: the flag changes across awaits. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  async #list(): Promise<void> {
    const { client, path, labelSelector, transform, metadataOnly, pageSize = 500 } = this.#options;
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const { body } = await client.request("GET", path, {
        query: { labelSelector, limit: String(pageSize), continue: continueToken },
        ...(metadataOnly === undefined ? {} : { accept: METADATA_LIST_ONLY }),
      });
      const listMeta = (body["metadata"] ?? {}) as { resourceVersion?: string; continue?: string };
      resourceVersion = listMeta.resourceVersion;
      continueToken = listMeta.continue === "" ? undefined : listMeta.continue;
      // Items of a list carry no apiVersion/kind; fill them in from the list's.
      const apiVersion = metadataOnly?.apiVersion ?? body["apiVersion"];
      const kind =
        metadataOnly?.kind ?? (typeof body["kind"] === "string" ? body["kind"] : "").replace(/List$/, "");
      for (const item of (body["items"] ?? []) as Json[]) {
        item["apiVersion"] = apiVersion;
        item["kind"] = kind;
        const kept = transform(item);
        if (kept !== undefined) items.push(kept);
      }
    } while (continueToken !== undefined);
    this.#resourceVersion = resourceVersion ?? "";
    this.#options.onList(items);
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters.splice(0)) waiter();
    }
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    if (this.#resourceVersion === undefined) {
      try {
        await this.#list();
      } catch (error) {
        this.#options.onListError?.(error);
        this.#retry("list failed; retrying", error);
        return;
      }
    }
    if (this.#isStopped()) return;
    const { client, path, labelSelector, transform, onEvent, metadataOnly } = this.#options;
    // Set by the event callback (an object: the flags change inside it).
    const seen = { gone: false, received: false };
    const startedAt = Date.now();
    const abort = new AbortController();
    this.#abort = abort;
    let failure: unknown;
    try {
      await client.watch(
        path,
        {
          allowWatchBookmarks: "true",
          resourceVersion: this.#resourceVersion,
          // The server ends quiet watches cleanly after this; the jitter spreads the reconnects.
          timeoutSeconds: String(20 + Math.floor(Math.random() * 8)),
          labelSelector,
        },
        (event) => {
          const type = event["type"];
          const object = (event["object"] ?? {}) as Json;
          if (type === "ERROR") {
            if (object["code"] === 410) {
              seen.gone = true;
              abort.abort();
            }
            return;
          }
          seen.received = true;
          const metadata = (object["metadata"] ?? {}) as { resourceVersion?: string };
          if (metadata.resourceVersion !== undefined) this.#resourceVersion = metadata.resourceVersion;
          if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
            if (metadataOnly !== undefined) {
              object["apiVersion"] = metadataOnly.apiVersion;
              object["kind"] = metadataOnly.kind;
            }
            const kept = transform(object);
            if (kept !== undefined) onEvent(type, kept);
          }
        },
        abort.signal,
        metadataOnly === undefined ? undefined : METADATA_ONLY,
      );
    } catch (error) {
      failure = error;
    }
    if (this.#isStopped()) return;
    // Too old a resourceVersion comes as an ERROR event on an open watch, or as the answer's
    // status: either way, only a fresh list can continue.
    if (failure instanceof KubeError && failure.code === 410) seen.gone = true;
    if (seen.gone) this.#resourceVersion = undefined;
    // A watch that fails, or ends at once, before delivering anything backs off, so a broken
    // endpoint cannot turn into a tight reconnect loop.
    if (!seen.gone && !seen.received && (failure !== undefined || Date.now() - startedAt < 1_000)) {
      this.#retry("watch ended early; retrying", failure ?? new Error("watch closed"));
      return;
    }
    this.#delayMs = 250;
    void this.#run();
  }
}
