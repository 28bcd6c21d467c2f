import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { Registry } from 'prom-client';
import { Type } from 'typebox';
import { CommandTypes, Topics } from '@trackme/contracts';
import { createLogger, createRedis, DependencyUnavailableError, KafkaConfig, Lifecycle, loadConfig, setUpKafka, type MessageProducer, type RedisConnection } from '@trackme/platform';
import { isolatedEnv, spawnService, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';
import { CommandBus } from '../src/commands/command-bus.js';
import { OperationStore } from '../src/commands/operation-store.js';
import { executeWrite } from '../src/commands/write-command.js';

/**
 * The Idempotency-Key path against real Redis, Kafka and a running clients service: the states of
 * the key's record, and a retry after an attempt that reached Kafka but failed for its caller.
 */

let env: IsolatedEnv;
let redis: RedisConnection;
let store: OperationStore;

beforeAll(async () => {
  env = await isolatedEnv();
  redis = createRedis(env.REDIS_URL, 'idempotency-test');
  store = new OperationStore(redis.client, 60);
  await new Promise((resolve) => (redis.client.status === 'ready' ? resolve(undefined) : redis.client.once('ready', resolve)));
}, 60_000);

afterAll(async () => {
  await redis?.close();
});

describe('the Idempotency-Key record', () => {
  const key = () => `test-${randomUUID()}`;
  const done = { status: 201, body: { data: { id: 'c-1' } } };

  it('is started once; the same request again is in flight, another request with the key a mismatch', async () => {
    const k = key();
    expect(await store.begin(k, 'fp-1')).toEqual({ kind: 'started' });
    expect(await store.begin(k, 'fp-1')).toEqual({ kind: 'in_flight' });
    expect(await store.begin(k, 'fp-2')).toEqual({ kind: 'mismatch' });
  });

  it('replays the stored answer once completed, and still refuses another request with the key', async () => {
    const k = key();
    await store.begin(k, 'fp-1');
    await store.complete(k, 'fp-1', done);
    expect(await store.begin(k, 'fp-1')).toEqual({ kind: 'replay', response: done });
    expect(await store.begin(k, 'fp-2')).toEqual({ kind: 'mismatch' });
  });

  it('starts again once abandoned', async () => {
    const k = key();
    await store.begin(k, 'fp-1');
    await store.abandon(k);
    expect(await store.begin(k, 'fp-1')).toEqual({ kind: 'started' });
  });

  it('is completed by the reply to an operation answered 202, for the next retry to replay', async () => {
    const k = key();
    const operation = randomUUID();
    await store.begin(k, 'fp-1');
    await store.recordPending({ id: operation, state: 'pending', client_id: 'c-1', idempotency_key: k });
    await store.recordResult(operation, 'c-1', done, true);
    expect(await store.getOperation(operation)).toMatchObject({ state: 'completed', result: done });
    expect(await store.begin(k, 'fp-1')).toEqual({ kind: 'replay', response: done });
  });

  it('is a lease: held while its request renews it, free for a retry once the request stops (its gateway died)', async () => {
    const leased = new OperationStore(redis.client, 60, 300);
    const k = key();
    expect(await leased.begin(k, 'fp-1')).toEqual({ kind: 'started' });
    const release = leased.keepClaimed(k, 'fp-1');
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(await leased.begin(k, 'fp-1')).toEqual({ kind: 'in_flight' });
    release();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await leased.begin(k, 'fp-1')).toEqual({ kind: 'started' });
  });

  it('keeps a completed answer for the record TTL, whatever a late renewal of its lease does', async () => {
    const leased = new OperationStore(redis.client, 60, 300);
    const k = key();
    await leased.begin(k, 'fp-1');
    const release = leased.keepClaimed(k, 'fp-1');
    await leased.complete(k, 'fp-1', done);
    await new Promise((resolve) => setTimeout(resolve, 500));
    release();
    expect(await leased.begin(k, 'fp-1')).toEqual({ kind: 'replay', response: done });
  });

  it('is not touched by a reply to an operation no instance recorded (another gateway answered it)', async () => {
    const operation = randomUUID();
    await store.recordResult(operation, 'c-1', done, true);
    expect(await store.getOperation(operation)).toBeUndefined();
  });
});

describe('a retry after an attempt that reached Kafka and failed for its caller', () => {
  let clients: ServiceProcess;
  let app: FastifyInstance;
  let producer: MessageProducer;
  let bus: CommandBus;
  let lifecycle: Lifecycle;
  let mongo: MongoClient;
  const sentIds: string[] = [];

  beforeAll(async () => {
    clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
    await waitUntilReady(clients);
    mongo = await MongoClient.connect(env.MONGO_URL);
    const logger = createLogger('idempotency-test', 'silent');
    lifecycle = new Lifecycle(logger, 10_000);
    const kafka = setUpKafka({ config: loadConfig('idempotency-test', Type.Object(KafkaConfig), env), clientId: 'idempotency-test', logger, lifecycle });
    producer = kafka.producer;
    bus = new CommandBus(kafka, store, logger, { registry: new Registry() });
    kafka.start();
    let first = true;
    // publishes like the real bus, then fails as if the connection broke before the reply came
    const flaky = {
      send: async (...args: Parameters<CommandBus['send']>) => {
        const [type, clientId, data, commandId] = args;
        sentIds.push(commandId);
        if (first) {
          first = false;
          await producer.publish(Topics.clientCommands, clientId, { id: commandId, type, data });
          throw new DependencyUnavailableError('the reply was lost');
        }
        return bus.send(...args);
      },
    } as unknown as CommandBus;
    app = Fastify();
    app.post('/clients', async (request, reply) =>
      executeWrite({ bus: flaky, operations: store, basePath: '', timeoutMs: 20_000 }, request, reply, {
        type: CommandTypes.createClient,
        clientId: (derived) => derived ?? randomUUID(),
        data: (clientId, actor) => ({ client_id: clientId, actor, fields: request.body }),
      }),
    );
    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => reply.code(error.statusCode ?? 503).send({ detail: error.message }));
    await app.ready();
    await waitFor(() => bus.isReady || undefined, { what: 'the reply consumer', timeoutMs: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await lifecycle?.stop('test over');
    await mongo?.close();
    await clients?.stop('SIGKILL');
  });

  it('sends the same command id again, and the create is applied once and answered 201', async () => {
    const email = `retry-${randomUUID()}@example.com`;
    const request = { method: 'POST' as const, url: '/clients', headers: { 'idempotency-key': `k-${randomUUID()}` }, payload: { name: 'Ann Lee', email } };
    const failed = await app.inject(request);
    expect(failed.statusCode).toBe(503);
    const retried = await app.inject(request);
    expect(retried.statusCode, retried.body).toBe(201);
    expect(sentIds).toHaveLength(2);
    expect(sentIds[1]).toBe(sentIds[0]);
    const stored = await mongo.db().collection('clients').find({ email_normalized: email }).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ _id: retried.json().data.id, version: 1 });
    const history = await mongo.db().collection<{ entries: unknown[] }>('client_history').findOne({ _id: retried.json().data.id });
    expect(history?.entries).toHaveLength(1);
  });
});
