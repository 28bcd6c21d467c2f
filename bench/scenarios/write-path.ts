import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import { Topics } from '@trackme/contracts';
import { createKafka, createLogger, kafkaConnectionFromEnv, topicFor } from '@trackme/platform';
import { freePort } from '@trackme/testkit';
import { alternate, type LoadResult } from '../lib/load.js';
import { fmt, type BenchContext, type Scenario } from '../lib/scenario.js';
import { apiClient, newClient } from '../lib/seed.js';
import { emptyBenchEnv, startSystem, WRITE_NAMESPACE, type BenchSystem } from '../lib/system.js';

const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib');
/** clients each side moves with PUT …/stage: more than the connections, so a client is moved again only after its last move answered */
const TARGETS = 256;

const shape = (context: BenchContext) => ({
  rounds: context.quick ? 1 : 3,
  seconds: context.quick ? 3 : 10,
  connections: 32,
  rate: 200,
  rateSeconds: context.quick ? 10 : 30,
});

interface Target {
  id: string;
  email: string;
  stage: string;
}

/** What bench/lib/write-load.mjs reports: a LoadResult plus the write path's own counts. */
interface WriteLoadResult extends LoadResult {
  mode: 'closed' | 'open';
  sent: number;
  elapsed: number;
  /** answers 202: the gateway's deadline passed (the command is still applied) */
  accepted202: number;
  statuses: Record<string, number>;
  byMethod: Record<'POST' | 'PUT', { count: number; mean: number; p50: number; p90: number; p99: number; max: number }>;
  overlapped: number;
  lateMax?: number;
  targets: Target[];
}

interface WriteLoadOptions {
  /** closed loop: connections, each sending when its last answer came; open loop: the pool's cap */
  connections?: number;
  /** open loop: requests/s, sent on schedule */
  rate?: number;
  seconds: number;
  headers?: Record<string, string>;
  template: object;
  stages: [string, string];
  targets: Target[];
}

