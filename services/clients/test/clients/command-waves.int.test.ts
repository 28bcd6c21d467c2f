import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient, type Db } from 'mongodb';
import { COMMAND_SCHEMAS, CommandTypes, Headers, loadStageProcess, Topics, type CommandReply, type Envelope } from '@trackme/contracts';
import { buildEnvelope, checkedMessage, createLogger, MessageProducer, type InboundMessage } from '@trackme/platform';
import { isolatedEnv, stackKafka, topicMessageCount, TopicReader, waitFor, type IsolatedEnv } from '@trackme/testkit';
import { ClientRepository } from '../../src/clients/client-repository.js';
import { createCommandHandler, type CommandItem } from '../../src/clients/command-handler.js';
import { EmailDirectory } from '../../src/clients/email-directory.js';

// The handler is driven directly with whole runs, as the consumer hands them over, so the waves a
// run falls into are known; Kafka and the Mongo-wire server are the real ones.
const actor = { subject: 'wave-test' };
const stages = loadStageProcess(fileURLToPath(new URL('../../../../config/stages.yaml', import.meta.url)));
let env: IsolatedEnv;
let mongo: MongoClient;
let db: Db;
let producer: MessageProducer;
let replies: TopicReader<CommandReply>;
let events: TopicReader;
let handle: (items: CommandItem[]) => Promise<unknown>;

