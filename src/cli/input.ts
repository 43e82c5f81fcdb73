/**
 * The small inputs of the CLI besides the manifests `vakt check` reads (those have their own
 * limits in inputs/manifests.ts): vakt.yaml, the Tenant file of `vakt render`, kubeconfigs. Each
 * is read with a size limit, so `-c /dev/zero` stops with a message instead of growing until the
 * process is killed.
 */
import { TooLarge, describeFsError, mebibytes, readLimited, readStream } from "../inputs/manifests.ts";
import { UsageError } from "./errors.ts";

const MiB = 1024 * 1024;

/**
 * Largest file of each kind, in bytes. Generous for real files (a vakt.yaml is a few KiB, a
 * kubeconfig with embedded certificates for many clusters well under a MiB), small enough that
 * parsing one at the limit stays far from the memory a CI runner has (docs/adr/0010).
 */
const INPUT_LIMITS = {
  configuration: 4 * MiB,
  tenants: 16 * MiB,
  kubeconfig: 16 * MiB,
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

const DESCRIPTION: Readonly<Record<InputKind, string>> = {
  configuration: "the configuration",
  tenants: "the Tenant file",
  kubeconfig: "the kubeconfig",
};

/**
 * The text of `file` up to the limit for its kind, or a UsageError saying which file, why, and
 * the limit. With `stdin`, "-" is standard input.
 */
export async function readInput(
  file: string,
  kind: InputKind,
  options: { readonly stdin?: boolean } = {},
): Promise<string> {
  const limit = INPUT_LIMITS[kind];
  const fromStdin = options.stdin === true && file === "-";
  const name = fromStdin ? "standard input" : file;
  try {
    return fromStdin ? await readStream(process.stdin, limit) : await readLimited(file, limit);
  } catch (error) {
    const reason =
      error instanceof TooLarge
        ? `it is over the ${mebibytes(limit)} limit for ${DESCRIPTION[kind]}; is it the right file?`
        : describeFsError(error);
    throw new UsageError(`cannot read ${DESCRIPTION[kind]} ${name}: ${reason}`);
  }
}
