import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { Topics } from '@trackme/contracts';
import { http, isolatedEnv, spawnService, TopicReader, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';

const CLIENTS = 50;
const PATCHES_PER_CLIENT = 9; // 50 creates + 450 patches = 500 commands
const CONCURRENCY = 10;
const MAX_KILLS = 6;

let env: IsolatedEnv;
let clientsEnv: Record<string, string>;
let clients: ServiceProcess;
let gateway: ServiceProcess;
let events: TopicReader<{ client_id: string; version: number }>;
let mongo: MongoClient;
const spawned: ServiceProcess[] = [];

beforeAll(async () => {
  env = await isolatedEnv();
  clientsEnv = { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' };
  clients = await spawnService('clients', clientsEnv);
  gateway = await spawnService('gateway', { ...env, WRITE_TIMEOUT_MS: '2000' });
  spawned.push(clients, gateway);
  await Promise.all([waitUntilReady(clients), waitUntilReady(gateway)]);
  events = await new TopicReader<{ client_id: string; version: number }>(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
  mongo = await MongoClient.connect(env.MONGO_URL);
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await mongo?.close();
  await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
});

interface Final {
  status: number;
  body: any;
  via202: boolean;
}

/** Sends a write like a careful client would: same Idempotency-Key on every retry, 202s followed up. */
async function submit(method: string, path: string, body: unknown, key: string): Promise<Final> {
  const api = `${gateway.url}/api/v1`;
  for (;;) {
    const answer = await http(method, `${api}${path}`, body, { 'idempotency-key': key });
    if (answer.status === 200 || answer.status === 201) return { status: answer.status, body: answer.body, via202: false };
    if (answer.status === 202) {
      const location = answer.headers.get('location')!;
      const done = await waitFor(
        async () => {
          const operation = await http('GET', `${gateway.url}${location}`);
          return operation.body.data.status === 'completed' && operation.body.data.result;
        },
        { what: `operation ${location}`, timeoutMs: 90_000, intervalMs: 200 },
      );
      return { status: done.status, body: done.body, via202: true };
    }
    if (answer.status === 409 && answer.body.code === 'idempotency_key_in_flight') {
      await sleep(200);
      continue;
    }
    throw new Error(`unexpected answer ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
}

describe('kill -9 of the clients service during a stream of 500 commands', () => {
  it('applies every acknowledged command exactly once, with exactly one event per change', async () => {
    const finals: Final[] = [];
    const ids: string[] = [];
    let running = true;
    let kills = 0;

    const killer = (async () => {
      while (running && kills < MAX_KILLS) {
        await sleep(1_500 + Math.random() * 2_500);
        if (!running) break;
        await clients.stop('SIGKILL');
        kills += 1;
        clients = await spawnService('clients', clientsEnv);
        spawned.push(clients);
      }
    })();

    let next = 0;
    const worker = async () => {
      for (let i = next++; i < CLIENTS; i = next++) {
        const created = await submit('POST', '/clients', { name: 'v0', email: `crash-${i}-${env.KAFKA_TOPIC_PREFIX}x@example.com` }, `${env.KAFKA_TOPIC_PREFIX}create-${i}`);
        finals.push(created);
        const id = created.body.data.id as string;
        ids.push(id);
        for (let v = 1; v <= PATCHES_PER_CLIENT; v++) finals.push(await submit('PATCH', `/clients/${id}`, { name: `v${v}` }, `${env.KAFKA_TOPIC_PREFIX}patch-${i}-${v}`));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    running = false;
    await killer;
    await waitUntilReady(clients);

    expect(kills).toBeGreaterThanOrEqual(2);
    expect(finals).toHaveLength(CLIENTS * (1 + PATCHES_PER_CLIENT));
    expect(finals.filter((f) => f.status === 201)).toHaveLength(CLIENTS);
    expect(finals.filter((f) => f.status === 200)).toHaveLength(CLIENTS * PATCHES_PER_CLIENT);

    // Mongo: every change applied once (version counts changes), the outbox drained
    const docs = await mongo.db().collection('clients').find({ _id: { $in: ids as never[] } }).toArray();
    expect(docs).toHaveLength(CLIENTS);
    for (const doc of docs) {
      expect(doc, String(doc._id)).toMatchObject({ version: 1 + PATCHES_PER_CLIENT, name: `v${PATCHES_PER_CLIENT}`, pending_events: [] });
    }
    const timelines = await mongo.db().collection<{ entries: unknown[] }>('client_history').find({ _id: { $in: ids as never[] } }).toArray();
    expect(timelines.map((t) => t.entries.length)).toEqual(Array(CLIENTS).fill(1 + PATCHES_PER_CLIENT));

    // Kafka: exactly one event id per change; a redelivered event keeps its id (consumers dedup)
    const expected = CLIENTS * (1 + PATCHES_PER_CLIENT);
    await waitFor(() => new Set(events.messages.map((m) => m.envelope.id)).size >= expected, { what: 'all events', timeoutMs: 30_000 });
    const byChange = new Map<string, Set<string>>();
    for (const { envelope } of events.messages) {
      const change = `${envelope.data.client_id}@${envelope.data.version}`;
      byChange.set(change, (byChange.get(change) ?? new Set()).add(envelope.id));
    }
    expect(byChange.size).toBe(expected);
    expect([...byChange.values()].filter((set) => set.size !== 1)).toEqual([]);
    const duplicates = events.messages.length - expected;
    console.log(`crash test: ${kills} kills, ${finals.filter((f) => f.via202).length} answers via 202, ${duplicates} re-published event copies`);
  }, 300_000);
});
