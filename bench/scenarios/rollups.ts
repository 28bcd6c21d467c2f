/**
 * 6. Metrics: events/s counted by the metrics service, and the time of a month rollup as the number
 * of clients grows (it should not: a rollup reads counters, never clients).
 *
 * Runs the metrics service in this process on a database and topic prefix of its own (dropped at
 * the end). For each client count, the clients added since the previous step are published as
 * change events on trackme.client-events (created, two stage moves, three logins each, spread over
 * the month) by a separate producer; the time until all are counted gives events/s, and the month
 * is then rolled up several times through trackme.metrics-commands (median and spread of the job
 * times). The baseline, measured in the same run, is the Mongo-wire server's raw single-document
 * update rate.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { allTopicDeclarations, ClientEventTypes, ActivityEventTypes, TRIGGER_ROLLUP_TYPE, Topics, type Client, type RollupJob } from '@trackme/contracts';
import { buildEnvelope, createKafka, createLogger, ensureTopics, kafkaConnectionFromEnv, MessageProducer, runMigrations, runService } from '@trackme/platform';
import { composeMetrics } from '../../services/metrics/src/compose.js';
import { MetricsConfigSchema } from '../../services/metrics/src/config.js';
import { fmt, type BenchContext, type Scenario, type ScenarioResult } from '../lib/scenario.js';

export const rollups: Scenario = {
  name: 'rollups',
  title: 'Rollups: events/s counted, and a month rollup at 10,000 and 100,000 clients',
  run: (context) => measure(context, context.quick ? [1_000, 10_000] : [10_000, 100_000], context.quick ? 3 : 5),
};

async function measure(context: BenchContext, steps: number[], repeat: number): Promise<ScenarioResult> {
  const baseMongo = context.env['MONGO_URL']!;
  const run = `bm${randomUUID().slice(0, 6)}`;
  const prefix = `${run}.`;
  const mongoUrl = baseMongo.replace(/\/[^/?]*(\?|$)/, `/${run}$1`);
  const logger = createLogger('bench', 'warn');
  const internalToken = randomUUID() + randomUUID();
  const kafka = createKafka({ ...kafkaConnectionFromEnv(context.env, 'bench'), clientId: 'bench-metrics' }, logger);
  await ensureTopics(kafka, allTopicDeclarations(), prefix);
  await runMigrations(mongoUrl);

  // baseline: the raw single-document update rate of the Mongo-wire server, in this run
  const mongo = await MongoClient.connect(mongoUrl);
  const scratch = mongo.db().collection<{ _id: string; n: number }>('bench_raw_updates');
  await scratch.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: `raw-${i}`, n: 0 })));
  const rawUntil = performance.now() + 10_000;
  let rawDone = 0;
  while (performance.now() < rawUntil) {
    await scratch.updateOne({ _id: `raw-${rawDone % 1000}` }, { $inc: { n: 1 } });
    rawDone += 1;
  }
  const rawPerSecond = rawDone / 10;
  await scratch.drop();
  console.log(`baseline: raw updateOne by _id ${rawPerSecond.toFixed(0)}/s`);

  const service = await runService('metrics', MetricsConfigSchema, composeMetrics, {
    env: { ...context.env, MONGO_URL: mongoUrl, KAFKA_TOPIC_PREFIX: prefix, METRICS_KEY_PREFIX: `${run}:`, INTERNAL_TOKEN: internalToken, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn' },
    installSignalHandlers: false,
    exit: (code) => {
      throw new Error(`metrics exited ${code}`);
    },
  });
  if (!service) throw new Error('metrics did not start');
  const inject = (url: string) => service.app.inject({ url, headers: { authorization: `Bearer ${internalToken}` } });
  while ((await inject('/readyz')).statusCode !== 200) await new Promise((r) => setTimeout(r, 200));
  const producer = new MessageProducer(kafka, logger, prefix);
  await producer.connect();

  async function eventsRead(): Promise<number> {
    const text = (await service!.metrics.inject({ url: '/metrics' })).body;
    return [...text.matchAll(/^trackme_metrics_events_total\{[^}]*outcome="(\w+)"[^}]*\} (\d+)/gm)].filter((m) => m[1] !== 'rejected').reduce((s, m) => s + Number(m[2]), 0);
  }

  const now = Date.now();
  const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
  const span = Math.max(now - monthStart, 86_400_000);
  const STAGES = ['registration', 'product_selection', 'data_consent'];

  /** Six change events of one client, in order, inside the current month. */
  function eventsOf(i: number): string[] {
    const id = `${run}-${i}`;
    const t0 = monthStart + ((i * 7919) % span) * 0.5;
    const step = (span - (t0 - monthStart)) / 8;
    const client = (version: number, stage: string, at: number): Client => ({
      id, name: `Client ${i}`, email: `c${i}@example.com`, stage, is_active: i % 10 !== 0, source: ['web', 'ads', null][i % 3]!, channel: ['organic', 'paid'][i % 2]!,
      app: i % 3 === 0 ? 'installed' : 'not_installed', last_login: null, registration_date: new Date(t0).toISOString(), last_updated: new Date(at).toISOString(),
      contracts: [{ id: 'k1', autopayment: i % 2 === 0 ? 'enabled' : 'disabled' }], version,
    });
    const common = (version: number) => ({ client_id: id, version, command_id: randomUUID(), actor: { subject: 'bench' } });
    const out: object[] = [buildEnvelope({ type: ClientEventTypes.created, occurredAt: new Date(t0), data: { ...common(1), client: client(1, STAGES[0]!, t0) } })];
    let version = 1;
    for (let m = 1; m <= 2; m += 1) {
      version += 1;
      const at = t0 + m * step;
      out.push(buildEnvelope({ type: ClientEventTypes.stageChanged, occurredAt: new Date(at), data: { ...common(version), from: STAGES[m - 1], to: STAGES[m], rollback: false, client: client(version, STAGES[m]!, at) } }));
    }
    for (let l = 1; l <= 3; l += 1) {
      version += 1;
      const at = t0 + (2 + l) * step;
      out.push(buildEnvelope({
        type: ActivityEventTypes.loggedIn, occurredAt: new Date(at),
        data: { ...common(version), actor: { subject: 'activity:bench' }, last_login: new Date(at).toISOString(), activity: { event_id: randomUUID(), type: 'login', occurred_at: new Date(at).toISOString() }, client: { ...client(version, STAGES[2]!, t0 + 2 * step), last_login: new Date(at).toISOString() } },
      }));
    }
    return out.map((e) => JSON.stringify(e));
  }

  async function monthRollup(): Promise<number> {
    const id = randomUUID();
    await producer.publish(Topics.metricsCommands, 'month', { id, type: TRIGGER_ROLLUP_TYPE, data: { job_id: id, interval: 'month', requested_at: new Date().toISOString(), actor: { subject: 'bench' } } });
    for (;;) {
      const answer = await inject(`/internal/metrics/jobs/${id}`);
      const job = answer.statusCode === 200 ? answer.json<{ data: RollupJob }>().data : undefined;
      if (job?.status === 'failed') throw new Error(job.error);
      if (job?.status === 'succeeded') return Date.parse(job.finished_at!) - Date.parse(job.started_at!);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const results: Array<{ clients: number; events: number; seconds: number; eventsPerSecond: number; rollupMs: number[]; rollupMedianMs: number }> = [];
  let published = 0;
  for (const clients of steps) {
    const fresh: string[] = [];
    for (let i = published; i < clients; i += 1) fresh.push(...eventsOf(i).map((value) => value));
    const keys = (v: string) => (JSON.parse(v) as { data: { client_id: string } }).data.client_id;
    const target = (await eventsRead()) + fresh.length;
    const t0 = performance.now();
    for (let i = 0; i < fresh.length; i += 20_000) await producer.send(Topics.clientEvents, fresh.slice(i, i + 20_000).map((value) => ({ key: keys(value), value })));
    while ((await eventsRead()) < target) await new Promise((r) => setTimeout(r, 500));
    const seconds = (performance.now() - t0) / 1000;
    published = clients;
    const rollupMs: number[] = [];
    for (let r = 0; r < repeat; r += 1) rollupMs.push(await monthRollup());
    const sorted = [...rollupMs].sort((a, b) => a - b);
    const row = { clients, events: fresh.length, seconds, eventsPerSecond: fresh.length / seconds, rollupMs, rollupMedianMs: sorted[Math.floor(sorted.length / 2)]! };
    results.push(row);
    console.log(`${clients} clients: ${fresh.length} events counted in ${seconds.toFixed(1)} s (${row.eventsPerSecond.toFixed(0)}/s, ${(row.eventsPerSecond / rawPerSecond).toFixed(2)}× raw updates); month rollup ${row.rollupMedianMs} ms (runs ${rollupMs.join(', ')} ms)`);
  }

  await producer.disconnect();
  await service.context.lifecycle.stop('bench finished');
  await mongo.db().dropDatabase();
  await mongo.close();

  const markdown = [
    `change events of each new client (created, 2 stage moves, 3 logins) published in one burst; the month rolled up ${repeat} times at each size`,
    '',
    '| clients | events counted | events/s | ÷ raw updateOne | month rollup, median of runs |',
    '|---|---:|---:|---:|---|',
    ...results.map((r) => `| ${r.clients.toLocaleString('en-US')} | ${r.events.toLocaleString('en-US')} | ${fmt.rps(r.eventsPerSecond)} | ${fmt.ratio(r.eventsPerSecond / rawPerSecond)} | ${r.rollupMedianMs} ms (${r.rollupMs.join(', ')}) |`),
    '',
    `baseline: raw \`updateOne\` by \`_id\`, same run: ${fmt.rps(rawPerSecond)}/s`,
  ].join('\n');
  const growth = results.at(-1)!.rollupMedianMs / results[0]!.rollupMedianMs;
  return {
    figures: { rawPerSecond, results, growth },
    markdown,
    goals: [
      {
        goal: `month rollup does not grow with clients (${results.at(-1)!.clients.toLocaleString('en-US')} ÷ ${results[0]!.clients.toLocaleString('en-US')}; ≤ 1.5× allows for noise)`,
        measured: `${fmt.ratio(growth)} (${results.map((r) => `${r.rollupMedianMs} ms`).join(' → ')})`,
        met: growth <= 1.5,
      },
    ],
  };
}
