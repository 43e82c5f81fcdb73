import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { createCertificateAuthority, createKeyPair, issueCertificate } from "./pki.ts";
import type { IssuedCertificate } from "./pki.ts";
import { freePort, isOurProcess, portInUse, startDetached, stopProcess, tail } from "./processes.ts";
import type { StartedProcess } from "./processes.ts";
import { RUN_NODE_FLAGS } from "../config/runtime.ts";

/** The components of the local control plane, in start order. */
export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "vakt",
] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface DevClusterOptions {
  /** Where data, logs, certificates and the kubeconfig live; one control plane per directory. */
  readonly stateDir: string;
  /** Directory with etcd, kube-apiserver, kube-controller-manager, kubectl, kwok. */
  readonly binDir: string;
  /** Fixed API server port; 0 picks a free one. */
  readonly apiServerPort?: number;
  /** Fake nodes simulated by kwok (0: kwok is not started). */
  readonly nodes?: number;
  /** Start kube-controller-manager and kube-scheduler (default true). */
  readonly controllers?: boolean;
  /** Extra command-line flags per component, appended after vakt's own (e.g. feature gates). */
  readonly extraArgs?: Partial<Readonly<Record<ComponentName, readonly string[]>>>;
  readonly readyTimeoutMs?: number;
  /**
   * Also run vakt itself (`vakt run` with the webhook registered at 127.0.0.1), as a host process:
   * no kubelet runs pods here. The command is the node binary and the CLI script.
   */
  readonly vakt?: { readonly command: string; readonly script: string; readonly args?: readonly string[] };
  /** Progress lines for people. */
  readonly progress?: (line: string) => void;
  /**
   * Continue an earlier start from `stateDir` instead of starting over (a caller killed during
   * `up`, a component that died): its certificates, ports and data are reused, live components
   * kept, recorded ones that died started again with their recorded command line, and the ones
   * never started are started. Without a state file and certificates to continue from, a fresh start.
   */
  readonly resume?: boolean;
}

export interface ComponentState {
  readonly name: ComponentName;
  readonly pid: number;
  readonly port: number;
  readonly log: string;
  /** The command line it was started with (state files of earlier versions lack it). */
  readonly command?: string;
  readonly args?: readonly string[];
}

export interface DevClusterState {
  readonly version: 1;
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly startedAt: string;
  readonly components: readonly ComponentState[];
  readonly nodes: number;
}

/** A problem a person can act on: what went wrong and what to do. Printed without a stack. */
export class DevClusterError extends Error {
  override readonly name = "DevClusterError";
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.hint = hint;
  }
}

const STATE_FILE = "state.json";

export function readState(stateDir: string): DevClusterState | undefined {
  const file = join(stateDir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DevClusterState;
  } catch {
    return undefined;
  }
}

