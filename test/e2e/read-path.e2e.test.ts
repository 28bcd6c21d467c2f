import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  http,
  isolatedEnv,
  spawnService,
  startPrivateRedis,
  waitFor,
  waitUntilReady,
  type PrivateRedis,
  type ServiceProcess,
} from '@trackme/testkit';

/**
 * The read path over HTTP, as a user sees it: writes through the gateway, lists and single clients
 * through the gateway and the read service (Redis cache over Mongo, invalidated by change events).
 * The read service has a Redis of its own here, so one test can kill it.
 */

const DAY = 86_400_000;
let api: string;
let redis: PrivateRedis;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  const env = await isolatedEnv();
  redis = await startPrivateRedis();
  const read = await spawnService('read', { ...env, REDIS_URL: redis.url, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const gateway = await spawnService('gateway', { ...env, READ_URL: read.url });
  started.push(read, clients, gateway);
  await Promise.all(started.map((s) => waitUntilReady(s)));
  api = `${gateway.url}/api/v1`;
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
  await redis.stop();
});

const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

async function create(fields: Record<string, unknown> = {}) {
  const answer = await http('POST', `${api}/clients`, {
    name: 'John Doe',
    email: `user-${randomUUID()}@example.com`,
    stage: 'registration',
    app: 'installed',
    last_login: daysAgo(1),
    contracts: [{ id: 'k1', autopayment: 'enabled' }],
    ...fields,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.data as { id: string; email: string; stage: string; version: number };
}

const list = (query: string, headers: Record<string, string> = {}) => http('GET', `${api}/clients?${query}`, undefined, headers);
const listIds = async (query: string) => {
  const answer = await list(query);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return (answer.body.data as { id: string }[]).map((c) => c.id);
};

/** Polls the list for at most 1 s after the write was answered: the read path's visibility promise. */
const withinOneSecond = (what: string, probe: () => Promise<boolean>) => waitFor(probe, { timeoutMs: 1_000, intervalMs: 20, what });

describe('changes reach the lists within 1 s', () => {
  it('shows a created client', async () => {
    const source = `src-${randomUUID()}`;
    expect(await listIds(`source=${source}`)).toEqual([]);
    const client = await create({ source });
    await withinOneSecond('the new client in the list', async () => (await listIds(`source=${source}`)).includes(client.id));
  });

  it('follows a stage change in the stage filter', async () => {
    const source = `src-${randomUUID()}`;
    const client = await create({ source });
    await withinOneSecond('registration list', async () => (await listIds(`source=${source}&stage=registration`)).includes(client.id));
    const moved = await http('PUT', `${api}/clients/${client.id}/stage`, { name: 'John Doe', email: client.email, stage: 'next', source });
    expect(moved.status).toBe(200);
    await withinOneSecond('the client under its new stage', async () => {
      const [now, before] = await Promise.all([listIds(`source=${source}&stage=product_selection`), listIds(`source=${source}&stage=registration`)]);
      return now.includes(client.id) && !before.includes(client.id);
    });
  });

  it('drops a deleted client from lists and answers 404 for it', async () => {
    const source = `src-${randomUUID()}`;
    const client = await create({ source });
    await withinOneSecond('the client listed', async () => (await listIds(`source=${source}`)).length === 1);
    expect((await http('GET', `${api}/clients/${client.id}`)).status).toBe(200);
    expect((await http('DELETE', `${api}/clients/${client.id}`)).status).toBe(204);
    await withinOneSecond('the client gone', async () => (await listIds(`source=${source}`)).length === 0);
    const gone = await http('GET', `${api}/clients/${client.id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toContain('application/problem+json');
  });

  it('shows a field change in GET /clients/{id} and moves the client to the top of the list', async () => {
    const source = `src-${randomUUID()}`;
    const first = await create({ source });
    const second = await create({ source });
    await withinOneSecond('both listed', async () => (await listIds(`source=${source}`)).length === 2);
    expect(await listIds(`source=${source}`)).toEqual([second.id, first.id]);
    expect((await http('PATCH', `${api}/clients/${first.id}`, { app: 'not_installed' })).status).toBe(200);
    await withinOneSecond('the patched client on top', async () => (await listIds(`source=${source}`))[0] === first.id);
    const one = await http('GET', `${api}/clients/${first.id}`);
    expect(one.body.data.app).toEqual({ status: 'not_installed', highlight: true });
  });
});

describe('filters', () => {
  const source = `src-${randomUUID()}`;
  const made: Record<string, { id: string; email: string }> = {};

  beforeAll(async () => {
    made['web'] = await create({ source, channel: 'organic' });
    made['ads'] = await create({ source, channel: 'ads', app: 'not_installed' });
    made['moved'] = await create({ source, channel: 'ads', stage: 'product_selection' });
    made['inactive'] = await create({ source, channel: 'organic', is_active: false });
    made['oldLogin'] = await create({ source, channel: 'organic', last_login: '2020-01-15T10:00:00Z' });
    await waitFor(async () => (await listIds(`source=${source}&is_active=false`)).length === 1 && (await listIds(`source=${source}`)).length === 4, {
      what: 'the fixtures in the lists',
    });
  });

  const expectIds = async (query: string, keys: string[]) =>
    expect((await listIds(`source=${source}&${query}`)).sort()).toEqual(keys.map((k) => made[k]!.id).sort());

  it.each([
    ['nothing else (active only by default)', 'limit=50', ['web', 'ads', 'moved', 'oldLogin']],
    ['is_active=false', 'is_active=false', ['inactive']],
    ['channel', 'channel=ads', ['ads', 'moved']],
    ['stage', 'stage=product_selection', ['moved']],
    ['app', 'app=not_installed', ['ads']],
    ['last_login on or after a day', `last_login=${daysAgo(3).slice(0, 10)}`, ['web', 'ads', 'moved']],
    ['updated on or after today', `updated=${new Date().toISOString().slice(0, 10)}`, ['web', 'ads', 'moved', 'oldLogin']],
    ['updated on or after tomorrow', `updated=${new Date(Date.now() + DAY).toISOString().slice(0, 10)}`, []],
    ['highlighted=true', 'highlighted=true', ['ads', 'oldLogin']],
    ['highlighted=false', 'highlighted=false', ['web', 'moved']],
    ['channel and stage', 'channel=ads&stage=registration', ['ads']],
    ['channel, app and highlighted', 'channel=organic&app=installed&highlighted=true', ['oldLogin']],
  ])('by %s', async (_case, query, keys) => {
    await expectIds(query, keys);
  });

  it('by id and by email (any case)', async () => {
    await expectIds(`id=${made['ads']!.id}`, ['ads']);
    await expectIds(`email=${encodeURIComponent(made['moved']!.email.toUpperCase())}`, ['moved']);
  });

  it('pages with limit and offset; total counts every match', async () => {
    const all = await list(`source=${source}`);
    const ids = (all.body.data as { id: string }[]).map((c) => c.id);
    const pages = await Promise.all([list(`source=${source}&limit=3`), list(`source=${source}&limit=3&offset=3`)]);
    expect(pages.map((p) => p.body.meta)).toEqual([
      { total: 4, limit: 3, offset: 0 },
      { total: 4, limit: 3, offset: 3 },
    ]);
    expect(pages.flatMap((p) => (p.body.data as { id: string }[]).map((c) => c.id))).toEqual(ids);
    expect(all.body.meta).toEqual({ total: 4, limit: 50, offset: 0 });
  });
});

describe('highlights', () => {
  it.each([
    ['a login 29 days ago', { last_login: daysAgo(29) }, { last_login: false }],
    ['a login 31 days ago', { last_login: daysAgo(31) }, { last_login: true }],
    ['no login ever', { last_login: undefined }, { last_login: true }],
    ['the app installed', { app: 'installed' }, { app: false }],
    ['the app not installed', { app: 'not_installed' }, { app: true }],
  ])('with %s', async (_case, fields, expected) => {
    const client = await create(fields);
    const answer = await http('GET', `${api}/clients/${client.id}`);
    expect(answer.status).toBe(200);
    const { data } = answer.body;
    if ('last_login' in expected) expect(data.last_login.highlight).toBe(expected.last_login);
    if ('app' in expected) expect(data.app.highlight).toBe(expected.app);
  });

  it('on each contract by its autopayment, in the list too', async () => {
    const source = `src-${randomUUID()}`;
    const client = await create({
      source,
      contracts: [
        { id: 'on', autopayment: 'enabled' },
        { id: 'off', autopayment: 'disabled' },
      ],
    });
    const listed = await waitFor(async () => (await list(`source=${source}`)).body.data[0]);
    expect(listed).toMatchObject({
      id: client.id,
      contracts: [
        { id: 'on', autopayment: { status: 'enabled', highlight: false } },
        { id: 'off', autopayment: { status: 'disabled', highlight: true } },
      ],
    });
  });

  it('shows the last login as the older service did (date and highlight) plus the instant', async () => {
    const client = await create({ last_login: '2024-01-20T15:30:00Z' });
    const { body } = await http('GET', `${api}/clients/${client.id}`);
    expect(body.data.last_login).toEqual({ date: '2024-01-20', at: '2024-01-20T15:30:00.000Z', highlight: true });
  });
});

describe('cache', () => {
  it('says where an answer came from: miss, then hit, and bypass for Cache-Control: no-cache', async () => {
    const source = `src-${randomUUID()}`;
    const client = await create({ source });
    await waitFor(async () => (await listIds(`source=${source}`)).length === 1);
    // a repeated query is served from the cache until the next change
    expect((await list(`source=${source}&limit=7`)).headers.get('x-cache')).toBe('miss');
    expect((await list(`source=${source}&limit=7`)).headers.get('x-cache')).toBe('hit');
    const bypass = await list(`source=${source}&limit=7`, { 'cache-control': 'no-cache' });
    expect(bypass.headers.get('x-cache')).toBe('bypass');
    expect(bypass.body.data[0].id).toBe(client.id);
    expect((await http('GET', `${api}/clients/${client.id}`, undefined, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('bypass');
  });
});

describe('bad input: 400 naming the parameter, nothing reaches Mongo as an operator', () => {
  it.each([
    ['updated=2024-13-01', 'updated'],
    ['updated=2024-02-30', 'updated'],
    ['last_login=20240101', 'last_login'],
    ['limit=-1', 'limit'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=ten', 'limit'],
    ['offset=-5', 'offset'],
    ['offset=99999999999', 'offset'],
    ['is_active=maybe', 'is_active'],
    ['highlighted=yes', 'highlighted'],
    ['app=sometimes', 'app'],
    ['stage[$ne]=x', 'stage[$ne]'],
    ['email[$ne]=x', 'email[$ne]'],
    ['stage=a&stage=b', 'stage'],
    ['id=%24where', 'id'],
    ['email=not-an-email', 'email'],
  ])('%s', async (query, parameter) => {
    const answer = await list(query);
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(answer.body.errors)).toContain(parameter);
  });

  it('refuses a malformed client id on GET /clients/{id}', async () => {
    expect((await http('GET', `${api}/clients/${encodeURIComponent('{"$ne":null}')}`)).status).toBe(400);
  });
});

describe('Redis down', () => {
  it('answers lists and clients from Mongo while Redis is killed, and caches again after it restarts', async () => {
    const source = `src-${randomUUID()}`;
    const client = await create({ source });
    await waitFor(async () => (await listIds(`source=${source}`)).length === 1);

    await redis.kill();
    for (let i = 0; i < 3; i += 1) {
      const answer = await list(`source=${source}`);
      expect(answer.status).toBe(200);
      expect(answer.body.data.map((c: { id: string }) => c.id)).toEqual([client.id]);
      expect(answer.headers.get('x-cache')).toBe('miss');
      expect((await http('GET', `${api}/clients/${client.id}`)).status).toBe(200);
    }
    // a change made while Redis is down still shows up
    expect((await http('PATCH', `${api}/clients/${client.id}`, { name: 'Changed While Down' })).status).toBe(200);
    await withinOneSecond('the change while Redis is down', async () => (await list(`source=${source}`)).body.data[0]?.name === 'Changed While Down');

    await redis.start();
    await waitFor(async () => (await list(`source=${source}&limit=9`)).headers.get('x-cache') === 'hit', {
      timeoutMs: 30_000,
      what: 'caching to resume',
    });
    const cached = await list(`source=${source}&limit=9`);
    expect(cached.body.data[0].name).toBe('Changed While Down');
  });
});
