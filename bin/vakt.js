#!/usr/bin/env node
// Entry point of the `vakt` command: runs the compiled CLI from dist/.
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";

// V8's compiled code for dist/ and the dependencies, kept between runs (by default in the OS temp
// directory, or $NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off): start-up
// spends much of its time compiling modules. Enabling never throws; a directory that cannot be
// written only leaves the cache off.
enableCompileCache();

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "vakt: the CLI is not built yet. Run `npm ci && npm run build` in the vakt repository first.\n",
  );
  process.exit(2);
}
await import(main.href);
