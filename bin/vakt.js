#!/usr/bin/env node
// Entry point of the `vakt` command: runs the compiled CLI from dist/.
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "vakt: the CLI is not built yet. Run `npm ci && npm run build` in the vakt repository first.\n",
  );
  process.exit(2);
}
await import(main.href);
