import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { MetricInterval, MetricRow, MetricType, StageProcess } from '@trackme/contracts';
import { forEachConcurrently } from '@trackme/platform';
import type { CounterStore } from '../counting/counter-store.js';
import type { LiveCounts } from '../counting/live-counts.js';
import { counterKey, FieldParts, Fields, TOTALS_KEY } from '../counting/counter-fields.js';
import type { Calendar, Period } from '../periods.js';

/** One figure of a rollup before it is stored. */
export interface RollupValue {
  type: MetricType;
  labels: Record<string, string>;
  value: number;
}

/** The stored rollup of one period: every figure of it in one document, replaced as a whole. */
export interface RollupDocument {
  _id: string;
  interval: MetricInterval;
  period_start: string;
  calculated_at: Date;
  rows: RollupValue[];
}

const ACTIVE_TYPE: Record<MetricInterval, MetricType> = { day: 'dau', week: 'wau', month: 'mau' };
const DROPOUT_DAYS: Partial<Record<MetricInterval, number>> = { week: 7, month: 30 };
const round = (value: number): number => Math.round(value * 1e9) / 1e9;

export interface RollupDeps {
  db: Db;
  store: CounterStore;
  live: LiveCounts;
  calendar: Calendar;
  process: StageProcess;
  /** partitions of trackme.client-events (counter documents exist per partition) */
  partitions: () => Promise<number>;
}

/**
 * Turns counters into the figures of docs/metrics.md. A rollup reads a fixed number of counter
 * documents (the period's, the running totals, and one per day since the period ended), never
 * the clients: its cost does not grow with the number of clients.
 */
export class Rollups {
  readonly collection: Collection<RollupDocument>;

  constructor(private readonly deps: RollupDeps) {
    this.collection = deps.db.collection<RollupDocument>('metric_rollups');
  }