function requireBinaries(binDir: string, names: readonly string[]): void {
  const missing = names.filter((name) => {
    try {
      accessSync(join(binDir, name), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new DevClusterError(
      `missing control-plane binaries in ${binDir}: ${missing.join(", ")}`,
      "build them once with `npm run tools` (scripts/build-tools.sh builds them from their Go modules into a cache), or point VAKT_BIN_DIR at a directory that has them",
    );
  }
}

/** What a failing component's log most likely says, in words a person can act on. */
export function diagnose(component: string, logTail: string): string {
  const rules: [RegExp, string][] = [
    [
      /address already in use/i,
      "a port it needs is taken by another process; stop that process or choose another port",
    ],
    [/permission denied/i, "a file or port is not accessible to this user"],
    [
      /unknown flag/i,
      "the binary does not accept a flag vakt passes: it is probably a different version than the one scripts/build-tools.sh pins; rebuild with `npm run tools`",
    ],
    [
      /(connection refused|context deadline exceeded).*(2379|etcd)|etcd.*(unavailable|connection refused)/i,
      "kube-apiserver cannot reach etcd; see the etcd log",
    ],
    [/no space left on device/i, "the disk is full"],
    [
      /database file.*(locked|timeout)|bbolt.*timeout/i,
      "another etcd uses the same data directory; run `vakt dev down` to clean up the old one",
    ],
  ];
  for (const [pattern, cause] of rules) if (pattern.test(logTail)) return cause;
  return `see the log of ${component} above`;
}

function writeState(state: DevClusterState): void {
  writeFileSync(join(state.stateDir, STATE_FILE), JSON.stringify(state, null, 2) + "\n");
}

/** The binaries `up` runs, for the components `options` asks for. */
function wantedBinaries(options: DevClusterOptions): string[] {
  return [
    "etcd",
    "kube-apiserver",
    "kubectl",
    ...(options.controllers === false ? [] : ["kube-controller-manager", "kube-scheduler"]),
    ...((options.nodes ?? 0) > 0 ? ["kwok"] : []),
  ];
}

/**
 * Refuses to start over a control plane that runs from `stateDir`; removes the leftovers of one
 * that did not stop cleanly.
 */
async function clearEarlierRun(stateDir: string, progress: (line: string) => void): Promise<void> {
  const previous = readState(stateDir);
  if (previous !== undefined) {
    const alive = previous.components.filter((c) => isOurProcess(c.pid, stateDir));
    if (alive.length === previous.components.length && alive.length > 0) {
      throw new DevClusterError(
        `a local control plane is already running from ${stateDir} (API server ${previous.server}, started ${previous.startedAt})`,
        `use it (KUBECONFIG=${previous.kubeconfig}), check it with \`vakt dev status\`, or stop it first with \`vakt dev down\``,
      );
    }
    progress(
      `found leftovers of an earlier run that did not stop cleanly (${alive.length} of ${previous.components.length} processes alive); cleaning up`,
    );
  }
  await cleanup(stateDir);
}

/** Refuses an API server port that was asked for and is taken. */
async function checkApiServerPort(asked: number | undefined): Promise<void> {
  if (asked !== undefined && asked !== 0 && (await portInUse(asked))) {
    throw new DevClusterError(
      `port ${asked} on 127.0.0.1 is already in use by another process`,
      "choose another port with --port, or leave --port out to let vakt pick a free one",
    );
  }
}

interface StateDirs {
  readonly pki: string;
  readonly logs: string;
  readonly etcd: string;
  readonly kcm: string;
  readonly scheduler: string;
}

function makeStateDirs(stateDir: string): StateDirs {
  const dirs = {
    pki: join(stateDir, "pki"),
    logs: join(stateDir, "logs"),
    etcd: join(stateDir, "etcd"),
    kcm: join(stateDir, "kcm"),
    scheduler: join(stateDir, "scheduler"),
  };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dirs;
}

/** The certificates of the control plane's users; files in dirs.pki besides. */
interface Pki {
  readonly ca: IssuedCertificate;
  readonly admin: IssuedCertificate;
  readonly controllerManager: IssuedCertificate;
  readonly scheduler: IssuedCertificate;
}

/** A fresh CA, the API server's serving certificate, client certificates and the service-account key pair. */
async function writePki(dirs: StateDirs): Promise<Pki> {
  const ca = await createCertificateAuthority("vakt-dev-ca", 365);
  const serving = await issueCertificate(ca, {
    commonName: "kube-apiserver",
    dnsNames: [
      "localhost",
      "kubernetes",
      "kubernetes.default",
      "kubernetes.default.svc",
      "kubernetes.default.svc.cluster.local",
    ],
    ipAddresses: ["127.0.0.1", "10.0.0.1"],
    usage: "server",
    validDays: 365,
  });
  const admin = await issueCertificate(ca, {
    commonName: "vakt-admin",
    organization: ["system:masters"],
    usage: "client",
    validDays: 365,
  });
  const controllerManager = await issueCertificate(ca, {
    commonName: "system:kube-controller-manager",
    usage: "client",
    validDays: 365,
  });
  const scheduler = await issueCertificate(ca, {
    commonName: "system:kube-scheduler",
    usage: "client",
    validDays: 365,
  });
  const serviceAccount = await createKeyPair();
  const files: [string, string][] = [
    ["ca.crt", ca.certificatePem],
    ["ca.key", ca.privateKeyPem],
    ["apiserver.crt", serving.certificatePem],
    ["apiserver.key", serving.privateKeyPem],
    ["admin.crt", admin.certificatePem],
    ["admin.key", admin.privateKeyPem],
    ["kcm.crt", controllerManager.certificatePem],
    ["kcm.key", controllerManager.privateKeyPem],
    ["sa.key", serviceAccount.privateKeyPem],
    ["sa.pub", serviceAccount.publicKeyPem],
  ];
  for (const [name, content] of files) writeFileSync(join(dirs.pki, name), content, { mode: 0o600 });
  return { ca, admin, controllerManager, scheduler };
}

interface Kubeconfigs {
  /** The admin's, for people and vakt. */
  readonly admin: string;
  readonly controllerManager: string;
  readonly scheduler: string;
}

function kubeconfigPaths(stateDir: string, dirs: StateDirs): Kubeconfigs {
  return {
    admin: join(stateDir, "kubeconfig"),
    controllerManager: join(dirs.kcm, "kubeconfig"),
    scheduler: join(dirs.scheduler, "kubeconfig"),
  };
}

function writeKubeconfigs(stateDir: string, dirs: StateDirs, server: string, pki: Pki): Kubeconfigs {
  const paths = kubeconfigPaths(stateDir, dirs);
  const write = (file: string, user: string, client: IssuedCertificate): void => {
    writeFileSync(
      file,
      kubeconfigYaml(server, user, pki.ca.certificatePem, client.certificatePem, client.privateKeyPem),
      { mode: 0o600 },
    );
  };
  write(paths.admin, "vakt-admin", pki.admin);
  write(paths.controllerManager, "kube-controller-manager", pki.controllerManager);
  write(paths.scheduler, "kube-scheduler", pki.scheduler);
  return paths;
}

/** The admin's TLS material, for the API server's readiness probe. */
interface AdminTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** An earlier start of `stateDir` that `resume` can continue: its state, certificates and kubeconfigs. */
function resumable(stateDir: string, dirs: StateDirs): { state: DevClusterState; tls: AdminTls } | undefined {
  const state = readState(stateDir);
  if (state === undefined) return undefined;
  const kubeconfigs = kubeconfigPaths(stateDir, dirs);
  if (![kubeconfigs.admin, kubeconfigs.controllerManager, kubeconfigs.scheduler].every((f) => existsSync(f)))
    return undefined;
  try {
    const read = (name: string): string => readFileSync(join(dirs.pki, name), "utf8");
    return { state, tls: { ca: read("ca.crt"), cert: read("admin.crt"), key: read("admin.key") } };
  } catch {
    return undefined;
  }
}

/** Starts the components, records each in the state file as it starts, and waits for them. */
class Launcher {
  readonly components: ComponentState[] = [];
  readonly #options: DevClusterOptions;
  readonly #logs: string;
  readonly #state: Omit<DevClusterState, "components">;
  /** What an earlier start of this state directory recorded (resume). */
  readonly #previous: readonly ComponentState[];

  constructor(
    options: DevClusterOptions,
    logs: string,
    state: Omit<DevClusterState, "components">,
    previous: readonly ComponentState[] = [],
  ) {
    this.#options = options;
    this.#logs = logs;
    this.#state = state;
    this.#previous = previous;
  }

  /** The port an earlier start recorded for the component, else a free one. */
  async port(name: ComponentName): Promise<number> {
    return this.#previous.find((c) => c.name === name)?.port ?? (await freePort());
  }

  /** Components an earlier start left running that this start did not take over. */
  leftovers(): ComponentState[] {
    return this.#previous.filter(
      (c) => !this.components.some((kept) => kept.pid === c.pid) && isOurProcess(c.pid, this.#state.stateDir),
    );
  }

  get state(): DevClusterState {
    const { version, stateDir, kubeconfig, server, startedAt, nodes } = this.#state;
    return { version, stateDir, kubeconfig, server, startedAt, components: this.components, nodes };
  }

  save(): void {
    writeState(this.state);
  }

  /**
   * Starts a component, or on resume takes over the earlier one: still running, it is kept (its
   * exit is not watched: the readiness probe tells); dead, it starts again with its recorded
   * command line, so its ports and data stay what the other components know.
   */
  launch(name: ComponentName, port: number, args: readonly string[], command?: string): StartedProcess {
    const log = join(this.#logs, `${name}.log`);
    const previous = this.#previous.find((c) => c.name === name);
    if (previous !== undefined && isOurProcess(previous.pid, this.#state.stateDir)) {
      this.components.push(previous);
      this.save();
      return { pid: previous.pid, exited: new Promise(() => undefined) };
    }
    const binary = previous?.command ?? command ?? join(this.#options.binDir, name);
    const argv = previous?.args ?? [...args, ...(this.#options.extraArgs?.[name] ?? [])];
    const started = startDetached(binary, argv, log);
    this.components.push({
      name,
      pid: started.pid,
      port: previous?.port ?? port,
      log,
      command: binary,
      args: argv,
    });
    this.save();
    return started;
  }

  ready(name: ComponentName, started: StartedProcess, probe: () => Promise<boolean>): Promise<void> {
    return waitReady(name, started, this.components, this.#options.readyTimeoutMs ?? 90_000, probe);
  }
}

/** Where the started control plane is, for the steps after the API server. */
interface ControlPlane {
  readonly dirs: StateDirs;
  readonly adminTls: AdminTls;
  readonly kubeconfigs: Kubeconfigs;
  readonly server: string;
  readonly apiPort: number;
  readonly progress: (line: string) => void;
}

async function startEtcd(launcher: Launcher, plane: ControlPlane): Promise<number> {
  const etcdPort = await launcher.port("etcd");
  const etcdPeerPort = await freePort();
  plane.progress(`starting etcd on 127.0.0.1:${etcdPort}`);
  const etcd = launcher.launch("etcd", etcdPort, [
    `--name=vakt-dev`,
    `--data-dir=${plane.dirs.etcd}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=vakt-dev=http://127.0.0.1:${etcdPeerPort}`,
    "--listen-metrics-urls=",
    "--unsafe-no-fsync=true",
    "--quota-backend-bytes=8589934592",
    "--log-level=warn",
  ]);
  await launcher.ready("etcd", etcd, () => getOk(`http://127.0.0.1:${etcdPort}/health`));
  return etcdPort;
}

async function startApiServer(launcher: Launcher, plane: ControlPlane, etcdPort: number): Promise<void> {
  const { dirs, adminTls, server, apiPort } = plane;
  const file = (name: string): string => join(dirs.pki, name);
  plane.progress(`starting kube-apiserver on ${server}`);
  const apiserver = launcher.launch("kube-apiserver", apiPort, [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--bind-address=127.0.0.1`,
    `--advertise-address=127.0.0.1`,
    `--secure-port=${apiPort}`,
    `--cert-dir=${dirs.pki}`,
    `--tls-cert-file=${file("apiserver.crt")}`,
    `--tls-private-key-file=${file("apiserver.key")}`,
    `--client-ca-file=${file("ca.crt")}`,
    `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
    `--service-account-key-file=${file("sa.pub")}`,
    `--service-account-signing-key-file=${file("sa.key")}`,
    `--service-cluster-ip-range=10.0.0.0/24`,
    `--authorization-mode=RBAC`,
    `--allow-privileged=true`,
    `--profiling=false`,
    `--v=1`,
  ]);
  await launcher.ready("kube-apiserver", apiserver, () => getOk(`${server}/readyz`, adminTls));
}

/** kube-controller-manager and kube-scheduler (not waited for: nothing in `up` needs them yet). */
async function startControllers(launcher: Launcher, plane: ControlPlane): Promise<void> {
  const { dirs, kubeconfigs } = plane;
  const file = (name: string): string => join(dirs.pki, name);
  const kcmPort = await launcher.port("kube-controller-manager");
  plane.progress("starting kube-controller-manager");
  launcher.launch("kube-controller-manager", kcmPort, [
    `--kubeconfig=${kubeconfigs.controllerManager}`,
    `--authentication-kubeconfig=${kubeconfigs.controllerManager}`,
    `--authorization-kubeconfig=${kubeconfigs.controllerManager}`,
    `--bind-address=127.0.0.1`,
    `--secure-port=${kcmPort}`,
    `--cert-dir=${dirs.kcm}`,
    `--leader-elect=false`,
    `--use-service-account-credentials=true`,
    `--service-account-private-key-file=${file("sa.key")}`,
    `--root-ca-file=${file("ca.crt")}`,
    `--cluster-signing-cert-file=${file("ca.crt")}`,
    `--cluster-signing-key-file=${file("ca.key")}`,
    `--controllers=*`,
    `--profiling=false`,
    `--v=1`,
  ]);
  const schedulerPort = await launcher.port("kube-scheduler");
  plane.progress("starting kube-scheduler");
  launcher.launch("kube-scheduler", schedulerPort, [
    `--kubeconfig=${kubeconfigs.scheduler}`,
    `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
    `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
    `--bind-address=127.0.0.1`,
    `--secure-port=${schedulerPort}`,
    `--leader-elect=false`,
    `--profiling=false`,
    `--v=1`,
  ]);
}

async function startKwok(
  launcher: Launcher,
  plane: ControlPlane,
  binDir: string,
  nodes: number,
): Promise<void> {
  const kwokPort = await launcher.port("kwok");
  plane.progress(`starting kwok with ${nodes} fake node(s)`);
  const kwok = launcher.launch("kwok", kwokPort, [
    `--kubeconfig=${plane.kubeconfigs.admin}`,
    `--server-address=127.0.0.1:${kwokPort}`,
    `--config=${join(binDir, "kwok-stages.yaml")}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--manage-nodes-with-label-selector=",
    "--cidr=10.0.1.0/24",
    "--node-ip=10.0.1.1",
  ]);
  await launcher.ready("kwok", kwok, () => getOk(`http://127.0.0.1:${kwokPort}/healthz`));
}

/** `vakt run` as a host process, its webhook registered at 127.0.0.1. */
async function startVakt(
  launcher: Launcher,
  plane: ControlPlane,
  vakt: NonNullable<DevClusterOptions["vakt"]>,
): Promise<void> {
  const vaktPort = await launcher.port("vakt");
  plane.progress(`starting vakt (admission webhook) on https://127.0.0.1:${vaktPort}`);
  const started = launcher.launch(
    "vakt",
    vaktPort,
    [
      ...RUN_NODE_FLAGS,
      vakt.script,
      "run",
      `--kubeconfig=${plane.kubeconfigs.admin}`,
      "--webhook-host=127.0.0.1",
      `--webhook-port=${vaktPort}`,
      `--register-url=https://127.0.0.1:${vaktPort}`,
      "--install-crds",
      ...(vakt.args ?? []),
    ],
    vakt.command,
  );
  await launcher.ready("vakt", started, () => getOk(`https://127.0.0.1:${vaktPort}/readyz`, "insecure"));
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager (and kwok with fake nodes) on free
 * 127.0.0.1 ports with freshly generated PKI, waits until the API server is ready, and
 * writes an admin kubeconfig. The processes outlive the caller; `down` stops them.
 */
export async function up(options: DevClusterOptions): Promise<DevClusterState> {
  const progress = options.progress ?? (() => undefined);
  const stateDir = options.stateDir;
  const nodes = options.nodes ?? 0;
  requireBinaries(options.binDir, wantedBinaries(options));
  const earlier = options.resume === true ? resumable(stateDir, makeStateDirs(stateDir)) : undefined;
  if (earlier === undefined) {
    await clearEarlierRun(stateDir, progress);
    await checkApiServerPort(options.apiServerPort);
  } else progress(`continuing the control plane of ${stateDir} (API server ${earlier.state.server})`);
  const dirs = makeStateDirs(stateDir);

  let server: string;
  let apiPort: number;
  let kubeconfigs: Kubeconfigs;
  let adminTls: AdminTls;
  if (earlier === undefined) {
    progress("generating certificates");
    const pki = await writePki(dirs);
    apiPort =
      options.apiServerPort !== undefined && options.apiServerPort !== 0
        ? options.apiServerPort
        : await freePort();
    server = `https://127.0.0.1:${apiPort}`;
    kubeconfigs = writeKubeconfigs(stateDir, dirs, server, pki);
    adminTls = { ca: pki.ca.certificatePem, cert: pki.admin.certificatePem, key: pki.admin.privateKeyPem };
  } else {
    server = earlier.state.server;
    apiPort = Number(new URL(server).port);
    kubeconfigs = kubeconfigPaths(stateDir, dirs);
    adminTls = earlier.tls;
  }
  const launcher = new Launcher(
    options,
    dirs.logs,
    {
      version: 1,
      stateDir,
      kubeconfig: kubeconfigs.admin,
      server,
      startedAt: earlier?.state.startedAt ?? new Date().toISOString(),
      nodes,
    },
    earlier?.state.components,
  );
  const plane: ControlPlane = { dirs, adminTls, kubeconfigs, server, apiPort, progress };
  try {
    const etcdPort = await startEtcd(launcher, plane);
    await startApiServer(launcher, plane, etcdPort);
    if (options.controllers !== false) await startControllers(launcher, plane);
    if (nodes > 0) await startKwok(launcher, plane, options.binDir, nodes);
    if (options.vakt !== undefined) await startVakt(launcher, plane, options.vakt);
    // What an earlier start ran and this one does not want (fewer components asked for).
    await stopAll(launcher.leftovers(), stateDir);
    launcher.save();
    return launcher.state;
  } catch (error) {
    await stopAll(launcher.components, stateDir);
    throw error;
  }
}

async function waitReady(
  name: ComponentName,
  started: StartedProcess,
  components: readonly ComponentState[],
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const log = components.find((c) => c.name === name)?.log ?? "";
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void started.exited.then((result) => {
    exit = result;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit !== undefined) {
      const text = tail(log, 20);
      throw new DevClusterError(
        `${name} exited during start-up (${exit.signal ?? `exit code ${String(exit.code)}`}). Last lines of ${log}:\n${text}`,
        `likely cause: ${diagnose(name, text)}`,
      );
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      const text = tail(log, 20);
      throw new DevClusterError(
        `${name} did not become ready within ${Math.round(timeoutMs / 1000)}s. Last lines of ${log}:\n${text}`,
        `likely cause: ${diagnose(name, text)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** TLS for a readiness probe: client certificates, or none and no verification (see getOk). */
export type ProbeTls = { readonly ca: string; readonly cert: string; readonly key: string } | "insecure";

/**
 * True when GET `url` answers 200 within 2 s. For https, `tls` gives the CA and client
 * certificate; "insecure" skips verification, only for the readiness of a local process whose
 * self-made CA we do not know yet. No keep-alive: a probe must not hold the event loop open.
 */
export function getOk(url: string, tls?: ProbeTls): Promise<boolean> {
  return new Promise((resolve) => {
    const options = {
      timeout: 2_000,
      agent: false,
      ...(tls === "insecure" ? { rejectUnauthorized: false } : tls),
    };
    const req = (url.startsWith("https:") ? request : httpRequest)(url, options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => {
      resolve(false);
    });
    req.on("timeout", () => {
      req.destroy();
    });
    req.end();
  });
}

function kubeconfigYaml(server: string, user: string, ca: string, cert: string, key: string): string {
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: vakt-dev",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(ca)}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    client-certificate-data: ${b64(cert)}`,
    `    client-key-data: ${b64(key)}`,
    "contexts:",
    "- name: vakt-dev",
    "  context:",
    "    cluster: vakt-dev",
    `    user: ${user}`,
    "current-context: vakt-dev",
    "",
  ].join("\n");
}

async function stopAll(components: readonly ComponentState[], stateDir: string): Promise<string[]> {
  const stopped: string[] = [];
  // Reverse start order: clients before the servers they talk to.
  for (const component of [...components].reverse()) {
    if (isOurProcess(component.pid, stateDir)) {
      await stopProcess(component.pid, stateDir, 10_000);
      stopped.push(component.name);
    }
  }
  return stopped;
}

/** Stops whatever an earlier run left (by its state file) and removes its data. */
async function cleanup(stateDir: string): Promise<string[]> {
  const previous = readState(stateDir);
  const stopped = previous === undefined ? [] : await stopAll(previous.components, stateDir);
  for (const name of ["etcd", "pki", "logs", "kcm", "scheduler", "kubeconfig", STATE_FILE]) {
    rmSync(join(stateDir, name), { recursive: true, force: true });
  }
  return stopped;
}

/** Stops every component and removes all state. Safe to call when nothing runs. */
export async function down(stateDir: string): Promise<{ stopped: string[]; existed: boolean }> {
  const existed = readState(stateDir) !== undefined;
  const stopped = await cleanup(stateDir);
  return { stopped, existed };
}

export interface StatusReport {
  readonly state: DevClusterState | undefined;
  readonly components: readonly (ComponentState & { running: boolean })[];
  readonly ready: boolean;
}

export async function status(stateDir: string): Promise<StatusReport> {
  const state = readState(stateDir);
  if (state === undefined) return { state, components: [], ready: false };
  const components = state.components.map((c) => ({ ...c, running: isOurProcess(c.pid, stateDir) }));
  const pki = join(stateDir, "pki");
  let ready: boolean;
  try {
    ready = await getOk(`${state.server}/readyz`, {
      ca: readFileSync(join(pki, "ca.crt"), "utf8"),
      cert: readFileSync(join(pki, "admin.crt"), "utf8"),
      key: readFileSync(join(pki, "admin.key"), "utf8"),
    });
  } catch {
    ready = false;
  }
  return { state, components, ready };
}
