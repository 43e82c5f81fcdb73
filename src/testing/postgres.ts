/**
 * A real PostgreSQL server for tests and benchmarks: Debian's `postgresql` package (installed by
 * scripts/setup.sh), a fresh cluster made with initdb in a temporary directory, listening on
 * 127.0.0.1 on a free port only (no Unix socket), run as an unprivileged user (`nobody` when we
 * are root: PostgreSQL refuses to run as root). `npm test` starts one for the whole run and
 * hands its URL to the tests (VAKT_TEST_POSTGRES_URL); each test takes a database of its own.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setting } from "../config/settings.ts";
import { freePort } from "../devcluster/processes.ts";

export interface PostgresServer {
  /** postgres://vakt@127.0.0.1:<port>/postgres (trust authentication on the loopback address). */
  readonly url: string;
  readonly dataDir: string;
  /** pg_ctl stop (fast): the server goes away, its data stays. */
  pause(): void;
  /** pg_ctl start again on the same port. */
  resume(): void;
  /** Stops the server and removes its directory. */
  stop(): void;
}

/** The directory of initdb and pg_ctl: Debian's /usr/lib/postgresql/<newest>/bin (they are not on PATH). */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = join(root, version, "bin");
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  throw new Error(
    "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/<version>/bin): run `npm run setup` (scripts/setup.sh installs Debian's postgresql)",
  );
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const root = process.getuid?.() === 0;
  const dataDir = mkdtempSync(join(tmpdir(), "vakt-test-postgres-"));
  if (root) {
    const uid = Number(execFileSync("id", ["-u", "nobody"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim());
    chownSync(dataDir, uid, gid);
  }
  // As the unprivileged user when we are root; from a directory it can read (initdb checks the cwd).
  const run = (program: string, args: readonly string[]): void => {
    const command = root ? "runuser" : join(bin, program);
    const rest = root ? ["-u", "nobody", "--", join(bin, program), ...args] : args;
    try {
      execFileSync(command, rest, {
        cwd: "/",
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
      });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? "";
      throw new Error(`${program} ${args.join(" ")} failed: ${stderr.trim() || (error as Error).message}`, {
        cause: error,
      });
    }
  };
  const port = await freePort();
  run("initdb", ["-D", dataDir, "-U", "vakt", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
  const options = [
    "-c listen_addresses=127.0.0.1",
    `-c port=${String(port)}`,
    "-c unix_socket_directories=''",
    // A throwaway server: durability is not under test, speed on a shared machine is.
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
  ].join(" ");
  const start = (): void => {
    run("pg_ctl", [
      "-D",
      dataDir,
      "-l",
      join(dataDir, "server.log"),
      "-o",
      options,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  };
  const halt = (): void => {
    run("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
  };
  start();
  let running = true;
  return {
    url: `postgres://vakt@127.0.0.1:${String(port)}/postgres`,
    dataDir,
    pause(): void {
      halt();
      running = false;
    },
    resume(): void {
      start();
      running = true;
    },
    stop(): void {
      try {
        if (running) halt();
      } finally {
        running = false;
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The server of this test run: the one `npm test` started, or (a test file run on its own) one
 * started for this process and stopped when it exits.
 */
let own: Promise<PostgresServer> | undefined;
export async function testPostgresUrl(): Promise<string> {
  const shared = setting("testPostgresUrl");
  if (shared !== "") return shared;
  own ??= startPostgres().then((server) => {
    process.once("exit", () => {
      server.stop();
    });
    return server;
  });
  return (await own).url;
}

/** A fresh, empty database on the test server; returns its URL. */
export async function createTestDatabase(serverUrl: string): Promise<string> {
  const { default: pg } = await import("pg");
  const name = `vakt_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
