import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActivityEventTypes,
  ClientEventTypes,
  dlqTopicOf,
  TRIGGER_ROLLUP_TYPE,
  Topics,
  type Client,
  type Envelope,
  type MetricRow,
  type RollupJob,
} from '@trackme/contracts';
import { buildEnvelope, createLogger, MessageProducer } from '@trackme/platform';
import { internalHeaders, isolatedEnv, runInProcess, sampleClient, stackKafka, TopicReader, uniqueId, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { composeMetrics } from '../src/compose.js';
import { MetricsConfigSchema, type MetricsConfig } from '../src/config.js';

/**
 * The metrics service against the real stack, fed a small hand-written history whose figures are
 * worked out below by hand: repeats, a PUT that updates and moves at once, a rollback, a delete,
 * late logins and a poison message.
 */

const NOW = new Date('2026-11-10T12:00:00.000Z');
let env: IsolatedEnv;
let metricsEnv: Record<string, string>;
let service: InProcessService<MetricsConfig>;
let producer: MessageProducer;
let dead: TopicReader;

beforeAll(async () => {
  env = await isolatedEnv();
  metricsEnv = { ...env, METRICS_KEY_PREFIX: `${uniqueId('m')}:`, METRICS_GAUGE_REFRESH_SECONDS: '1', LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'silent' };
  service = await runInProcess('metrics', MetricsConfigSchema, (context) => composeMetrics(context, { clock: () => NOW }), metricsEnv);
  await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'metrics ready', timeoutMs: 30_000 });
  const logger = createLogger('test', 'silent');
  producer = new MessageProducer(stackKafka('test', env), logger, env.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  dead = await new TopicReader(env, dlqTopicOf(Topics.clientEvents), env.KAFKA_TOPIC_PREFIX).start();
}, 90_000);

afterAll(async () => {
  await Promise.all([dead?.stop(), producer?.disconnect()]);
  await service?.stop();
});

const c1 = 'client-one';
const c2 = 'client-two';

function event(type: string, at: string, client: Client, extra: Record<string, unknown> = {}): Envelope {
  return buildEnvelope({
    type,
    occurredAt: new Date(at),
    data: { client_id: client.id, version: client.version, command_id: randomUUID(), actor: { subject: 'test' }, ...extra, client },
  });
}

const login = (client: Client, at: string, arrivedAt = at) =>
  event(ActivityEventTypes.loggedIn, arrivedAt, client, {
    last_login: at,
    activity: { event_id: randomUUID(), type: 'login', occurred_at: at },
    actor: { subject: 'activity:test' },
  });

async function send(envelopes: Array<Envelope | string>): Promise<void> {
  await producer.send(
    Topics.clientEvents,
    envelopes.map((e) => (typeof e === 'string' ? { key: c1, value: e } : { key: (e.data as { client_id: string }).client_id, value: JSON.stringify(e) })),
  );
}

async function rollup(interval: 'day' | 'week' | 'month', period: string): Promise<MetricRow[]> {
  const jobId = randomUUID();
  await producer.publish(Topics.metricsCommands, interval, {
    id: jobId,
    type: TRIGGER_ROLLUP_TYPE,
    data: { job_id: jobId, interval, period, requested_at: NOW.toISOString(), actor: { subject: 'test' } },
  });
  const job = await waitFor(
    async () => {
      const response = await service.app.inject({ url: `/internal/metrics/jobs/${jobId}`, headers: internalHeaders() });
      const body = response.statusCode === 200 ? response.json<{ data: RollupJob }>().data : undefined;
      return body && body.status !== 'queued' && body.status !== 'running' ? body : undefined;
    },
    { what: `rollup ${interval} ${period}`, timeoutMs: 30_000 },
  );
  expect(job.status).toBe('succeeded');
  const response = await service.app.inject({ url: `/internal/metrics?interval=${interval}&from=${period}&to=${period}&limit=1000`, headers: internalHeaders() });
  expect(response.statusCode).toBe(200);
  return response.json<{ data: MetricRow[] }>().data;
}

