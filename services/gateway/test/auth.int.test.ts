import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalHeaders, isolatedEnv, runInProcess, tokenFor, uniqueId, waitFor, type InProcessService } from '@trackme/testkit';
import { MongoClient } from 'mongodb';
import { composeRead } from '../../read/src/compose.js';
import { ReadConfigSchema, type ReadConfig } from '../../read/src/config.js';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';
import { hashPassword } from '../src/users/password-hasher.js';
import { UserStore } from '../src/users/user-store.js';

/**
 * Who may call what: every API route against a missing or bad token (401) and against each role
 * (403 or the route's own answer). Requests are built so an allowed call has a known answer
 * without side effects: invalid bodies (400 comes after authorization), unknown ids.
 */

let gateway: InProcessService<GatewayConfig>;
let read: InProcessService<ReadConfig>;
const started: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  const env = await isolatedEnv();
  read = await runInProcess('read', ReadConfigSchema, composeRead, { ...env });
  started.push(read);
  const readPort = (read.app.server.address() as { port: number }).port;
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, READ_URL: `http://127.0.0.1:${readPort}` });
  started.push(gateway);
  await waitFor(async () => (await gateway.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready', timeoutMs: 30_000 });
}, 90_000);

afterAll(async () => {
  for (const service of started.reverse()) await service.stop();
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface RouteCase {
  method: Method;
  url: string;
  body?: unknown;
  /** what an allowed caller gets */
  allowed: number;
  /** what a manager may call: every read, and the metrics trigger as the older service allowed */
  manager: boolean;
  /** changing and deleting users: super users only */
  superUserOnly?: boolean;
}

const ROUTES: RouteCase[] = [
  { method: 'GET', url: '/api/v1/stages', allowed: 200, manager: true },
  { method: 'GET', url: '/api/v1/clients?limit=1', allowed: 200, manager: true },
  { method: 'GET', url: '/api/v1/clients/nobody', allowed: 404, manager: true },
  { method: 'GET', url: '/api/v1/clients/nobody/history', allowed: 404, manager: true },
  { method: 'GET', url: '/api/v1/operations/nothing', allowed: 404, manager: true },
  { method: 'GET', url: '/api/v1/metrics?interval=year', allowed: 400, manager: true },
  { method: 'GET', url: '/api/v1/metrics/jobs/bad$id', allowed: 400, manager: true },
  { method: 'POST', url: '/api/v1/clients', body: {}, allowed: 400, manager: false },
  { method: 'PUT', url: '/api/v1/clients/nobody/stage', body: {}, allowed: 400, manager: false },
  { method: 'PATCH', url: '/api/v1/clients/nobody', body: { bogus: 1 }, allowed: 400, manager: false },
  { method: 'DELETE', url: '/api/v1/clients/bad$id', allowed: 400, manager: false },
  { method: 'POST', url: '/api/v1/events', body: {}, allowed: 400, manager: false },
  { method: 'GET', url: '/api/v1/metrics/calculate', allowed: 400, manager: true },
  { method: 'POST', url: '/api/v1/metrics/calculate', allowed: 400, manager: true },
  { method: 'GET', url: '/api/v1/users?limit=1', allowed: 200, manager: true },
  { method: 'GET', url: '/api/v1/users/nobody', allowed: 404, manager: true },
  { method: 'POST', url: '/api/v1/users', body: {}, allowed: 400, manager: false },
  { method: 'POST', url: '/api/v1/auth/register', body: {}, allowed: 400, manager: false },
  { method: 'PUT', url: '/api/v1/users/nobody', body: {}, allowed: 400, manager: false, superUserOnly: true },
  { method: 'DELETE', url: '/api/v1/users/nobody', allowed: 404, manager: false, superUserOnly: true },
];

async function call(route: RouteCase, authorization?: string) {
  return gateway.app.inject({
    method: route.method,
    url: route.url,
    ...(route.body !== undefined ? { payload: route.body as object } : {}),
    headers: authorization ? { authorization } : {},
  });
}

describe('authentication', () => {
  it('refuses every API route without a token: 401 with a Bearer challenge, as problem+json', async () => {
    for (const route of ROUTES) {
      const answer = await call(route);
      expect(answer.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="trackme"');
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('leaves health, readiness and the Swagger page open', async () => {
    for (const url of ['/healthz', '/readyz', '/api/v1/swagger/']) expect((await gateway.app.inject({ url })).statusCode, url).toBe(200);
  });

  it("answers the older service's heartbeat at the root, outside the base path, without a token", async () => {
    const answer = await gateway.app.inject({ url: '/' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toContain('text/plain');
    expect(answer.body).toBe('.');
    expect((await gateway.app.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(200);
  });

  it("takes the token with or without the Bearer prefix, as the older service did, and no other scheme", async () => {
    const token = await tokenFor('admin');
    expect((await call(ROUTES[1]!, token)).statusCode).toBe(ROUTES[1]!.allowed);
    expect((await call(ROUTES[1]!, `bearer ${token}`)).statusCode).toBe(ROUTES[1]!.allowed);
    for (const other of [`Basic ${token}`, `Token ${token}`, `${token} ${token}`]) {
      const answer = await call(ROUTES[1]!, other);
      expect(answer.statusCode, other.slice(0, 12)).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="trackme"');
    }
    expect((await call(ROUTES[1]!, 'Bearer')).statusCode).toBe(401);
    const bare = await call(ROUTES[1]!, 'not.a.jwt');
    expect(bare.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  const now = () => Math.floor(Date.now() / 1000);
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const BAD_TOKENS: Array<[string, () => Promise<string>, string]> = [
    ['malformed', async () => 'Bearer not.a.jwt', 'malformed token'],
    ['expired', async () => `Bearer ${await tokenFor('admin', { exp: now() - 120 })}`, 'token expired'],
    ['not yet valid', async () => `Bearer ${await tokenFor('admin', { nbf: now() + 600 })}`, 'token not yet valid'],
    ['another issuer', async () => `Bearer ${await tokenFor('admin', { iss: 'elsewhere' })}`, 'claim iss is not accepted'],
    ['another audience', async () => `Bearer ${await tokenFor('admin', { aud: 'other-api' })}`, 'claim aud is not accepted'],
    ['alg none', async () => `Bearer ${b64({ alg: 'none' })}.${b64({ sub: 'x', role: 'super_user', iss: 'trackme', aud: 'trackme-api', exp: now() + 60 })}.`, 'algorithm is not accepted'],
    ['another key', async () => `Bearer ${await tokenFor('admin', {}, 'someone-elses-secret-that-is-long-enough')}`, 'signature does not verify'],
    ['RS256 without a JWKS (key confusion)', async () => `Bearer ${b64({ alg: 'RS256' })}.${b64({ sub: 'x', role: 'admin' })}.c2ln`, 'algorithm is not accepted'],
    // the header's alg is never written back: a quote would add parameters, a non-Latin-1 letter break the header
    ['an alg with quotes (challenge injection)', async () => `Bearer ${b64({ alg: 'x", error="injected' })}.${b64({ sub: 'x' })}.c2ln`, 'algorithm is not accepted'],
    ['an alg outside Latin-1', async () => `Bearer ${b64({ alg: 'H\u0416256' })}.${b64({ sub: 'x' })}.c2ln`, 'algorithm is not accepted'],
    ['no alg', async () => `Bearer ${b64({ typ: 'JWT' })}.${b64({ sub: 'x' })}.c2ln`, 'algorithm missing'],
  ];

  for (const [name, token, reason] of BAD_TOKENS) {
    it(`refuses a token that is ${name}: 401 invalid_token`, async () => {
      const answer = await call(ROUTES[1]!, await token());
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['www-authenticate']).toBe(`Bearer realm="trackme", error="invalid_token", error_description="${reason}"`);
      expect(answer.json()).toMatchObject({ status: 401, code: 'unauthorized', detail: `invalid token: ${reason}` });
    });
  }
});

describe('internal APIs', () => {
  it('answer only the gateway: its service token, not a user token or nothing', async () => {
    const url = '/internal/clients?limit=1&offset=0';
    expect((await read.app.inject({ url, headers: internalHeaders() })).statusCode).toBe(200);
    const bare = await read.app.inject({ url });
    expect(bare.statusCode).toBe(401);
    expect(bare.headers['www-authenticate']).toBe('Bearer realm="trackme-internal"');
    expect((await read.app.inject({ url, headers: { authorization: `Bearer ${await tokenFor('super_user')}` } })).statusCode).toBe(401);
    // its health endpoint stays open for probes, and Prometheus metrics for scrapers on their own port
    expect((await read.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await read.metrics.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('roles', () => {
  const expected = (role: string, route: RouteCase) => {
    if (role === 'super_user') return route.allowed;
    if (role === 'admin') return route.superUserOnly ? 403 : route.allowed;
    if (role === 'manager') return route.manager ? route.allowed : 403;
    return 403;
  };

  for (const role of ['super_user', 'admin', 'manager', 'root']) {
    it(`${role}: ${role === 'manager' ? 'reads and triggers metrics, writes nothing' : role === 'root' ? 'an unknown role may do nothing' : 'reads, writes and triggers metrics'}`, async () => {
      const authorization = `Bearer ${await tokenFor(role)}`;
      const got = [];
      for (const route of ROUTES) got.push(`${route.method} ${route.url} ${(await call(route, authorization)).statusCode}`);
      expect(got).toEqual(ROUTES.map((route) => `${route.method} ${route.url} ${expected(role, route)}`));
    });
  }

  it('answers 403 as problem+json naming what the role may not do', async () => {
    const answer = await call(ROUTES[7]!, `Bearer ${await tokenFor('manager')}`);
    expect(answer.statusCode).toBe(403);
    expect(answer.json()).toMatchObject({ code: 'forbidden', detail: 'role manager may not write' });
  });
});

describe('rate limits', () => {
  let limited: InProcessService<GatewayConfig>;

  beforeAll(async () => {
    limited = await runInProcess('gateway', GatewayConfigSchema, composeGateway, {
      ...(await isolatedEnv()),
      RATE_LIMIT_PER_CALLER: '3',
      RATE_LIMIT_PER_ADDRESS: '2',
      RATE_LIMIT_WINDOW_SECONDS: '2',
    });
    started.push(limited);
  }, 60_000);

  const stages = (authorization?: string) => limited.app.inject({ url: '/api/v1/stages', headers: authorization ? { authorization } : {} });

  it('answers 429 with Retry-After once a caller spent its budget, leaves other callers alone, and recovers', async () => {
    // start at the beginning of a window, so the budget is not split across two
    await new Promise((resolve) => setTimeout(resolve, 2_000 - (Date.now() % 2_000) + 50));
    const ann = `Bearer ${await tokenFor('manager', { sub: uniqueId('ann') })}`;
    const bob = `Bearer ${await tokenFor('manager', { sub: uniqueId('bob') })}`;
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await stages(ann)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await stages(ann);
    expect(refused.headers['retry-after']).toMatch(/^[12]$/);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((await stages(bob)).statusCode).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000 + 100));
    expect((await stages(ann)).statusCode).toBe(200);
  });

  it('limits callers without a valid token by address, before their token is even looked at', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2_000 - (Date.now() % 2_000) + 50));
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await stages()).statusCode);
    expect(statuses).toEqual([401, 401, 429]);
  });
});

describe('sign-in tokens', () => {
  const password = 'violet-harbour-lantern';
  let users: UserStore;
  let mongo: MongoClient;

  beforeAll(async () => {
    mongo = await MongoClient.connect(gateway.context.config.MONGO_URL);
    users = new UserStore(mongo.db());
  });
  afterAll(() => mongo?.close());

  async function signedIn(role: 'admin' | 'manager') {
    const email = `${uniqueId(role)}@example.com`.toLowerCase();
    const user = await users.create({ name: role, email, passwordHash: await hashPassword(password), role }, new Date());
    const answer = await gateway.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
    expect(answer.statusCode, answer.body).toBe(200);
    return { id: user._id as string, ...answer.json<{ data: { token: string; refresh_token: string } }>().data };
  }
  const refresh = (refreshToken: string) => gateway.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: refreshToken } });

  it('a login token is accepted as a bearer token beside HS256 ones, with the role it carries', async () => {
    const { token } = await signedIn('manager');
    expect((await call(ROUTES[1]!, `Bearer ${token}`)).statusCode).toBe(200);
    expect((await call(ROUTES[7]!, `Bearer ${token}`)).statusCode).toBe(403);
  });

  it('a refresh token replayed after rotation: 401, and the rotated one dies with it', async () => {
    const session = await signedIn('manager');
    const rotated = await refresh(session.refresh_token);
    expect(rotated.statusCode).toBe(200);
    const replayed = await refresh(session.refresh_token);
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json()).toMatchObject({ code: 'unauthorized', detail: 'invalid refresh token' });
    expect((await refresh(rotated.json<{ data: { refresh_token: string } }>().data.refresh_token)).statusCode).toBe(401);
  });

  it("a demoted user's refresh token: 401 at once", async () => {
    const session = await signedIn('admin');
    const demote = await gateway.app.inject({
      method: 'PUT',
      url: `/api/v1/users/${session.id}`,
      payload: { role: 'manager' },
      headers: { authorization: `Bearer ${await tokenFor('super_user')}` },
    });
    expect(demote.statusCode, demote.body).toBe(200);
    expect((await refresh(session.refresh_token)).statusCode).toBe(401);
  });

  it('a made-up refresh token: 401', async () => {
    expect((await refresh('A'.repeat(43))).statusCode).toBe(401);
  });
});
