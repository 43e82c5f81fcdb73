/**
 * Parse throughput of the `vakt check` input layer against the `yaml` package.
 *
 *   node bench/parse.ts [count]        (each parser runs in a fresh child process)
 *
 * Generates `count` (default 10,000) Deployments of ~30 lines each as one multi-document
 * YAML stream in memory and prints docs/s for: the loader (split + the fast YAML path, which
 * records each document's positions index, js-yaml for what it declines, List/kind handling),
 * the loader plus locate() on every object (worst case: every object has a finding), the same
 * with CRLF line ends (documents the fast path declines: js-yaml reads the values and the `yaml`
 * package re-parses each document for its positions, ADR 0006), js-yaml loadAll over the whole
 * stream (what the loader avoids: js-yaml 5 is several times slower on one big stream than on
 * its documents one by one), and `yaml` parseAllDocuments + toJS (positions for everything).
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { loadAll } from "js-yaml";
import { parseManifestText } from "../src/inputs/manifests.ts";
import { KUBERNETES_SCHEMA } from "../src/inputs/parse.ts";

function deployment(i: number): string {
  return `---
# Source: bench/templates/deployment-${i}.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: team-${i % 17}
  labels:
    app.kubernetes.io/name: app-${i}
    app.kubernetes.io/part-of: bench
spec:
  replicas: ${(i % 5) + 1}
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-${i}
    spec:
      containers:
        - name: app
          image: registry.example.com/team/app-${i}:1.${i % 10}.0
          ports:
            - containerPort: 8080
          resources:
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            runAsNonRoot: true
            allowPrivilegeEscalation: false
`;
}

function corpus(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(deployment(i));
  return parts.join("");
}

type Mode = "loader" | "loader+locate" | "CRLF loader+locate" | "js-yaml loadAll" | "yaml";
const MODES: readonly Mode[] = ["loader", "loader+locate", "CRLF loader+locate", "js-yaml loadAll", "yaml"];

function run(mode: Mode, count: number): void {
  const text = mode === "CRLF loader+locate" ? corpus(count).replaceAll("\n", "\r\n") : corpus(count);
  const start = performance.now();
  let objects = 0;
  if (mode === "js-yaml loadAll") {
    objects = loadAll(text, { schema: KUBERNETES_SCHEMA }).filter((value) => value !== null).length;
  } else if (mode === "yaml") {
    for (const document of parseAllDocuments(text)) {
      if (document.toJS() !== null) objects++;
    }
  } else {
    for (const event of parseManifestText("bench.yaml", text)) {
      if (event.type !== "object") throw new Error(JSON.stringify(event.problem));
      if (mode !== "loader") event.locate(["spec", "template", "spec", "containers", 0, "image"]);
      objects++;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  if (objects !== count) throw new Error(`${mode}: parsed ${objects} objects, expected ${count}`);
  const mb = Buffer.byteLength(text) / 1e6;
  console.log(
    `${mode.padEnd(18)} ${count} docs, ${mb.toFixed(1)} MB: ${seconds.toFixed(2)} s, ${Math.round(count / seconds).toLocaleString("en")} docs/s`,
  );
}

const [, , first, second] = process.argv;
if (first !== undefined && MODES.includes(first as Mode)) {
  run(first as Mode, Number(second ?? 10_000));
} else {
  const count = first ?? "10000";
  console.log(`node ${process.version}`);
  for (const mode of MODES) {
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), mode, count], { stdio: "inherit" });
  }
}
