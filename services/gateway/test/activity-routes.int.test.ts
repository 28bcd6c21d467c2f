import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTopicDeclarations, Topics, TOPIC_DECLARATIONS } from '@trackme/contracts';
import { ensureTopics } from '@trackme/platform';
import {
  authed,
  freePort,
  isolatedEnv,
  runInProcess,
  stackKafka,
  topicMessageCount,
  TopicReader,
  uniqueTopicPrefix,
  waitFor,
  type InProcessService,
  type IsolatedEnv,
} from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

// the gateway in this process, against the real Kafka and Redis; nothing consumes trackme.activity here
let env: IsolatedEnv;
let gateway: InProcessService<GatewayConfig>;
let reader: TopicReader;

const waitReady = (service: InProcessService<GatewayConfig>) =>
  waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready', timeoutMs: 30_000 });

beforeAll(async () => {
  env = await isolatedEnv();
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env });
  await waitReady(gateway);
  reader = await new TopicReader(env, Topics.activity, env.KAFKA_TOPIC_PREFIX).start();
}, 90_000);

afterAll(async () => {
  await reader?.stop();
  await gateway?.stop();
});

const postEvents = async (service: InProcessService<GatewayConfig>, body: unknown) =>
  service.app.inject(await authed({ method: 'POST', url: '/api/v1/events', payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));

/** How many messages the (prefixed) activity topic holds, over all partitions. */
const activityMessageCount = () => topicMessageCount(env, Topics.activity, env.KAFKA_TOPIC_PREFIX);

/** The message on trackme.activity whose (plain JSON) value has this event_id. */
const publishedEvent = (eventId: string) => reader.messages.find((m) => (m.envelope as unknown as { event_id?: string }).event_id === eventId);

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
const login = (fields: Record<string, unknown> = {}) => ({
  event_id: `evt-${randomUUID()}`,
  type: 'login',
  client_id: `client-${randomUUID()}`,
  occurred_at: minutesFromNow(-1),
  ...fields,
});

describe('POST /events', () => {
  it('publishes the valid events of a mixed batch as plain JSON keyed by client, and reports every event', async () => {
    const byClient = login({ source: 'auth-service', properties: { device: 'ios' } });
    const email = `Ann.${randomUUID()}@Example.COM`;
    const byEmail = login({ client_id: undefined, email });
    const noContract = login({ type: 'autopayment_enabled' });
    const badType = login({ type: 'teleported' });
    const extraField = login({ color: 'red' });
    const inTheFuture = login({ occurred_at: minutesFromNow(60) });
    const before = await activityMessageCount();

    const answer = await postEvents(gateway, { events: [byClient, byEmail, noContract, badType, extraField, inTheFuture, 'logged in'] });

    expect(answer.statusCode).toBe(202);
    const rejected = (field: string) => ({ status: 'rejected', errors: [{ field, message: expect.any(String) }] });
    expect(answer.json()).toEqual({
      data: {
        accepted: 2,
        rejected: 5,
        results: [
          { index: 0, event_id: byClient.event_id, status: 'accepted' },
          { index: 1, event_id: byEmail.event_id, status: 'accepted' },
          { index: 2, event_id: noContract.event_id, ...rejected('contract_id') },
          { index: 3, event_id: badType.event_id, ...rejected('type') },
          { index: 4, event_id: extraField.event_id, ...rejected('color') },
          { index: 5, event_id: inTheFuture.event_id, ...rejected('occurred_at') },
          { index: 6, ...rejected('/') },
        ],
      },
    });
    // acknowledged before the answer: the topic already holds exactly the two accepted events
    expect((await activityMessageCount()) - before).toBe(2);

    const [first, second] = await waitFor(() => {
      const found = [publishedEvent(byClient.event_id), publishedEvent(byEmail.event_id)];
      return found.every(Boolean) && found;
    }, { what: 'the accepted events on trackme.activity' });
    // the plain events as sent (the reader keeps the parsed value as `envelope`)
    expect(first).toMatchObject({ key: byClient.client_id, headers: { 'trackme-type': 'login' } });
    expect(first!.envelope).toEqual(byClient);
    expect(second).toMatchObject({ key: email.toLowerCase(), headers: { 'trackme-type': 'login' } });
    expect(second!.envelope).toEqual(JSON.parse(JSON.stringify(byEmail)));
  });

  it('publishes both events of a batch that repeats an event_id (the consumer applies it once)', async () => {
    const event = login();
    const before = await activityMessageCount();
    const answer = await postEvents(gateway, { events: [event, event] });
    expect(answer.statusCode).toBe(202);
    expect(answer.json().data).toMatchObject({ accepted: 2, rejected: 0 });
    expect((await activityMessageCount()) - before).toBe(2);
  });

  it('answers 202 and publishes nothing when no event is valid', async () => {
    const before = await activityMessageCount();
    const answer = await postEvents(gateway, { events: [{ event_id: 'only-junk' }] });
    expect(answer.statusCode).toBe(202);
    expect(answer.json().data).toMatchObject({ accepted: 0, rejected: 1, results: [{ index: 0, event_id: 'only-junk', status: 'rejected' }] });
    expect(await activityMessageCount()).toBe(before);
  });

  it.each([
    ['more than 500 events', { events: Array.from({ length: 501 }, () => login()) }, 'events'],
    ['no events', { events: [] }, 'events'],
    ['no events field', {}, 'events'],
    ['an unknown top-level field', { events: [login()], batch: 1 }, 'batch'],
    ['a body that is not an object', [login()], 'body'],
  ])('refuses %s with 400 naming the field', async (_case, body, field) => {
    const answer = await postEvents(gateway, body);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json()).toMatchObject({ status: 400, code: 'validation_failed', errors: [expect.objectContaining({ field })] });
  });

  it('accepts a body up to 512 KiB and refuses a larger one with 413', async () => {
    // within the limit although over the gateway's general body limit (256 KiB)
    const padded = (bytes: number) => [login({ properties: { padding: 'x'.repeat(bytes) } })];
    const fits = await postEvents(gateway, { events: padded(500 * 1024) });
    expect(fits.statusCode).toBe(202);

    const tooLarge = await postEvents(gateway, { events: padded(513 * 1024) });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toContain('application/problem+json');
    expect(tooLarge.json()).toMatchObject({ status: 413 });
  });
});

