import { createHmac, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../../services/gateway/src/config.js';
import { loadConfig } from '@trackme/platform';
import { http, isolatedEnv, spawnSystem, tokenFor, uniqueId, waitFor, type IsolatedEnv, type RunningSystem } from '@trackme/testkit';

/**
 * The older service's contract, as its callers use it, against the whole running system: the
 * envelope, contracts, stored clients, users and sign-in, and metrics, section by section as the
 * older contract lists them. Each bug it had is asserted fixed next to the behaviour that stays.
 */

let system: RunningSystem;
let env: IsolatedEnv;
let root: string;
let api: string;
let superUser: string;

const password = () => `harbour-lantern-${randomUUID()}`;
const email = (name: string) => `${name}-${randomUUID()}@example.com`;
const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  env = { ...(await isolatedEnv()), METRICS_KEY_PREFIX: `${uniqueId('m')}:` } as IsolatedEnv;
  system = await spawnSystem(env);
  ({ root, api } = system);
  superUser = await tokenFor('super_user');
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

describe('envelope', () => {
  it('GET / answers a plain heartbeat, without a token', async () => {
    const answer = await fetch(`${root}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
  });

  it('success bodies are {"data": …}; lists add "meta": {total, limit, offset}', async () => {
    const list = await http('GET', `${api}/clients?limit=5&offset=0`);
    expect(list.status).toBe(200);
    expect(Object.keys(list.body).sort()).toEqual(['data', 'meta']);
    expect(list.body.meta).toEqual({ total: expect.any(Number), limit: 5, offset: 0 });
  });

  it('Authorization is accepted with or without the "Bearer " prefix', async () => {
    const token = await tokenFor('admin');
    expect((await http('GET', `${api}/clients?limit=1`, undefined, { authorization: token })).status).toBe(200);
    expect((await http('GET', `${api}/clients?limit=1`, undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('errors carry a message, now as problem+json naming the field (a difference on purpose)', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'No Email' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ status: 400, detail: expect.any(String) });
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain('email');
  });

  it('an unknown query parameter is a 400 naming it (the older service ignored it: a typo listed everything)', async () => {
    const answer = await http('GET', `${api}/clients?stgae=registration`);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('stgae');
  });
});

describe('contracts inside a client', () => {
  const nine = {
    id: 'contract123',
    name: 'Premium plan',
    number: 'PR-2024-001',
    status: 'active',
    conclusion_date: '2024-01-15T10:00:00Z',
    expiration_date: '2025-01-15T10:00:00Z',
    amount: 1499.5,
    payment_frequency: 'monthly',
    autopayment: 'disabled',
  };

  it('a create whose contracts carry all nine fields is answered 201 and returns them all', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'John Doe', email: email('nine'), stage: 'registration', contracts: [nine] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.data.contracts).toEqual([{ ...nine, conclusion_date: '2024-01-15T10:00:00.000Z', expiration_date: '2025-01-15T10:00:00.000Z' }]);
  });

  it('the older README\'s two-field contract (id, autopayment), which the older service refused, is accepted', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'Jane Roe', email: email('two'), contracts: [{ id: 'c1', autopayment: 'enabled' }] });
    expect(answer.status).toBe(201);
  });

  it.each([
    ['a blank name', { name: ' ' }, 'contracts.0.name'],
    ['a blank number', { number: '' }, 'contracts.0.number'],
    ['a negative amount', { amount: -1 }, 'contracts.0.amount'],
    ['a date that is not RFC 3339', { conclusion_date: '15.01.2024' }, 'contracts.0.conclusion_date'],
    ['an autopayment other than enabled/disabled', { autopayment: 'on' }, 'contracts.0.autopayment'],
    ['an unknown field', { colour: 'red' }, 'contracts.0.colour'],
  ])('refuses %s with 400 naming %s', async (_name, change, field) => {
    const answer = await http('POST', `${api}/clients`, { name: 'Bad Contract', email: email('bad'), contracts: [{ ...nine, ...change }] });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });
});

describe('stored clients', () => {
  it('is_active is stored as sent (the older service always stored true)', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'Idle Client', email: email('idle'), is_active: false });
    expect(answer.status).toBe(201);
    const id = answer.body.data.id as string;
    const read = await waitFor(async () => {
      const got = await http('GET', `${api}/clients/${id}`);
      return got.status === 200 ? got.body.data : undefined;
    }, { what: 'the client readable' });
    expect(read.is_active).toBe(false);
  });

  it('the first create gets an id like every other (the older one stored _id: "")', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'First Client', email: email('first') });
    expect(answer.body.data.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('dates are answered as RFC 3339 in UTC, never DD.MM.YYYY', async () => {
    const answer = await http('POST', `${api}/clients`, { name: 'Dated Client', email: email('dated'), last_login: '2024-02-01T10:30:00+02:00' });
    expect(answer.body.data.last_login).toBe('2024-02-01T08:30:00.000Z');
    expect(answer.body.data.registration_date).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe('users and authentication', () => {
  const userShape = { id: expect.any(String), name: expect.any(String), email: expect.any(String), role: expect.any(String), created_at: expect.any(String), updated_at: expect.any(String) };

  it('POST /auth/register {name, email, password, role} answers 201 {data: {token, user}}, but not to anonymous callers', async () => {
    const body = { name: 'Reg User', email: email('reg'), password: password(), role: 'manager' };
    const anonymous = await http('POST', `${api}/auth/register`, body, { authorization: '' });
    expect(anonymous.status).toBe(401);
    const made = await http('POST', `${api}/auth/register`, body, as(superUser));
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body.data).toMatchObject({ token: expect.any(String), user: { id: expect.any(String), name: 'Reg User', email: body.email, role: 'manager' } });
  });

  it('POST /auth/login answers 200 with the same body and the older claims; wrong password and unknown email answer alike', async () => {
    const account = { email: email('login'), password: password() };
    expect((await http('POST', `${api}/users`, { name: 'Log In', ...account, role: 'admin' }, as(superUser))).status).toBe(201);
    const login = await http('POST', `${api}/auth/login`, account, { authorization: '' });
    expect(login.status).toBe(200);
    expect(login.body.data).toMatchObject({ token: expect.any(String), user: { email: account.email, role: 'admin' } });
    const claims = decodeJwt(login.body.data.token as string);
    expect(claims).toMatchObject({ user_id: login.body.data.user.id, sub: login.body.data.user.id, email: account.email, role: 'admin', exp: expect.any(Number), iat: expect.any(Number) });
    // the older token's claims: a bare token, as its callers send it, is accepted
    expect((await http('GET', `${api}/clients?limit=1`, undefined, { authorization: login.body.data.token })).status).toBe(200);

    const wrong = await http('POST', `${api}/auth/login`, { ...account, password: password() }, { authorization: '' });
    const unknown = await http('POST', `${api}/auth/login`, { email: email('nobody'), password: password() }, { authorization: '' });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    const blank = await http('POST', `${api}/auth/login`, { email: account.email, password: '' }, { authorization: '' });
    expect(blank.status).toBe(400);
  });

  it('a user is {id, name, email, role, created_at, updated_at}; super_user reads users (the older service refused it)', async () => {
    const list = await http('GET', `${api}/users`, undefined, as(superUser));
    expect(list.status).toBe(200);
    expect(list.body.data[0]).toEqual(userShape);
    for (const role of ['admin', 'manager']) expect((await http('GET', `${api}/users`, undefined, as(await tokenFor(role)))).status, role).toBe(200);
  });

  it('POST /users for super_user or admin; PUT and DELETE /users/{id} for super_user only', async () => {
    const admin = as(await tokenFor('admin'));
    const made = await http('POST', `${api}/users`, { name: 'By Admin', email: email('byadmin'), password: password(), role: 'manager' }, admin);
    expect(made.status).toBe(201);
    expect(made.body.data).toEqual(userShape);
    const id = made.body.data.id as string;
    expect((await http('PUT', `${api}/users/${id}`, { name: 'Renamed' }, admin)).status).toBe(403);
    expect((await http('DELETE', `${api}/users/${id}`, undefined, admin)).status).toBe(403);
    expect((await http('POST', `${api}/users`, { name: 'By Manager', email: email('bymanager'), password: password() }, as(await tokenFor('manager')))).status).toBe(403);
    const renamed = await http('PUT', `${api}/users/${id}`, { name: 'Renamed' }, as(superUser));
    expect(renamed.body.data.name).toBe('Renamed');
    expect((await http('DELETE', `${api}/users/${id}`, undefined, as(superUser))).status).toBe(204);
  });

  it('a token signed with an empty or short secret is refused, and a short JWT_SECRET stops the gateway (the older one accepted an empty secret, so tokens could be forged)', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'x', user_id: 'x', role: 'super_user', iss: 'trackme', aud: 'trackme-api', iat: now, exp: now + 600 })}`;
    for (const secret of ['', 'short']) {
      const forged = `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
      expect((await http('GET', `${api}/users`, undefined, as(forged))).status, JSON.stringify(secret)).toBe(401);
    }
    expect(() => loadConfig('gateway', GatewayConfigSchema, { ...env, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });
});

describe('metrics', () => {
  const OLDER_TYPES = ['clients-per-stage', 'stage-duration', 'rollback-count', 'dropout', 'conversion', 'total-duration', 'status-updates', 'mau', 'dau', 'source-conversion', 'channel-conversion', 'app-install-rate', 'autopayment-rate'];

  it.each(OLDER_TYPES)('GET /metrics?type=%s is answered', async (type) => {
    const answer = await http('GET', `${api}/metrics?type=${type}&interval=day`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.meta).toEqual({ total: expect.any(Number), limit: expect.any(Number), offset: 0 });
  });

  it('a manager may trigger GET /metrics/calculate; a recalculation does not duplicate rows, and rows carry id, created_at and metadata', async () => {
    const manager = as(await tokenFor('manager'));
    expect((await http('POST', `${api}/clients`, { name: 'Counted', email: email('counted'), source: 'web' })).status).toBe(201);
    const day = new Date().toISOString().slice(0, 10);
    const rowsOf = async () => (await http('GET', `${api}/metrics?type=clients-per-stage&interval=day&from=${day}&to=${day}&limit=1000`, undefined, manager)).body.data as Array<Record<string, unknown>>;
    const first = await waitFor(async () => {
      expect((await http('GET', `${api}/metrics/calculate?interval=day`, undefined, manager)).status).toBe(200);
      const rows = await rowsOf();
      return rows.length > 0 ? rows : undefined;
    }, { what: 'clients-per-stage rows', timeoutMs: 60_000, intervalMs: 500 });
    expect(first[0]).toMatchObject({ id: expect.any(String), type: 'clients-per-stage', value: expect.any(Number), interval: 'day', created_at: expect.any(String), metadata: { stage: expect.any(String) } });
    expect((await http('GET', `${api}/metrics/calculate?interval=day`, undefined, manager)).status).toBe(200);
    const calculated = String(first[0]!['created_at']);
    const again = await waitFor(async () => {
      const rows = await rowsOf();
      return rows.every((r) => String(r['created_at']) > calculated) ? rows : undefined;
    }, { what: 'the recalculated rows', timeoutMs: 30_000, intervalMs: 200 });
    expect(again.map((r) => r['id']).sort()).toEqual(first.map((r) => r['id']).sort());
  });

  it('interval=year is a 400 naming interval, with nothing written (the older service answered 500 after writing rows)', async () => {
    const answer = await http('GET', `${api}/metrics/calculate?interval=year`);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.body.errors)).toContain('interval');
  });
});
