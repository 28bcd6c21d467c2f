import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { CommandTypes, dlqTopicOf, Topics, type Client, type CommandReply } from '@trackme/contracts';
import { createLogger, kafkaConnectionFromEnv, MessageProducer, topicFor } from '@trackme/platform';
import { isolatedEnv, runInProcess, stackKafka, TopicReader, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { changeEventId } from '../../src/activity/activity-applier.js';
import { ProcessedEvents } from '../../src/activity/processed-events.js';
import { composeClients } from '../../src/compose.js';
import { ClientsConfigSchema, type ClientsConfig } from '../../src/config.js';

/**
 * Activity as other systems publish it: plain JSON events on trackme.activity from a plain kafkajs
 * producer, applied by the clients service to Mongo and announced on trackme.client-events.
 */

let env: IsolatedEnv;
let service: InProcessService<ClientsConfig>;
let commands: MessageProducer;
let external: Producer;
let replies: TopicReader<CommandReply>;
let events: TopicReader<{ client_id: string; client: Client; last_login?: string; from?: string; to?: string }>;
let dead: TopicReader;
let mongo: MongoClient;

beforeAll(async () => {
  env = await isolatedEnv();
  service = await runInProcess('clients', ClientsConfigSchema, composeClients, { ...env, LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'silent' });
  await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'clients ready', timeoutMs: 30_000 });
  const logger = createLogger('test', 'silent');
  commands = new MessageProducer(stackKafka('test', env), logger, env.KAFKA_TOPIC_PREFIX);
  await commands.connect();
  external = new Kafka({ clientId: 'mobile-backend', ...kafkaConnectionFromEnv(env), logLevel: logLevel.NOTHING }).producer();
  await external.connect();
  replies = await new TopicReader<CommandReply>(env, Topics.commandReplies, env.KAFKA_TOPIC_PREFIX).start();
  events = await new TopicReader<never>(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
  dead = await new TopicReader(env, dlqTopicOf(Topics.activity), env.KAFKA_TOPIC_PREFIX).start();
  mongo = await MongoClient.connect(env.MONGO_URL);
}, 90_000);

afterAll(async () => {
  await Promise.all([replies?.stop(), events?.stop(), dead?.stop(), commands?.disconnect(), external?.disconnect()]);
  await service?.stop();
  await mongo?.close();
});

async function createClient(fields: Record<string, unknown> = {}): Promise<Client> {
  const clientId = randomUUID();
  const commandId = randomUUID();
  await commands.publish(Topics.clientCommands, clientId, {
    id: commandId,
    type: CommandTypes.createClient,
    data: { client_id: clientId, actor: { subject: 'int-test' }, fields: { name: 'Ann Lee', email: `ann-${clientId}@example.com`, ...fields } },
  });
  const reply = await waitFor(() => replies.messages.find((m) => m.envelope.data.command_id === commandId)?.envelope.data, { what: 'create reply' });
  if (reply.outcome !== 'created') throw new Error(`the create was ${reply.outcome}`);
  return reply.client;
}

/** Publishes as an outside system would: plain JSON values, keyed by client id or email. */
async function publish(...values: Array<Record<string, unknown> | string>) {
  await external.send({
    topic: topicFor(env.KAFKA_TOPIC_PREFIX, Topics.activity),
    messages: values.map((v) => {
      const value = typeof v === 'string' ? v : JSON.stringify(v);
      const key = typeof v === 'string' ? null : String(v['client_id'] ?? v['email'] ?? '');
      return { key, value };
    }),
  });
}

const login = (clientId: string, occurredAt: string, eventId = randomUUID()) => ({
  event_id: eventId,
  type: 'login',
  client_id: clientId,
  occurred_at: occurredAt,
  source: 'auth-service',
});

const stored = (clientId: string) => mongo.db().collection<{ _id: string; last_login: Date | null; app: string; version: number }>('clients').findOne({ _id: clientId });
const changesOf = (clientId: string) => events.messages.filter((m) => m.key === clientId && m.envelope.type !== 'ClientCreated');
const deadLettersOf = (eventId: string) => dead.messages.filter((m) => (m.envelope as unknown as { event_id?: string }).event_id === eventId || m.headers['dlq-original-key'] === eventId);

