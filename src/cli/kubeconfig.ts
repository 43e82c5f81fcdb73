/**
 * The kubeconfig of `vakt run`, read by vakt itself rather than by the client library's
 * loadFromFile: that one reads any file to the end without a limit (`--kubeconfig /dev/zero`
 * grew until the process was killed) and lets a missing or malformed file surface as a stack
 * trace.
 */
import { existsSync } from "node:fs";
import { delimiter, dirname } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { SETTINGS, setting } from "../config/settings.ts";
import { UsageError } from "./errors.ts";
import { readInput } from "./input.ts";

/**
 * `file`, or else the files $KUBECONFIG lists (merged as kubectl merges them), or else
 * ~/.kube/config; without any of them, the in-cluster service account.
 */
export async function loadKubeconfig(file: string | undefined): Promise<KubeConfig> {
  // Loaded on demand: the Kubernetes client costs most of the CLI's start-up time.
  const { KubeConfig } = await import("@kubernetes/client-node");
  const files =
    file === undefined
      ? setting("kubeconfig")
          .split(delimiter)
          .filter((path) => path !== "")
      : [file];
  const config = new KubeConfig();
  const [first, ...rest] = files;
  if (first === undefined || (file === undefined && isAbsentDefault(files))) {
    config.loadFromDefault();
    return config;
  }
  await loadInto(config, first);
  for (const path of rest) {
    const more = new KubeConfig();
    await loadInto(more, path);
    config.mergeConfig(more);
  }
  if (config.getCurrentCluster() === null) {
    const context = config.getCurrentContext();
    throw new UsageError(
      `the kubeconfig ${files.join(delimiter)} names no cluster to talk to` +
        `${context ? ` (current-context "${context}" has none)` : " (no current-context)"}; ` +
        "set one with `kubectl config use-context NAME`",
    );
  }
  return config;
}

function isAbsentDefault(files: readonly string[]): boolean {
  return files.length === 1 && files[0] === SETTINGS.kubeconfig.default() && !existsSync(files[0]);
}

async function loadInto(config: KubeConfig, file: string): Promise<void> {
  const text = await readInput(file, "kubeconfig");
  const fix = `check it with \`kubectl config view --kubeconfig ${file}\``;
  if (text.trim() === "") throw new UsageError(`the kubeconfig ${file} is empty; ${fix}`);
  try {
    config.loadFromString(text);
  } catch (error) {
    // js-yaml puts a source excerpt after the first line; the first line names the position.
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
    throw new UsageError(`the kubeconfig ${file} is not valid: ${reason}; ${fix}`);
  }
  config.makePathsAbsolute(dirname(file));
}
