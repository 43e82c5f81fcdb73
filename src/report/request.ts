/**
 * What `vakt report` is asked for, from its flags: the period, the frameworks, the scope. Bad
 * values throw a ReportInputError that says what was wrong and how to write it (the CLI turns it
 * into exit code 2).
 */
import { FRAMEWORKS, frameworkById } from "../catalog/index.ts";

export class ReportInputError extends Error {
  override readonly name = "ReportInputError";
}

export interface PeriodFlags {
  readonly from?: string;
  readonly to?: string;
  readonly period?: string;
}

const DAY_MS = 86_400_000;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const HOW =
  "write --period as a number and a unit (90d, 12w, 48h), or --from and --to as a date (2026-01-31) or a time with its zone (2026-01-31T12:00:00Z)";

/** A flag's instant. A date is its day's start in UTC; as `--to`, the day is included (the end is the next day's start). */
function instant(value: string, flag: "--from" | "--to"): Date {
  const text = value.trim();
  if (DATE.test(text) || TIME.test(text)) {
    const time = Date.parse(DATE.test(text) ? `${text}T00:00:00Z` : text);
    // Date.parse rolls 2026-02-30 over to March: a date that does not round-trip is not a date.
    if (!Number.isNaN(time) && (!DATE.test(text) || new Date(time).toISOString().startsWith(text)))
      return new Date(flag === "--to" && DATE.test(text) ? time + DAY_MS : time);
  }
  throw new ReportInputError(`${flag} "${value}" is not a date or a time with a zone; ${HOW}`);
}

/**
 * The period [from, to) from --from/--to/--period; `now` ends a period given by length alone.
 * Default: the 90 days before now.
 */
export function parsePeriod(flags: PeriodFlags, now: Date): { from: Date; to: Date } {
  if (flags.period !== undefined && flags.from !== undefined)
    throw new ReportInputError(
      `give --period or --from, not both (--period counts back from --to, or from now)`,
    );
  const to = flags.to === undefined ? now : instant(flags.to, "--to");
  let from: Date;
  if (flags.from !== undefined) {
    from = instant(flags.from, "--from");
  } else {
    const text = (flags.period ?? "90d").trim();
    const match = /^([1-9]\d{0,4})([hdw])$/.exec(text);
    const unit = match === null ? undefined : UNIT_MS[match[2] ?? ""];
    if (match === null || unit === undefined)
      throw new ReportInputError(`--period "${flags.period ?? ""}" is not a length; ${HOW}`);
    from = new Date(to.getTime() - Number(match[1]) * unit);
  }
  if (from.getTime() >= to.getTime())
    throw new ReportInputError(
      `the period is empty: --from ${from.toISOString()} is not before --to ${to.toISOString()}; ${HOW}`,
    );
  return { from, to };
}

/** Framework ids from `--framework a,b` (repeatable); none given: every framework of the catalog. */
export function parseFrameworks(values: readonly string[]): string[] {
  const ids = [
    ...new Set(
      values
        .flatMap((value) => value.split(","))
        .map((value) => value.trim().toLowerCase())
        .filter((value) => value !== ""),
    ),
  ];
  if (ids.length === 0) return FRAMEWORKS.map((framework) => framework.id);
  const unknown = ids.filter((id) => frameworkById(id) === undefined);
  if (unknown.length > 0) {
    const known = FRAMEWORKS.map((f) => `${f.id} (${f.name})`).join(", ");
    throw new ReportInputError(
      `unknown framework${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; --framework takes a comma-separated list of: ${known}`,
    );
  }
  return ids;
}