describe('activity from an outside producer', () => {
  it('sets last_login and emits ClientLoggedIn with the client after the change', async () => {
    const client = await createClient();
    const eventId = randomUUID();
    await publish(login(client.id, '2026-11-20T08:30:00+01:00', eventId));
    const change = await waitFor(() => changesOf(client.id)[0], { what: 'ClientLoggedIn' });
    expect(change.envelope).toMatchObject({
      id: changeEventId(eventId),
      type: 'ClientLoggedIn',
      data: {
        client_id: client.id,
        version: 2,
        command_id: eventId,
        actor: { subject: 'activity:auth-service' },
        activity: { event_id: eventId, type: 'login', occurred_at: '2026-11-20T07:30:00.000Z', source: 'auth-service' },
        last_login: '2026-11-20T07:30:00.000Z',
        client: { id: client.id, last_login: '2026-11-20T07:30:00.000Z', version: 2 },
      },
    });
    expect(await stored(client.id)).toMatchObject({ last_login: new Date('2026-11-20T07:30:00Z'), version: 2 });
  });

  it('applies an event delivered three times once', async () => {
    const client = await createClient();
    const event = login(client.id, '2026-11-21T00:00:00Z');
    await publish(event, event);
    await publish(event);
    const marker = login(client.id, '2026-11-01T00:00:00Z');
    await publish(marker);
    // the later marker event shows the three copies were all consumed before it
    await waitFor(() => changesOf(client.id).some((m) => m.envelope.data.last_login && (m.envelope as { data: { activity?: { event_id: string } } }).data.activity?.event_id === marker.event_id), { what: 'marker applied' });
    expect(changesOf(client.id).map((m) => m.envelope.id)).toEqual([changeEventId(event.event_id), changeEventId(marker.event_id)]);
    expect(await stored(client.id)).toMatchObject({ version: 3, last_login: new Date('2026-11-21T00:00:00Z') });
  });

  it('never moves last_login back for logins out of order', async () => {
    const client = await createClient();
    await publish(login(client.id, '2026-11-10T00:00:00Z'));
    await publish(login(client.id, '2026-11-12T00:00:00Z'), login(client.id, '2026-11-11T00:00:00Z'));
    const changes = await waitFor(() => changesOf(client.id).length === 3 && changesOf(client.id), { what: 'three logins' });
    expect(changes.map((m) => m.envelope.data.last_login)).toEqual(['2026-11-10T00:00:00.000Z', '2026-11-12T00:00:00.000Z', '2026-11-12T00:00:00.000Z']);
    expect((await stored(client.id))?.last_login).toEqual(new Date('2026-11-12T00:00:00Z'));
  });

  it('resolves events that name the client by email, in any case', async () => {
    const client = await createClient();
    const eventId = randomUUID();
    await publish({ event_id: eventId, type: 'app_uninstalled', email: client.email.toUpperCase(), occurred_at: '2026-11-22T00:00:00Z' });
    const change = await waitFor(() => changesOf(client.id)[0], { what: 'ClientAppStatusChanged' });
    expect(change.envelope).toMatchObject({ type: 'ClientAppStatusChanged', data: { from: 'not_installed', to: 'not_installed' } });
    await publish({ event_id: randomUUID(), type: 'app_installed', email: client.email, occurred_at: '2026-11-23T00:00:00Z' });
    await waitFor(async () => (await stored(client.id))?.app === 'installed', { what: 'app installed' });
    // the timeline is appended after the client is written
    const history = mongo.db().collection<{ entries: Array<{ type: string; changes?: unknown }> }>('client_history');
    const timeline = await waitFor(async () => {
      const doc = await history.findOne({ _id: client.id as never });
      return doc && doc.entries.length >= 3 ? doc : undefined;
    }, { what: 'three timeline entries' });
    expect(timeline?.entries.map((e) => e.type)).toEqual(['ClientCreated', 'ClientAppStatusChanged', 'ClientAppStatusChanged']);
    expect(timeline?.entries[2]?.changes).toEqual({ app: { from: 'not_installed', to: 'installed' } });
  });

  it("sets one contract's autopayment and dead-letters a contract the client does not have", async () => {
    const client = await createClient({ contracts: [{ id: 'k1', autopayment: 'enabled' }, { id: 'k2', autopayment: 'enabled' }] });
    const missing = randomUUID();
    await publish(
      { event_id: randomUUID(), type: 'autopayment_disabled', client_id: client.id, contract_id: 'k2', occurred_at: '2026-11-22T00:00:00Z' },
      { event_id: missing, type: 'autopayment_disabled', client_id: client.id, contract_id: 'k9', occurred_at: '2026-11-22T00:00:00Z' },
    );
    const change = await waitFor(() => changesOf(client.id)[0], { what: 'ClientAutopaymentChanged' });
    expect(change.envelope).toMatchObject({ type: 'ClientAutopaymentChanged', data: { contract_id: 'k2', from: 'enabled', to: 'disabled' } });
    expect(change.envelope.data.client.contracts).toEqual([{ id: 'k1', autopayment: 'enabled' }, { id: 'k2', autopayment: 'disabled' }]);
    const timeline = await mongo.db().collection<{ entries: Array<{ changes?: unknown }> }>('client_history').findOne({ _id: client.id as never });
    expect(timeline?.entries[1]?.changes).toEqual({ 'autopayment:k2': { from: 'enabled', to: 'disabled' } });
    const letter = await waitFor(() => deadLettersOf(missing)[0], { what: 'dead letter' });
    expect(letter.headers['dlq-reason']).toBe('unknown_contract');
  });
});

