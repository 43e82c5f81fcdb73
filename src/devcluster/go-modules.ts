/**
 * Files of pinned Go modules, read where Go keeps them (the module cache) instead of copies in
 * this repository: third-party CRDs, the Pod Security Standards fixtures of the control plane's
 * own Kubernetes version. Used by tests and benchmarks; needs `go` on PATH (setup needs it anyway).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * The go.mod that pins the control plane's Kubernetes modules (scripts/build-tools.sh builds
 * kube-apiserver from it), so a fixture's version follows the binaries the tests run against.
 */
export const CONTROL_PLANE_GO_MOD = path.join(REPO_ROOT, "tools/k8s/go.mod");

const POD_SECURITY_MODULE = "k8s.io/pod-security-admission";

/**
 * The module's directory in the Go module cache, downloading it first when it is missing.
 * Runs in a temporary module of its own so that whatever Go module the caller (or a parent of
 * the temporary directory) sits in cannot change which version is resolved.
 */
export async function goModuleDir(
  module: string,
  version: string,
  options: { readonly toolchain?: string } = {},
): Promise<string> {
  const where = `${module}@${version}`;
  const dir = await mkdtemp(path.join(tmpdir(), "vakt-gomod-"));
  try {
    await writeFile(path.join(dir, "go.mod"), "module vakt.dev/gomod\n\ngo 1.24\n");
    const download = ["go", "mod", "download", "-json", where];
    // A module that needs a newer Go than the machine's: Go fetches that toolchain as a module.
    const [command, ...args] =
      options.toolchain === undefined ? download : ["env", `GOTOOLCHAIN=${options.toolchain}`, ...download];
    const { stdout } = await run(command ?? "go", args, {
      cwd: dir,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: unknown) => {
      const failure = error as { code?: unknown; stdout?: string; stderr?: string };
      if (failure.code === "ENOENT")
        throw new Error(
          `cannot read ${where}: Go is not installed or not on PATH (install Go >= 1.26 from https://go.dev/dl, then rerun)`,
        );
      throw new Error(`go mod download ${where} failed: ${describeGoFailure(failure, error)}`);
    });
    const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
    if (info.Dir === undefined) throw new Error(`go mod download ${where}: ${info.Error ?? "no directory"}`);
    return info.Dir;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Go prints a failed download's reason as JSON ("Error") on stdout, other failures on stderr. */
function describeGoFailure(failure: { stdout?: string; stderr?: string }, error: unknown): string {
  const stdout = failure.stdout ?? "";
  try {
    const info = JSON.parse(stdout) as { Error?: unknown };
    if (typeof info.Error === "string")
      return `${info.Error} (is the Go module proxy reachable? go env GOPROXY)`;
  } catch {
    // not JSON: fall through to the raw output
  }
  const text = (stdout || failure.stderr || "").trim();
  return text === "" ? String(error) : text;
}

/**
 * The version `goModFile` pins `module` to through its `replace` directive (the control plane's
 * go.mod replaces every Kubernetes staging module with the release's version).
 */
export async function replacedVersion(
  module: string,
  goModFile: string = CONTROL_PLANE_GO_MOD,
): Promise<string> {
  const text = await readFile(goModFile, "utf8");
  const quoted = module.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const directive = new RegExp(
    `^\\s*(?:replace\\s+)?${quoted}(?:\\s+v\\S+)?\\s+=>\\s+${quoted}\\s+(v\\S+)\\s*$`,
    "m",
  );
  const version = directive.exec(text)?.[1];
  if (version === undefined)
    throw new Error(
      `${goModFile}: no "replace ${module} => ${module} vX.Y.Z" line; add one with the Kubernetes release's staging version`,
    );
  return version;
}

/**
 * The Kubernetes project's Pod Security Standards fixtures at the control plane's version:
 * `<dir>/<baseline|restricted>/v1.<minor>/<pass|fail>/<check><n>.yaml`.
 */
export async function podSecurityFixturesDir(): Promise<string> {
  const version = await replacedVersion(POD_SECURITY_MODULE);
  return path.join(await goModuleDir(POD_SECURITY_MODULE, version), "test", "testdata");
}
