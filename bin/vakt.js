#!/usr/bin/env node
// Entry point of the `vakt` command: runs the compiled CLI from dist/.
import { existsSync } from "node:fs";
import module from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

// vakt runs on Node 24, which the `node` package supplies (npm scripts and npx put it first on
// PATH, whatever the system Node is). package.json declares no `engines`: npm would compare it
// with the Node that runs npm itself, not the one that runs vakt (ADR 0016). The check is made
// here, where the Node that runs vakt is known, before anything that needs Node 24 is loaded.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(
    `vakt: needs Node 24 or newer, and this is Node ${process.version} (${process.execPath}). ` +
      "In the vakt repository, run it as `npx vakt` after `npm ci` (which installs Node 24 from " +
      "the `node` package); elsewhere, install Node 24.\n",
  );
  process.exit(2);
}

// V8's compiled code for dist/ and the dependencies, kept between runs: start-up spends much of
// its time compiling modules. In the user's own cache directory, not Node's default in the
// shared temp directory, where another user could have put code for vakt to load.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. Enabling never throws; a directory that cannot be
// written (a read-only home) only leaves the cache off.
module.enableCompileCache(join(homedir(), ".cache", "vakt", "node-compile-cache"));

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "vakt: the CLI is not built yet. Run `npm ci && npm run build` in the vakt repository first.\n",
  );
  process.exit(2);
}
await import(main.href);
