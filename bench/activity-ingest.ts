/**
 * Activity ingestion: events/s from publishing login events on trackme.activity until their
 * ClientLoggedIn change events are on trackme.client-events, against the baseline of the
 * Mongo-wire server's raw single-document update rate measured in the same run.
 *
 *   npx tsx bench/activity-ingest.ts [--events 200000] [--clients 10000]
 *
 * Runs against a started system (`npm start`, which provides KAFKA_BROKERS and MONGO_URL through
 * .env or the defaults below). Needs at least `--clients` active clients (bench/read-lists.ts seeds
 * them). The events are published by a plain kafkajs producer, as another system would; the
 * consumer lag of both clients consumer groups is sampled every second. Writes JSON and a
 * Markdown table to bench/results/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '10000' },
    'baseline-seconds': { type: 'string', default: '10' },
  },
});
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const prefix = process.env['KAFKA_TOPIC_PREFIX'] ?? '';
const mongoUrl = process.env['MONGO_URL'] ?? 'mongodb://127.0.0.1:27017/trackme';
const eventCount = Number(values.events);
const clientCount = Number(values.clients);
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
if (clientIds.length < clientCount) throw new Error(`only ${clientIds.length} clients; seed ${clientCount} first (bench/read-lists.ts --clients ${clientCount})`);

// 2. baseline: raw single-document updates by _id on a scratch copy of client documents
const scratch = mongo.db().collection<Record<string, unknown> & { _id: string }>('bench_raw_updates');
await scratch.drop().catch(() => undefined);
const sample = await mongo.db().collection<{ _id: string }>('clients').findOne({ _id: clientIds[0]! });
const docs = Array.from({ length: clientCount }, (_, i) => ({ ...sample, _id: `raw-${i}` }));
for (let i = 0; i < docs.length; i += 1000) await scratch.insertMany(docs.slice(i, i + 1000));
async function rawUpdates(connections: number): Promise<number> {
  const until = performance.now() + Number(values['baseline-seconds']) * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      for (let i = worker; performance.now() < until; i += connections) {
        await scratch.updateOne({ _id: `raw-${i % clientCount}` }, { $set: { last_login: new Date(), version: i } });
        done += 1;
      }
    }),
  );
  return done / Number(values['baseline-seconds']);
}
const rawOne = await rawUpdates(1);
const rawEight = await rawUpdates(8);
await scratch.drop();
console.log(`baseline: raw updateOne by _id ${rawOne.toFixed(0)}/s (1 connection), ${rawEight.toFixed(0)}/s (8 connections)`);

// 3. watch the change events of this run
const kafka = new Kafka({ clientId: 'bench-activity', brokers, logLevel: logLevel.NOTHING });
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
  scenario: 'activity-ingest',
  at: new Date().toISOString(),
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
const table = [
  `Activity ingestion, ${eventCount} login events over ${clientCount} clients (${result.at})`,
  '',
  '| measure | value |',
  '|---|---:|',
  `| raw \`updateOne\` by \`_id\`, 1 connection (baseline) | ${rawOne.toFixed(0)} /s |`,
  `| raw \`updateOne\` by \`_id\`, 8 connections (baseline) | ${rawEight.toFixed(0)} /s |`,
  `| publish of the burst | ${result.publishSeconds.toFixed(1)} s |`,
  `| publish → last ClientLoggedIn | ${seconds.toFixed(1)} s |`,
  `| **sustained events/s through clients** | **${rate.toFixed(0)}** |`,
  `| ÷ raw updates, 1 / 8 connections | ${result.ratioToRaw1.toFixed(2)}× / ${result.ratioToRaw8.toFixed(2)}× |`,
  `| lag when the burst was published (intake + apply) | ${lagAfterBurst.intake} + ${lagAfterBurst.apply} messages (${emittedAtBurstEnd} of ${eventCount} emitted) |`,
  `| drained after the burst | ${drainSeconds.toFixed(1)} s |`,
  `| lag at the end | ${finalLag.intake} + ${finalLag.apply} |`,
].join('\n');
mkdirSync('bench/results', { recursive: true });
const stamp = Date.now();
writeFileSync(`bench/results/activity-ingest-${stamp}.json`, JSON.stringify(result, null, 2));
writeFileSync(`bench/results/activity-ingest-${stamp}.md`, `${table}\n`);
console.log(table);
await Promise.all([producer.disconnect(), watcher.disconnect(), admin.disconnect(), mongo.close()]);
