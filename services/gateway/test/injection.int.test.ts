import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Topics } from '@trackme/contracts';
import { authed, isolatedEnv, runInProcess, topicMessageCount, TopicReader, waitFor, type InProcessService, type IsolatedEnv } from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

/**
 * The injection corpus: Mongo operators in any field, operator-shaped query strings, keys with
 * `$` or `.`, `$where`, oversized strings, wrong types and unicode tricks in emails. Each is a 400
 * naming the field, and none reaches anything that talks to Mongo: no command is published for
 * the clients service (the only writer), and the read service is never asked.
 */

let gateway: InProcessService<GatewayConfig>;
let readStandIn: FastifyInstance;
const readRequests: string[] = [];
let commands: TopicReader<{ fields: unknown }>;
let env: IsolatedEnv;

beforeAll(async () => {
  env = await isolatedEnv();
  readStandIn = Fastify({ logger: false });
  readStandIn.get('/*', async (request) => {
    readRequests.push(request.url);
    return { data: [], meta: { total: 0, limit: 50, offset: 0 } };
  });
  await readStandIn.listen({ host: '127.0.0.1', port: 0 });
  const readUrl = `http://127.0.0.1:${(readStandIn.server.address() as AddressInfo).port}`;
  // no clients service runs: a valid write is published and answered 202 after a short wait
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, READ_URL: readUrl, WRITE_TIMEOUT_MS: '300' });
  commands = await new TopicReader<{ fields: unknown }>(env, Topics.clientCommands, env.KAFKA_TOPIC_PREFIX).start();
}, 60_000);

afterAll(async () => {
  await commands?.stop();
  await gateway?.stop();
  await readStandIn?.close();
});

const valid = { name: 'Ann Lee', email: 'ann@example.com', stage: 'registration' };
const long = 'x'.repeat(5_000);
const nested = (depth: number): unknown => (depth === 0 ? 'x' : { a: nested(depth - 1) });
const manyUnknown = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`extra_${i}`, i]));

