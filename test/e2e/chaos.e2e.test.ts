import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { allTopicDeclarations, METRICS_PAGE_MAX } from '@trackme/contracts';
import { ensureTopics, KAFKA_CONNECTION_VARIABLES } from '@trackme/platform';
import { freePort, http, isolatedEnv, REPO_ROOT, spawnService, stackKafka, waitFor, waitUntilReady, type IsolatedEnv, type ServiceName, type ServiceProcess } from '@trackme/testkit';

/**
 * Chaos: steady creates and stage moves, each with an Idempotency-Key, while every service and
 * the Kafka broker are killed with SIGKILL in turn and started again 1 s later. The broker is one
 * of the test's own (`stack.sh up chaos kafka`: the test stack's broker is shared by every test);
 * MongoDB and Redis are the test stack's. Callers retry like careful clients: same key, 202s
 * followed up. The oracle: every write resolved with its own outcome, applied once, histories
 * exact, the list converged, and the day's metrics moved by exactly the creates and moves made.
 * CI runs one round of kills; `npm run chaos -- --minutes N` (CHAOS_MINUTES) repeats rounds for
 * that long on the dev stack and prints a summary table.
 */

const MOVES = 4;
const MINUTES = Number(process.env['CHAOS_MINUTES'] ?? 0);
type Target = ServiceName | 'kafka';
const KILL_ORDER: Target[] = ['clients', 'read', 'kafka', 'metrics', 'gateway', 'clients'];
/** from a replacement answering at all until it is ready (holds its partitions) */
const GROUP_BOUND_MS = 10_000;
/** from the restarted broker answering until every service is ready again */
const BROKER_BOUND_MS = 30_000;
const STACK = path.join(REPO_ROOT, 'deploy/local/stack.sh');
const run = promisify(execFile);
const broker = (command: 'up' | 'down' | 'reset') => run('bash', [STACK, command, 'chaos', 'kafka'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });

let env: IsolatedEnv;
let mongo: MongoClient;
const envOf: Partial<Record<ServiceName, Record<string, string>>> = {};
const current: Partial<Record<ServiceName, ServiceProcess>> = {};
const spawned: ServiceProcess[] = [];

async function start(name: ServiceName): Promise<{ service: ServiceProcess; groupMs: number }> {
  const service = await spawnService(name, envOf[name]!);
  spawned.push(service);
  current[name] = service;
  await waitFor(() => fetch(`${service.url}/healthz`).then((r) => r.ok, () => false), { what: `${name} answering`, timeoutMs: 120_000, intervalMs: 100 });
  const answering = Date.now();
  await waitUntilReady(service, 120_000);
  return { service, groupMs: Date.now() - answering };
}

/** SIGKILL of the broker, started again 1 s later on the same data; resolves when every service is ready again. */
async function killBroker(): Promise<number> {
  const pid = Number(await readFile(path.join(REPO_ROOT, '.local/stack/chaos/kafka.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  // gone once the process has exited (a zombie nobody reaped yet holds no port)
  const gone = () => readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => / Z /.test(stat), () => true);
  await waitFor(gone, { what: 'the broker gone', timeoutMs: 10_000 });
  await sleep(1_000);
  await broker('up');
  const answering = Date.now();
  await Promise.all(Object.values(current).map((service) => waitFor(() => fetch(`${service.url}/readyz`).then((r) => r.ok, () => false), { what: 'ready after the broker came back', timeoutMs: 120_000, intervalMs: 100 })));
  return Date.now() - answering;
}

beforeAll(async () => {
  // a broker left running by an interrupted run is stopped and its data dropped
  await broker('reset');
  await broker('up');
  const shared = await isolatedEnv();
  // the test stack's MongoDB and Redis, with the chaos broker (open, on loopback) instead of its Kafka
  env = { ...(Object.fromEntries(Object.entries(shared).filter(([name]) => !(KAFKA_CONNECTION_VARIABLES as readonly string[]).includes(name))) as IsolatedEnv), KAFKA_BROKERS: '127.0.0.1:39092' };
  await ensureTopics(stackKafka('trackme-chaos-setup', env), allTopicDeclarations(), env.KAFKA_TOPIC_PREFIX);
  mongo = await MongoClient.connect(env.MONGO_URL);
  const ports = { read: await freePort(), metrics: await freePort(), clients: await freePort(), gateway: await freePort() };
  for (const name of ['read', 'metrics', 'clients'] as const) envOf[name] = { ...env, PORT: String(ports[name]) };
  envOf.gateway = { ...env, PORT: String(ports.gateway), READ_URL: `http://127.0.0.1:${ports.read}`, METRICS_URL: `http://127.0.0.1:${ports.metrics}`, WRITE_TIMEOUT_MS: '3000' };
  for (const name of ['read', 'metrics', 'clients', 'gateway'] as const) await start(name);
}, 400_000);

afterAll(async () => {
  await mongo?.close();
  await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
  await broker('reset');
});

const api = () => `http://127.0.0.1:${envOf.gateway!['PORT']}/api/v1`;

/** One write until it resolves: connection errors, 409 in flight and 503 retried with the same key; 202 followed up. */
async function submit(method: string, path: string, body: unknown, key: string): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const answer = await http(method, `${api()}${path}`, body, { 'idempotency-key': key }).catch(() => undefined);
    if (!answer || answer.status === 503 || (answer.status === 409 && answer.body?.code === 'idempotency_key_in_flight')) {
      await sleep(200);
      continue;
    }
    if (answer.status !== 202) return answer;
    const location = answer.headers.get('location')!;
    const done = await waitFor(
      async () => {
        const operation = await http('GET', `${api().replace(/\/api\/v1$/, '')}${location}`).catch(() => undefined);
        return operation?.status === 200 && operation.body.data.status === 'completed' ? operation.body.data.result : undefined;
      },
      { what: `operation ${location}`, timeoutMs: 120_000, intervalMs: 250 },
    );
    return done;
  }
  throw new Error(`${method} ${path} (key ${key}) never resolved`);
}

