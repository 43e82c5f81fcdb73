import type { Control } from "./types.ts";

/** Extras for one catalog entry. `parent` is given as a local ref ("32"), not a full id. */
interface EntryExtras {
  readonly parent?: string;
  readonly note?: string;
}

/** One catalog entry as written in the framework modules: local ref, our title, our summary. */
export type Entry = readonly [ref: string, title: string, summary: string, extras?: EntryExtras];

/**
 * Builds controls of one framework (and optionally one group) from compact entries. The id is
 * always "<framework>:<ref>", so a framework module cannot misspell its own prefix.
 */
export function defineControls(
  framework: string,
  group: string | undefined,
  entries: readonly Entry[],
): Control[] {
  return entries.map(([ref, title, summary, extras]) => ({
    id: `${framework}:${ref}`,
    framework,
    ref,
    title,
    summary,
    ...(group === undefined ? {} : { group }),
    ...(extras?.parent === undefined ? {} : { parent: `${framework}:${extras.parent}` }),
    ...(extras?.note === undefined ? {} : { note: extras.note }),
  }));
}