  /** The figures of a period as of `now` (to date for the current period). */
  async compute(period: Period, now: number): Promise<RollupValue[]> {
    const { store, calendar, process, live } = this.deps;
    const partitions = await this.deps.partitions();
    const key = counterKey(period.interval, period.key);
    // "at period end" figures: running totals minus what happened on the days since it ended
    const laterDays =
      period.end > now ? [] : calendar.periodsBetween('day', calendar.dayNumber(period.end), calendar.dayNumber(now)).map((p) => counterKey('day', p.key));
    const sums = await store.sum([key, TOTALS_KEY, ...laterDays], partitions);
    const counts = sums.get(key)!;
    const gauges = new Map(sums.get(TOTALS_KEY)!);
    for (const day of laterDays) {
      for (const [field, value] of sums.get(day)!) gauges.set(field, (gauges.get(field) ?? 0) - value);
    }
    const get = (field: string) => counts.get(field) ?? 0;
    const gauge = (field: string) => gauges.get(field) ?? 0;
    const rows: RollupValue[] = [];
    const row = (type: MetricType, value: number, labels: Record<string, string> = {}) => rows.push({ type, labels, value: round(value) });

    const active = get(Fields.active);
    row(ACTIVE_TYPE[period.interval], active);
    const estimate = await live.estimate(period.interval, period.key);
    if (estimate !== undefined) row(ACTIVE_TYPE[period.interval], estimate, { estimate: 'hll' });
    if (period.interval !== 'day' && active > 0) {
      const lastDay = period.end > now ? calendar.dayNumber(now) : calendar.dayNumber(period.end) - 1;
      const days = lastDay - calendar.dayNumber(period.start) + 1;
      row('stickiness', get(Fields.activeDays) / days / active);
    }
    row('new-clients', get(Fields.created));
    for (const stage of process.stages) row('clients-per-stage', gauge(Fields.gauges.stage(stage.id)), { stage: stage.id });
    row('status-updates', get(Fields.changed));
    // labelled rows in one order, whatever order the counter documents hold their fields in
    // (it depends on how events fell into batches, and differs after a rebuild)
    const counted = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [field, value] of counted) {
      const transition = FieldParts.transition(field);
      if (!transition || value === 0) continue;
      row('transitions', value, transition);
    }
    row('rollback-count', get(Fields.rollbacks));
    if (get(Fields.movers) > 0) row('conversion', get(Fields.converters) / get(Fields.movers));
    for (const label of ['source', 'channel'] as const) {
      for (const [field, movers] of counted) {
        const value = FieldParts.label('movers', label, field);
        if (value === undefined || movers <= 0) continue;
        row(`${label}-conversion`, get(Fields.byLabel('converters', label, value)) / movers, { [label]: value });
      }
    }
    for (const stage of process.stages.slice(0, -1)) {
      const entered = get(Fields.entered(stage.id));
      if (entered > 0) row('funnel', get(Fields.advanced(stage.id)) / entered, { stage: stage.id });
    }
    for (const stage of process.stages) {
      const left = get(Fields.stageDurationCount(stage.id));
      if (left > 0) row('stage-duration', get(Fields.stageDurationSum(stage.id)) / left, { stage: stage.id });
    }
    if (get(Fields.totalDurationCount) > 0) row('total-duration', get(Fields.totalDurationSum) / get(Fields.totalDurationCount));
    const dropoutDays = DROPOUT_DAYS[period.interval];
    if (dropoutDays !== undefined) {
      const threshold = calendar.dayNumber(Math.min(period.end, now)) - dropoutDays;
      let dropout = 0;
      for (const [field, value] of gauges) {
        const day = FieldParts.lastChangeDay(field);
        if (day !== undefined && day < threshold) dropout += value;
      }
      row('dropout', dropout);
    }
    const { active: activeGauge, installed, contracts, contractsWithAutopayment } = Fields.gauges;
    if (gauge(activeGauge) > 0) row('app-install-rate', gauge(installed) / gauge(activeGauge));
    if (gauge(contracts) > 0) row('autopayment-rate', gauge(contractsWithAutopayment) / gauge(contracts));
    return rows;
  }

  /** Computes a period and stores it (replacing the previous rollup of that period). */
  async run(period: Period, now: number): Promise<RollupDocument> {
    const rows = await this.compute(period, now);
    const doc: RollupDocument = {
      _id: counterKey(period.interval, period.key),
      interval: period.interval,
      period_start: period.key,
      calculated_at: new Date(now),
      rows,
    };
    await this.collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
    return doc;
  }

  async stored(period: Period): Promise<RollupDocument | null> {
    return this.collection.findOne({ _id: counterKey(period.interval, period.key) });
  }

  /** Stored rows of the periods, oldest first (each period's document looked up by `_id`). */
  async rows(periods: Period[], type?: MetricType): Promise<MetricRow[]> {
    const docs = new Map<string, RollupDocument>();
    await forEachConcurrently(periods, 8, async (period) => {
      const doc = await this.stored(period);
      if (doc) docs.set(period.key, doc);
    });
    return periods.flatMap((period) => {
      const doc = docs.get(period.key);
      return doc ? metricRowsOf(doc, type) : [];
    });
  }
}

/**
 * Rollups stored before source and channel conversion had types of their own held them as
 * `conversion` rows labelled with the source or channel; they are answered under today's types.
 */
function typeOf(row: RollupValue): MetricType {
  if (row.type !== 'conversion') return row.type;
  if ('source' in row.labels) return 'source-conversion';
  if ('channel' in row.labels) return 'channel-conversion';
  return row.type;
}

/** The same interval, period, type and labels give the same id, whenever it is computed. */
export function metricRowId(interval: MetricInterval, periodStart: string, type: MetricType, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]]);
  return createHash('sha256').update(JSON.stringify([interval, periodStart, type, sorted])).digest('hex').slice(0, 24);
}

/** A stored rollup's rows as GET /metrics answers them, with the older service's field names too. */
export function metricRowsOf(doc: RollupDocument, type?: MetricType): MetricRow[] {
  const calculatedAt = doc.calculated_at.toISOString();
  return doc.rows
    .map((r) => ({ ...r, type: typeOf(r) }))
    .filter((r) => type === undefined || r.type === type)
    .map((r) => ({
      id: metricRowId(doc.interval, doc.period_start, r.type, r.labels),
      type: r.type,
      value: r.value,
      interval: doc.interval,
      period_start: doc.period_start,
      labels: r.labels,
      metadata: r.labels,
      calculated_at: calculatedAt,
      created_at: calculatedAt,
    }));
}
