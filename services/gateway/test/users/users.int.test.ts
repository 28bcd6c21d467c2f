import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import bcrypt from 'bcryptjs';
import { MongoClient } from 'mongodb';
import { isolatedEnv, runInProcess, type InProcessService } from '@trackme/testkit';
import { composeGateway } from '../../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../../src/config.js';
import { createUserWithCli, freshAddress, freshEmail, gatewayCalls, goodPassword, type SessionBody } from './sign-in-helpers.js';

/**
 * Users and sign-in against the real Mongo-wire server and Redis: the first super_user from the
 * command line, register and login with the older bodies, refresh rotation and reuse, demotion and
 * deletion, the throttle, and passwords imported from the older service.
 */

let gateway: InProcessService<GatewayConfig>;
let mongo: MongoClient;
let api: ReturnType<typeof gatewayCalls>;
const root = { email: freshEmail('root'), password: goodPassword() };
let rootToken: string;

beforeAll(async () => {
  const env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
  const created = await createUserWithCli(env.MONGO_URL, ['create', '--role', 'super_user', '--email', root.email, '--name', 'Root User'], root.password);
  expect(created.output).toMatch(/^created super_user [0-9a-f-]{36} /);
  expect(created.code).toBe(0);
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, LOGIN_FAILURES_PER_ACCOUNT: '3', LOGIN_FAILURE_WINDOW_SECONDS: '60' });
  api = gatewayCalls(gateway);
  rootToken = (await api.session(root.email, root.password)).token;
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await mongo?.close();
});

/** A user made by the super user, and its first session. */
async function userWithRole(role: 'admin' | 'manager' | 'super_user') {
  const account = { email: freshEmail(role), password: goodPassword() };
  const created = await api.post('/users', { name: `A ${role}`, ...account, role }, { token: rootToken });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json<{ data: { id: string } }>().data.id;
  return { ...account, id, session: await api.session(account.email, account.password) };
}

describe('the first super_user', () => {
  it('is made by npm run users with the password on stdin, and refused again for the same email in another case', async () => {
    const again = await createUserWithCli(gateway.context.config.MONGO_URL, ['create', '--role', 'admin', '--email', root.email.toUpperCase()], goodPassword());
    expect(again.code).toBe(1);
    expect(again.output).toContain('a user with this email already exists');
    const weak = await createUserWithCli(gateway.context.config.MONGO_URL, ['create', '--role', 'admin', '--email', freshEmail()], 'password1234');
    expect(weak.code).toBe(2);
    expect(weak.output).toContain('password: is one of the most common passwords');
  }, 30_000);
});

