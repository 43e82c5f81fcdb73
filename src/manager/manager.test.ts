import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { Counter } from "prom-client";
import type { Json, KubeClient, KubeResponse } from "../kube/client.ts";
import { KubeError } from "../kube/client.ts";
import { Manager } from "./manager.ts";
import type { Part, PartContext } from "../kube/part.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { getText } from "../testing/http.ts";

/** Lease requests by method and path, answered from one in-memory Lease per path. */
class LeaseStore {
  readonly calls: string[] = [];
  readonly leases = new Map<string, Json>();
  /** Another replica holds every Lease: PUTs are refused as a conflict. */
  taken = false;
  client(): KubeClient {
    return {
      requests: 0,
      watch: () => Promise.resolve(),
      request: (method, path, options = {}): Promise<KubeResponse> => {
        const body = structuredClone(options.body) as Json | undefined;
        const key = method === "POST" ? `${path}/${String((body?.["metadata"] as Json)["name"])}` : path;
        this.calls.push(`${method} ${key}`);
        if (this.taken && method !== "GET")
          return Promise.reject(new KubeError(409, "Conflict", "the object has been modified"));
        if (method === "GET") {
          const lease = this.leases.get(key);
          return lease === undefined
            ? Promise.reject(new KubeError(404, "NotFound", "not found"))
            : Promise.resolve({ status: 200, body: structuredClone(lease) });
        }
        this.leases.set(key, body ?? {});
        return Promise.resolve({ status: 200, body: body ?? {} });
      },
    };
  }
}

class TestPart implements Part {
  readonly events: string[];
  readonly name: string;
  readonly leaderElection: boolean;
  isReady = true;
  notes: string[] = [];
  context: PartContext | undefined;
  constructor(name: string, leaderElection: boolean, events: string[]) {
    this.name = name;
    this.leaderElection = leaderElection;
    this.events = events;
  }
  start(context: PartContext): Promise<void> {
    this.context = context;
    this.events.push(`start ${this.name}`);
    return Promise.resolve();
  }
  ready(): boolean {
    return this.isReady;
  }
  conditions(): readonly string[] {
    return this.notes;
  }
  stop(options: { readonly crash?: boolean } = {}): Promise<void> {
    this.events.push(`stop ${this.name}${options.crash === true ? " (crash)" : ""}`);
    return Promise.resolve();
  }
}

const kubeconfig = new KubeConfig();
const silent = pino({ level: "silent" });
const managers: Manager[] = [];
after(async () => {
  await Promise.all(managers.map((m) => m.stop()));
});

function manager(parts: Part[], store = new LeaseStore(), clock = new FakeClock()): Manager {
  const m = new Manager({
    kubeconfig,
    parts,
    lease: { namespace: "vakt-system", identity: "me", clock },
    probes: { host: "127.0.0.1", port: 0 },
    logger: silent,
    client: store.client(),
  });
  managers.push(m);
  return m;
}

/** Lets the fake Lease store's answers and the manager's transitions run (no time passes). */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

