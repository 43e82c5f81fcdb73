/**
 * List-then-watch of one resource without an object cache (client-node's informer keeps every
 * object body; 20,000 children would cost the controller most of its memory budget). The list
 * is paginated; the watch resumes from the last resourceVersion (bookmarks keep it fresh) and a
 * 410 Gone falls back to a fresh list. Failures are retried with capped exponential backoff,
 * which also covers a CRD that is not installed yet.
 */
import { Watch } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Json, KubeClient } from "./kube.ts";
import { KubeError, errorMessage } from "./kube.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ReflectorOptions {
  readonly config: KubeConfig;
  readonly client: KubeClient;
  /** Collection path, e.g. /apis/networking.k8s.io/v1/networkpolicies (all namespaces). */
  readonly path: string;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** Every object of a (re)list; then `onEvent` for changes. */
  readonly onList: (objects: readonly Json[]) => void;
  readonly onEvent: (type: WatchEventType, object: Json) => void;
  /** Called for each failed list (e.g. 404: the CRD is not installed). */
  readonly onListError?: (error: unknown) => void;
}

export class Reflector {
  readonly #options: ReflectorOptions;
  #resourceVersion: string | undefined;
  #stopped = false;
  #abort: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = 250;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(options: ReflectorOptions) {
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
    const { client, path, labelSelector } = this.#options;
    const objects: Json[] = [];
    let continueToken: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const { body } = await client.request("GET", path, {
        query: { labelSelector, limit: "500", continue: continueToken },
      });
      const listMeta = (body["metadata"] ?? {}) as { resourceVersion?: string; continue?: string };
      resourceVersion = listMeta.resourceVersion;
      continueToken = listMeta.continue === "" ? undefined : listMeta.continue;
      // Items of a list carry no apiVersion/kind; fill them in from the list's.
      const itemKind = (typeof body["kind"] === "string" ? body["kind"] : "").replace(/List$/, "");
      for (const item of (body["items"] ?? []) as Json[])
        objects.push({ apiVersion: body["apiVersion"], kind: itemKind, ...item });
    } while (continueToken !== undefined);
    this.#resourceVersion = resourceVersion ?? "";
    this.#options.onList(objects);
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
    const { config, client, path, labelSelector } = this.#options;
    const watch = new Watch(config);
    let gone = false;
    let received = false;
    const startedAt = Date.now();
    client.countExternal();
    try {
      this.#abort = await watch.watch(
        path,
        {
          allowWatchBookmarks: true,
          resourceVersion: this.#resourceVersion,
          // Below client-node's 30 s inactivity timeout: the server ends quiet watches cleanly.
          timeoutSeconds: 20 + Math.floor(Math.random() * 8),
          ...(labelSelector === undefined ? {} : { labelSelector }),
        },
        (type: string, object: Json) => {
          const metadata = (object["metadata"] ?? {}) as { resourceVersion?: string };
          if (type === "ERROR") {
            if (object["code"] === 410) gone = true;
            return;
          }
          received = true;
          if (metadata.resourceVersion !== undefined) this.#resourceVersion = metadata.resourceVersion;
          if (type === "ADDED" || type === "MODIFIED" || type === "DELETED")
            this.#options.onEvent(type, object);
        },
        (error: unknown) => {
          if (this.#stopped) return;
          if (gone) this.#resourceVersion = undefined;
          // A watch that fails, or ends at once, before delivering anything backs off, so a
          // broken endpoint cannot turn into a tight reconnect loop.
          const failed = (error !== null && error !== undefined) || Date.now() - startedAt < 1_000;
          if (failed && !received) {
            this.#retry("watch ended early; retrying", error ?? new Error("watch closed"));
            return;
          }
          this.#delayMs = 250;
          void this.#run();
        },
      );
    } catch (error) {
      this.#retry("watch failed; retrying", error);
    }
  }
}
