import type { MetricInterval } from '@trackme/contracts';
import { dateOfDay, periodDays } from '../periods.js';

/**
 * The names of the counter documents and of their fields: what reduce.ts writes and
 * rollup/rollups.ts reads back, in one place so the two cannot drift apart.
 */

/** Counter documents: one per period (`<interval>|<period start>`) plus the running totals. */
export const TOTALS_KEY = 'all|-';
export const counterKey = (interval: MetricInterval, periodStart: string): string => `${interval}|${periodStart}`;

/** The period of each interval holding a day, by interval: the counter documents an event adds to. */
export function periodKeys(day: number): Record<MetricInterval, string> {
  return {
    day: dateOfDay(day),
    week: dateOfDay(periodDays('week', day).first),
    month: dateOfDay(periodDays('month', day).first),
  };
}

/** A label value as part of a field name (Mongo field names may not hold `.` or start with `$`). */
export const encodeLabel = (value: string): string => encodeURIComponent(value).replace(/\./g, '%2E');
export const decodeLabel = (value: string): string => decodeURIComponent(value);

export type ConversionLabel = 'source' | 'channel';

/** Counter fields; the "at period end" figures (gauges) start with `g:`. */
export const Fields = {
  created: 'created',
  changed: 'changed',
  rollbacks: 'rollbacks',
  movers: 'movers',
  converters: 'converters',
  totalDurationSum: 'total_sum',
  totalDurationCount: 'total_n',
  active: 'active',
  activeDays: 'active_days',
  transition: (from: string, to: string) => `tr:${from}:${to}`,
  entered: (stage: string) => `entered:${stage}`,
  advanced: (stage: string) => `advanced:${stage}`,
  stageDurationSum: (stage: string) => `dur_sum:${stage}`,
  stageDurationCount: (stage: string) => `dur_n:${stage}`,
  /** movers or converters with one source or channel */
  byLabel: (kind: 'movers' | 'converters', label: ConversionLabel, value: string) => `${kind}_${label}:${encodeLabel(value)}`,
  gauges: {
    clients: 'g:clients',
    active: 'g:active',
    installed: 'g:installed',
    contracts: 'g:contracts',
    contractsWithAutopayment: 'g:contracts_on',
    stage: (stage: string) => `g:stage:${stage}`,
    /** active clients whose last change was on this day number */
    lastChangeDay: (day: number) => `g:lc:${day}`,
  },
} as const;

/** Reads back the parts of the fields that carry values in their names. */
export const FieldParts = {
  transition(field: string): { from: string; to: string } | undefined {
    if (!field.startsWith('tr:')) return undefined;
    const [, from, to] = field.split(':') as [string, string, string];
    return { from, to };
  },
  /** the (decoded) source or channel of a `byLabel` field of that kind and label */
  label(kind: 'movers' | 'converters', label: ConversionLabel, field: string): string | undefined {
    const prefix = `${kind}_${label}:`;
    return field.startsWith(prefix) ? decodeLabel(field.slice(prefix.length)) : undefined;
  },
  lastChangeDay(field: string): number | undefined {
    return field.startsWith('g:lc:') ? Number(field.slice('g:lc:'.length)) : undefined;
  },
};

/** Increments of one batch: counter document → field → delta; HyperLogLog key → members. */
export class Effects {
  readonly counters = new Map<string, Map<string, number>>();
  readonly hll = new Map<string, Set<string>>();
  readonly outcomes = new Map<string, number>();

  add(doc: string, field: string, delta: number): void {
    if (delta === 0) return;
    let fields = this.counters.get(doc);
    if (!fields) this.counters.set(doc, (fields = new Map()));
    const next = (fields.get(field) ?? 0) + delta;
    if (next === 0) fields.delete(field);
    else fields.set(field, next);
  }

  addHll(key: string, member: string): void {
    let members = this.hll.get(key);
    if (!members) this.hll.set(key, (members = new Set()));
    members.add(member);
  }

  count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}