describe('login', () => {
  it('answers the older body with a 15-minute EdDSA token carrying user_id, email, role and sub, verifiable with the served JWKS', async () => {
    const answer = await api.login(root.email.toUpperCase(), root.password);
    expect(answer.statusCode).toBe(200);
    const { data } = answer.json<SessionBody>();
    expect(data.user).toEqual({ id: expect.any(String), name: 'Root User', email: root.email, role: 'super_user' });
    expect(data).toMatchObject({ token_type: 'Bearer', expires_in: 900, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const jwks = (await gateway.app.inject({ url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(data.token, createLocalJWKSet(jwks), { issuer: 'trackme', audience: 'trackme-api' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.keys[0]!.kid });
    expect(payload).toMatchObject({ sub: data.user.id, user_id: data.user.id, email: root.email, role: 'super_user' });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('answers an unknown email and a wrong password alike: 401 "invalid email or password"', async () => {
    const unknown = await api.login(freshEmail('nobody'), root.password);
    const wrong = await api.login(root.email, `${root.password}x`);
    for (const answer of [unknown, wrong]) {
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json()).toMatchObject({ status: 401, code: 'unauthorized', detail: 'invalid email or password' });
    }
    expect(Object.keys(unknown.json()).sort()).toEqual(Object.keys(wrong.json()).sort());
  });

  it('answers 400 naming the field for a blank email or password', async () => {
    for (const [body, field] of [[{ email: '', password: 'x' }, 'email'], [{ email: 'a@example.com', password: '' }, 'password']] as const) {
      const answer = await api.post('/auth/login', body);
      expect(answer.statusCode).toBe(400);
      expect(answer.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toContain(field);
    }
  });

  it('throttles failed logins per account (even with the right password, from another address) and lets other accounts in', async () => {
    const user = await userWithRole('manager');
    const address = freshAddress();
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await api.login(user.email, 'not-the-password-at-all', address)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const locked = await api.login(user.email, user.password, freshAddress());
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(50);
    expect(locked.json()).toMatchObject({ code: 'rate_limited' });
    expect((await api.login(root.email, root.password, address)).statusCode).toBe(200);
  });

  it('verifies a bcrypt hash imported from the older service and replaces it with argon2id at that login', async () => {
    const email = freshEmail('legacy');
    const oldHash = bcrypt.hashSync('older-six', 10).replace(/^\$2b\$/, '$2a$');
    const now = new Date('2024-01-15T10:00:00Z');
    const users = mongo.db(new URL(gateway.context.config.MONGO_URL).pathname.slice(1)).collection('users');
    await users.insertOne({ _id: 'legacy-1' as never, name: 'Old Timer', email, email_normalized: email, password: oldHash, role: 'manager', created_at: now, updated_at: now });
    expect((await api.login(email, 'older-six')).statusCode).toBe(200);
    const stored = await users.findOne({ email_normalized: email });
    expect(stored?.['password']).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await api.login(email, 'older-six')).statusCode).toBe(200);
    expect((await api.login(email, 'older-seven')).statusCode).toBe(401);
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; replaying a used one revokes the whole sign-in', async () => {
    const { session } = await userWithRole('manager');
    const first = await api.post('/auth/refresh', { refresh_token: session.refresh_token });
    expect(first.statusCode).toBe(200);
    const next = first.json<SessionBody>().data;
    expect(next.refresh_token).not.toBe(session.refresh_token);
    expect((await gateway.app.inject({ url: '/api/v1/users?limit=1', headers: { authorization: `Bearer ${next.token}` } })).statusCode).toBe(200);

    const replay = await api.post('/auth/refresh', { refresh_token: session.refresh_token });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ detail: 'invalid refresh token' });
    // the thief's replay also ends the legitimate holder's newer token
    expect((await api.post('/auth/refresh', { refresh_token: next.refresh_token })).statusCode).toBe(401);
  });

  it('stop at logout', async () => {
    const { session } = await userWithRole('manager');
    expect((await api.post('/auth/logout', { refresh_token: session.refresh_token })).statusCode).toBe(204);
    expect((await api.post('/auth/refresh', { refresh_token: session.refresh_token })).statusCode).toBe(401);
  });

  it("fail at once after the user's demotion, while a new login carries the new role", async () => {
    const admin = await userWithRole('admin');
    const demoted = await api.call('PUT', `/users/${admin.id}`, rootToken, { role: 'manager' });
    expect(demoted.statusCode, demoted.body).toBe(200);
    expect(demoted.json()).toMatchObject({ data: { id: admin.id, role: 'manager' } });
    expect((await api.post('/auth/refresh', { refresh_token: admin.session.refresh_token })).statusCode).toBe(401);
    const again = await api.session(admin.email, admin.password);
    expect(again.user.role).toBe('manager');
    expect((await api.post('/users', { name: 'x', email: freshEmail(), password: goodPassword() }, { token: again.token })).statusCode).toBe(403);
  });

  it("fail at once after the user's deletion, and the user can no longer log in", async () => {
    const manager = await userWithRole('manager');
    expect((await api.call('DELETE', `/users/${manager.id}`, rootToken)).statusCode).toBe(204);
    expect((await api.post('/auth/refresh', { refresh_token: manager.session.refresh_token })).statusCode).toBe(401);
    expect((await api.login(manager.email, manager.password)).statusCode).toBe(401);
    expect((await api.call('GET', `/users/${manager.id}`, rootToken)).statusCode).toBe(404);
  });
});

describe('register', () => {
  it('needs an admin or super_user token, and gives roles only up to the caller’s own', async () => {
    const body = () => ({ name: 'New Person', email: freshEmail('new'), password: goodPassword(), role: 'manager' });
    expect((await api.post('/auth/register', body())).statusCode).toBe(401);
    const manager = await userWithRole('manager');
    expect((await api.post('/auth/register', body(), { token: manager.session.token })).statusCode).toBe(403);
    const admin = await userWithRole('admin');
    const made = await api.post('/auth/register', body(), { token: admin.session.token });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json<SessionBody>().data).toMatchObject({ token: expect.any(String), user: { role: 'manager' } });
    const escalation = await api.post('/auth/register', { ...body(), role: 'super_user' }, { token: admin.session.token });
    expect(escalation.statusCode).toBe(403);
    expect(escalation.json()).toMatchObject({ detail: 'role admin may not create a super_user' });
  });

  it('refuses short, common and self-describing passwords with 400 naming password, and a taken email with 409', async () => {
    const email = freshEmail('pw');
    for (const password of ['short-pw', 'qwerty123456', 'password1234!', 'abcabcabcabcabc', `${email.split('@')[0]}-2024!`]) {
      const answer = await api.post('/auth/register', { name: 'Pat', email, password }, { token: rootToken });
      expect(answer.statusCode, password).toBe(400);
      expect(answer.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field), password).toEqual(['password']);
    }
    expect((await api.post('/auth/register', { name: 'Pat', email, password: goodPassword() }, { token: rootToken })).statusCode).toBe(201);
    const taken = await api.post('/auth/register', { name: 'Pat', email: email.toUpperCase(), password: goodPassword() }, { token: rootToken });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'email_taken' });
  });
});

