/**
 * The `yaml` package, loaded on first use. It is made of some 70 CommonJS modules whose loading
 * costs more than the rest of `vakt check`'s start-up; the check needs it only for vakt.yaml
 * (config/config-tree.ts), for documents the fast path and js-yaml cannot read, and for positions
 * the recorded index cannot answer.
 */
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

const requireCommonJs = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

export function yamlPackage(): typeof Yaml {
  loaded ??= requireCommonJs("yaml") as typeof Yaml;
  return loaded;
}
