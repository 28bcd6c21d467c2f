import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { loadStageProcess, Topics } from '@trackme/contracts';
import { http, isolatedEnv, REPO_ROOT, spawnService, topicMessageCount, TopicReader, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess, seeded } from '@trackme/testkit';

const CLIENTS = 50;
const MOVES_PER_CLIENT = 9; // 50 creates + 450 stage moves = 500 commands
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

const SEED = 20261203;
const STAGES = loadStageProcess(`${REPO_ROOT}/config/stages.yaml`).stages.map((stage) => stage.id);
const KILL_EVERY_ACKS = 80;

/** Each client's moves: `next` or `prev`, never past either end; none restates a value. */
function movesOf(random: () => number): Array<'next' | 'prev'> {
  const moves: Array<'next' | 'prev'> = [];
  let position = 0;
  for (let m = 0; m < MOVES_PER_CLIENT; m++) {
    const move = position === 0 ? 'next' : position === STAGES.length - 1 ? 'prev' : random() < 0.7 ? 'next' : 'prev';
    position += move === 'next' ? 1 : -1;
    moves.push(move);
  }
  return moves;
}

describe('kill -9 of the clients service after every 80 acknowledged commands of 500', () => {
  it('applies every acknowledged stage move exactly once, with exactly one event per change', async () => {
    const random = seeded(SEED);
    const plans = Array.from({ length: CLIENTS }, () => movesOf(random));
    const finals: Final[] = [];
    const ids: string[] = [];
    let kills = 0;
    let killing = Promise.resolve();
    const acknowledged = (final: Final) => {
      finals.push(final);
      if (finals.length % KILL_EVERY_ACKS === 0 && kills < MAX_KILLS) {
        killing = killing.then(async () => {
          await clients.stop('SIGKILL');
          kills += 1;
          clients = await spawnService('clients', clientsEnv);
          spawned.push(clients);
        });
      }
    };

    let next = 0;
    const worker = async () => {
      for (let i = next++; i < CLIENTS; i = next++) {
        const email = `crash-${i}-${env.KAFKA_TOPIC_PREFIX}x@example.com`;
        const created = await submit('POST', '/clients', { name: 'Crash Test', email }, `${env.KAFKA_TOPIC_PREFIX}create-${i}`);
        acknowledged(created);
        const id = created.body.data.id as string;
        ids[i] = id;
        for (const [m, move] of plans[i]!.entries()) {
          acknowledged(await submit('PUT', `/clients/${id}/stage`, { name: 'Crash Test', email, stage: move }, `${env.KAFKA_TOPIC_PREFIX}move-${i}-${m}`));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await killing;
    await waitUntilReady(clients);

    const commands = CLIENTS * (1 + MOVES_PER_CLIENT);
    expect(kills).toBe(Math.min(MAX_KILLS, Math.floor(commands / KILL_EVERY_ACKS)));
    expect(finals).toHaveLength(commands);
    expect(finals.filter((f) => f.status === 201)).toHaveLength(CLIENTS);
    expect(finals.filter((f) => f.status === 200)).toHaveLength(CLIENTS * MOVES_PER_CLIENT);

    // Mongo: each client at the stage its moves lead to, one version per move, the outbox drained
    const docs = await mongo.db().collection('clients').find({ _id: { $in: ids as never[] } }).toArray();
    expect(docs).toHaveLength(CLIENTS);
    for (const [i, id] of ids.entries()) {
      const position = plans[i]!.reduce((p, move) => p + (move === 'next' ? 1 : -1), 0);
      expect(docs.find((d) => d._id === (id as never)), id).toMatchObject({ stage: STAGES[position], version: 1 + MOVES_PER_CLIENT, pending_events: [] });
    }
    const timelines = await mongo.db().collection<{ entries: unknown[] }>('client_history').find({ _id: { $in: ids as never[] } }).toArray();
    expect(timelines.map((t) => t.entries.length)).toEqual(Array(CLIENTS).fill(1 + MOVES_PER_CLIENT));

    // Kafka: exactly one event id per change; a redelivered event keeps its id (consumers dedup)
    await waitFor(() => new Set(events.messages.map((m) => m.envelope.id)).size >= commands, { what: 'all events', timeoutMs: 30_000 });
    const byChange = new Map<string, Set<string>>();
    for (const { envelope } of events.messages) {
      const change = `${envelope.data.client_id}@${envelope.data.version}`;
      byChange.set(change, (byChange.get(change) ?? new Set()).add(envelope.id));
    }
    expect(byChange.size).toBe(commands);
    expect([...byChange.values()].filter((set) => set.size !== 1)).toEqual([]);

    // the kills landed between a write and its publish at least once: a command was delivered
    // again (one more reply than commands) or an outbox relayed again (one more event copy)
    const replies = await topicMessageCount(env, Topics.commandReplies, env.KAFKA_TOPIC_PREFIX);
    const eventCopies = events.messages.length - commands;
    expect(replies - commands + eventCopies, `${replies} replies to ${commands} commands, ${eventCopies} event copies`).toBeGreaterThan(0);
    console.log(`crash test (seed ${SEED}): ${kills} kills, ${finals.filter((f) => f.via202).length} answers via 202, ${replies - commands} replies to redelivered commands, ${eventCopies} re-published event copies`);
  }, 300_000);
});
