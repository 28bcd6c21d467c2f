import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStageProcess, METRIC_INTERVALS, Topics, type MetricInterval, type MetricRow } from '@trackme/contracts';
import { createLogger, MessageProducer, topicFor } from '@trackme/platform';
import { isolatedEnv, REPO_ROOT, runInProcess, stackKafka, uniqueId, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { composeMetrics } from '../src/compose.js';
import { MetricsConfigSchema, type MetricsConfig } from '../src/config.js';
import { generateHistory, toEnvelopes, type GeneratedEnvelope, type History } from './support/history-generator.js';
import { expectedRows, periodEnd } from './support/oracle.js';
import { expectSameFigures, periodsOf, rollUp } from './support/rollup-check.js';

/**
 * Counters are kept per partition of trackme.client-events, so instances can share the topic.
 * Here a generated history streams in while three instances of the service join and leave the
 * consumer group, so partitions move between them with batches in flight; the figures must
 * still equal the independent computation exactly.
 */

const TZ = 'Europe/Berlin';
const DAYS = 21;
const NOW = new Date(Math.floor(Date.now() / 60_000) * 60_000);
const CHUNKS = 24;
/** between chunks: the stream lasts several batch waits, so rebalances meet work in flight */
const PACE_MS = 250;
const process_ = loadStageProcess(`${REPO_ROOT}/config/stages.yaml`);

let env: IsolatedEnv;
let serviceEnv: Record<string, string>;
let producer: MessageProducer;
let history: History;
let envelopes: GeneratedEnvelope[];
const running = new Set<InProcessService<MetricsConfig>>();

async function start(): Promise<InProcessService<MetricsConfig>> {
  const service = await runInProcess('metrics', MetricsConfigSchema, (context) => composeMetrics(context, { clock: () => NOW }), serviceEnv);
  running.add(service);
  return service;
}

async function stop(service: InProcessService<MetricsConfig>): Promise<void> {
  running.delete(service);
  await service.stop();
}

/** Change events one instance has read (every outcome but dead-lettered), from its Prometheus counter. */
async function eventsRead(service: InProcessService<MetricsConfig>): Promise<number> {
  const text = (await service.metrics.inject({ url: '/metrics' })).body;
  return [...text.matchAll(/^trackme_metrics_events_total\{[^}]*outcome="(\w+)"[^}]*\} (\d+)/gm)]
    .filter((m) => m[1] !== 'rejected')
    .reduce((sum, m) => sum + Number(m[2]), 0);
}

/** True once the group has committed every partition up to its end: every event is counted. */
async function caughtUp(): Promise<boolean> {
  const admin = stackKafka('trackme-test-lag', env).admin();
  await admin.connect();
  try {
    const topic = topicFor(env.KAFKA_TOPIC_PREFIX, Topics.clientEvents);
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId: topicFor(env.KAFKA_TOPIC_PREFIX, 'trackme-metrics'), topics: [topic] }),
    ]);
    return ends.every((end) => Number(committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? -1) >= Number(end.high));
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  history = generateHistory({ clients: 400, days: DAYS, end: NOW, seed: 7, process: process_, idPrefix: uniqueId('r') });
  envelopes = toEnvelopes(history);
  env = await isolatedEnv();
  serviceEnv = { ...env, METRICS_TZ: TZ, METRICS_KEY_PREFIX: `${uniqueId('m')}:`, METRICS_BATCH_WAIT_MS: '200', KAFKA_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'silent' };
  producer = new MessageProducer(stackKafka('test', env), createLogger('test', 'silent'), env.KAFKA_TOPIC_PREFIX);
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await producer?.disconnect();
  await Promise.all([...running].map((service) => service.stop()));
});

describe('metrics counted by instances joining and leaving during a stream', () => {
  const rollups = new Map<MetricInterval, Map<string, MetricRow[]>>();
  const readBy: Record<string, number> = {};

  beforeAll(async () => {
    const a = await start();
    let b: InProcessService<MetricsConfig> | undefined;
    let c: InProcessService<MetricsConfig> | undefined;
    const size = Math.ceil(envelopes.length / CHUNKS);
    for (let i = 0; i < CHUNKS; i++) {
      const chunk = envelopes.slice(i * size, (i + 1) * size);
      await producer.send(Topics.clientEvents, chunk.map((e) => ({ key: e.data.client_id, value: JSON.stringify(e) })));
      // membership changes while earlier chunks are still being counted; an instance leaves
      // only once it has counted some events, so partitions really move with work in flight
      if (i === 4) [b, c] = await Promise.all([start(), start()]);
      if (i === 12) {
        readBy['b'] = await waitFor(async () => (await eventsRead(b!)) || undefined, { what: 'the second instance counting', timeoutMs: 60_000 });
        await stop(b!);
      }
      if (i === 16) {
        readBy['a'] = await waitFor(async () => (await eventsRead(a)) || undefined, { what: 'the first instance counting', timeoutMs: 60_000 });
        await stop(a);
        b = await start();
      }
      await new Promise((resolve) => setTimeout(resolve, PACE_MS));
    }
    await waitFor(() => caughtUp() || undefined, { what: 'every event counted', timeoutMs: 300_000, intervalMs: 1_000 });
    readBy['c'] = await eventsRead(c!);
    for (const interval of METRIC_INTERVALS) rollups.set(interval, await rollUp(c!, producer, interval, periodsOf(interval, NOW, DAYS, TZ), NOW));
  }, 600_000);

  it('shared the stream: every instance counted part of it', () => {
    expect(readBy['a']).toBeGreaterThan(0);
    expect(readBy['b']).toBeGreaterThan(0);
    expect(readBy['c']).toBeGreaterThan(0);
    // c stayed to the end, yet the others took part of the stream from it
    expect(readBy['c']).toBeLessThan(envelopes.length);
  });

  for (const interval of METRIC_INTERVALS) {
    it(`equal the independent computation for every ${interval}`, () => {
      const periods = rollups.get(interval)!;
      expect(periods.size).toBeGreaterThanOrEqual(interval === 'day' ? DAYS : 1);
      for (const [start, rows] of periods) {
        const end = periodEnd(start, interval, TZ);
        const expected = expectedRows(history, { interval, periodStart: start, end: end > NOW ? NOW : end, now: NOW, tz: TZ, process: process_ });
        expectSameFigures(rows, expected, `${interval} ${start}`);
      }
    });
  }
});
