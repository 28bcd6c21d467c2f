// One Kafka client doing one job in a process of its own, so its CPU time is its own:
//   node kafka-client-load.mjs '<json>'   with {client: 'kafkajs'|'platformatic', mode, brokers, topic, …}
//   produce  {count, size}: idempotent, acks=all, batches of BATCH sent CONCURRENCY at a time
//   consume  {count, group}: a new group from the earliest offset, until `count` messages arrived
//   member   {group, sessionTimeoutMs}: stays in the group, printing {p, t} when a partition delivers
// produce and consume print one JSON line: {seconds, cpuSeconds, joinSeconds?}.
import { Consumer, Producer, ProduceAcks } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

const BATCH = 500;
const CONCURRENCY = 4;
const job = JSON.parse(process.argv[2]);
const clientId = `trackme-bench-${job.client}`;
const cpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

function messages(from, count, size) {
  const filler = 'x'.repeat(size);
  return Array.from({ length: count }, (_, i) => ({ key: `client-${(from + i) % 10_000}`, value: `{"n":${from + i},"data":"${filler}"}` }));
}

async function produce() {
  const batches = Math.ceil(job.count / BATCH);
  let next = 0;
  let send;
  let close;
  if (job.client === 'kafkajs') {
    const producer = new Kafka({ clientId, brokers: job.brokers, logLevel: logLevel.NOTHING }).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    send = (batch) => producer.send({ topic: job.topic, acks: -1, messages: batch });
    close = () => producer.disconnect();
  } else {
    const producer = new Producer({ clientId, bootstrapBrokers: job.brokers, idempotent: true, acks: ProduceAcks.ALL, serializers: stringSerializers() });
    send = (batch) => producer.send({ messages: batch.map((m) => ({ ...m, topic: job.topic })) });
    close = () => producer.close();
  }
  await send(messages(0, 1, job.size)); // connected, metadata known
  const [t0, c0] = [performance.now(), cpu()];
  const worker = async () => {
    while (next < batches) {
      const i = next++;
      await send(messages(1 + i * BATCH, Math.min(BATCH, job.count - i * BATCH), job.size));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  print({ seconds: (performance.now() - t0) / 1000, cpuSeconds: cpu() - c0 });
  await close();
}

function stringSerializers() {
  const toBuffer = (s) => (s === undefined ? undefined : Buffer.from(s));
  return { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer };
}

/** Calls onMessage(partition) for every message; resolves to a stop function. */
async function subscribe(onMessage, sessionTimeout = 30_000) {
  if (job.client === 'kafkajs') {
    const consumer = new Kafka({ clientId, brokers: job.brokers, logLevel: logLevel.NOTHING })
      .consumer({ groupId: job.group, sessionTimeout, heartbeatInterval: Math.min(3_000, sessionTimeout / 3) });
    await consumer.connect();
    await consumer.subscribe({ topic: job.topic, fromBeginning: true });
    await consumer.run({ eachBatch: async ({ batch }) => batch.messages.forEach(() => onMessage(batch.partition)) });
    return () => consumer.disconnect();
  }
  const consumer = new Consumer({ clientId, groupId: job.group, bootstrapBrokers: job.brokers, sessionTimeout, heartbeatInterval: Math.min(3_000, sessionTimeout / 3), rebalanceTimeout: sessionTimeout * 2 });
  const stream = await consumer.consume({ topics: [job.topic], mode: 'earliest', autocommit: 1_000 });
  stream.on('data', (message) => onMessage(message.partition));
  return () => consumer.close(true);
}

async function consume() {
  const [t0, c0] = [performance.now(), cpu()];
  let seen = 0;
  let first;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const stop = await subscribe(() => {
    if (seen === 0) first = [performance.now(), cpu()];
    seen += 1;
    if (seen === job.count) done([performance.now(), cpu()]);
  });
  const [t1, c1] = await finished;
  print({ joinSeconds: (first[0] - t0) / 1000, seconds: (t1 - first[0]) / 1000, cpuSeconds: c1 - first[1], cpuWithJoin: c1 - c0 });
  await stop();
}

async function member() {
  const last = new Map();
  await subscribe((p) => {
    const now = Date.now();
    if ((last.get(p) ?? 0) < now - 200) print({ p, t: now });
    last.set(p, now);
  }, job.sessionTimeoutMs);
}

await ({ produce, consume, member })[job.mode]();
if (job.mode !== 'member') process.exit(0);
