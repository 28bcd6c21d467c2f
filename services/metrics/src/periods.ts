import type { MetricInterval } from '@trackme/contracts';

const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 900_000;

/** A period of an interval: named by the local date it starts on; [start, end) in epoch ms. */
export interface Period {
  interval: MetricInterval;
  key: string;
  start: number;
  end: number;
}

/** Day number (days since 1970-01-01) → YYYY-MM-DD. */
export const dateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** YYYY-MM-DD → day number, or undefined for something that is not a calendar date. */
export function dayOfDate(date: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return undefined;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return dateOfDay(ms / DAY_MS) === date ? ms / DAY_MS : undefined;
}

/** Monday of the ISO week holding the day (1970-01-01 was a Thursday). */
const mondayOf = (day: number): number => day - ((day + 3) % 7);

function firstOfMonth(day: number): number {
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
}

function firstOfNextMonth(day: number): number {
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY_MS;
}

/** First day of the period of `interval` holding `day`, and the first day after it. */
export function periodDays(interval: MetricInterval, day: number): { first: number; next: number } {
  switch (interval) {
    case 'day':
      return { first: day, next: day + 1 };
    case 'week': {
      const first = mondayOf(day);
      return { first, next: first + 7 };
    }
    case 'month':
      return { first: firstOfMonth(day), next: firstOfNextMonth(day) };
  }
}

/**
 * Local calendar arithmetic in one IANA time zone (METRICS_TZ), with Intl only: days, ISO weeks
 * and months as local periods, the instant each one starts (DST included).
 */
export class Calendar {
  private readonly format: Intl.DateTimeFormat | undefined;
  /** day numbers already computed, by quarter hour since 1970 */
  private readonly days = new Map<number, number>();
  /** local midnights already computed, by day number */
  private readonly midnights = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.format =
      timeZone === 'UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          });
  }

  /** The instant's local wall-clock time, read as if it were UTC. */
  private wallClock(ms: number): number {
    if (!this.format) return ms;
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(ms)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value);
    }
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (ms % 1000 + 1000) % 1000;
  }

  /**
   * Local day number of an instant. Cached per quarter hour: every zone's offset is a multiple of
   * 15 minutes, so local midnight never falls inside one, and formatting an instant is slow.
   */
  dayNumber(ms: number): number {
    if (!this.format) return Math.floor(ms / DAY_MS);
    const quarter = Math.floor(ms / QUARTER_HOUR_MS);
    let day = this.days.get(quarter);
    if (day === undefined) {
      day = Math.floor(this.wallClock(quarter * QUARTER_HOUR_MS) / DAY_MS);
      if (this.days.size > 100_000) this.days.clear();
      this.days.set(quarter, day);
    }
    return day;
  }

  /** The instant a local day starts (the first instant whose local date is that day). */
  startOfDay(day: number): number {
    const known = this.midnights.get(day);
    if (known !== undefined) return known;
    let guess = day * DAY_MS;
    // walk the offset until the guess is local midnight; two rounds cover a DST change
    for (let i = 0; i < 3; i += 1) guess = day * DAY_MS - (this.wallClock(guess) - guess);
    // a zone that skips midnight starts the day at the first instant of that date
    while (this.dayNumber(guess) < day) guess += 60_000;
    while (this.dayNumber(guess - 1) >= day) guess -= 60_000;
    if (this.midnights.size > 4096) this.midnights.clear();
    this.midnights.set(day, guess);
    return guess;
  }

  periodOfDay(interval: MetricInterval, day: number): Period {
    const { first, next } = periodDays(interval, day);
    return { interval, key: dateOfDay(first), start: this.startOfDay(first), end: this.startOfDay(next) };
  }

  periodOf(interval: MetricInterval, ms: number): Period {
    return this.periodOfDay(interval, this.dayNumber(ms));
  }

  /** The period starting on a local date (any date inside it names the same period). */
  periodOfDate(interval: MetricInterval, date: string): Period | undefined {
    const day = dayOfDate(date);
    return day === undefined ? undefined : this.periodOfDay(interval, day);
  }

  /** The period just before this one. */
  previous(period: Period): Period {
    return this.periodOfDay(period.interval, this.dayNumber(period.start) - 1);
  }

  /** Periods from the one holding `fromDay` to the one holding `toDay`, oldest first. */
  periodsBetween(interval: MetricInterval, fromDay: number, toDay: number): Period[] {
    const periods: Period[] = [];
    for (let day = periodDays(interval, fromDay).first; day <= toDay; day = periodDays(interval, day).next) {
      periods.push(this.periodOfDay(interval, day));
    }
    return periods;
  }
}

