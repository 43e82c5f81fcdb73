// The test command (`npm test`): builds or reuses the control-plane binaries, starts ONE real
// local control plane for the whole run, runs every test file with node's test runner against
// it, and stops it again, whatever happens. Integration tests find it through
// VAKT_TEST_KUBECONFIG and each use their own namespace. Likewise one PostgreSQL server
// (Debian's package, as an unprivileged user, on 127.0.0.1): VAKT_TEST_POSTGRES_URL, a database
// per test.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { down, up } from "../src/devcluster/cluster.ts";
import { startPostgres, type PostgresServer } from "../src/testing/postgres.ts";

const repo = join(import.meta.dirname, "..");
const patterns = process.argv.slice(2);

const tools = spawnSync("bash", [join(repo, "scripts/build-tools.sh")], {
  stdio: ["ignore", "pipe", "inherit"],
  encoding: "utf8",
});
if (tools.status !== 0) {
  process.stderr.write("test: building the control-plane binaries failed (see above)\n");
  process.exit(1);
}
const binDir = tools.stdout.trim().split("\n").at(-1) ?? "";
process.stderr.write(tools.stdout);

const stateDir = mkdtempSync(join(tmpdir(), "vakt-test-cluster-"));
let postgres: PostgresServer | undefined;
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  try {
    postgres?.stop();
  } catch (error) {
    process.stderr.write(
      `test: stopping PostgreSQL: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  await down(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void stop().then(() => process.exit(130));
  });
}

let code = 1;
try {
  const started = Date.now();
  const cluster = await up({
    stateDir,
    binDir,
    nodes: 2,
    progress: (line) => process.stderr.write(`test cluster: ${line}\n`),
  });
  const { createFakeNodes } = await import("../src/devcluster/nodes.ts");
  await createFakeNodes(cluster.kubeconfig, 2);
  process.stderr.write(
    `test cluster: ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cluster.server}\n`,
  );

  postgres = await startPostgres();
  process.stderr.write(`test postgres: ready at ${postgres.url}\n`);

  const files = patterns.length > 0 ? patterns : ["src/**/*.test.ts", "test/**/*.test.ts"];
  const child = spawn(process.execPath, ["--test", "--test-reporter=spec", ...files], {
    cwd: repo,
    stdio: "inherit",
    env: {
      ...process.env,
      VAKT_TEST_KUBECONFIG: cluster.kubeconfig,
      VAKT_TEST_BIN_DIR: binDir,
      VAKT_TEST_POSTGRES_URL: postgres.url,
    },
  });
  code = await new Promise<number>((resolve) =>
    child.on("exit", (exit) => {
      resolve(exit ?? 1);
    }),
  );
} catch (error) {
  process.stderr.write(
    `test: could not start the test control plane: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  if (error !== null && typeof error === "object" && "hint" in error)
    process.stderr.write(`  how to fix: ${String(error.hint)}\n`);
} finally {
  await stop();
}
process.exit(code);
