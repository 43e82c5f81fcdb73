/**
 * The `backup` block of a Tenant's status, computed (pure): from the tenant's Velero Backups, its
 * latest off-site copy and its backup schedule, what the backup part writes (lastBackup,
 * lastCompletedBackup, policy, withinPolicy, dueBy, lastCopy); from a drill's result, what the
 * drill writes (lastDrill, lastPassedDrill). The I/O edge is status.ts.
 */
import type { OutputOf } from "../tenant/builder.ts";
import type { tenantBackupStatusSchema } from "../tenant/schema.ts";

export type TenantBackupStatus = OutputOf<typeof tenantBackupStatusSchema>;

/** A completed backup may be this much older than the schedule's longest gap. */
export const POLICY_GRACE_SECONDS = 3600;

const FIELDS = [
  { name: "minute", min: 0, max: 59, names: [] },
  { name: "hour", min: 0, max: 23, names: [] },
  { name: "day of month", min: 1, max: 31, names: [] },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
  },
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
] as const;

interface CronField {
  readonly values: ReadonlySet<number>;
  /** The field was `*` or `?`: day of month and day of week then combine with AND, else OR. */
  readonly star: boolean;
}

function cronField(text: string, index: number, expression: string): CronField {
  const field = FIELDS[index];
  if (field === undefined) throw new Error(`cron ${JSON.stringify(expression)}: too many fields`);
  const bad = (why: string): Error =>
    new Error(
      `cron ${JSON.stringify(expression)}: the ${field.name} field ${JSON.stringify(text)} ${why} (allowed ${String(field.min)}-${String(field.max)}, *, lists, ranges and steps)`,
    );
  const number = (part: string): number => {
    const named = (field.names as readonly string[]).indexOf(part.toUpperCase());
    if (named >= 0) return named + (field.min === 1 ? 1 : 0);
    if (!/^\d+$/.test(part)) throw bad(`has ${JSON.stringify(part)}, not a number`);
    const value = Number(part);
    if (value < field.min || value > field.max) throw bad(`has ${part}, out of range`);
    return value;
  };
  const values = new Set<number>();
  let star = false;
  for (const item of text.split(",")) {
    const [range = "", stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw bad(`has step ${JSON.stringify(stepText)}`);
    let low: number;
    let high: number;
    if (range === "*" || range === "?") {
      star = (stepText === undefined || step === 1) && !text.includes(",");
      low = field.min;
      high = field.max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      low = number(a);
      high = number(b);
      if (low > high) throw bad(`has the range ${range} backwards`);
    } else {
      low = number(range);
      high = stepText === undefined ? low : field.max;
    }
    for (let value = low; value <= high; value += step) values.add(index === 4 && value === 7 ? 0 : value);
  }
  return { values, star };
}

/**
 * The longest time between two firings of a five-field cron expression (UTC), in seconds, over
 * eight years (leap days included); undefined when it fires less than twice in that time. Throws
 * an Error naming the field when the expression is not one Velero accepts in this form.
 */
export function longestCronGapSeconds(expression: string): number | undefined {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new Error(
      `cron ${JSON.stringify(expression)}: five fields (minute hour day-of-month month day-of-week), not ${String(parts.length)}`,
    );
  const [minute, hour, dom, month, dow] = parts.map((part, i) => cronField(part, i, expression)) as [
    CronField,
    CronField,
    CronField,
    CronField,
    CronField,
  ];
  // Minutes of the day it fires at: the same on every day it fires.
  const times = [...hour.values]
    .flatMap((h) => [...minute.values].map((m) => h * 60 + m))
    .sort((a, b) => a - b);
  const first = times[0];
  const last = times.at(-1);
  if (first === undefined || last === undefined) return undefined;
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, (times[i] ?? 0) - (times[i - 1] ?? 0));
  const start = Date.UTC(2024, 0, 1);
  let previousDay: number | undefined;
  let fired = 0;
  for (let day = 0; day < 8 * 366; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!month.values.has(date.getUTCMonth() + 1)) continue;
    const domMatch = dom.values.has(date.getUTCDate());
    const dowMatch = dow.values.has(date.getUTCDay());
    if (!(dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch)) continue;
    fired += times.length;
    if (previousDay !== undefined) longest = Math.max(longest, (day - previousDay) * 1440 + first - last);
    previousDay = day;
  }
  return fired < 2 ? undefined : longest * 60;
}

/** A Velero Backup as the status needs it. */
export interface TenantBackup {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly start: string | undefined;
  readonly completion: string | undefined;
}

export interface CopyOutcome {
  /** <velero namespace>/<backup>. */
  readonly backup: string;
  readonly location: string;
  readonly time: string;
  readonly verified: boolean;
  readonly message?: string;
}