describe('activity after a client command', () => {
  it('sees the change a command made after the last activity (nothing stale is remembered)', async () => {
    const client = await createClient({ contracts: [{ id: 'k1', autopayment: 'enabled' }] });
    await publish(login(client.id, '2026-11-20T00:00:00Z'));
    await waitFor(() => changesOf(client.id).length === 1, { what: 'first login' });
    const patchId = randomUUID();
    await commands.publish(Topics.clientCommands, client.id, {
      id: patchId,
      type: CommandTypes.patchClient,
      data: { client_id: client.id, actor: { subject: 'int-test' }, fields: { contracts: [{ id: 'k1', autopayment: 'enabled' }, { id: 'k2', autopayment: 'enabled' }] } },
    });
    await waitFor(() => replies.messages.some((m) => m.envelope.data.command_id === patchId), { what: 'patch reply' });
    await publish({ event_id: randomUUID(), type: 'autopayment_disabled', client_id: client.id, contract_id: 'k2', occurred_at: '2026-11-21T00:00:00Z' });
    const change = await waitFor(() => changesOf(client.id).find((m) => m.envelope.type === 'ClientAutopaymentChanged'), { what: 'autopayment of the new contract' });
    // the login, the patch and this change: the version continues from the patched client
    expect(change.envelope.data).toMatchObject({ version: 4, contract_id: 'k2', to: 'disabled' });
    expect(change.envelope.data.client.last_login).toBe('2026-11-20T00:00:00.000Z');
  });
});

describe('bad and unmatched events', () => {
  it('dead-letters garbage with the reason and keeps consuming', async () => {
    const client = await createClient();
    const after = randomUUID();
    await external.send({ topic: topicFor(env.KAFKA_TOPIC_PREFIX, Topics.activity), messages: [{ key: 'x', value: Buffer.from([0xff, 0x00, 0x7b]) }] });
    await publish({ event_id: 'bad-1', type: 'logout', client_id: client.id, occurred_at: 'yesterday', extra: true });
    await publish(login(client.id, '2026-11-22T00:00:00Z', after));
    await waitFor(() => changesOf(client.id).length === 1, { what: 'the good event after the bad ones' });
    const garbage = await waitFor(() => dead.messages.find((m) => m.headers['dlq-original-key'] === 'x'), { what: 'garbage dead letter' });
    expect(garbage.headers['dlq-reason']).toBe('invalid_json');
    const invalid = await waitFor(() => deadLettersOf('bad-1')[0], { what: 'invalid dead letter' });
    expect(invalid.headers['dlq-reason']).toBe('invalid_event');
    expect(JSON.parse(invalid.headers['dlq-errors']!)).toEqual(
      expect.arrayContaining([
        'extra: must not have additional properties',
        'type: must be one of: login, app_installed, app_uninstalled, autopayment_enabled, autopayment_disabled',
      ]),
    );
  });

  it('dead-letters an event for an unknown client id or email with reason unknown_client', async () => {
    const byId = randomUUID();
    const byEmail = randomUUID();
    await publish(login(randomUUID(), '2026-11-22T00:00:00Z', byId), { event_id: byEmail, type: 'login', email: `nobody-${byEmail}@example.com`, occurred_at: '2026-11-22T00:00:00Z' });
    const letters = await waitFor(() => deadLettersOf(byId).length + deadLettersOf(byEmail).length === 2 && [...deadLettersOf(byId), ...deadLettersOf(byEmail)], { what: 'two dead letters' });
    expect(letters.map((l) => l.headers['dlq-reason'])).toEqual(['unknown_client', 'unknown_client']);
    // the dead letter is the event as published, on the activity topic's twin, ready for replay
    expect(letters[0]!.headers['dlq-original-topic']).toBe(Topics.activity);
    expect((letters[0]!.envelope as unknown as { event_id: string }).event_id).toBe(byId);
  });
});

