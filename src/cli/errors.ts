/** Bad flags or arguments: exit code 2, message without a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An operational failure that carries a hint on how to fix it (DevClusterError and kin). */
export function isHinted(error: unknown): error is Error & { hint: string } {
  return error instanceof Error && "hint" in error && typeof error.hint === "string";
}
