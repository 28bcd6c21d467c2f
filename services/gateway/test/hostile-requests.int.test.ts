import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, isolatedEnv, runInProcess, tokenFor, uniqueId, waitFor, type InProcessService } from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

/**
 * Requests built to cost the gateway more than they cost the sender, or to break its answers:
 * bodies that would list thousands of errors, deep nesting, URLs and headers Node's parser or
 * the router refuses. Each gets a small problem+json answer, never a 500.
 */

let gateway: InProcessService<GatewayConfig>;

beforeAll(async () => {
  const env = await isolatedEnv();
  // no read service runs: nothing here may get past validation, and no-cache reads are refused before it
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, {
    ...env,
    READ_URL: 'http://127.0.0.1:9',
    // a loaded machine may take seconds for the first acknowledgement of a fresh topic
    WRITE_TIMEOUT_MS: '20000',
    RATE_LIMIT_NO_CACHE_PER_CALLER: '2',
    RATE_LIMIT_WINDOW_SECONDS: '60',
  });
  // POST /events waits for Kafka's acknowledgement: start once the producer is connected
  await waitFor(async () => (await gateway.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready', timeoutMs: 30_000 });
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
});

const valid = { name: 'Ann Lee', email: 'ann@example.com', stage: 'registration' };
const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
};

/** Raw bytes to the gateway's port; the answer as text. */
async function raw(request: string): Promise<string> {
  const { port } = gateway.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(text) : reject(error)));
  });
}

describe('error amplification', () => {
  it('answers a body of 87,000 empty contracts with a small problem, fast', async () => {
    const body = JSON.stringify({ ...valid, contracts: Array.from({ length: 87_000 }, () => ({})) });
    expect(body.length).toBeGreaterThan(250_000);
    const started = Date.now();
    const answer = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: body, headers: { 'content-type': 'application/json' } }));
    const elapsed = Date.now() - started;
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.body.length).toBeLessThan(16 * 1024);
    expect(answer.json().errors[0].field).toMatch(/^contracts/);
    // it listed 174,001 errors in 25 MB and took 0.68 s; the bound leaves room for a loaded machine
    expect(elapsed).toBeLessThan(2_000);
  });

  it('lists at most 20 errors of a small body and counts the rest', async () => {
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`unknown_${i}`, i]));
    const answer = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: { ...valid, ...extra } }));
    expect(answer.statusCode).toBe(400);
    const problem = answer.json();
    expect(problem.errors, answer.body).toHaveLength(20);
    expect(problem.more_errors).toBe(10);
    expect(problem.detail).toContain('and 10 more');
  });

  it('cuts a field name a caller made huge', async () => {
    const answer = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: { ...valid, ['k'.repeat(100_000)]: 1 } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.body.length).toBeLessThan(2_000);
  });
});

describe('nesting', () => {
  it('refuses activity properties nested 5,000 deep with 400 naming properties, not 500', async () => {
    // written by hand: JSON.stringify itself overflows the stack on 5,000 levels
    const properties = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const event = `{"event_id":"e-deep","type":"login","client_id":"c1","occurred_at":"2025-05-01T09:30:00Z","properties":${properties}}`;
    const answer = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/events', payload: event, headers: { 'content-type': 'application/json' } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors.map((e: { field: string }) => e.field).join(' ')).toMatch(/properties/);
  });

  it('takes properties 8 levels deep, refuses 9 levels and more than 4 KB, per event', async () => {
    const event = (id: string, properties: unknown) => ({ event_id: id, type: 'login', client_id: 'c1', occurred_at: '2025-05-01T09:30:00Z', properties });
    const answer = await gateway.app.inject(await authed({
      method: 'POST',
      url: '/api/v1/events',
      payload: { events: [event('e8', nested(8)), event('e9', nested(9)), event('big', { text: 'x'.repeat(5_000) })] },
    }));
    expect(answer.statusCode).toBe(202);
    const results = answer.json().data.results;
    expect(results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'rejected', 'rejected']);
    expect(results[1].errors).toEqual([{ field: 'properties', message: 'must not nest more than 8 levels deep' }]);
    expect(results[2].errors).toEqual([{ field: 'properties', message: 'must not exceed 4096 bytes as JSON' }]);
  });

  it('refuses any body nested deeper than 32 levels, naming where', async () => {
    const answer = await gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: { ...valid, name: nested(40) } }));
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors[0]).toMatchObject({ field: expect.stringMatching(/^name(\.a)+$/), message: 'must not nest more than 32 levels deep' });
  });
});

describe("the framework's own errors", () => {
  it('answers a URL that does not decode with problem+json', async () => {
    const answer = await gateway.app.inject(await authed({ url: '/api/v1/clients/%E0%A4%A' }));
    expect(answer.statusCode).toBe(400);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json()).toMatchObject({ status: 400, code: 'bad_url' });
  });

  it('answers oversized headers with 431 problem+json', async () => {
    const text = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(text).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, code: 'header_fields_too_large' });
  });

  it('answers bytes that are not HTTP with 400 problem+json', async () => {
    const text = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nBad\u0001Header: 1\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('application/problem+json');
  });
});

describe('safe methods stay safe', () => {
  it('refuses HEAD on the rollup trigger with 405, while GET still triggers', async () => {
    const head = await gateway.app.inject(await authed({ method: 'HEAD', url: '/api/v1/metrics/calculate' }));
    expect(head.statusCode).toBe(405);
    expect(head.headers['allow']).toBe('GET, POST');
    // a HEAD of a read stays allowed
    expect((await gateway.app.inject(await authed({ method: 'HEAD', url: '/api/v1/stages' }))).statusCode).toBe(200);
  });
});

describe('reads that skip the caches', () => {
  it('have a budget per caller: 429 with Retry-After past it, other callers unaffected', async () => {
    const as = async (role: string) => ({ authorization: `Bearer ${await tokenFor(role, { sub: uniqueId(role) })}`, 'cache-control': 'no-cache' });
    const manager = await as('manager');
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await gateway.app.inject({ url: '/api/v1/clients/c-none', headers: manager })).statusCode);
    // the first two reach for the read service (not running here: 503); the third is refused before
    expect(statuses).toEqual([503, 503, 429]);
    const refused = await gateway.app.inject({ url: '/api/v1/clients/c-none', headers: manager });
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.json()).toMatchObject({ code: 'rate_limited', detail: expect.stringContaining('no-cache') });
    expect((await gateway.app.inject({ url: '/api/v1/clients/c-none', headers: await as('admin') })).statusCode).toBe(503);
  });
});
