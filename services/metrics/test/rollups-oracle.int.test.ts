import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStageProcess, METRIC_INTERVALS, Topics, type MetricInterval, type MetricRow } from '@trackme/contracts';
import { createLogger, MessageProducer } from '@trackme/platform';
import { isolatedEnv, REPO_ROOT, runInProcess, stackKafka, uniqueId, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { composeMetrics } from '../src/compose.js';
import { MetricsConfigSchema, type MetricsConfig } from '../src/config.js';
import { generateHistory, toEnvelopes, type GeneratedEnvelope, type History } from './support/history-generator.js';
import { expectedRows, periodEnd, rowKey } from './support/oracle.js';
import { expectSameFigures, periodsOf as periodsIn, rollUp as rollUpWith } from './support/rollup-check.js';

/**
 * The rollups against an independent computation: a generated history of 2,000 clients over 60
 * days (stage moves and rollbacks, conversions, updates, app and autopayment changes, deletions,
 * logins, some of them late) goes through Kafka into the metrics service; every day, week and
 * month is then rolled up and compared with what support/oracle.ts computes from the raw facts.
 * In Europe/Berlin, so a DST change falls inside the history. The clock is fixed.
 */

const TZ = 'Europe/Berlin';
const DAYS = 60;
// a fixed clock near the real one, so the live HyperLogLogs of recent periods are still kept
const NOW = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const process_ = loadStageProcess(`${REPO_ROOT}/config/stages.yaml`);

let env: IsolatedEnv;
let service: InProcessService<MetricsConfig>;
let producer: MessageProducer;
let history: History;
let envelopes: GeneratedEnvelope[];

beforeAll(async () => {
  history = generateHistory({ clients: 2_000, days: DAYS, end: NOW, seed: 42, process: process_, idPrefix: uniqueId('g') });
  envelopes = toEnvelopes(history);
  env = await isolatedEnv();
  service = await runInProcess('metrics', MetricsConfigSchema, (context) => composeMetrics(context, { clock: () => NOW }), {
    ...env,
    METRICS_TZ: TZ,
    METRICS_KEY_PREFIX: `${uniqueId('m')}:`,
    LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'silent',
  });
  await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'metrics ready', timeoutMs: 30_000 });
  const logger = createLogger('test', 'silent');
  producer = new MessageProducer(stackKafka('test', env), logger, env.KAFKA_TOPIC_PREFIX);
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await service?.stop();
});

async function deliver(batch: GeneratedEnvelope[]): Promise<void> {
  const target = (await eventsRead()) + batch.length;
  await producer.send(Topics.clientEvents, batch.map((e) => ({ key: e.data.client_id, value: JSON.stringify(e) })));
  await waitFor(async () => (await eventsRead()) >= target || undefined, { what: `${target} events read`, timeoutMs: 600_000, intervalMs: 1_000 });
}

/** Change events the service has read (every outcome but dead-lettered), from its Prometheus counter. */
async function eventsRead(): Promise<number> {
  const text = (await service.metrics.inject({ url: '/metrics' })).body;
  return [...text.matchAll(/^trackme_metrics_events_total\{[^}]*outcome="(\w+)"[^}]*\} (\d+)/gm)]
    .filter((m) => m[1] !== 'rejected')
    .reduce((sum, m) => sum + Number(m[2]), 0);
}

const periodsOf = (interval: MetricInterval) => periodsIn(interval, NOW, DAYS, TZ);
const rollUp = (interval: MetricInterval, starts: string[]) => rollUpWith(service, producer, interval, starts, NOW);
const exact = (rows: MetricRow[]) => rows.filter((r) => !r.labels['estimate']);
const sorted = (rows: MetricRow[]) => rows.map((r) => ({ key: rowKey(r), value: r.value })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

describe('rollups of a generated 60-day history', () => {
  const first = new Map<MetricInterval, Map<string, MetricRow[]>>();

  beforeAll(async () => {
    await deliver(envelopes);
    for (const interval of METRIC_INTERVALS) first.set(interval, await rollUp(interval, periodsOf(interval)));
  }, 900_000);

  for (const interval of METRIC_INTERVALS) {
    it(`equal the independent computation for every ${interval}`, () => {
      const periods = first.get(interval)!;
      // 60 × 24 h back from NOW touch 61 local days; when NOW is in a day's last local hour, the
      // extra hour of the October change puts the start in a day's first hour, and 60 are touched
      expect(periods.size).toBeGreaterThanOrEqual(interval === 'day' ? DAYS : 2);
      for (const [start, rows] of periods) {
        const end = periodEnd(start, interval, TZ);
        const expected = expectedRows(history, { interval, periodStart: start, end: end > NOW ? NOW : end, now: NOW, tz: TZ, process: process_ });
        expectSameFigures(rows, expected, `${interval} ${start}`);
      }
    });
  }

  it('has live HyperLogLog estimates within 2.5% of the exact distinct counts', () => {
    let compared = 0;
    for (const interval of METRIC_INTERVALS) {
      for (const rows of first.get(interval)!.values()) {
        const estimate = rows.find((r) => r.labels['estimate'] === 'hll');
        if (!estimate) continue;
        const count = rows.find((r) => r.type === estimate.type && !r.labels['estimate'])!.value;
        // ±2.5%, and at least one client either way for the small counts of quiet days
        expect(Math.abs(estimate.value - count), `${interval} ${estimate.period_start}`).toBeLessThanOrEqual(Math.max(1, 0.025 * count));
        compared += 1;
      }
    }
    // the day keys are kept 35 days after their day, weeks 100 days, months 400
    expect(compared).toBeGreaterThan(30);
  });

  it('gives the same rollups when the same events are delivered again', async () => {
    // every fifth event again, in its original order (as a producer retrying, or a relay repeating, sends it)
    await deliver(envelopes.filter((_, i) => i % 5 === 0));
    for (const interval of METRIC_INTERVALS) {
      const again = await rollUp(interval, periodsOf(interval));
      for (const [start, rows] of again) {
        expect(sorted(exact(rows)), `${interval} ${start}`).toEqual(sorted(exact(first.get(interval)!.get(start)!)));
      }
    }
  }, 900_000);
});