describe("Manager", () => {
  it("answers /readyz 503 while a started part is not ready, 200 once it is", async () => {
    const events: string[] = [];
    const part = new TestPart("slow", false, events);
    part.isReady = false;
    const m = manager([part]);
    await m.start();
    const url = m.probeUrl ?? assert.fail("no probe port");
    assert.equal((await getText(`${url}/healthz`)).status, 200);
    assert.deepEqual(await getText(`${url}/readyz`), { status: 503, body: "not ready\n" });
    part.isReady = true;
    assert.deepEqual(await getText(`${url}/readyz`), { status: 200, body: "ok\n" });
    assert.equal(part.context?.allReady(), true);
    assert.equal((await getText(`${url}/nowhere`)).status, 404);
    await m.stop();
    assert.deepEqual(events, ["start slow", "stop slow"]);
  });

  it("says on /readyz what a degraded part reports, without failing it", async () => {
    const part = new TestPart("audit", false, []);
    const m = manager([part, new TestPart("quiet", false, [])]);
    await m.start();
    const url = m.probeUrl ?? assert.fail("no probe port");
    assert.deepEqual(await getText(`${url}/readyz`), { status: 200, body: "ok\n" });
    part.notes = ["evidence history buffering (postgres): 12 of 100000 records waiting, oldest 3 s"];
    assert.deepEqual(await getText(`${url}/readyz`), {
      status: 200,
      body: "ok\naudit: evidence history buffering (postgres): 12 of 100000 records waiting, oldest 3 s\n",
    });
    assert.deepEqual(part.context?.allConditions(), [`audit: ${part.notes[0] ?? ""}`]);
    part.isReady = false;
    part.notes = ["line\nbreak"];
    assert.deepEqual(await getText(`${url}/readyz`), { status: 503, body: "not ready\naudit: line break\n" });
    await m.stop();
  });

  it("serves the metrics parts register, with the process metrics", async () => {
    const part = new TestPart("counting", false, []);
    const m = manager([part]);
    await m.start();
    const counter = new Counter({
      name: "vakt_test_things_total",
      help: "Things.",
      registers: [part.context?.registry ?? assert.fail("not started")],
    });
    counter.inc(3);
    const metrics = await getText(`${m.probeUrl ?? ""}/metrics`);
    assert.match(metrics.body, /^vakt_test_things_total 3$/m);
    assert.match(metrics.body, /^process_cpu_user_seconds_total /m);
  });

  it("serves no probe port when a part serves the probes itself", async () => {
    const part = Object.assign(new TestPart("server", false, []), { servesProbes: true });
    const m = manager([part]);
    await m.start();
    assert.equal(m.probeUrl, undefined);
  });

  it("takes one Lease for all leader parts and starts them after the others", async () => {
    const events: string[] = [];
    const store = new LeaseStore();
    const m = manager(
      [new TestPart("a", true, events), new TestPart("web", false, events), new TestPart("b", true, events)],
      store,
    );
    await m.start();
    await flush();
    assert.deepEqual(events, ["start web", "start a", "start b"]);
    assert.equal(m.isLeader(), true);
    const leases = new Set(store.calls.map((call) => call.split(" ")[1]));
    assert.deepEqual(
      [...leases],
      ["/apis/coordination.k8s.io/v1/namespaces/vakt-system/leases/vakt-tenant-controller"],
    );
    assert.equal(store.calls.filter((call) => call.startsWith("POST")).length, 1);
    await m.stop();
    // Leader parts first, then the Lease is released, then the rest; each in reverse order.
    assert.deepEqual(events.slice(3), ["stop b", "stop a", "stop web"]);
    const released = store.leases.values().next().value as Json;
    assert.equal((released["spec"] as Json)["holderIdentity"], "");
  });

  it("stops the leader parts at once when the Lease is lost; the others keep running", async () => {
    const events: string[] = [];
    const store = new LeaseStore();
    const leader = new TestPart("writer", true, events);
    const clock = new FakeClock();
    const m = manager([new TestPart("web", false, events), leader], store, clock);
    await m.start();
    await flush();
    assert.equal(leader.context?.isLeader(), true);
    // Another replica holds the Lease now (as after a partition): writes to it conflict.
    store.taken = true;
    const lease = [...store.leases.values()][0] as Json;
    (lease["spec"] as Json)["holderIdentity"] = "other";
    // The next attempt (a retry period later) sees another holder: this replica steps down.
    clock.advance(2_000);
    await flush();
    assert.equal(leader.context.isLeader(), false);
    assert.deepEqual(events, ["start web", "start writer", "stop writer"]);
    assert.equal(m.ready(), true);
  });

  it("leaves the Lease held on a crash stop", async () => {
    const events: string[] = [];
    const store = new LeaseStore();
    const m = manager([new TestPart("writer", true, events)], store);
    await m.start();
    await flush();
    await m.stop({ crash: true });
    assert.deepEqual(events, ["start writer", "stop writer (crash)"]);
    const lease = [...store.leases.values()][0] as Json;
    assert.equal((lease["spec"] as Json)["holderIdentity"], "me");
  });

  it("refuses a part listed twice and leader parts without a Lease", () => {
    assert.throws(
      () => new Manager({ kubeconfig, parts: [new TestPart("a", false, []), new TestPart("a", false, [])] }),
      /the part "a" is listed twice/,
    );
    assert.throws(
      () => new Manager({ kubeconfig, parts: [new TestPart("a", true, [])], logger: silent }),
      /need a Lease/,
    );
  });
});