/** Runs bench/lib/write-load.mjs in a process of its own; `options.targets` is updated with the stages the targets end in. */
async function writeLoad(url: string, options: WriteLoadOptions): Promise<WriteLoadResult> {
  const child = spawn(process.execPath, [path.join(LIB, 'write-load.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  child.stdin.end(JSON.stringify({ url, ...options }));
  const code = await exited;
  if (code !== 0) throw new Error(`write-load exited (${code})`);
  const result = JSON.parse(stdout) as WriteLoadResult;
  options.targets.splice(0, options.targets.length, ...result.targets);
  return result;
}

interface SyncBaseline {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/lib/sync-baseline.mjs (fastify + the MongoDB driver, no Kafka) on the database of `mongoUrl`. */
async function startSyncBaseline(mongoUrl: string): Promise<SyncBaseline> {
  const port = await freePort();
  const database = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^/?]+)/.exec(mongoUrl)?.[1];
  if (!database) throw new Error(`no database in ${mongoUrl}`);
  const child = fork(path.join(LIB, 'sync-baseline.mjs'), [String(port), mongoUrl, database], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`sync baseline exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill()))),
  };
}

/** Two neighbouring stages a new client may start in one of: the targets move between them. */
async function stagePair(api: string, authorization: string): Promise<[string, string]> {
  const client = apiClient(api, authorization);
  const { data } = (await client.request('GET', '/stages')).body as { data: { stages: { id: string; order: number; transitions: string[] }[]; initial: string[] } };
  await client.close();
  const byId = new Map(data.stages.map((s) => [s.id, s]));
  for (const first of [...data.stages].sort((a, b) => a.order - b.order)) {
    if (!data.initial.includes(first.id)) continue;
    const second = first.transitions.find((id) => byId.get(id)?.transitions.includes(first.id));
    if (second) return [first.id, second];
  }
  throw new Error('no initial stage with a neighbour that moves back to it');
}

/** Creates `count` clients through `api` (16 at a time) in stage `stage`. */
async function createTargets(api: string, authorization: string, count: number, template: object, stage: string): Promise<Target[]> {
  const client = apiClient(api, authorization);
  const targets: Target[] = [];
  try {
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (targets.length < count) {
          const email = `bench-target-${randomUUID()}@example.com`;
          targets.push({ id: '', email, stage });
          const target = targets.at(-1)!;
          const answer = await client.request('POST', '/clients', { ...template, email, stage });
          if (answer.status !== 201) throw new Error(`creating a target failed: ${answer.status} ${JSON.stringify(answer.body)}`);
          target.id = (answer.body as { data: { id: string } }).data.id;
        }
      }),
    );
  } finally {
    await client.close();
  }
  return targets;
}

/** CPU seconds used so far by processes (utime + stime from /proc, in clock ticks of 1/100 s). */
function cpuTicks(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + Number(fields[11]) + Number(fields[12]);
    } catch {
      return sum;
    }
  }, 0);
}

/**
 * Waits until trackme has done everything the load asked of it: no message left unconsumed by
 * `clients` (commands answered 202 are still applied after their answer), `read` and `metrics`
 * (events), and then until its processes are nearly idle (under 10% of a core for half a second).
 * Otherwise one round's backlog would load the next round, or the next run.
 */
async function drain(system: BenchSystem, timeoutMs: number): Promise<{ seconds: number; lag: number }> {
  const env = system.env;
  const prefix = env['KAFKA_TOPIC_PREFIX'] ?? '';
  const admin = createKafka({ ...kafkaConnectionFromEnv(env, 'bench'), clientId: 'trackme-bench-lag' }, createLogger('bench', 'silent')).admin();
  const groups = [
    ['trackme-clients', Topics.clientCommands],
    ['trackme-read', Topics.clientEvents],
    ['trackme-metrics', Topics.clientEvents],
  ] as const;
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  let lag = Number.NaN;
  await admin.connect();
  try {
    while (elapsed() < timeoutMs) {
      lag = 0;
      for (const [group, topic] of groups) {
        const ends = await admin.fetchTopicOffsets(topicFor(prefix, topic));
        const [committed] = await admin.fetchOffsets({ groupId: topicFor(prefix, group), topics: [topicFor(prefix, topic)] });
        for (const end of ends) {
          const offset = Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
          lag += Number(end.high) - (offset < 0 ? Number(end.low) : offset);
        }
      }
      if (lag === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await admin.disconnect();
  }
  const pids = system.processes.map((p) => p.child.pid!).filter(Boolean);
  let last = cpuTicks(pids);
  while (elapsed() < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = cpuTicks(pids);
    if (now - last <= 5) break;
    last = now;
  }
  return { seconds: elapsed() / 1000, lag };
}

/** BSON size of a stored client: the whole document, and only the client's fields (what the baseline stores). */
async function documentSizes(mongoUrl: string, trackmeId: string, baselineId: string) {
  const mongo = await MongoClient.connect(mongoUrl);
  try {
    const db = mongo.db();
    const trackme = await db.collection<{ _id: string }>('clients').findOne({ _id: trackmeId });
    const baseline = await db.collection<{ _id: string }>('baseline_clients').findOne({ _id: baselineId });
    if (!trackme || !baseline) return undefined;
    const clientFields = Object.fromEntries(Object.entries(trackme).filter(([key]) => key in baseline));
    return { trackme: BSON.calculateObjectSize(trackme), trackmeClientFields: BSON.calculateObjectSize(clientFields), baseline: BSON.calculateObjectSize(baseline) };
  } finally {
    await mongo.close();
  }
}

const errorsOf = (r: LoadResult) => r.non2xx + r.errors + r.timeouts;
const row = (label: string, r: WriteLoadResult) =>
  `| ${label} | ${fmt.rps(r.rps)} | ${fmt.ms(r.mean)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p90)} | ${fmt.ms(r.p99)} | ${errorsOf(r)} | ${r.accepted202} |`;
const HEAD = ['| target | requests/s | mean | p50 | p90 | p99 | errors | answered 202 |', '|---|---:|---:|---:|---:|---:|---:|---:|'];

/** 4. The write path through Kafka against the older service's design: a route writing Mongo directly. */
export const writePath: Scenario = {
  name: 'write-path',
  title: 'Write path: POST /clients and PUT …/stage through Kafka vs a synchronous route writing Mongo directly',
  async run(context) {
    const { rounds, seconds, connections, rate, rateSeconds } = shape(context);
    // trackme's and the baseline's collections both start empty, in a namespace of their own
    const env = await emptyBenchEnv(WRITE_NAMESPACE);
    const mongoUrl = env['MONGO_URL']!;
    const system = await startSystem(env);
    const baseline = await startSyncBaseline(mongoUrl).catch(async (error: unknown) => {
      await system.stop();
      throw error;
    });
    try {
      const headers = { authorization: context.authorization };
      const { email: _email, ...template } = newClient(0);
      const stages = await stagePair(system.api, context.authorization);
      const targets = {
        gateway: await createTargets(system.api, context.authorization, TARGETS, template, stages[0]),
        baseline: await createTargets(baseline.url, '', TARGETS, template, stages[0]),
      };
      await drain(system, 60_000);

      const r = await alternate(rounds, {
        baseline: () => writeLoad(baseline.url, { connections, seconds, template, stages, targets: targets.baseline }),
        gateway: async () => {
          const result = await writeLoad(system.api, { connections, seconds, headers, template, stages, targets: targets.gateway });
          await drain(system, 60_000);
          return result;
        },
      });
      const gateway = r.gateway.median as WriteLoadResult;
      const sync = r.baseline.median as WriteLoadResult;
      const ratio = gateway.rps / sync.rps;

      // open loop through the gateway: requests leave on schedule whether or not earlier ones answered
      const atRate = await writeLoad(system.api, { rate, seconds: rateSeconds, headers, template, stages, targets: targets.gateway });
      // the commands answered 202 are still being applied; the next run must not inherit them
      const drained = await drain(system, 300_000);
      const rateErrors = errorsOf(atRate);
      const sizes = await documentSizes(mongoUrl, targets.gateway[0]!.id, targets.baseline[0]!.id);
      // a create answered 202 is still applied
      const created = [...r.gateway.rounds, atRate].reduce((n, x) => n + ((x as WriteLoadResult).statuses['POST 201'] ?? 0) + ((x as WriteLoadResult).statuses['POST 202'] ?? 0), TARGETS);

      return {
        figures: { rounds, seconds, connections, rate, rateSeconds, stages, targets: TARGETS, ...r, gatewayOverBaseline: ratio, atRate, documentBytes: sizes, clientsCreated: created, drained },
        goals: [
          {
            goal: 'write throughput ≥ 70% of the synchronous baseline (requests/s, closed loop)',
            measured: `${(ratio * 100).toFixed(0)}%${errorsOf(gateway) ? `, ${errorsOf(gateway)} errors` : ''}`,
            met: ratio >= 0.7 && errorsOf(gateway) === 0,
          },
          {
            goal: `write p99 ≤ 250 ms at ${rate} writes/s (open loop), 0 errors`,
            measured: `${fmt.ms(atRate.p99)}, ${rateErrors} errors, ${atRate.accepted202} answered 202`,
            met: atRate.p99 <= 250 && rateErrors === 0,
          },
        ],
        markdown: [
          `half \`POST /clients\` (a fresh email each), half \`PUT /clients/{id}/stage\` (${TARGETS} clients moved between \`${stages[0]}\` and \`${stages[1]}\`); ` +
            `${connections} connections, median of ${rounds} alternating rounds of ${seconds} s; then ${rate} writes/s for ${rateSeconds} s through the gateway (open loop, latency from each request's scheduled instant)`,
          '',
          ...HEAD,
          row('synchronous route: bare fastify + `insertOne` / `findOneAndUpdate`, no Kafka (baseline)', sync),
          row('gateway → Kafka → `clients` → Mongo, reply over Kafka', gateway),
          row(`the gateway at ${rate} writes/s (open loop)`, atRate),
          '',
          `gateway ÷ baseline: ${(ratio * 100).toFixed(0)}%. At ${rate}/s: POST p99 ${fmt.ms(atRate.byMethod.POST.p99)}, PUT p99 ${fmt.ms(atRate.byMethod.PUT.p99)}; ` +
            `${atRate.requests} of ${atRate.sent} answered, the generator at most ${fmt.ms(atRate.lateMax ?? 0)} late; ` +
            `the last command applied and its events consumed ${drained.seconds.toFixed(0)} s after the last answer${drained.lag ? ` (still ${drained.lag} messages behind)` : ''}.`,
          sizes
            ? `Stored document: trackme ${sizes.trackme} bytes (${sizes.trackmeClientFields} of them the client's fields, the rest the ids of its last commands applied and the empty outbox), baseline ${sizes.baseline} bytes. ${created} clients created by this run, in a namespace of its own (\`${WRITE_NAMESPACE}\`, emptied at the start).`
            : '',
        ].join('\n'),
      };
    } finally {
      await Promise.all([baseline.stop(), system.stop()]);
    }
  },
};