describe('SIGKILL of each service and of the broker in turn under load', () => {
  it('applies every write exactly once, keeps histories exact, converges the list and the metrics, and recovers each consumer', async () => {
    const finals: { status: number; body: any }[] = [];
    const ids: string[] = [];
    const prefix = env.KAFKA_TOPIC_PREFIX;
    let next = 0;
    let running = true;
    const worker = async () => {
      for (let i = next++; running; i = next++) {
        const email = `chaos-${i}-${prefix}x@example.com`;
        const created = await submit('POST', '/clients', { name: 'Chaos Test', email }, `${prefix}create-${i}`);
        finals.push(created);
        ids[i] = created.body.data.id;
        for (let m = 0; m < MOVES; m += 1) finals.push(await submit('PUT', `/clients/${ids[i]}/stage`, { name: 'Chaos Test', email, stage: 'next' }, `${prefix}move-${i}-${m}`));
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    const groupWaits: Record<string, number[]> = {};
    const until = Date.now() + MINUTES * 60_000;
    do {
      for (const name of KILL_ORDER) {
        await sleep(3_000);
        if (name === 'kafka') {
          (groupWaits[name] ??= []).push(await killBroker());
          continue;
        }
        await current[name]!.stop('SIGKILL');
        await sleep(1_000);
        const { groupMs } = await start(name);
        (groupWaits[name] ??= []).push(groupMs);
      }
    } while (Date.now() < until);
    await sleep(2_000);
    running = false;
    await load;
    const clientCount = ids.length;
    console.log(summary(finals.length, clientCount, groupWaits));

    // no unresolved retries, and each write answered with its own outcome
    expect(finals).toHaveLength(clientCount * (1 + MOVES));
    expect(finals.filter((f) => f.status === 201)).toHaveLength(clientCount);
    expect(finals.filter((f) => f.status === 200)).toHaveLength(clientCount * MOVES);
    // the recovery bound, for the part the group decides (the process start is the machine's)
    for (const name of ['clients', 'read', 'metrics'] as const) for (const wait of groupWaits[name]!) expect(wait, name).toBeLessThan(GROUP_BOUND_MS);
    for (const wait of groupWaits['kafka']!) expect(wait, 'every service ready after the broker restart').toBeLessThan(BROKER_BOUND_MS);

    // exactly once: one version per write, one history entry per change
    const docs = await mongo.db().collection('clients').find({ _id: { $in: ids as never[] } }).toArray();
    expect(docs).toHaveLength(clientCount);
    expect(docs.map((d) => d['version'])).toEqual(Array(clientCount).fill(1 + MOVES));
    // a history row is relayed from the client's outbox beside the reply: one a kill interrupted
    // is written when the command is redelivered, so the timelines converge rather than lead
    const timelines = () => mongo.db().collection<{ entries: unknown[] }>('client_history').find({ _id: { $in: ids as never[] } }).toArray();
    await waitFor(async () => (await timelines()).every((t) => t.entries.length === 1 + MOVES), { what: 'every timeline complete', timeoutMs: 60_000, intervalMs: 500 }).catch(() => undefined);
    expect((await timelines()).map((t) => t.entries.length)).toEqual(Array(clientCount).fill(1 + MOVES));

    // the list converges on every client
    await waitFor(
      async () => {
        const list = await http('GET', `${api()}/clients?limit=1`);
        return list.status === 200 && list.body.meta.total === clientCount;
      },
      { what: 'the list showing every client', timeoutMs: 60_000, intervalMs: 500 },
    );

    // the metrics moved by exactly what was applied: this database started empty, so its day
    // figures are the deltas (from yesterday to tomorrow, whatever the metrics time zone)
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const figures = await waitFor(
      async () => {
        expect((await http('POST', `${api()}/metrics/calculate?interval=day`)).status).toBe(202);
        const answer = await http('GET', `${api()}/metrics?interval=day&from=${day(-1)}&to=${day(1)}&limit=${METRICS_PAGE_MAX}`);
        const rows = answer.body.data as Array<{ type: string; value: number }>;
        const sum = (type: string) => rows.filter((r) => r.type === type).reduce((n, r) => n + r.value, 0);
        const got = { created: sum('new-clients'), moved: sum('transitions') };
        // a mismatch is retried until the metrics service caught up, and named if it never does
        expect(got).toEqual({ created: clientCount, moved: clientCount * MOVES });
        return got;
      },
      { what: `new-clients ${clientCount} and transitions ${clientCount * MOVES}`, timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(figures).toEqual({ created: clientCount, moved: clientCount * MOVES });
  }, 600_000);
});

function summary(writes: number, clients: number, waits: Record<string, number[]>): string {
  const rows = Object.entries(waits).map(([name, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return `| ${name} | ${ms.length} | ${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(1)} s | ${(sorted[sorted.length - 1]! / 1000).toFixed(1)} s |`;
  });
  return [`chaos: ${writes} writes on ${clients} clients, all resolved`, '', '| service | kills | ready after answering, median | max |', '|---|---|---|---|', ...rows].join('\n');
}