beforeAll(async () => {
  env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
  db = mongo.db();
  const logger = createLogger('test', 'silent');
  producer = new MessageProducer(stackKafka('wave-test', env), logger, env.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  replies = await new TopicReader<CommandReply>(env, Topics.commandReplies, env.KAFKA_TOPIC_PREFIX).start();
  events = await new TopicReader(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
  handle = createCommandHandler({ repository: new ClientRepository(db), directory: new EmailDirectory(db), producer, process: stages, logger });
}, 90_000);

afterAll(async () => {
  await Promise.all([replies?.stop(), events?.stop(), producer?.disconnect()]);
  await mongo?.close();
});

let offset = 0;
function item(type: string, clientId: string, fields?: unknown, id = randomUUID()): CommandItem {
  const envelope: Envelope = buildEnvelope({ id, type, data: { client_id: clientId, actor, ...(fields ? { fields } : {}) }, correlationId: `req-${id}` });
  offset += 1;
  const message: InboundMessage = {
    topic: Topics.clientCommands,
    partition: 0,
    offset: String(offset),
    key: clientId,
    value: Buffer.from(JSON.stringify(envelope)),
    headers: { [Headers.correlationId]: envelope.correlation_id },
    timestamp: String(Date.now()),
  };
  return { message, command: checkedMessage(envelope, COMMAND_SCHEMAS) };
}
const create = (clientId: string, email: string) => item(CommandTypes.createClient, clientId, { name: 'Ann Lee', email });
const patch = (clientId: string, fields: object) => item(CommandTypes.patchClient, clientId, fields);
const move = (clientId: string, stage: string) => item(CommandTypes.replaceClient, clientId, { name: 'Ann Lee', email: `${clientId}@example.com`, stage });
const remove = (clientId: string) => item(CommandTypes.deleteClient, clientId);

/** What a reply says happened: its outcome, or for a refusal its reason. */
const kindOf = (reply: CommandReply) => (reply.outcome === 'refused' ? reply.refusal.reason : reply.outcome);

/** The replies to these commands, in their order, once all arrived. */
const answersTo = (items: CommandItem[], count = 1) =>
  waitFor(
    () => {
      const found = items.map((i) => replies.messages.filter((m) => m.envelope.data.command_id === i.command.id));
      return found.every((f) => f.length >= count) && found.map((f) => f.map((m) => m.envelope.data));
    },
    { what: `${count} replies to each of ${items.length} commands` },
  );
const eventsOf = (clientId: string) => events.messages.filter((m) => m.key === clientId).map((m) => m.envelope);
const stored = (clientId: string) => db.collection('clients').findOne({ _id: clientId as never });

describe('a run of client commands applied in waves', () => {
  it('answers each command of a run with its own outcome and applies each client in order', async () => {
    const [a, b, c, gone, missing] = Array.from({ length: 5 }, () => randomUUID());
    await handle([create(a!, `${a}@example.com`), create(gone!, `${gone}@example.com`)]);
    const run = [
      create(b!, `${b}@example.com`),
      // the same email as the create before it, in other case: exactly one of them gets it
      create(c!, `${b}@EXAMPLE.com`),
      patch(a!, { name: 'Ann B. Lee' }),
      // the same client again: applied after the patch, on the patched client
      move(a!, 'product_selection'),
      remove(gone!),
      patch(missing!, { name: 'Nobody' }),
      // a stage the process does not allow from registration
      move(b!, 'completed'),
    ];
    await handle(run);

    const answers = (await answersTo(run)).map((r) => r[0]!);
    expect(answers.map(kindOf)).toEqual(['created', 'conflict', 'changed', 'changed', 'deleted', 'not_found', 'invalid']);
    expect(answers[1]).toMatchObject({ refusal: { code: 'email_taken' } });
    expect(answers[3]).toMatchObject({ client: { id: a, name: 'Ann Lee', stage: 'product_selection', version: 3 } });
    expect(answers[6]).toMatchObject({ refusal: { code: 'illegal_transition' } });
    // each reply carries the request it answers
    const replyHeaders = run.map((i) => replies.messages.find((m) => m.envelope.data.command_id === i.command.id)!.headers[Headers.correlationId]);
    expect(replyHeaders).toEqual(run.map((i) => i.command.correlation_id));

    const changes = await waitFor(() => eventsOf(a!).length === 4 && eventsOf(a!), { what: "a's four events" });
    expect(changes.map((e) => [e.type, (e.data as { version: number }).version])).toEqual([
      ['ClientCreated', 1],
      ['ClientUpdated', 2],
      ['ClientUpdated', 3],
      ['ClientStageChanged', 3],
    ]);
    await waitFor(() => eventsOf(gone!).length === 2, { what: 'the delete event' });
    expect(eventsOf(c!)).toEqual([]);
    expect(await stored(a!)).toMatchObject({ version: 3, stage: 'product_selection', name: 'Ann Lee', pending_events: [] });
    expect(await stored(b!)).toMatchObject({ version: 1, stage: 'registration', pending_events: [] });
    expect(await stored(c!)).toBeNull();
    expect(await stored(gone!)).toMatchObject({ deleted: true, pending_events: [] });
    const timeline = await db.collection<{ entries: Array<{ type: string }> }>('client_history').findOne({ _id: a as never });
    expect(timeline?.entries.map((e) => e.type)).toEqual(['ClientCreated', 'ClientUpdated', 'ClientUpdated', 'ClientStageChanged']);
    const directory = db.collection<{ _id: string; client_id: string }>('client_emails');
    expect(await directory.findOne({ _id: `${b}@example.com` })).toMatchObject({ client_id: b });
    expect(await directory.findOne({ _id: `${gone}@example.com` })).toBeNull();
  });

  it('answers a whole run delivered again as the first time, with no new events or history', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await handle([create(a, `${a}@example.com`)]);
    const run = [create(b, `${b}@example.com`), patch(a, { name: 'Ann C. Lee' }), move(a, 'completed')];
    await handle(run);
    const first = (await answersTo(run)).map((r) => r[0]!);
    const eventsBefore = await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX);
    await handle(run);
    const again = (await answersTo(run, 2)).map((r) => r[1]!);

    expect(first.map(kindOf)).toEqual(['created', 'changed', 'invalid']);
    // the outcome is answered again from the stored command ids, not decided again
    expect(again.map(kindOf)).toEqual(first.map(kindOf));
    expect(again[0]).toEqual(first[0]);
    expect(again[2]).toEqual(first[2]);
    // replies follow the events of their run, so the count is final once the replies are in
    expect(await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX)).toBe(eventsBefore);
    expect(eventsOf(a).map((e) => e.type)).toEqual(['ClientCreated', 'ClientUpdated']);
    expect(eventsOf(b).map((e) => e.type)).toEqual(['ClientCreated']);
    const timeline = await db.collection<{ entries: unknown[] }>('client_history').findOne({ _id: a as never });
    expect(timeline?.entries).toHaveLength(2);
  });

  /**
   * Every command type delivered again, none of them idempotent by value: `next`, `prev`, an
   * explicit move, a patch, a delete, a create, and two commands to one client in one run. Only
   * the stored command ids (the `applied_commands` check in command-handler.ts) tell a
   * redelivery from a new command: without that check `next` moves twice, the delete answers 404
   * and the create 409, and this test fails.
   */
  it('answers every command type delivered again as the first time, applying none of them twice', async () => {
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => randomUUID());
    await handle([a, b, c, d].map((id) => create(id!, `${id}@example.com`)));
    await handle([move(b!, 'product_selection'), move(c!, 'product_selection')]);
    await waitFor(() => [a, b, c, d].every((id) => eventsOf(id!).length >= 1) && eventsOf(b!).length === 2 && eventsOf(c!).length === 2, { what: 'the setup events' });
    const run = [
      move(a!, 'next'),
      move(b!, 'prev'),
      move(c!, 'data_consent'),
      patch(d!, { name: 'Dee Lee' }),
      create(e!, `${e}@example.com`),
      // two commands to one client in one run: the second applies on the first
      patch(a!, { name: 'Ann N. Lee' }),
      move(a!, 'next'),
      remove(d!),
    ];
    await handle(run);
    const first = (await answersTo(run)).map((r) => r[0]!);
    expect(first.map(kindOf)).toEqual(['changed', 'changed', 'changed', 'changed', 'created', 'changed', 'changed', 'deleted']);
    const eventsBefore = await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX);
    const storedBefore = await Promise.all([a, b, c, d, e].map((id) => stored(id!)));
    const historyBefore = await db.collection('client_history').find({ _id: { $in: [a, b, c, d, e] as never[] } }).sort({ _id: 1 }).toArray();

    await handle(run);
    const again = (await answersTo(run, 2)).map((r) => r[1]!);
    expect(again.map((r) => [r.command_id, kindOf(r)])).toEqual(first.map((r) => [r.command_id, kindOf(r)]));
    // a replay answers with the client as stored now, so the last command of each client in the
    // run is answered exactly as the first time; the earlier ones of a (0, 5) and d (3) keep their
    // outcome but carry the client's later fields (a known gap: the snapshot of each applied
    // command is not kept)
    for (const last of [1, 2, 4, 6, 7]) expect(again[last], `command ${last}`).toEqual(first[last]);
    expect(first[6]).toMatchObject({ client: { stage: 'data_consent', version: 4 } });
    expect(await topicMessageCount(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX)).toBe(eventsBefore);
    expect(await Promise.all([a, b, c, d, e].map((id) => stored(id!)))).toEqual(storedBefore);
    expect(await db.collection('client_history').find({ _id: { $in: [a, b, c, d, e] as never[] } }).sort({ _id: 1 }).toArray()).toEqual(historyBefore);
  });

  it("refuses an email change to another client's email without failing the rest of the wave", async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    await handle([create(a, `${a}@example.com`), create(b, `${b}@example.com`), create(c, `${c}@example.com`)]);
    const run = [patch(a, { email: `${b}@example.com` }), patch(c, { name: 'Cy' }), patch(b, { email: `${b}.new@example.com` })];
    await handle(run);

    const answers = (await answersTo(run)).map((r) => r[0]!);
    // the run applies one of two orders of a's and b's changes; either way c's patch applies
    expect(answers[1]).toMatchObject({ outcome: 'changed', client: { name: 'Cy', version: 2 } });
    expect(answers[2]).toMatchObject({ outcome: 'changed' });
    const emails = [(await stored(a))!['email_normalized'], (await stored(b))!['email_normalized']];
    expect(emails[1]).toBe(`${b}.new@example.com`);
    if (answers[0]!.outcome === 'changed') expect(emails[0]).toBe(`${b}@example.com`);
    else expect([kindOf(answers[0]!), emails[0]]).toEqual(['conflict', `${a}@example.com`]);
  });

  it("re-creates a deleted client's id, refuses a create of a live one, and answers both the same when delivered again", async () => {
    const [gone, live, other] = [randomUUID(), randomUUID(), randomUUID()];
    await handle([create(gone, `${gone}@example.com`), create(live, `${live}@example.com`), create(other, `${other}@example.com`)]);
    await handle([remove(gone)]);
    const run = [
      create(gone, `${gone}.again@example.com`),
      create(live, `${live}.two@example.com`),
      // a deleted id with an email another client holds: refused, and the tombstone stays
      create(randomUUID(), `${other}@example.com`),
    ];
    await handle(run);
    const first = (await answersTo(run)).map((r) => r[0]!);
    expect(first.map(kindOf)).toEqual(['created', 'conflict', 'conflict']);
    expect(first[0]).toMatchObject({ client: { id: gone, email: `${gone}.again@example.com`, version: 1 } });
    expect(first[1]).toMatchObject({ refusal: { code: 'client_exists' } });
    expect(first[2]).toMatchObject({ refusal: { code: 'email_taken' } });
    const sent = await waitFor(() => eventsOf(gone).length === 3 && eventsOf(gone), { what: "the re-created client's events" });
    expect(sent.map((e) => e.type)).toEqual(['ClientCreated', 'ClientDeleted', 'ClientCreated']);
    expect(await stored(gone)).toMatchObject({ email_normalized: `${gone}.again@example.com`, version: 1, pending_events: [] });
    expect((await stored(gone))?.['deleted']).not.toBe(true);
    expect(await stored(live)).toMatchObject({ email_normalized: `${live}@example.com`, version: 1 });
    const timeline = await db.collection<{ entries: Array<{ type: string }> }>('client_history').findOne({ _id: gone as never });
    expect(timeline?.entries.map((e) => e.type)).toEqual(['ClientCreated', 'ClientDeleted', 'ClientCreated']);

    await handle(run);
    const again = (await answersTo(run, 2)).map((r) => r[1]!);
    expect(again).toEqual(first);
    expect(eventsOf(gone)).toHaveLength(3);
  });

  it("refuses re-creating a deleted id with another client's email, and keeps the tombstone", async () => {
    const [gone, other] = [randomUUID(), randomUUID()];
    await handle([create(gone, `${gone}@example.com`), create(other, `${other}@example.com`)]);
    await handle([remove(gone)]);
    const run = [create(gone, `${other}@example.com`)];
    await handle(run);
    expect((await answersTo(run))[0]![0]).toMatchObject({ outcome: 'refused', refusal: { code: 'email_taken' } });
    expect(await stored(gone)).toMatchObject({ deleted: true, version: 2 });
    await handle(run);
    expect((await answersTo(run, 2))[0]![1]).toMatchObject({ outcome: 'refused', refusal: { code: 'email_taken' } });
  });

  it('writes the timeline and the email directory before the reply, however slow they are', async () => {
    // timeline and directory writes that take far longer than a reply takes to arrive
    const pause = () => new Promise((resolve) => setTimeout(resolve, 500));
    class SlowTimelines extends ClientRepository {
      override async appendHistories(...args: Parameters<ClientRepository['appendHistories']>) {
        await pause();
        return super.appendHistories(...args);
      }
    }
    class SlowDirectory extends EmailDirectory {
      override async follow(...args: Parameters<EmailDirectory['follow']>) {
        await pause();
        return super.follow(...args);
      }
    }
    const logger = createLogger('test', 'silent');
    const slow = createCommandHandler({ repository: new SlowTimelines(db), directory: new SlowDirectory(db), producer, process: stages, logger });
    const a = randomUUID();
    const run = [create(a, `${a}@example.com`)];
    const handled = slow(run);
    await answersTo(run);
    // read the moment the reply is there: a caller holding it finds the change
    const timeline = await db.collection<{ entries: Array<{ type: string }> }>('client_history').findOne({ _id: a as never });
    const entry = await db.collection('client_emails').findOne({ _id: `${a}@example.com` as never });
    await handled;
    expect(timeline?.entries.map((e) => e.type)).toEqual(['ClientCreated']);
    expect(entry).toMatchObject({ client_id: a });
  });

  it('relays an outbox a crash left behind before applying the next command of that client', async () => {
    const a = randomUUID();
    await handle([create(a, `${a}@example.com`)]);
    const created = await waitFor(() => eventsOf(a)[0], { what: 'the created event' });
    // as if the process died after the write and before the publish: the event is still pending
    await db.collection('clients').updateOne({ _id: a as never }, { $set: { pending_events: [created] } });
    const next = patch(a, { name: 'Ann D. Lee' });
    await handle([next, create(randomUUID(), `${randomUUID()}@example.com`)]);

    expect((await answersTo([next]))[0]![0]).toMatchObject({ outcome: 'changed' });
    const sent = await waitFor(() => eventsOf(a).length === 3 && eventsOf(a), { what: 'the relayed and the new event' });
    expect(sent.map((e) => e.type)).toEqual(['ClientCreated', 'ClientCreated', 'ClientUpdated']);
    // published again with its own id, so consumers see it once
    expect(sent[1]!.id).toBe(created.id);
    expect(await stored(a)).toMatchObject({ version: 2, pending_events: [] });
  });
});
