#!/usr/bin/env node
// Entry point of the `vakt` command: runs the compiled CLI from dist/.
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";

// V8's compiled code for dist/ and the dependencies, kept between runs: start-up spends much of
// its time compiling modules. In the user's own cache directory, not Node's default in the
// shared temp directory, where another user could have put code for vakt to load.
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. Enabling never throws; a directory that cannot be
// written (a read-only home) only leaves the cache off.
enableCompileCache(join(homedir(), ".cache", "vakt", "node-compile-cache"));

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "vakt: the CLI is not built yet. Run `npm ci && npm run build` in the vakt repository first.\n",
  );
  process.exit(2);
}
await import(main.href);
