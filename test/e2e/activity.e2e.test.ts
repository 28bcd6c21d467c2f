import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { dlqTopicOf, Topics } from '@trackme/contracts';
import { kafkaConnectionFromEnv, topicFor } from '@trackme/platform';
import { http, isolatedEnv, REPO_ROOT, spawnService, TopicReader, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';

/**
 * Activity ingestion as other systems use it: a plain Kafka producer writing JSON events to
 * trackme.activity, and POST /events over HTTP; the effect is checked the way a user sees it,
 * through GET /clients/{id}. Services run as processes.
 */

const run = promisify(execFile);
let env: IsolatedEnv;
let api: string;
let external: Producer;
let dead: TopicReader;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  env = await isolatedEnv();
  const read = await spawnService('read', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const gateway = await spawnService('gateway', { ...env, READ_URL: read.url });
  started.push(read, clients, gateway);
  await Promise.all(started.map((s) => waitUntilReady(s)));
  api = `${gateway.url}/api/v1`;
  external = new Kafka({ clientId: 'billing', ...kafkaConnectionFromEnv(env), logLevel: logLevel.NOTHING }).producer();
  await external.connect();
  dead = await new TopicReader(env, dlqTopicOf(Topics.activity), env.KAFKA_TOPIC_PREFIX).start();
}, 120_000);

afterAll(async () => {
  await Promise.all([external?.disconnect(), dead?.stop()]);
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
});

interface ClientView {
  id: string;
  email: string;
  version: number;
  app: { status: string; highlight: boolean };
  last_login: { at: string | null; highlight: boolean };
  contracts: Array<{ id: string; autopayment: { status: string; highlight: boolean } }>;
}

