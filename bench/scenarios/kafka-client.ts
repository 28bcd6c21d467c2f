/**
 * The Kafka client decision: kafkajs 2.2.4 (what libs/platform uses) against @platformatic/kafka,
 * each in a process of its own (bench/lib/kafka-client-load.mjs), on a topic of this run.
 * - produce: idempotent, acks=all, batches of 500 sent 4 at a time; messages/s and CPU per 1,000;
 * - consume: a new group from the earliest offset; time to join, then messages/s and CPU per 1,000;
 * - recovery: two members share a group while messages arrive on every partition; one is killed
 *   with SIGKILL, and the time until the other receives from every partition again is measured,
 *   with a long session timeout (30 s, kafkajs's default) and a shorter one (10 s). A group whose
 *   two members never both receive is reported as such rather than waited for.
 * Rounds alternate between the clients so a drift in the machine's load falls on both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, createLogger, parseBrokers } from '@trackme/platform';
import { median } from '../lib/load.js';
import { fmt, type BenchContext, type Scenario, type ScenarioResult } from '../lib/scenario.js';

const CLIENTS = ['kafkajs', 'platformatic'] as const;
type Client = (typeof CLIENTS)[number];
const LOAD = path.join(import.meta.dirname, '../lib/kafka-client-load.mjs');
const PARTITIONS = 6;
const SIZE = 400;

export const kafkaClient: Scenario = {
  name: 'kafka-client',
  title: 'Kafka client: kafkajs 2.2.4 vs @platformatic/kafka (produce, consume, CPU, recovery after SIGKILL)',
  run: measure,
};

interface Lines {
  child: ChildProcess;
  lines: AsyncIterableIterator<string>;
}

function start(job: object): Lines {
  const child = spawn(process.execPath, [LOAD, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'ignore'] });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function once(job: object): Promise<Record<string, number>> {
  const { lines } = start(job);
  const { value } = await lines.next();
  if (!value) throw new Error(`no result from ${JSON.stringify(job)}`);
  return JSON.parse(value);
}

async function measure({ env, quick }: BenchContext): Promise<ScenarioResult> {
  const brokers = parseBrokers(env['KAFKA_BROKERS']!);
  const kafka = createKafka({ brokers, clientId: 'bench-kafka-client' }, createLogger('bench', 'warn'));
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench.kafka-client.${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  const count = quick ? 20_000 : 100_000;
  const rounds = quick ? 1 : 3;
  try {
    const produced: Record<Client, Record<string, number>[]> = { kafkajs: [], platformatic: [] };
    const consumed: Record<Client, Record<string, number>[]> = { kafkajs: [], platformatic: [] };
    for (let round = 0; round < rounds; round += 1) {
      for (const client of round % 2 ? [...CLIENTS].reverse() : CLIENTS) {
        produced[client].push(await once({ client, mode: 'produce', brokers, topic, count, size: SIZE }));
      }
    }
    // the topic now holds every round's messages (plus one warm-up each); a consumer reads them all
    const total = rounds * 2 * (count + 1);
    for (let round = 0; round < rounds; round += 1) {
      for (const client of round % 2 ? [...CLIENTS].reverse() : CLIENTS) {
        consumed[client].push(await once({ client, mode: 'consume', brokers, topic, count: total, group: `bench-consume-${randomUUID()}` }));
      }
    }
    const recovery: Record<string, number> = {};
    const sessions = quick ? [10_000] : [30_000, 10_000];
    const producer = kafka.producer();
    await producer.connect();
    const ticker = setInterval(() => {
      void producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, value: 'tick' })) }).catch(() => undefined);
    }, 100);
    try {
      for (const sessionTimeoutMs of sessions) {
        for (const client of CLIENTS) recovery[`${client}@${sessionTimeoutMs}`] = await recoveryAfterKill(client, brokers, topic, sessionTimeoutMs);
      }
    } finally {
      clearInterval(ticker);
      await producer.disconnect();
    }

    const rate = (runs: Record<string, number>[], total: number) => median(runs.map((r) => total / r['seconds']!));
    const cpuPer1000 = (runs: Record<string, number>[], total: number) => median(runs.map((r) => (r['cpuSeconds']! * 1_000_000) / total));
    const figures = {
      count, rounds, size: SIZE, partitions: PARTITIONS, produced, consumed, recovery,
      produceRate: { kafkajs: rate(produced.kafkajs, count), platformatic: rate(produced.platformatic, count) },
      produceCpuMsPer1000: { kafkajs: cpuPer1000(produced.kafkajs, count), platformatic: cpuPer1000(produced.platformatic, count) },
      consumeRate: { kafkajs: rate(consumed.kafkajs, total), platformatic: rate(consumed.platformatic, total) },
      consumeCpuMsPer1000: { kafkajs: cpuPer1000(consumed.kafkajs, total), platformatic: cpuPer1000(consumed.platformatic, total) },
      joinSeconds: { kafkajs: median(consumed.kafkajs.map((r) => r['joinSeconds']!)), platformatic: median(consumed.platformatic.map((r) => r['joinSeconds']!)) },
    };
    const row = (what: string, a: number, b: number, show: (n: number) => string) => `| ${what} | ${show(a)} | ${show(b)} | ${Number.isNaN(b / a) ? '' : fmt.ratio(b / a)} |`;
    const seconds = (n: number) => (Number.isNaN(n) ? 'the two members never both received' : `${n.toFixed(1)} s`);
    const markdown = [
      `${count.toLocaleString('en-US')} messages of about ${SIZE} bytes per round, ${PARTITIONS} partitions, median of ${rounds} round(s); CPU is the client process's own.`,
      '',
      '| measure | kafkajs 2.2.4 | @platformatic/kafka | platformatic ÷ kafkajs |',
      '|---|---|---|---|',
      row('produce, messages/s', figures.produceRate.kafkajs, figures.produceRate.platformatic, fmt.rps),
      row('produce, CPU per 1,000 messages', figures.produceCpuMsPer1000.kafkajs, figures.produceCpuMsPer1000.platformatic, fmt.ms),
      row(`consume ${total.toLocaleString('en-US')}, messages/s`, figures.consumeRate.kafkajs, figures.consumeRate.platformatic, fmt.rps),
      row('consume, CPU per 1,000 messages', figures.consumeCpuMsPer1000.kafkajs, figures.consumeCpuMsPer1000.platformatic, fmt.ms),
      row('join a new group, first message', figures.joinSeconds.kafkajs, figures.joinSeconds.platformatic, seconds),
      ...sessions.map((s) => row(`recovery after SIGKILL, session timeout ${s / 1000} s`, recovery[`kafkajs@${s}`]!, recovery[`platformatic@${s}`]!, seconds)),
    ].join('\n');
    return { figures, markdown, goals: [] };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** Seconds from a member's SIGKILL until the surviving member receives from every partition. */
