import type { MetricInterval } from '@trackme/contracts';

/**
 * Local calendar arithmetic for the metrics oracle (docs/metrics.md, "Time"), with Intl only.
 * Local dates are `YYYY-MM-DD` strings; instants are epoch milliseconds or Dates. Written apart
 * from the metrics service on purpose: the tests compare two independent computations.
 */

const MS_PER_DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(ms: number, tz: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (local wall clock − UTC). */
function offsetAt(ms: number, tz: string): number {
  const p = localParts(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const dateString = (year: number, month: number, day: number) => `${pad(year, 4)}-${pad(month)}-${pad(day)}`;

function parseDate(date: string): { year: number; month: number; day: number } {
  const m = DATE.exec(date);
  if (!m) throw new Error(`not a YYYY-MM-DD date: "${date}"`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (dateString(...civil(Date.UTC(year, month - 1, day))) !== date) throw new Error(`not a calendar date: "${date}"`);
  return { year, month, day };
}

/** [year, month, day] of a UTC-midnight timestamp (calendar arithmetic without zones). */
function civil(utcMidnight: number): [number, number, number] {
  const d = new Date(utcMidnight);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** The local calendar date of an instant in `tz`. */
export function localDate(instant: Date | number, tz: string): string {
  const p = localParts(typeof instant === 'number' ? instant : instant.getTime(), tz);
  return dateString(p.year, p.month, p.day);
}

/** Days since 1970-01-01 of a local date (1970-01-01 itself is 0). */
export function dateNumber(date: string): number {
  const { year, month, day } = parseDate(date);
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/** A client's "day number": the local calendar day of an instant, counted from 1970-01-01 (= 0). */
export function dayNumber(instant: Date | number, tz: string): number {
  return dateNumber(localDate(instant, tz));
}

/** `date` moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  const { year, month, day } = parseDate(date);
  return dateString(...civil(Date.UTC(year, month - 1, day + days)));
}

/**
 * The instant a local date begins in `tz`: its 00:00, or — where a DST gap swallows midnight
 * (e.g. America/Santiago in September) — the first instant whose local date is `date`.
 */
export function startOfLocalDay(date: string, tz: string): Date {
  const { year, month, day } = parseDate(date);
  const wallMidnight = Date.UTC(year, month - 1, day);
  // local 00:00 under each offset in force around that day; where a fall-back repeats midnight,
  // the earlier 00:00 begins the day
  const candidates = [-36, -12, 0, 12, 36].map((hours) => wallMidnight - offsetAt(wallMidnight + hours * 3_600_000, tz));
  const midnights = candidates.filter((c) => {
    const p = localParts(c, tz);
    return dateString(p.year, p.month, p.day) === date && p.hour === 0 && p.minute === 0 && p.second === 0;
  });
  if (midnights.length > 0) return new Date(Math.min(...midnights));
  // midnight does not exist: binary search for the first instant on `date` (offsets are whole seconds)
  let lo = wallMidnight - 18 * 3_600_000; // surely the day before
  let hi = wallMidnight + 18 * 3_600_000; // surely on or after `date`
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDate(mid, tz) < date) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}

/** ISO weekday of a local date: Monday 1 … Sunday 7. */
function isoWeekday(date: string): number {
  const { year, month, day } = parseDate(date);
  return ((new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7) + 1;
}

/** The local date a date's period starts on (its `period_start`). */
export function periodStartOfDate(date: string, interval: MetricInterval): string {
  switch (interval) {
    case 'day':
      return date;
    case 'week':
      return addDays(date, 1 - isoWeekday(date));
    case 'month':
      return `${date.slice(0, 8)}01`;
    default: {
      const unknown: never = interval;
      throw new Error(`unknown interval ${String(unknown)}`);
    }
  }
}

/** The `period_start` (local date, `YYYY-MM-DD`) of the period containing an instant, in `tz`. */
export function periodStartOf(date: Date, interval: MetricInterval, tz: string): string {
  return periodStartOfDate(localDate(date, tz), interval);
}

/** The local date the period after `periodStart` starts on. */
export function nextPeriodStart(periodStart: string, interval: MetricInterval): string {
  assertPeriodStart(periodStart, interval);
  switch (interval) {
    case 'day':
      return addDays(periodStart, 1);
    case 'week':
      return addDays(periodStart, 7);
    case 'month': {
      const { year, month } = parseDate(periodStart);
      return month === 12 ? dateString(year + 1, 1, 1) : dateString(year, month + 1, 1);
    }
    default: {
      const unknown: never = interval;
      throw new Error(`unknown interval ${String(unknown)}`);
    }
  }
}

/** Calendar days in a period (7 for a week, 28–31 for a month), whatever DST does to its hours. */
export function daysInPeriod(periodStart: string, interval: MetricInterval): number {
  return dateNumber(nextPeriodStart(periodStart, interval)) - dateNumber(periodStart);
}

/** The instant a period begins. */
export function periodBegin(periodStart: string, interval: MetricInterval, tz: string): Date {
  assertPeriodStart(periodStart, interval);
  return startOfLocalDay(periodStart, tz);
}

/** The instant a period ends: the beginning of the next one (exclusive). */
export function periodEnd(periodStart: string, interval: MetricInterval, tz: string): Date {
  return startOfLocalDay(nextPeriodStart(periodStart, interval), tz);
}

function assertPeriodStart(periodStart: string, interval: MetricInterval): void {
  if (periodStartOfDate(periodStart, interval) !== periodStart) throw new Error(`${periodStart} does not start a ${interval}`);
}
