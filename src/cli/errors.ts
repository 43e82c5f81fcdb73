/** Bad flags or arguments: exit code 2, message without a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An operational failure that carries a hint on how to fix it (DevClusterError and kin). */
export function isHinted(error: unknown): error is Error & { hint: string } {
  return error instanceof Error && "hint" in error && typeof error.hint === "string";
}

/** A flag's value as a whole number within [min, max], or a UsageError naming the flag. */
export function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** A flag's value as one of `choices`, or a UsageError listing them. */
export function oneOf<const C extends readonly string[]>(value: string, flag: string, choices: C): C[number] {
  if ((choices as readonly string[]).includes(value)) return value;
  throw new UsageError(`${flag} must be ${choices.join(" or ")}, got "${value}"`);
}