async function create(fields: Record<string, unknown> = {}) {
  const answer = await http('POST', `${api}/clients`, {
    name: 'Jane Roe',
    email: `jane-${randomUUID()}@example.com`,
    app: 'not_installed',
    contracts: [{ id: 'k1', autopayment: 'disabled' }],
    ...fields,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.data as { id: string; email: string; version: number };
}

const view = async (id: string) => {
  const answer = await http('GET', `${api}/clients/${id}`);
  return answer.status === 200 ? (answer.body.data as ClientView) : undefined;
};
/** Waits until GET /clients/{id} shows what the test expects, and returns that view. */
const until = (id: string, what: string, test: (c: ClientView) => boolean) =>
  waitFor(async () => {
    const client = await view(id);
    return client && test(client) ? client : undefined;
  }, { what, timeoutMs: 15_000 });

/** Writes as an outside system would: plain JSON values, keyed by client id or email. */
async function publish(...events: Array<Record<string, unknown>>) {
  await external.send({
    topic: topicFor(env.KAFKA_TOPIC_PREFIX, Topics.activity),
    messages: events.map((e) => ({ key: String(e['client_id'] ?? e['email']), value: JSON.stringify(e) })),
  });
}

const at = (iso: string) => new Date(iso).toISOString();
const login = (clientId: string, occurredAt: string, eventId = randomUUID()) => ({ event_id: eventId, type: 'login', client_id: clientId, occurred_at: occurredAt });

describe('activity changes the client as the API shows it', () => {
  it('applies logins, app installs and autopayment changes from a plain Kafka producer', async () => {
    const client = await create();
    const recent = new Date(Date.now() - 3_600_000).toISOString();
    await publish(
      login(client.id, recent),
      { event_id: randomUUID(), type: 'app_installed', client_id: client.id, occurred_at: recent, source: 'mobile-backend' },
      { event_id: randomUUID(), type: 'autopayment_enabled', email: client.email, contract_id: 'k1', occurred_at: recent, source: 'billing' },
    );
    const seen = await until(client.id, 'all three changes', (c) => c.last_login.at === at(recent) && c.app.status === 'installed' && c.contracts[0]?.autopayment.status === 'enabled');
    // the highlights follow: logged in an hour ago, app installed, autopayment on
    expect(seen).toMatchObject({ last_login: { highlight: false }, app: { highlight: false }, contracts: [{ autopayment: { highlight: false } }] });
    expect(seen.version).toBe(client.version + 3);
  });

  it('applies events posted over HTTP', async () => {
    const client = await create();
    const loggedIn = new Date(Date.now() - 60_000).toISOString();
    const answer = await http('POST', `${api}/events`, {
      events: [
        { event_id: randomUUID(), type: 'login', email: client.email.toUpperCase(), occurred_at: loggedIn },
        { event_id: randomUUID(), type: 'app_installed', client_id: client.id, occurred_at: loggedIn },
      ],
    });
    expect(answer.status).toBe(202);
    expect(answer.body.data).toMatchObject({ accepted: 2, rejected: 0 });
    await until(client.id, 'login and install over HTTP', (c) => c.last_login.at === at(loggedIn) && c.app.status === 'installed');
  });

  it('applies the same event delivered three times once', async () => {
    const client = await create();
    const event = login(client.id, '2026-11-20T10:00:00Z');
    await publish(event, event);
    await http('POST', `${api}/events`, { events: [event] });
    const marker = { event_id: randomUUID(), type: 'app_installed', client_id: client.id, occurred_at: '2026-11-20T10:05:00Z' };
    await publish(marker);
    // the marker comes after the copies (same partition, later offset) and shows when it is
    // applied, so the wait ends after every copy was handled: only one copy and the marker count
    const seen = await until(client.id, 'the marker applied', (c) => c.app.status === 'installed');
    expect(seen.version).toBe(client.version + 2);
    expect(seen.last_login.at).toBe(at(event.occurred_at));
  });

  it('keeps the latest login when logins arrive out of order', async () => {
    const client = await create();
    await publish(login(client.id, '2026-11-24T12:00:00Z'), login(client.id, '2026-11-22T12:00:00Z'));
    await http('POST', `${api}/events`, { events: [login(client.id, '2026-11-23T12:00:00Z')] });
    const seen = await until(client.id, 'three logins applied', (c) => c.version === client.version + 3);
    expect(seen.last_login.at).toBe('2026-11-24T12:00:00.000Z');
  });
});

describe('unmatched and bad events', () => {
  it('dead-letters an event for an unknown client, and replaying it after the client exists applies it', async () => {
    const email = `later-${randomUUID()}@example.com`;
    const eventId = randomUUID();
    const loggedIn = new Date(Date.now() - 120_000).toISOString();
    await publish({ event_id: eventId, type: 'login', email, occurred_at: loggedIn });
    const letter = await waitFor(() => dead.messages.find((m) => (m.envelope as unknown as { event_id?: string }).event_id === eventId), { what: 'the dead letter' });
    expect(letter.headers['dlq-reason']).toBe('unknown_client');

    const client = await create({ email });
    const cli = (...args: string[]) =>
      run('npx', ['tsx', '--conditions=@trackme/source', 'scripts/dlq.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    const listed = await cli('list', '--topic', dlqTopicOf(Topics.activity), '--reason', 'unknown_client', '--json');
    expect(listed.stdout).toContain(eventId);
    await cli('replay', '--topic', dlqTopicOf(Topics.activity), '--reason', 'unknown_client');
    await until(client.id, 'the replayed login', (c) => c.last_login.at === at(loggedIn));
  });

  it('dead-letters raw garbage bytes and keeps consuming', async () => {
    const client = await create();
    await external.send({ topic: topicFor(env.KAFKA_TOPIC_PREFIX, Topics.activity), messages: [{ key: client.id, value: Buffer.from('\u0000\u00ff{not json') }] });
    const after = new Date(Date.now() - 30_000).toISOString();
    await publish(login(client.id, after));
    await until(client.id, 'the login after the garbage', (c) => c.last_login.at === at(after));
    const garbage = await waitFor(() => dead.messages.find((m) => m.headers['dlq-original-key'] === client.id), { what: 'garbage dead letter' });
    expect(garbage.headers['dlq-reason']).toBe('invalid_json');
  });
});
