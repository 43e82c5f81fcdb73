// The Reflector's resourceVersion handling through a scripted client: a watch resumes from the
// last resourceVersion it saw, and a 410 Gone (as an ERROR event on the watch, or as the watch's
// HTTP status) leads to a fresh list instead of a retry from the same resourceVersion. The real
// API server's 410 is covered in test/integration/kube-watch-apply.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { KubeError } from "./client.ts";
import type { Json, KubeClient } from "./client.ts";
import { Reflector } from "./reflector.ts";

type WatchScript = (
  query: Readonly<Record<string, string | undefined>>,
  onEvent: (event: Json) => void,
) => void;

/**
 * Lists answer with the next of `lists` (resourceVersion and item names); watches play the next
 * of `watches` and end (a script that throws fails the watch). After the scripts, a watch waits
 * until stopped. `done` resolves when every script has been played.
 */
function scriptedClient(
  lists: readonly { readonly resourceVersion: string; readonly names: readonly string[] }[],
  watches: readonly WatchScript[],
): { client: KubeClient; watchQueries: Readonly<Record<string, string | undefined>>[]; done: Promise<void> } {
  let listed = 0;
  const watchQueries: Readonly<Record<string, string | undefined>>[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const client: KubeClient = {
    requests: 0,
    request() {
      const list = lists[listed++];
      if (list === undefined) return Promise.reject(new Error("no more lists scripted"));
      return Promise.resolve({
        status: 200,
        body: {
          apiVersion: "v1",
          kind: "ConfigMapList",
          metadata: { resourceVersion: list.resourceVersion },
          items: list.names.map((name) => ({ metadata: { name, namespace: "a" } })),
        },
      });
    },
    watch(_path, query, onEvent, signal) {
      watchQueries.push(query);
      const script = watches[watchQueries.length - 1];
      if (script === undefined) {
        finish();
        return new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            resolve();
          });
        });
      }
      return new Promise((resolve) => {
        script(query, onEvent);
        resolve();
      });
    },
  };
  return { client, watchQueries, done };
}

function record(client: KubeClient): { reflector: Reflector<string>; log: string[] } {
  const log: string[] = [];
  const reflector = new Reflector<string>({
    client,
    path: "/api/v1/configmaps",
    logger: pino({ level: "silent" }),
    transform: (object) => (object["metadata"] as { name: string }).name,
    onList: (items) => log.push(`list ${items.join(",")}`),
    onEvent: (type, item) => log.push(`${type} ${item}`),
  });
  return { reflector, log };
}

const event = (type: string, name: string, resourceVersion: string): Json => ({
  type,
  object: { metadata: { name, namespace: "a", resourceVersion } },
});

describe("Reflector", () => {
  it("resumes each watch from the last resourceVersion it saw (events and bookmarks)", async () => {
    const { client, watchQueries, done } = scriptedClient(
      [{ resourceVersion: "10", names: ["x"] }],
      [
        (_query, onEvent) => {
          onEvent(event("ADDED", "y", "11"));
        },
        (_query, onEvent) => {
          onEvent({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } });
        },
      ],
    );
    const { reflector, log } = record(client);
    reflector.start();
    await done;
    reflector.stop();
    assert.deepEqual(
      watchQueries.map((query) => query["resourceVersion"]),
      ["10", "11", "15"],
    );
    assert.deepEqual(log, ["list x", "ADDED y"]);
  });

  it("lists again after a 410 Gone ERROR event", async () => {
    const { client, watchQueries, done } = scriptedClient(
      [
        { resourceVersion: "10", names: ["x"] },
        { resourceVersion: "40", names: ["x", "z"] },
      ],
      [
        (_query, onEvent) => {
          onEvent({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
        },
      ],
    );
    const { reflector, log } = record(client);
    reflector.start();
    await done;
    reflector.stop();
    assert.deepEqual(log, ["list x", "list x,z"]);
    assert.deepEqual(
      watchQueries.map((query) => query["resourceVersion"]),
      ["10", "40"],
    );
  });

  it("lists again when the watch is answered with HTTP 410, not retrying the same resourceVersion", async () => {
    const { client, watchQueries, done } = scriptedClient(
      [
        { resourceVersion: "10", names: ["x"] },
        { resourceVersion: "40", names: ["z"] },
      ],
      [
        () => {
          throw new KubeError(410, "Expired", "too old resource version: 10 (35)");
        },
      ],
    );
    const { reflector, log } = record(client);
    reflector.start();
    await done;
    reflector.stop();
    assert.deepEqual(log, ["list x", "list z"]);
    assert.deepEqual(
      watchQueries.map((query) => query["resourceVersion"]),
      ["10", "40"],
    );
  });
});
