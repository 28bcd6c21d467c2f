import { fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import { Topics } from '@trackme/contracts';
import { createKafka, createLogger, kafkaConnectionFromEnv, topicFor } from '@trackme/platform';
import { freePort } from '@trackme/testkit';
import type { LoadResult } from './load.js';
import { apiClient } from './seed.js';
import type { BenchSystem } from './system.js';

// The write benches' tools: the load generator's process, the synchronous baseline's, the targets
// to move, and waiting until trackme has caught up with a load.

const LIB = path.dirname(fileURLToPath(import.meta.url));

export interface Target {
  id: string;
  email: string;
  stage: string;
}

/** What bench/lib/write-load.mjs reports: a LoadResult plus the write path's own counts. */
export interface WriteLoadResult extends LoadResult {
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

export interface WriteLoadOptions {
  /** closed loop: connections, each sending when its last answer came; open loop: the pool's cap */
  connections?: number;
  /** open loop: requests/s, sent on schedule */
  rate?: number;
  seconds: number;
  headers?: Record<string, string>;
  template: object;
  stages: [string, string];
  targets: Target[];
  /** both kinds alternating (default), or one kind only */
  mix?: 'both' | 'creates' | 'moves';
}

/** Runs bench/lib/write-load.mjs in a process of its own; `options.targets` is updated with the stages the targets end in. */
export async function writeLoad(url: string, options: WriteLoadOptions): Promise<WriteLoadResult> {
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

export interface SyncBaseline {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/lib/sync-baseline.mjs (fastify + the MongoDB driver, no Kafka) on the database of `mongoUrl`. */
export async function startSyncBaseline(mongoUrl: string): Promise<SyncBaseline> {
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
export async function stagePair(api: string, authorization: string): Promise<[string, string]> {
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
export async function createTargets(api: string, authorization: string, count: number, template: object, stage: string): Promise<Target[]> {
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
          // past the gateway's deadline on a loaded machine: the client is still created, but its id is not known here
          if (answer.status === 202) {
            targets.splice(targets.indexOf(target), 1);
            continue;
          }
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
export function cpuTicks(pids: number[]): number {
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
export async function drain(system: BenchSystem, timeoutMs: number): Promise<{ seconds: number; lag: number }> {
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
export async function documentSizes(mongoUrl: string, trackmeId: string, baselineId: string) {
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

