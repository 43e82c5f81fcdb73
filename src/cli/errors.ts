/** Bad flags or arguments: exit code 2, message without a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
