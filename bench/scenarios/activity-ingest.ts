/**
 * 5. Activity ingestion: events/s from publishing login events on trackme.activity until their
 * ClientLoggedIn change events are on trackme.client-events, against the baseline of the
 * Mongo-wire server's raw single-document update rate measured in the same run.
 *
 * The events are published by a plain kafkajs producer, as another system would; the consumer lag
 * of both clients consumer groups is sampled every second.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { kafkaConnectionFromEnv } from '@trackme/platform';
import { fmt, type BenchContext, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { seedClients } from '../lib/seed.js';
import { startSystem } from '../lib/system.js';

export const activityIngest: Scenario = {
  name: 'activity-ingest',
  title: "Activity ingest: events/s from publish to change event vs the Mongo-wire server's raw single-document update rate",
  async run(context) {
    const system = await startSystem(context.env);
    try {
      await seedClients(system.api, context.authorization, CLIENTS);
      return await measure(context, context.quick ? 10_000 : 100_000);
    } finally {
      await system.stop();
    }
  },
};

const CLIENTS = 10_000;
const BASELINE_SECONDS = 10;

async function measure(context: BenchContext, eventCount: number): Promise<ScenarioResult> {
  const prefix = context.env['KAFKA_TOPIC_PREFIX']!;
  const mongoUrl = context.env['MONGO_URL']!;
  const clientCount = CLIENTS;
  const DAY = 86_400_000;

  // 1. the clients the events are about (existing, not deleted), straight from Mongo
  const mongo = await MongoClient.connect(mongoUrl);
  const clientIds = (
    await mongo
      .db()
      .collection<{ _id: string; deleted?: boolean }>('clients')
      .find({ deleted: { $ne: true } }, { projection: { _id: 1 } })
      .limit(clientCount)
      .toArray()
  ).map((c) => c._id);
  if (clientIds.length < clientCount) throw new Error(`only ${clientIds.length} clients after seeding ${clientCount}`);

  // 2. baseline: raw single-document updates by _id on a scratch copy of client documents
  const scratch = mongo.db().collection<Record<string, unknown> & { _id: string }>('bench_raw_updates');
  await scratch.drop().catch(() => undefined);
  const sample = await mongo.db().collection<{ _id: string }>('clients').findOne({ _id: clientIds[0]! });
  const docs = Array.from({ length: clientCount }, (_, i) => ({ ...sample, _id: `raw-${i}` }));
  for (let i = 0; i < docs.length; i += 1000) await scratch.insertMany(docs.slice(i, i + 1000));
  async function rawUpdates(connections: number): Promise<number> {
    const until = performance.now() + BASELINE_SECONDS * 1000;
    let done = 0;
    await Promise.all(
      Array.from({ length: connections }, async (_, worker) => {
        for (let i = worker; performance.now() < until; i += connections) {
          await scratch.updateOne({ _id: `raw-${i % clientCount}` }, { $set: { last_login: new Date(), version: i } });
          done += 1;
        }
      }),
    );
    return done / BASELINE_SECONDS;
  }
  const rawOne = await rawUpdates(1);
  const rawEight = await rawUpdates(8);
  await scratch.drop();
  console.log(`baseline: raw updateOne by _id ${rawOne.toFixed(0)}/s (1 connection), ${rawEight.toFixed(0)}/s (8 connections)`);

  // 3. watch the change events of this run
  const kafka = new Kafka({ clientId: 'bench-activity', ...kafkaConnectionFromEnv(context.env, 'bench'), logLevel: logLevel.NOTHING });
  const run = `bench-${randomUUID().slice(0, 8)}`;
  let emitted = 0;
  let lastEmittedAt = 0;
  const watcher = kafka.consumer({ groupId: `${run}-watcher` });
  await watcher.connect();
  await watcher.subscribe({ topic: `${prefix}trackme.client-events`, fromBeginning: false });
  const joined = new Promise<void>((resolve) => watcher.on(watcher.events.GROUP_JOIN, () => resolve()));
  await watcher.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        // cheap filter before parsing: only this run's events
        if (!message.value?.includes(run)) continue;
        const envelope = JSON.parse(message.value.toString()) as { type: string; data: { activity?: { event_id: string } } };
        if (envelope.type === 'ClientLoggedIn' && envelope.data.activity?.event_id.startsWith(run)) {
          emitted += 1;
          lastEmittedAt = performance.now();
        }
      }
    },
  });
  await joined;
  // the watcher starts at the latest offset once it has its assignment
  await new Promise((resolve) => setTimeout(resolve, 2_000));

  // 4. lag of the clients consumer groups, sampled every second
  const admin = kafka.admin();
  await admin.connect();
  async function lagOf(group: string, topic: string): Promise<number> {
    const [committed, latest] = await Promise.all([admin.fetchOffsets({ groupId: `${prefix}${group}`, topics: [`${prefix}${topic}`] }), admin.fetchTopicOffsets(`${prefix}${topic}`)]);
    const done = new Map(committed[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
    return latest.reduce((sum, p) => sum + Number(p.offset) - Math.max(0, done.get(p.partition) ?? 0), 0);
  }
  const lag = async () => ({ intake: await lagOf('trackme-clients-activity', 'trackme.activity'), apply: await lagOf('trackme-clients', 'trackme.client-commands') });
  const lagSamples: Array<{ s: number; intake: number; apply: number; emitted: number }> = [];

  // 5. the burst: logins spread over the last 30 days, round robin over the clients
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = performance.now();
  const sampler = setInterval(() => {
    void lag().then((l) => lagSamples.push({ s: (performance.now() - started) / 1000, ...l, emitted }));
  }, 1_000);
  const now = Date.now();
  const BATCH = 2_000;
  for (let sent = 0; sent < eventCount; sent += BATCH) {
    const messages = [];
    for (let i = sent; i < Math.min(eventCount, sent + BATCH); i++) {
      const clientId = clientIds[i % clientCount]!;
      const event = { event_id: `${run}-${i}`, type: 'login', client_id: clientId, occurred_at: new Date(now - ((i * 7919) % (30 * DAY))).toISOString(), source: 'bench' };
      messages.push({ key: clientId, value: JSON.stringify(event) });
    }
    await producer.send({ topic: `${prefix}trackme.activity`, acks: -1, messages });
  }
  const published = performance.now();
  const lagAfterBurst = await lag();
  const emittedAtBurstEnd = emitted;
  console.log(`published ${eventCount} events in ${((published - started) / 1000).toFixed(1)} s; lag then: ${JSON.stringify(lagAfterBurst)}, ${emittedAtBurstEnd} emitted`);
  while (emitted < eventCount) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (performance.now() - Math.max(lastEmittedAt, published) > 60_000) throw new Error(`stalled: ${emitted} of ${eventCount} change events after 60 s without progress`);
  }
  clearInterval(sampler);
  const finalLag = await lag();
  const seconds = (lastEmittedAt - started) / 1000;
  const rate = eventCount / seconds;
  const drainSeconds = (lastEmittedAt - published) / 1000;

  const result = {
    clients: clientCount,
    events: eventCount,
    baseline: { rawUpdatesPerSecond1: rawOne, rawUpdatesPerSecond8: rawEight },
    publishSeconds: (published - started) / 1000,
    endToEndSeconds: seconds,
    eventsPerSecond: rate,
    lagAfterBurst,
    emittedAtBurstEnd,
    drainSeconds,
    finalLag,
    maxLag: lagSamples.reduce((max, s) => Math.max(max, s.intake + s.apply), 0),
    ratioToRaw1: rate / rawOne,
    ratioToRaw8: rate / rawEight,
    lagSamples,
  };
  const markdown = [
    `${eventCount.toLocaleString('en-US')} login events over ${clientCount.toLocaleString('en-US')} clients, published in one burst`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| raw \`updateOne\` by \`_id\`, 1 connection (baseline) | ${fmt.rps(rawOne)} /s |`,
    `| raw \`updateOne\` by \`_id\`, 8 connections (baseline) | ${fmt.rps(rawEight)} /s |`,
    `| publish of the burst | ${result.publishSeconds.toFixed(1)} s |`,
    `| publish → last ClientLoggedIn | ${seconds.toFixed(1)} s |`,
    `| **sustained events/s through clients** | **${fmt.rps(rate)}** |`,
    `| ÷ raw updates, 1 / 8 connections | ${fmt.ratio(result.ratioToRaw1)} / ${fmt.ratio(result.ratioToRaw8)} |`,
    `| lag when the burst was published (intake + apply) | ${lagAfterBurst.intake} + ${lagAfterBurst.apply} messages (${emittedAtBurstEnd} of ${eventCount} emitted) |`,
    `| drained after the burst | ${drainSeconds.toFixed(1)} s |`,
    `| lag at the end | ${finalLag.intake} + ${finalLag.apply} |`,
  ].join('\n');
  await Promise.all([producer.disconnect(), watcher.disconnect(), admin.disconnect(), mongo.close()]);
  return {
    figures: result,
    markdown,
    goals: [{ goal: 'activity events/s ≥ 1× the raw single-document update rate (8 connections)', measured: fmt.ratio(result.ratioToRaw8), met: result.ratioToRaw8 >= 1 }],
  };
}