describe('POST /events while Kafka cannot take the events', () => {
  it('answers 503 with Retry-After when Kafka is unreachable, and still reports a batch with nothing to publish', async () => {
    const deadBroker = `127.0.0.1:${await freePort()}`;
    const lonely = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, KAFKA_BROKERS: deadBroker });
    try {
      const answer = await postEvents(lonely, { events: [login()] });
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json()).toMatchObject({ status: 503, code: 'dependency_unavailable' });

      const nothingValid = await postEvents(lonely, { events: [login({ type: 'teleported' })] });
      expect(nothingValid.statusCode).toBe(202);
      expect(nothingValid.json().data).toMatchObject({ accepted: 0, rejected: 1 });
    } finally {
      await lonely.stop();
    }
  });

  it('answers 503 with Retry-After when Kafka does not acknowledge within WRITE_TIMEOUT_MS (topic missing)', async () => {
    // every topic but trackme.activity: the gateway is ready, but a send to the activity topic cannot complete
    const prefix = uniqueTopicPrefix();
    const kafka = stackKafka('trackme-test-setup');
    await ensureTopics(kafka, allTopicDeclarations(TOPIC_DECLARATIONS.filter((t) => t.name !== Topics.activity)), prefix);
    const slow = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, KAFKA_TOPIC_PREFIX: prefix, WRITE_TIMEOUT_MS: '500' });
    try {
      await waitReady(slow);
      const answer = await postEvents(slow, { events: [login()] });
      expect(answer.statusCode).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.json()).toMatchObject({ status: 503, code: 'dependency_unavailable' });
    } finally {
      // let the send still in flight finish before the producer is closed
      await ensureTopics(kafka, allTopicDeclarations(TOPIC_DECLARATIONS.filter((t) => t.name === Topics.activity)), prefix);
      await slow.stop();
    }
  }, 60_000);
});