/** Change events the service has read, from its own Prometheus counter. */
async function eventsRead(): Promise<number> {
  const text = (await service.metrics.inject({ url: '/metrics' })).body;
  return [...text.matchAll(/^trackme_metrics_events_total\{[^}]*outcome="(counted|duplicate)"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
}

/** A sample of the Prometheus exposition: the series of `name` carrying all of `labels`. */
function gauge(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const valueOf = (rows: MetricRow[], type: string, labels: Record<string, string> = {}) =>
  rows.find((r) => r.type === type && JSON.stringify(r.labels) === JSON.stringify(labels))?.value;

describe('counting change events into rollups', () => {
  let history: Array<Envelope | string>;

  beforeAll(async () => {
    const one = sampleClient({
      id: c1,
      source: 'web',
      channel: 'ads',
      app: 'installed',
      contracts: [
        { id: 'k1', autopayment: 'enabled' },
        // a contract with every field of the older service counts like any other
        {
          id: 'k2',
          name: 'Premium plan',
          number: 'PR-1',
          status: 'active',
          conclusion_date: '2026-11-01T10:00:00.000Z',
          expiration_date: '2027-11-01T10:00:00.000Z',
          amount: 1499.5,
          payment_frequency: 'monthly',
          autopayment: 'disabled',
        },
      ],
      registration_date: '2026-11-02T09:00:00.000Z',
      last_updated: '2026-11-02T09:00:00.000Z',
    });
    const two = sampleClient({ id: c2, app: 'not_installed', registration_date: '2026-11-02T11:00:00.000Z', last_updated: '2026-11-02T11:00:00.000Z' });
    const moved = { ...one, stage: 'product_selection', version: 3, last_updated: '2026-11-02T15:00:00.000Z' };
    const put = { ...moved, stage: 'data_consent', app: 'not_installed' as const, version: 6, last_updated: '2026-11-03T12:00:00.000Z' };
    const back = { ...put, stage: 'product_selection', version: 7, last_updated: '2026-11-04T12:00:00.000Z' };
    const firstMove = event(ClientEventTypes.stageChanged, '2026-11-02T15:00:00.000Z', moved, { from: 'registration', to: 'product_selection', rollback: false });
    history = [
      event(ClientEventTypes.created, '2026-11-02T09:00:00.000Z', one),
      login({ ...one, version: 2 }, '2026-11-02T10:00:00.000Z'),
      event(ClientEventTypes.created, '2026-11-02T11:00:00.000Z', two),
      firstMove,
      firstMove, // the same event again (a relay that published twice)
      login({ ...moved, version: 4 }, '2026-11-02T18:00:00.000Z'),
      login({ ...moved, version: 5 }, '2026-11-03T08:00:00.000Z'),
      login({ ...two, version: 2 }, '2026-11-03T09:00:00.000Z'),
      // one PUT: fields and stage in two events of the same version
      event(ClientEventTypes.updated, '2026-11-03T12:00:00.000Z', put, { changes: { app: { from: 'installed', to: 'not_installed' } } }),
      event(ClientEventTypes.stageChanged, '2026-11-03T12:00:00.000Z', put, { from: 'product_selection', to: 'data_consent', rollback: false }),
      'not json at all',
      event(ClientEventTypes.stageChanged, '2026-11-04T12:00:00.000Z', back, { from: 'data_consent', to: 'product_selection', rollback: true }),
      event(ClientEventTypes.deleted, '2026-11-04T13:00:00.000Z', { ...two, version: 3, last_updated: '2026-11-04T13:00:00.000Z' }),
      // a login that arrives two days late still counts on its day
      login({ ...back, version: 8 }, '2026-11-02T20:00:00.000Z', '2026-11-04T20:00:00.000Z'),
    ];
    await send(history);
    // every event but the poison one read: counted, or recognised as a repeat
    await waitFor(async () => (await eventsRead()) === history.length - 1, { what: 'events counted', timeoutMs: 30_000 });
  }, 60_000);

  it('dead-letters what is not a change event, and counts the rest', async () => {
    const letter = await waitFor(() => dead.messages[0], { what: 'dead letter' });
    expect(letter.headers['dlq-reason']).toBe('invalid_json');
  });

  it('computes a day from counters, each event counted once', async () => {
    const rows = await rollup('day', '2026-11-02');
    expect(valueOf(rows, 'dau')).toBe(1);
    expect(valueOf(rows, 'new-clients')).toBe(2);
    expect(valueOf(rows, 'status-updates')).toBe(2);
    expect(valueOf(rows, 'transitions', { from: 'registration', to: 'product_selection' })).toBe(1);
    expect(valueOf(rows, 'rollback-count')).toBe(0);
    expect(valueOf(rows, 'conversion')).toBe(0);
    expect(valueOf(rows, 'funnel', { stage: 'registration' })).toBe(0.5);
    expect(valueOf(rows, 'stage-duration', { stage: 'registration' })).toBe(6);
    // at the end of the day: c1 moved on, c2 waits; one of the two has the app; 1 of 2 contracts pays itself
    expect(valueOf(rows, 'clients-per-stage', { stage: 'registration' })).toBe(1);
    expect(valueOf(rows, 'clients-per-stage', { stage: 'product_selection' })).toBe(1);
    expect(valueOf(rows, 'app-install-rate')).toBe(0.5);
    expect(valueOf(rows, 'autopayment-rate')).toBe(0.5);
  });

  it('counts both events of a PUT and the time spent before the move', async () => {
    const rows = await rollup('day', '2026-11-03');
    expect(valueOf(rows, 'dau')).toBe(2);
    expect(valueOf(rows, 'status-updates')).toBe(1);
    expect(valueOf(rows, 'stage-duration', { stage: 'product_selection' })).toBe(21);
    expect(valueOf(rows, 'app-install-rate')).toBe(0);
  });

  it('computes the week: distinct users, stickiness, rollbacks, and the state after a delete', async () => {
    const rows = await rollup('week', '2026-11-04');
    expect(rows.every((r) => r.period_start === '2026-11-02' && r.interval === 'week')).toBe(true);
    expect(valueOf(rows, 'wau')).toBe(2);
    // c1 on the 2nd and 3rd, c2 on the 3rd: 3 client-days over 7 days and 2 users
    expect(valueOf(rows, 'stickiness')).toBeCloseTo(3 / 7 / 2, 9);
    expect(valueOf(rows, 'rollback-count')).toBe(1);
    expect(valueOf(rows, 'transitions', { from: 'data_consent', to: 'product_selection' })).toBe(1);
    expect(valueOf(rows, 'source-conversion', { source: 'web' })).toBe(0);
    expect(valueOf(rows, 'clients-per-stage', { stage: 'product_selection' })).toBe(1);
    expect(valueOf(rows, 'clients-per-stage', { stage: 'registration' })).toBe(0);
    expect(valueOf(rows, 'dropout')).toBe(0);
  });

  it('gives the same rows when a period is computed again', async () => {
    const first = await rollup('month', '2026-11-01');
    const second = await rollup('month', '2026-11-01');
    const strip = (rows: MetricRow[]) => rows.map(({ calculated_at: _at, created_at: _created, ...row }) => row);
    expect(strip(second)).toEqual(strip(first));
    expect(valueOf(first, 'mau')).toBe(2);
  });

  it('lists labelled rows in one order, whatever order the counter documents hold their fields in', async () => {
    // the order of a counter document's fields follows how events fell into batches, and differs after a rebuild
    const fields: Array<[string, number]> = [
      ['tr:registration:product_selection', 2],
      ['tr:product_selection:registration', 1],
      ['movers_source:web', 1],
      ['movers_source:ads', 2],
    ];
    const mongo = await MongoClient.connect(env.MONGO_URL);
    try {
      await mongo.db().collection<{ _id: string; o: number; c: Record<string, number> }>('metric_counters').insertMany([
        { _id: 'day|2026-10-01|p0', o: 1, c: Object.fromEntries(fields) },
        { _id: 'day|2026-10-02|p0', o: 1, c: Object.fromEntries([...fields].reverse()) },
      ]);
    } finally {
      await mongo.close();
    }
    const labelled = (rows: MetricRow[]) => rows.filter((r) => r.type === 'transitions' || r.type === 'source-conversion').map((r) => [r.type, r.labels, r.value]);
    const first = labelled(await rollup('day', '2026-10-01'));
    expect(first).toEqual([
      ['transitions', { from: 'product_selection', to: 'registration' }, 1],
      ['transitions', { from: 'registration', to: 'product_selection' }, 2],
      ['source-conversion', { source: 'ads' }, 0],
      ['source-conversion', { source: 'web' }, 0],
    ]);
    expect(labelled(await rollup('day', '2026-10-02'))).toEqual(first);
  });

  it('exports the current figures as Prometheus gauges under the older service\'s names', async () => {
    const gauges = await waitFor(async () => {
      const text = (await service.metrics.inject({ url: '/metrics' })).body;
      return gauge(text, 'trackme_monthly_active_users') === 2 ? text : undefined;
    }, { what: 'gauges refreshed' });
    // now (the 10th): c1 back in product_selection, c2 deleted, nobody logged in today
    expect(gauge(gauges, 'trackme_clients_per_stage', { stage: 'product_selection' })).toBe(1);
    expect(gauge(gauges, 'trackme_clients_per_stage', { stage: 'registration' })).toBe(0);
    expect(gauge(gauges, 'trackme_daily_active_users')).toBe(0);
    expect(gauge(gauges, 'trackme_rollback_count_total', { interval: 'month' })).toBe(1);
    expect(gauge(gauges, 'trackme_app_install_rate')).toBe(0);
    expect(gauge(gauges, 'trackme_autopayment_rate')).toBe(0.5);
    expect(gauge(gauges, 'trackme_active_users_estimate', { interval: 'month' })).toBe(2);
  });

  it('rolls up the day that just ended when its schedule comes, with that day\'s figures', async () => {
    // a replica whose clock just passed midnight after the 4th (and the start delay)
    const replica = await runInProcess('metrics', MetricsConfigSchema, (context) => composeMetrics(context, { clock: () => new Date('2026-11-05T00:01:30.000Z') }), {
      ...metricsEnv,
      METRICS_SCHEDULE_DELAY_SECONDS: '60',
    });
    try {
      const job = await waitFor(async () => {
        const answer = await replica.app.inject({ url: '/internal/metrics/jobs/scheduled-day-2026-11-04', headers: internalHeaders() });
        const data = answer.statusCode === 200 ? answer.json<{ data: RollupJob }>().data : undefined;
        return data?.status === 'succeeded' ? data : undefined;
      }, { what: 'scheduled rollup of the 4th', timeoutMs: 30_000 });
      expect(job.period_start).toBe('2026-11-04');
      const rows = (await replica.app.inject({ url: '/internal/metrics?interval=day&from=2026-11-04&to=2026-11-04', headers: internalHeaders() })).json<{ data: MetricRow[] }>().data;
      expect(valueOf(rows, 'rollback-count')).toBe(1);
      expect(valueOf(rows, 'status-updates')).toBe(1);
      expect(valueOf(rows, 'clients-per-stage', { stage: 'product_selection' })).toBe(1);
      expect(valueOf(rows, 'clients-per-stage', { stage: 'registration' })).toBe(0);
      // the day just begun was not computed: it has barely started
      expect((await replica.app.inject({ url: '/internal/metrics/jobs/scheduled-day-2026-11-05', headers: internalHeaders() })).statusCode).toBe(404);
    } finally {
      await replica.stop();
    }
  });
});
