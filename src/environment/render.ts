/**
 * Environment -> the objects of its provider's provisioning engine. Pure: no I/O, no clock,
 * deterministic order. The fleet controller applies them and prunes what carries the
 * Environment's label but is no longer rendered.
 */
import type { Rendered } from "./provider.ts";
import type { Environment, EnvironmentProblem } from "./types.ts";
import { providerOf, validateEnvironment } from "./validate.ts";

/** Renders a defaulted Environment; with any problem nothing is rendered. */
export function renderEnvironment(environment: Environment): {
  rendered?: Rendered;
  problems: EnvironmentProblem[];
} {
  const problems = validateEnvironment(environment);
  const provider = providerOf(environment);
  if (problems.length > 0 || !("render" in provider)) return { problems };
  return { rendered: provider.render(environment), problems };
}
