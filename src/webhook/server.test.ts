import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { ConnectionOptions, TLSSocket } from "node:tls";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { createCertificateAuthority, issueCertificate } from "../devcluster/pki.ts";
import type { IssuedCertificate } from "../devcluster/pki.ts";
import { AdmissionState } from "./admission.ts";
import { admissionReview, compliantPod } from "../testing/admission-fixtures.ts";
import { startWebhookServer } from "./server.ts";
import type { WebhookServer, WebhookServerOptions } from "./server.ts";

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let ca: IssuedCertificate;
let leaf: IssuedCertificate;

async function serverCertificate(authority: IssuedCertificate): Promise<IssuedCertificate> {
  return issueCertificate(authority, {
    commonName: "vakt-webhook",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validDays: 1,
  });
}

before(async () => {
  ca = await createCertificateAuthority("vakt-test-ca", 1);
  leaf = await serverCertificate(ca);
});

function call(
  server: WebhookServer,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = { "content-type": "application/json" },
  authority: IssuedCertificate = ca,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port: server.port,
        method,
        path,
        ca: authority.certificatePem,
        agent: false,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split("\n"))
      if (line !== "") logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

async function start(overrides: Partial<WebhookServerOptions> = {}): Promise<WebhookServer> {
  return startWebhookServer({
    state: new AdmissionState(),
    tls: { key: leaf.privateKeyPem, cert: leaf.certificatePem },
    host: "127.0.0.1",
    port: 0,
    logger: pino({ level: "debug" }, logStream),
    ...overrides,
  });
}

const untagged = (): Record<string, unknown> => compliantPod({ image: "registry.example.com/acme/app" });