export interface BackupStatusInputs {
  /** spec.backup.schedule; undefined when no namespace of the tenant is backed up. */
  readonly schedule: string | undefined;
  readonly backups: Iterable<TenantBackup>;
  readonly lastCopy: CopyOutcome | undefined;
  readonly now: Date;
}

export interface BackupStatusFields {
  /** The fields the backup part owns. */
  readonly status: TenantBackupStatus;
  /** When the status changes by time alone (withinPolicy turns false), in ms since the epoch. */
  readonly recheckAt: number | undefined;
  /** The schedule could not be read: why (the policy is then left out). */
  readonly scheduleProblem: string | undefined;
}

const timeOf = (backup: TenantBackup): string => backup.completion ?? backup.start ?? "";

/** What the backup part writes into a Tenant's status.backup. */
export function backupStatusFields(inputs: BackupStatusInputs): BackupStatusFields {
  let latest: TenantBackup | undefined;
  let completed: TenantBackup | undefined;
  for (const backup of inputs.backups) {
    if (latest === undefined || timeOf(backup).localeCompare(timeOf(latest)) > 0) latest = backup;
    if (
      backup.phase === "Completed" &&
      backup.completion !== undefined &&
      (completed?.completion === undefined || backup.completion.localeCompare(completed.completion) > 0)
    )
      completed = backup;
  }
  let maxAgeSeconds: number | undefined;
  let scheduleProblem: string | undefined;
  if (inputs.schedule !== undefined)
    try {
      const gap = longestCronGapSeconds(inputs.schedule);
      if (gap === undefined)
        scheduleProblem = `the schedule ${inputs.schedule} fires less than twice in 8 years`;
      else maxAgeSeconds = gap + POLICY_GRACE_SECONDS;
    } catch (error) {
      scheduleProblem = error instanceof Error ? error.message : String(error);
    }
  const status: Record<string, unknown> = {};
  if (latest !== undefined)
    status["lastBackup"] = {
      namespace: latest.namespace,
      name: latest.name,
      phase: latest.phase || "New",
      ...(timeOf(latest) === "" ? {} : { time: timeOf(latest) }),
    };
  if (completed?.completion !== undefined)
    status["lastCompletedBackup"] = {
      namespace: completed.namespace,
      name: completed.name,
      time: completed.completion,
    };
  let recheckAt: number | undefined;
  if (inputs.schedule !== undefined && maxAgeSeconds !== undefined) {
    status["policy"] = { schedule: inputs.schedule, maxAgeSeconds };
    const completedAt = completed?.completion === undefined ? NaN : Date.parse(completed.completion);
    if (Number.isNaN(completedAt)) status["withinPolicy"] = false;
    else {
      const due = completedAt + maxAgeSeconds * 1000;
      status["dueBy"] = new Date(due).toISOString().replace(/\.\d{3}Z$/, "Z");
      status["withinPolicy"] = inputs.now.getTime() < due;
      if (inputs.now.getTime() < due) recheckAt = due;
    }
  }
  const copy = inputs.lastCopy;
  if (copy !== undefined)
    status["lastCopy"] = {
      backup: copy.backup,
      location: copy.location,
      time: copy.time,
      verified: copy.verified,
      ...(copy.message === undefined ? {} : { message: copy.message.slice(0, 4096) }),
    };
  return { status: status, recheckAt, scheduleProblem };
}

/** A drill's result as status needs it (DrillResult of drill.ts fits). */
export interface DrillOutcome {
  readonly id: string;
  readonly tenant: string;
  readonly backup: string;
  readonly location: string;
  readonly passed: boolean;
  readonly finishedAt: string;
  readonly rpoSeconds: number;
  readonly rtoSeconds: number;
  readonly problems: readonly string[];
}

/** What a drill writes into a Tenant's status.backup; `previous`: the status before it. */
export function drillStatusFields(
  result: DrillOutcome,
  previous: TenantBackupStatus | undefined,
): TenantBackupStatus {
  const lastDrill = {
    id: result.id,
    time: result.finishedAt,
    passed: result.passed,
    backup: result.backup,
    location: result.location,
    rpoSeconds: Math.max(0, Math.round(result.rpoSeconds)),
    rtoSeconds: Math.max(0, Math.ceil(result.rtoSeconds)),
    problems: result.problems.slice(0, 10).map((problem) => problem.slice(0, 4096)),
  };
  const lastPassedDrill = result.passed
    ? { id: result.id, time: result.finishedAt }
    : previous?.lastPassedDrill;
  return {
    lastDrill,
    ...(lastPassedDrill === undefined ? {} : { lastPassedDrill }),
  };
}