/** [what, method, url, body, field the problem must name] */
const CORPUS: Array<[string, 'GET' | 'POST' | 'PUT' | 'PATCH', string, unknown, string]> = [
  ['$ne in a string field', 'POST', '/clients', { ...valid, name: { $ne: null } }, 'name'],
  ['$gt in the email', 'POST', '/clients', { ...valid, email: { $gt: '' } }, 'email'],
  ['$ne in the stage', 'PUT', '/clients/c1/stage', { ...valid, stage: { $ne: 'completed' } }, 'stage'],
  ['$in in a boolean', 'PATCH', '/clients/c1', { is_active: { $in: [true, false] } }, 'is_active'],
  ['$where at the top level', 'POST', '/clients', { ...valid, $where: 'sleep(1000)' }, '$where'],
  ['a dotted key', 'POST', '/clients', { ...valid, 'contracts.0.autopayment': 'enabled' }, 'contracts.0.autopayment'],
  ['a $ key inside a contract', 'POST', '/clients', { ...valid, contracts: [{ id: 'k1', autopayment: 'enabled', $set: { stage: 'completed' } }] }, 'contracts.0.$set'],
  ['a contract id with $', 'POST', '/clients', { ...valid, contracts: [{ id: '$k1', autopayment: 'enabled' }] }, 'contracts.0.id'],
  ['a contract id with a dot', 'POST', '/clients', { ...valid, contracts: [{ id: 'k.1', autopayment: 'enabled' }] }, 'contracts.0.id'],
  ['an oversized name', 'POST', '/clients', { ...valid, name: long }, 'name'],
  ['an oversized source', 'PATCH', '/clients/c1', { source: long }, 'source'],
  ['a number for a string', 'POST', '/clients', { ...valid, name: 42 }, 'name'],
  ['a string for a boolean', 'PATCH', '/clients/c1', { is_active: 'true' }, 'is_active'],
  ['an array for the email', 'POST', '/clients', { ...valid, email: ['ann@example.com'] }, 'email'],
  ['a lookalike Cyrillic letter in the email', 'POST', '/clients', { ...valid, email: 'ann@ex\u0430mple.com' }, 'email'],
  ['a fullwidth at sign', 'POST', '/clients', { ...valid, email: 'ann\uFF20example.com' }, 'email'],
  ['a zero-width space in the email', 'POST', '/clients', { ...valid, email: 'ann\u200B@example.com' }, 'email'],
  ['a right-to-left override in the email', 'POST', '/clients', { ...valid, email: '\u202Emoc.elpmaxe@nna' }, 'email'],
  ['an email with a NUL byte', 'POST', '/clients', { ...valid, email: 'ann\u0000@example.com' }, 'email'],
  ['an operator-shaped query key', 'GET', '/clients?email[$ne]=x', undefined, 'email[$ne]'],
  ['an operator-shaped filter key', 'GET', '/clients?stage[$gt]=', undefined, 'stage[$gt]'],
  ['$where in the query', 'GET', '/clients?$where=1', undefined, '$where'],
  ['an operator as a filter value', 'GET', '/clients?stage={"$ne":null}', undefined, 'stage'],
  ['an oversized filter', 'GET', `/clients?source=${long.slice(0, 500)}`, undefined, 'source'],
  ['a client id with an operator', 'GET', '/clients/%24ne', undefined, 'id'],
  ['$ne in an activity event', 'POST', '/events', { events: { $ne: null } }, 'events'],
  ['a body nested 40 levels deep', 'POST', '/clients', { ...valid, source: nested(40) }, `source${'.a'.repeat(31)}`],
  ['5,000 unknown fields (the answer lists 20)', 'POST', '/clients', { ...valid, ...manyUnknown }, 'extra_0'],
  ['$ne as the login email', 'POST', '/auth/login', { email: { $ne: null }, password: 'whatever-it-is' }, 'email'],
  ['$gt as the login password', 'POST', '/auth/login', { email: 'ann@example.com', password: { $gt: '' } }, 'password'],
  ['$where beside a login', 'POST', '/auth/login', { email: 'ann@example.com', password: 'whatever-it-is', $where: '1' }, '$where'],
  ['an overlong login password', 'POST', '/auth/login', { email: 'ann@example.com', password: long }, 'password'],
  ['$ne as a refresh token', 'POST', '/auth/refresh', { refresh_token: { $ne: null } }, 'refresh_token'],
  ['an operator in a new user’s role', 'POST', '/users', { name: 'Ann', email: 'ann@example.com', password: 'violet-harbour-lantern', role: { $ne: 'manager' } }, 'role'],
  ['a user id with an operator', 'GET', '/users/%24ne', undefined, 'id'],
];

describe('the injection corpus', () => {
  for (const [what, method, url, body, field] of CORPUS) {
    it(`${what}: 400 naming ${field}`, async () => {
      const answer = await gateway.app.inject(
        await authed({ method, url: `/api/v1${url}`, ...(body === undefined ? {} : { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) }),
      );
      expect(answer.statusCode, answer.body).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      const problem = answer.json<{ errors?: Array<{ field: string }> }>();
      expect(problem.errors?.map((e) => e.field), answer.body).toContain(field);
    });
  }

  it('refuses a 1 MB password before reading it: 413 as problem+json', async () => {
    const answer = await gateway.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: JSON.stringify({ email: 'ann@example.com', password: 'x'.repeat(1_048_576) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.statusCode).toBe(413);
    expect(answer.headers['content-type']).toContain('application/problem+json');
  });

  it('let nothing through to the clients service or the read service', async () => {
    // valid requests do get through, so the reader and the stand-in would have seen any of the corpus
    const read = await gateway.app.inject(await authed({ method: 'GET', url: '/api/v1/clients?stage=registration' }));
    expect(read.statusCode).toBe(200);
    const write = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: valid }));
    expect(write.statusCode).toBe(202);
    const published = await waitFor(() => commands.messages[0], { what: 'the valid command' });
    expect(published.envelope.data).toMatchObject({ fields: valid });
    // the broker's offsets, not a reader that may lag: the valid command is the only one published
    expect(await topicMessageCount(env, Topics.clientCommands, env.KAFKA_TOPIC_PREFIX)).toBe(1);
    expect(readRequests).toEqual(['/internal/clients?stage=registration&is_active=true&limit=50&offset=0']);
  });
});