describe("webhook server over HTTPS", () => {
  let server: WebhookServer;
  let ready = false;
  before(async () => {
    server = await start({ ready: () => ready, maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await server.close(1000);
  });

  it("answers /validate with an AdmissionReview", async () => {
    const allowed = await call(server, "POST", "/validate", JSON.stringify(admissionReview(compliantPod())));
    assert.equal(allowed.status, 200);
    assert.match(allowed.headers["content-type"] ?? "", /^application\/json/);
    const okBody = JSON.parse(allowed.body) as { response: { allowed: boolean; uid: string } };
    assert.equal(okBody.response.allowed, true);
    assert.equal(okBody.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");

    const denied = await call(server, "POST", "/validate", JSON.stringify(admissionReview(untagged())));
    assert.equal(denied.status, 200);
    const body = JSON.parse(denied.body) as {
      response: { allowed: boolean; status: { code: number; message: string } };
    };
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status.code, 403);
    assert.match(body.response.status.message, /^\[image-tag\] Pod\/team-a\/web: .*Fix: .*Controls: /);

    const logged = logLines.find((line) => line["msg"] === "admission denied");
    assert.ok(logged !== undefined, "a denial is logged");
    assert.equal(logged["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert.equal(logged["kind"], "Pod");
    assert.equal(logged["namespace"], "team-a");
    assert.equal(logged["name"], "web");
    assert.deepEqual(logged["rules"], ["image-tag:deny", "network-policy-coverage:warn"]);
  });

  it("answers /mutate with a JSON Patch", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "m" },
      spec: { containers: [{ name: "a" }] },
    };
    const reply = await call(server, "POST", "/mutate", JSON.stringify(admissionReview(pod)));
    assert.equal(reply.status, 200);
    const body = JSON.parse(reply.body) as {
      response: { allowed: boolean; patchType: string; patch: string };
    };
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, "JSONPatch");
    assert.match(Buffer.from(body.response.patch, "base64").toString(), /RuntimeDefault/);
  });

  it("exposes the counters and the latency histogram on /metrics", async () => {
    const reply = await call(server, "GET", "/metrics");
    assert.equal(reply.status, 200);
    assert.match(reply.headers["content-type"] ?? "", /^text\/plain/);
    assert.match(
      reply.body,
      /vakt_admission_requests_total\{endpoint="validate",operation="CREATE",kind="Pod",allowed="false"\} [1-9]/,
    );
    assert.match(reply.body, /vakt_admission_findings_total\{rule="image-tag",action="deny"\} [1-9]/);
    assert.match(
      reply.body,
      /vakt_admission_duration_seconds_bucket\{le="0\.0005",endpoint="validate"\} \d+/,
    );
    assert.match(reply.body, /vakt_admission_duration_seconds_count\{endpoint="mutate"\} 1/);
    assert.match(reply.body, /process_cpu_user_seconds_total/);
  });

  it("answers /healthz always and /readyz only when ready", async () => {
    assert.equal((await call(server, "GET", "/healthz")).status, 200);
    assert.equal((await call(server, "GET", "/readyz")).status, 503);
    ready = true;
    assert.equal((await call(server, "GET", "/readyz")).status, 200);
  });

  it("answers malformed requests with a 4xx and a message, and keeps serving", async () => {
    const badJson = await call(server, "POST", "/validate", "{not json");
    assert.equal(badJson.status, 400);
    const status = JSON.parse(badJson.body) as { kind: string; code: number; message: string };
    assert.equal(status.kind, "Status");
    assert.equal(status.code, 400);
    assert.match(status.message, /not valid JSON/);

    const wrongVersion = await call(
      server,
      "POST",
      "/validate",
      JSON.stringify({ ...admissionReview(compliantPod()), apiVersion: "admission.k8s.io/v1beta1" }),
    );
    assert.equal(wrongVersion.status, 400);
    assert.match(wrongVersion.body, /apiVersion must be/);

    const noRequest = await call(
      server,
      "POST",
      "/validate",
      JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }),
    );
    assert.equal(noRequest.status, 400);

    const empty = await call(server, "POST", "/validate", "");
    assert.equal(empty.status, 400);

    const text = await call(server, "POST", "/validate", "{}", { "content-type": "text/plain" });
    assert.equal(text.status, 415);

    assert.equal((await call(server, "GET", "/validate")).status, 405);
    assert.equal((await call(server, "POST", "/nowhere", "{}")).status, 404);

    const objectIsString = await call(
      server,
      "POST",
      "/validate",
      JSON.stringify(admissionReview("a string")),
    );
    assert.equal(objectIsString.status, 200);
    const refused = JSON.parse(objectIsString.body) as {
      response: { allowed: boolean; status: { code: number } };
    };
    assert.equal(refused.response.allowed, false);
    assert.equal(refused.response.status.code, 400);

    const depth = 20_000;
    const deep = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"kind":"Pod"},"object":{"kind":"Pod","metadata":{"name":"d"},"spec":{"x":${"[".repeat(depth)}${"]".repeat(depth)}}}}}`;
    assert.equal((await call(server, "POST", "/validate", deep)).status, 200);

    const metrics = await call(server, "GET", "/metrics");
    assert.match(metrics.body, /vakt_admission_errors_total\{reason="bad-json"\} 2/);
    assert.match(metrics.body, /vakt_admission_errors_total\{reason="content-type"\} 1/);
    assert.match(metrics.body, /vakt_admission_errors_total\{reason="invalid-review"\} 2/);
    assert.equal((await call(server, "GET", "/healthz")).status, 200);
  });

  it("refuses bodies over the limit with 413, declared or streamed", async () => {
    const huge = JSON.stringify(admissionReview({ ...compliantPod(), padding: "x".repeat(200 * 1024) }));
    const declared = await call(server, "POST", "/validate", huge);
    assert.equal(declared.status, 413);
    assert.match(declared.body, /exceeds 65536 bytes/);
    const streamed = await call(server, "POST", "/validate", huge, {
      "content-type": "application/json",
      "transfer-encoding": "chunked",
    });
    assert.equal(streamed.status, 413);
    assert.equal((await call(server, "GET", "/healthz")).status, 200);
  });
});

describe("webhook server lifecycle", () => {
  it("drains a request in flight on close, then stops", async () => {
    const server = await start();
    const payload = Buffer.from(JSON.stringify(admissionReview(compliantPod())));
    const reply = new Promise<Reply>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/validate",
          ca: ca.certificatePem,
          agent: false,
          headers: { "content-type": "application/json", "content-length": String(payload.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            });
          });
        },
      );
      req.on("error", reject);
      // Half the body now, the rest after close() has begun.
      req.write(payload.subarray(0, 100));
      const waitInFlight = setInterval(() => {
        if (server.inFlight === 0) return;
        clearInterval(waitInFlight);
        let closedEarly = false;
        const closing = server.close(5000).then(() => (closedEarly = true));
        setTimeout(() => {
          assert.equal(closedEarly, false, "close() waits for the request in flight");
          req.end(payload.subarray(100));
          void closing;
        }, 100);
      }, 5);
    });
    const answer = await reply;
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as { response: { allowed: boolean } }).response.allowed, true);
    assert.equal(answer.headers.connection, "close");
    await server.close();
    await assert.rejects(call(server, "GET", "/healthz"), /ECONNREFUSED/);
  });

  it("gives up on requests in flight at the deadline", async () => {
    const server = await start();
    const req = httpsRequest({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: "/validate",
      ca: ca.certificatePem,
      agent: false,
      headers: { "content-type": "application/json", "content-length": "1000" },
    });
    req.on("error", () => undefined);
    req.write("{");
    while (server.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await server.close(200);
    assert.ok(Date.now() - started < 2000);
    req.destroy();
  });

  it("swaps the serving certificate with setSecureContext", async () => {
    const server = await start();
    try {
      const otherCa = await createCertificateAuthority("vakt-test-ca-2", 1);
      const otherLeaf = await serverCertificate(otherCa);
      assert.equal((await call(server, "GET", "/healthz")).status, 200);
      server.setSecureContext({ key: otherLeaf.privateKeyPem, cert: otherLeaf.certificatePem });
      assert.equal((await call(server, "GET", "/healthz", undefined, {}, otherCa)).status, 200);
      await assert.rejects(call(server, "GET", "/healthz"), /certificate/);
    } finally {
      await server.close(1000);
    }
  });
});

/** A TLS connection that keeps its side open after the server's FIN, as a hostile client does. */
function openTls(server: WebhookServer): {
  socket: TLSSocket;
  closed: Promise<void>;
  secure: Promise<boolean>;
} {
  // allowHalfOpen is honoured by tls.connect but missing from its option type.
  const options: ConnectionOptions & { allowHalfOpen: boolean } = {
    host: "127.0.0.1",
    port: server.port,
    ca: ca.certificatePem,
    servername: "localhost",
    allowHalfOpen: true,
  };
  const socket = tlsConnect(options);
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      resolve();
    }),
  );
  const secure = new Promise<boolean>((resolve) => {
    socket.once("secureConnect", () => {
      resolve(true);
    });
    socket.once("close", () => {
      resolve(false);
    });
  });
  return { socket, closed, secure };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("webhook server against slow and greedy clients", () => {
  it(
    "destroys connections that trickle headers or a body past the timeouts, or never finish the handshake",
    { timeout: 20_000 },
    async () => {
      const server = await start({
        headersTimeoutMs: 300,
        requestTimeoutMs: 600,
        handshakeTimeoutMs: 300,
        timeoutCheckIntervalMs: 100,
      });
      const trickles: NodeJS.Timeout[] = [];
      try {
        const clients = Array.from({ length: 50 }, (_, i) => {
          const client = openTls(server);
          client.socket.once("secureConnect", () => {
            // Half of them never finish the headers; the other half never finish the body.
            client.socket.write(
              i % 2 === 0
                ? "POST /validate HTTP/1.1\r\nhost: x\r\n"
                : "POST /validate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{",
            );
            trickles.push(
              setInterval(() => {
                if (client.socket.writable) client.socket.write(i % 2 === 0 ? "x" : " ");
              }, 50),
            );
          });
          return client;
        });
        // These never start a TLS handshake; the server ending the connection is what they see.
        const silent = Array.from({ length: 5 }, () => {
          const socket = netConnect({ host: "127.0.0.1", port: server.port, allowHalfOpen: true });
          socket.on("error", () => undefined);
          return new Promise<void>((resolve) =>
            socket.once("end", () => {
              resolve();
            }),
          );
        });
        assert.ok((await Promise.all(clients.map((client) => client.secure))).every(Boolean));
        await Promise.all([...clients.map((client) => client.closed), ...silent]);
        await until(() => server.connections === 0);
        assert.equal((await call(server, "GET", "/healthz")).status, 200);
      } finally {
        for (const trickle of trickles) clearInterval(trickle);
        await server.close(1000);
      }
    },
  );

  it("closes connections beyond maxConnections at once", { timeout: 20_000 }, async () => {
    const server = await start({ maxConnections: 5 });
    const clients = Array.from({ length: 5 }, () => openTls(server));
    try {
      assert.deepEqual(await Promise.all(clients.map((client) => client.secure)), [
        true,
        true,
        true,
        true,
        true,
      ]);
      const extra = openTls(server);
      assert.equal(await extra.secure, false);
      assert.equal(server.connections, 5);
      for (const client of clients) client.socket.destroy();
      await until(() => server.connections === 0);
      assert.equal((await call(server, "GET", "/healthz")).status, 200);
      const metrics = await call(server, "GET", "/metrics");
      assert.match(metrics.body, /vakt_admission_errors_total\{reason="connection-limit"\} 1/);
    } finally {
      await server.close(1000);
    }
  });

  it(
    "answers 429 beyond maxReviewsInFlight and maxBufferedBytes, and serves again once they finish",
    { timeout: 20_000 },
    async () => {
      const server = await start({ maxReviewsInFlight: 2, maxBufferedBytes: 16 * 1024 });
      const payload = JSON.stringify(admissionReview(compliantPod()));
      const held = Array.from({ length: 2 }, () => {
        const req = httpsRequest({
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/validate",
          ca: ca.certificatePem,
          agent: false,
          headers: { "content-type": "application/json", "content-length": String(payload.length) },
        });
        const status = new Promise<number>((resolve, reject) => {
          req.on("response", (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", reject);
        });
        req.write(payload.slice(0, 10));
        return { req, status };
      });
      try {
        await until(() => server.inFlight === 2);
        const refused = await call(server, "POST", "/validate", payload);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers["retry-after"], "1");
        assert.match(refused.body, /"reason":"TooManyRequests".*vakt is receiving 2 reviews/);
        for (const { req } of held) req.end(payload.slice(10));
        assert.deepEqual(await Promise.all(held.map(({ status }) => status)), [200, 200]);

        const big = JSON.stringify(admissionReview({ ...compliantPod(), padding: "x".repeat(20 * 1024) }));
        assert.equal((await call(server, "POST", "/validate", big)).status, 429);
        assert.equal((await call(server, "POST", "/validate", payload)).status, 200);
        const metrics = await call(server, "GET", "/metrics");
        assert.match(metrics.body, /vakt_admission_errors_total\{reason="busy"\} 2/);
      } finally {
        await server.close(1000);
      }
    },
  );

  it("refuses a 20,000-container pod through the large-review lane with one bounded finding", async () => {
    const server = await start();
    try {
      const containers = Array.from({ length: 20_000 }, (_, i) => ({ name: `c${i}`, image: "x" }));
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "hostile" }, spec: { containers } };
      const [hostile, normal] = await Promise.all([
        call(server, "POST", "/validate", JSON.stringify(admissionReview(pod))),
        call(server, "POST", "/validate", JSON.stringify(admissionReview(compliantPod()))),
      ]);
      assert.equal(normal.status, 200);
      assert.equal(hostile.status, 200);
      const body = JSON.parse(hostile.body) as {
        response: { allowed: boolean; status: { message: string } };
      };
      assert.equal(body.response.allowed, false);
      assert.match(body.response.status.message, /^\[evaluation-limits\] .*20000 containers/);
      assert.ok(hostile.body.length < 2048);
      const metrics = await call(server, "GET", "/metrics");
      assert.match(
        metrics.body,
        /vakt_admission_findings_total\{rule="evaluation-limits",action="deny"\} 1\n/,
      );
      assert.doesNotMatch(metrics.body, /vakt_admission_findings_total\{rule="image-tag"/);
    } finally {
      await server.close(1000);
    }
  });
});