describe('dedup records', () => {
  it('tells a redelivered command record (apply again) from another record with the same event id (skip)', async () => {
    const processed = new ProcessedEvents(mongo.db());
    const id = randomUUID();
    const claim = { eventId: id, clientId: 'c1', partition: 2, offset: '40' };
    const now = new Date();
    expect(await processed.claim([claim], now)).toEqual([true]);
    expect(await processed.claim([claim, { ...claim, offset: '41' }], now)).toEqual([true, false]);
    await processed.release([id]);
    expect(await processed.claim([{ ...claim, offset: '41' }], now)).toEqual([true]);
  });

  it('forgets records older than the window', async () => {
    const processed = new ProcessedEvents(mongo.db());
    const old = randomUUID();
    const recent = randomUUID();
    await processed.claim([{ eventId: old, clientId: 'c1', partition: 0, offset: '1' }], new Date('2026-01-01T00:00:00Z'));
    await processed.claim([{ eventId: recent, clientId: 'c1', partition: 0, offset: '2' }], new Date());
    expect(await processed.expire(new Date(Date.now() - 8 * 86_400_000))).toBeGreaterThanOrEqual(1);
    expect(await processed.collection.findOne({ _id: old })).toBeNull();
    expect(await processed.collection.findOne({ _id: recent })).not.toBeNull();
  });
});

describe('the email directory', () => {
  async function command(type: string, clientId: string, fields?: Record<string, unknown>) {
    const commandId = randomUUID();
    await commands.publish(Topics.clientCommands, clientId, {
      id: commandId,
      type,
      data: { client_id: clientId, actor: { subject: 'int-test' }, ...(fields ? { fields } : {}) },
    });
    return waitFor(() => replies.messages.find((m) => m.envelope.data.command_id === commandId)?.envelope.data, { what: `${type} reply` });
  }
  const byEmail = (email: string, eventId = randomUUID()) => ({ event_id: eventId, type: 'login', email, occurred_at: '2026-11-22T00:00:00Z' });
  const reasonOf = (eventId: string) => waitFor(() => deadLettersOf(eventId)[0]?.headers['dlq-reason'], { what: `dead letter of ${eventId}` });

  it('follows email changes and deletions', async () => {
    const client = await createClient();
    const newEmail = `moved-${client.id}@example.com`;
    expect((await command(CommandTypes.patchClient, client.id, { email: newEmail })).outcome).toBe('changed');

    const old = randomUUID();
    const current = randomUUID();
    await publish(byEmail(client.email, old), byEmail(newEmail.toUpperCase(), current));
    expect(await reasonOf(old)).toBe('unknown_client');
    await waitFor(() => changesOf(client.id).some((m) => m.envelope.type === 'ClientLoggedIn'), { what: 'login by the new email' });

    expect((await command(CommandTypes.deleteClient, client.id)).outcome).toBe('deleted');
    const afterDelete = randomUUID();
    await publish(byEmail(newEmail, afterDelete));
    expect(await reasonOf(afterDelete)).toBe('unknown_client');
    expect(await mongo.db().collection('client_emails').findOne({ _id: newEmail as never })).toBeNull();
  });

  it('is filled by the migration for clients that existed before it', async () => {
    // a plain JS migration, loaded as migrate-mongo loads it
    const migration = '../../../../migrations/mongo/20261126100000-activity.js';
    const { up } = (await import(migration)) as { up: (db: unknown) => Promise<void> };
    const db = mongo.db(`backfill-${randomUUID().slice(0, 8)}`);
    await db.collection('clients').insertMany([
      { _id: 'a' as never, email_normalized: 'a@example.com' },
      { _id: 'b' as never, email_normalized: 'b@example.com', deleted: true },
    ]);
    await db.collection('client_emails').insertOne({ _id: 'a@example.com' as never, client_id: 'a' });
    await up(db);
    expect(await db.collection('client_emails').find().toArray()).toEqual([{ _id: 'a@example.com', client_id: 'a' }]);
    await db.dropDatabase();
  });
});
