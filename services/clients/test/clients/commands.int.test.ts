import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { CommandTypes, Topics, type CommandReply } from '@trackme/contracts';
import { createLogger, MessageProducer } from '@trackme/platform';
import { isolatedEnv, runInProcess, stackKafka, topicMessageCount, TopicReader, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { composeClients } from '../../src/compose.js';
import { ClientsConfigSchema, type ClientsConfig } from '../../src/config.js';

const actor = { subject: 'int-test' };
let env: IsolatedEnv;
let service: InProcessService<ClientsConfig>;
let producer: MessageProducer;
let replies: TopicReader<CommandReply>;
let events: TopicReader;
let mongo: MongoClient;

beforeAll(async () => {
  env = await isolatedEnv();
  service = await runInProcess('clients', ClientsConfigSchema, composeClients, { ...env });
  await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'clients ready', timeoutMs: 30_000 });
  const logger = createLogger('test', 'silent');
  producer = new MessageProducer(stackKafka('test', env), logger, env.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  replies = await new TopicReader<CommandReply>(env, Topics.commandReplies, env.KAFKA_TOPIC_PREFIX).start();
  events = await new TopicReader(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
  mongo = await MongoClient.connect(env.MONGO_URL);
}, 90_000);

afterAll(async () => {
  await Promise.all([replies?.stop(), events?.stop(), producer?.disconnect()]);
  await service?.stop();
  await mongo?.close();
});

const repliesTo = (commandId: string) => replies.messages.filter((m) => m.envelope.data.command_id === commandId).map((m) => m.envelope.data);
const eventsOf = (clientId: string) => events.messages.filter((m) => m.key === clientId);

function create(clientId: string, email: string, commandId = randomUUID()) {
  return producer.publish(Topics.clientCommands, clientId, {
    id: commandId,
    type: CommandTypes.createClient,
    data: { client_id: clientId, actor, fields: { name: 'Ann Lee', email } },
  });
}

describe('clients service applying commands from Kafka', () => {
  it('applies the same command delivered twice once, and answers both deliveries identically', async () => {
    const clientId = randomUUID();
    const commandId = randomUUID();
    const eventsBefore = await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX);
    await create(clientId, `twice-${clientId}@example.com`, commandId);
    await create(clientId, `twice-${clientId}@example.com`, commandId);

    const answers = await waitFor(() => repliesTo(commandId).length === 2 && repliesTo(commandId), { what: 'two replies' });
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]).toMatchObject({ outcome: 'created', client_id: clientId, client: { id: clientId, version: 1 } });

    const stored = await mongo.db().collection('clients').find({ _id: clientId as never }).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ version: 1, pending_events: [] });
    // the redelivery is answered from the stored outcome: exactly one event on the broker (replies
    // follow their events, so the count is final once both replies are in)
    expect(await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX)).toBe(eventsBefore + 1);
    expect(eventsOf(clientId).map((m) => m.envelope.type)).toEqual(['ClientCreated']);
    const timeline = await mongo.db().collection<{ entries: unknown[] }>('client_history').findOne({ _id: clientId as never });
    expect(timeline?.entries).toHaveLength(1);
  });

  it('lets exactly one of 20 concurrent creates with one email win; the others get 409', async () => {
    const email = `race-${randomUUID()}@Example.com`;
    const attempts = Array.from({ length: 20 }, (_, i) => ({ clientId: randomUUID(), commandId: randomUUID(), email: i % 2 ? email.toUpperCase() : email }));
    await Promise.all(attempts.map((a) => create(a.clientId, a.email, a.commandId)));

    const outcomes = await waitFor(
      () => {
        const all = attempts.map((a) => repliesTo(a.commandId)[0]);
        return all.every(Boolean) && all.map((r) => (r!.outcome === 'refused' ? r!.refusal.code : r!.outcome));
      },
      { what: '20 replies', timeoutMs: 30_000 },
    );
    expect(outcomes.filter((s) => s === 'created')).toHaveLength(1);
    expect(outcomes.filter((s) => s === 'email_taken')).toHaveLength(19);
    expect(await mongo.db().collection('clients').countDocuments({ email_normalized: email.toLowerCase() })).toBe(1);
  });

  it('emits ClientUpdated with the changed fields and ClientStageChanged with the rollback flag, each once', async () => {
    const clientId = randomUUID();
    const email = `moves-${clientId}@example.com`;
    await create(clientId, email);
    await waitFor(() => eventsOf(clientId).length === 1, { what: 'created event' });
    const replace = (commandId: string, stage: string, name: string) =>
      producer.publish(Topics.clientCommands, clientId, {
        id: commandId,
        type: CommandTypes.replaceClient,
        data: { client_id: clientId, actor, fields: { name, email, stage } },
      });
    const forward = randomUUID();
    const back = randomUUID();
    await replace(forward, 'product_selection', 'Ann B. Lee');
    await replace(back, 'prev', 'Ann B. Lee');
    await waitFor(() => repliesTo(back).length === 1, { what: 'second reply' });

    const types = await waitFor(() => eventsOf(clientId).length === 4 && eventsOf(clientId).map((m) => m.envelope), { what: '4 events' });
    expect(types.map((e) => e.type)).toEqual(['ClientCreated', 'ClientUpdated', 'ClientStageChanged', 'ClientStageChanged']);
    expect(types[1]!.data).toMatchObject({ changes: { name: { from: 'Ann Lee', to: 'Ann B. Lee' } }, version: 2 });
    expect(types[2]!.data).toMatchObject({ from: 'registration', to: 'product_selection', rollback: false, version: 2 });
    expect(types[3]!.data).toMatchObject({ from: 'product_selection', to: 'registration', rollback: true, version: 3 });
    expect(new Set(types.map((e) => e.id)).size).toBe(4);
  });

  it('dead-letters a command that is not valid and keeps applying the next ones', async () => {
    const dlq = await new TopicReader(env, `${Topics.clientCommands}.dlq`, env.KAFKA_TOPIC_PREFIX).start();
    try {
      const clientId = randomUUID();
      await producer.send(Topics.clientCommands, [{ key: clientId, value: '{"not":"an envelope"' }]);
      await producer.publish(Topics.clientCommands, clientId, { type: 'DropDatabase', data: {} });
      const next = randomUUID();
      await create(clientId, `after-poison-${clientId}@example.com`, next);
      await waitFor(() => repliesTo(next).length === 1, { what: 'the valid command applied' });
      const letters = await waitFor(() => dlq.messages.length === 2 && dlq.messages, { what: 'two dead letters' });
      expect(letters.map((l) => l.headers['dlq-reason'])).toEqual(['invalid_json', 'unknown_type']);
    } finally {
      await dlq.stop();
    }
  });
});