async function recoveryAfterKill(client: Client, brokers: string[], topic: string, sessionTimeoutMs: number): Promise<number> {
  const group = `bench-recovery-${randomUUID()}`;
  const job = { client, mode: 'member', brokers, topic, group, sessionTimeoutMs };
  const members = [start(job)];
  const lastSeen = [0, 0];
  const follow = async (index: number, until: (line: { p: number; t: number }) => boolean) => {
    // next() rather than for-await: leaving a for-await loop would close the member's output
    for (;;) {
      const { value, done } = await members[index]!.lines.next();
      if (done) throw new Error(`member ${index} of ${client} stopped`);
      const line = JSON.parse(value) as { p: number; t: number };
      lastSeen[index] = line.t;
      if (until(line)) return line.t;
    }
  };
  try {
    await follow(0, () => true);
    members.push(start(job));
    // both hold partitions once each has received something after the second joined
    const joined = Date.now();
    const bothHold = Promise.all([follow(1, (l) => l.t > joined), follow(0, (l) => l.t > joined && lastSeen[1]! > joined)]).then(
      () => true,
      () => false,
    );
    // a group that never shares its partitions out is reported, not waited for
    if (!(await Promise.race([bothHold, sleep(3 * sessionTimeoutMs + 60_000, false, { ref: false })]))) return Number.NaN;
    const killedAt = Date.now();
    members[0]!.child.kill('SIGKILL');
    const partitions = new Set<number>();
    const deadline = setTimeout(() => members[1]!.child.kill('SIGTERM'), 3 * sessionTimeoutMs + 60_000);
    const recoveredAt = await follow(1, (l) => l.t > killedAt && partitions.add(l.p).size === PARTITIONS);
    clearTimeout(deadline);
    return (recoveredAt - killedAt) / 1000;
  } finally {
    for (const { child } of members) child.kill('SIGKILL');
  }
}
