import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { setting } from "../config/settings.ts";

/**
 * The integration-test harness. `npm test` (scripts/test.ts) starts one real control plane per
 * run; tests share it and each work in a namespace of their own.
 */
export function testKubeconfigPath(): string {
  const path = setting("testKubeconfig");
  if (path === "") {
    throw new Error(
      "integration tests need the shared test control plane: run them through `npm test` (optionally `npm test -- <file>`), which starts and stops it",
    );
  }
  return path;
}

export function testKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(testKubeconfigPath());
  return config;
}

/** Runs the kubectl of the pinned Kubernetes release against the test control plane. */
export function kubectl(
  args: readonly string[],
  input?: string,
): Promise<{ stdout: string; stderr: string }> {
  const binary = join(setting("testBinDir"), "kubectl");
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      [`--kubeconfig=${testKubeconfigPath()}`, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve({ stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A fresh namespace for one test, deleted (without waiting for finalization) when the test ends. */
export async function withNamespace(t: TestContext, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  const core = testKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { "vakt.dev/test": "true" } } } });
  t.after(async () => {
    await core.deleteNamespace({ name }).catch(() => undefined);
  });
  return name;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