describe('/users', () => {
  it('is read by every role (super_user included), created by admins, changed and deleted by super users only', async () => {
    const manager = await userWithRole('manager');
    const admin = await userWithRole('admin');
    for (const token of [rootToken, admin.session.token, manager.session.token]) {
      const list = await api.call('GET', '/users?limit=500', token);
      expect(list.statusCode).toBe(200);
      expect(list.json<{ data: Array<{ id: string }> }>().data.map((u) => u.id)).toContain(manager.id);
      const one = await api.call('GET', `/users/${manager.id}`, token);
      expect(Object.keys(one.json<{ data: object }>().data).sort()).toEqual(['created_at', 'email', 'id', 'name', 'role', 'updated_at']);
    }
    expect((await api.post('/users', { name: 'M', email: freshEmail(), password: goodPassword() }, { token: manager.session.token })).statusCode).toBe(403);
    const byAdmin = await api.post('/users', { name: 'M', email: freshEmail(), password: goodPassword() }, { token: admin.session.token });
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.headers['location']).toBe(`/api/v1/users/${byAdmin.json<{ data: { id: string } }>().data.id}`);
    const put = await api.call('PUT', `/users/${manager.id}`, admin.session.token, { name: 'Renamed' });
    expect(put.statusCode).toBe(403);
    expect(put.json()).toMatchObject({ detail: 'role admin may not manage users' });
    expect((await api.call('DELETE', `/users/${manager.id}`, admin.session.token)).statusCode).toBe(403);
  });

  it('keeps the last super_user', async () => {
    const users = await api.call('GET', '/users?limit=500', rootToken);
    const supers = users.json<{ data: Array<{ id: string; role: string }> }>().data.filter((u) => u.role === 'super_user');
    expect(supers).toHaveLength(1);
    const refused = await api.call('DELETE', `/users/${supers[0]!.id}`, rootToken);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'last_super_user' });
  });
});

describe('self-registration (AUTH_SELF_REGISTRATION=true)', () => {
  let open: InProcessService<GatewayConfig>;

  beforeAll(async () => {
    open = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...(await isolatedEnv()), AUTH_SELF_REGISTRATION: 'true' });
  }, 60_000);
  afterAll(() => open?.stop());

  it('lets anyone register as a manager, and no higher', async () => {
    const self = gatewayCalls(open);
    const made = await self.post('/auth/register', { name: 'Sam', email: freshEmail('self'), password: goodPassword() });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json<SessionBody>().data.user.role).toBe('manager');
    const higher = await self.post('/auth/register', { name: 'Sam', email: freshEmail('self'), password: goodPassword(), role: 'admin' });
    expect(higher.statusCode).toBe(403);
    expect(higher.json()).toMatchObject({ detail: 'self-registration creates managers only' });
  });
});
