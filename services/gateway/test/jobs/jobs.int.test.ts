import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, isolatedEnv, runInProcess, tokenFor, waitFor, type InProcessService } from '@trackme/testkit';
import { composeClients } from '../../../clients/src/compose.js';
import { ClientsConfigSchema } from '../../../clients/src/config.js';
import { composeRead } from '../../../read/src/compose.js';
import { ReadConfigSchema } from '../../../read/src/config.js';
import { composeGateway } from '../../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../../src/config.js';

// gateway (with its job runner), clients and read in this process, against the real stack
let gateway: InProcessService<GatewayConfig>;
const others: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  const env = await isolatedEnv();
  const clients = await runInProcess('clients', ClientsConfigSchema, composeClients, { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const read = await runInProcess('read', ReadConfigSchema, composeRead, { ...env });
  others.push(clients, read);
  const address = read.app.server.address();
  const readPort = typeof address === 'object' && address ? address.port : 0;
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, READ_URL: `http://127.0.0.1:${readPort}`, IMPORT_MAX_BYTES: '20000' });
  for (const service of [clients, gateway]) {
    await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'ready', timeoutMs: 30_000 });
  }
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  for (const service of others) await service.stop();
});

const api = async (method: string, url: string, payload?: object, headers: Record<string, string> = {}) =>
  gateway.app.inject(await authed({ method: method as 'GET', url: `/api/v1${url}`, ...(payload ? { payload } : {}), headers }));
const person = (tag: string) => ({ name: `Person ${tag}`, email: `${tag}-${randomUUID()}@example.com` });

async function finished(location: string) {
  return waitFor(
    async () => {
      const job = (await gateway.app.inject(await authed({ url: location }))).json().data;
      return ['succeeded', 'partially_failed', 'failed', 'cancelled'].includes(job.status) && job;
    },
    { what: `job ${location}`, timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe('POST /clients/batch', () => {
  it('answers a small batch item by item: a bad item or a repeated email never refuses its neighbours', async () => {
    const first = person('batch');
    const answer = await api('POST', '/clients/batch', { items: [first, { name: 'No email' }, { ...person('x'), stage: 'moon' }, { ...first, name: 'Again' }] });
    expect(answer.statusCode).toBe(200);
    const [created, noEmail, badStage, repeated] = answer.json().data.results;
    expect(created).toMatchObject({ index: 0, status: 'created' });
    expect(noEmail).toMatchObject({ index: 1, status: 'invalid', errors: [{ field: 'email' }] });
    expect(badStage).toMatchObject({ status: 'invalid', errors: [{ field: 'stage', message: 'unknown stage "moon"' }] });
    expect(repeated).toMatchObject({ status: 'invalid', code: 'duplicate_email', errors: [{ field: 'email', message: 'repeats item 0' }] });
    const client = await api('GET', `/clients/${created.id}`, undefined, { 'cache-control': 'no-cache' });
    expect(client.json().data).toMatchObject({ email: first.email, name: first.name });
  });

  it('upserts by email: a known email updates its client, a new one is created', async () => {
    const known = person('known');
    const id = (await api('POST', '/clients', known)).json().data.id;
    await waitFor(async () => (await api('GET', `/clients?email=${encodeURIComponent(known.email)}`, undefined, { 'cache-control': 'no-cache' })).json().data.length === 1, { what: 'read model' });
    const answer = await api('POST', '/clients/batch', { mode: 'upsert', items: [{ ...known, email: known.email.toUpperCase(), source: 'fair' }, person('fresh')] });
    const [updated, fresh] = answer.json().data.results;
    expect(updated).toMatchObject({ status: 'updated', id });
    expect(fresh).toMatchObject({ status: 'created' });
    expect((await api('GET', `/clients/${id}`, undefined, { 'cache-control': 'no-cache' })).json().data.source).toBe('fair');
  });

  it('replays a batch retried with its Idempotency-Key, creating nothing twice', async () => {
    const body = { items: [person('idem'), person('idem')] };
    const key = randomUUID();
    const first = await api('POST', '/clients/batch', body, { 'idempotency-key': key });
    const again = await api('POST', '/clients/batch', body, { 'idempotency-key': key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect((await api('POST', '/clients/batch', { items: [person('other')] }, { 'idempotency-key': key })).statusCode).toBe(422);
  });

  it('runs a batch over 100 items as a job whose changes carry the job as actor and correlation', async () => {
    const items = Array.from({ length: 130 }, (_, i) => person(`job${i}`));
    items[7] = { name: 'Broken', email: 'not-an-email' };
    const answer = await api('POST', '/clients/batch', { items });
    expect(answer.statusCode).toBe(202);
    const location = answer.headers['location'] as string;
    expect(location).toBe(`/api/v1/jobs/${answer.json().data.id}`);
    const job = await finished(location);
    expect(job).toMatchObject({ kind: 'batch', status: 'partially_failed', counts: { total: 130, done: 130, succeeded: 129, refused: 0, failed: 1 }, eta_seconds: 0 });
    const report = (await gateway.app.inject(await authed({ url: `${location}?items_status=failed` }))).json().data.items;
    expect(report).toMatchObject({ matching: 1, data: [{ index: 7, status: 'failed', errors: [{ field: 'email' }] }] });
    const one = (await gateway.app.inject(await authed({ url: `${location}?items_offset=3&items_limit=1` }))).json().data.items.data[0];
    expect(one).toMatchObject({ index: 3, status: 'succeeded', outcome: 'created' });
    const history = (await api('GET', `/clients/${one.client_id}/history`)).json().data;
    expect(history[0]).toMatchObject({ type: 'ClientCreated', correlation_id: job.id, actor: { subject: `job:${job.id}`, role: 'admin' } });
  });

  it('cancels a job between items: what was done stays, the rest stays pending and untouched', async () => {
    // the largest batch, so the job is still running when the cancel arrives however fast the write path is
    const answer = await api('POST', '/clients/batch', { items: Array.from({ length: 1_000 }, (_, i) => person(`cancel${i}`)) });
    const location = answer.headers['location'] as string;
    const cancelled = await api('POST', `${location.replace('/api/v1', '')}/cancel`);
    expect(cancelled.statusCode).toBe(202);
    const job = await finished(location);
    expect(job.status).toBe('cancelled');
    expect(job.counts.done).toBeLessThan(1_000);
    const pending = (await gateway.app.inject(await authed({ url: `${location}?items_status=pending&items_limit=5` }))).json().data.items;
    expect(pending.matching).toBe(1_000 - job.counts.done);
    for (const item of pending.data) expect((await api('GET', `/clients/${item.client_id}`, undefined, { 'cache-control': 'no-cache' })).statusCode).toBe(404);
  });

  it('lets only admins and super users start or see jobs', async () => {
    const manager = { authorization: `Bearer ${await tokenFor('manager')}` };
    expect((await api('POST', '/clients/batch', { items: [person('m')] }, manager)).statusCode).toBe(403);
    expect((await api('GET', `/jobs/${randomUUID()}`, undefined, manager)).statusCode).toBe(403);
    expect((await api('GET', `/jobs/${randomUUID()}`)).statusCode).toBe(404);
    expect((await api('POST', '/clients/batch', { items: [] })).statusCode).toBe(400);
  });
});

describe('POST /clients/bulk', () => {
  async function seed(count: number) {
    const source = `bulk-${randomUUID().slice(0, 8)}`;
    const made = await api('POST', '/clients/batch', { items: Array.from({ length: count }, (_, i) => ({ ...person(`b${i}`), source })) });
    const ids = made.json().data.results.map((r: { id: string }) => r.id) as string[];
    await waitFor(async () => (await api('GET', `/clients?source=${source}`, undefined, { 'cache-control': 'no-cache' })).json().data.length === count, { what: 'read model' });
    return { source, ids };
  }
  const stageOf = async (id: string) => (await api('GET', `/clients/${id}`, undefined, { 'cache-control': 'no-cache' })).json().data.stage;

  it('moves every client of the filter to the next stage, keeping their other fields', async () => {
    const { source, ids } = await seed(3);
    const answer = await api('POST', '/clients/bulk', { filter: { source }, action: { type: 'stage', stage: 'next' } });
    expect(answer.statusCode).toBe(202);
    const job = await finished(answer.headers['location'] as string);
    expect(job).toMatchObject({ kind: 'bulk', status: 'succeeded', counts: { total: 3, succeeded: 3 }, spec: { filter: { source }, action: { type: 'stage', stage: 'next' } } });
    for (const id of ids) expect(await stageOf(id)).toBe('product_selection');
    expect((await api('GET', `/clients/${ids[0]}`, undefined, { 'cache-control': 'no-cache' })).json().data.source).toBe(source);
  });

  it('keeps a change made to a client after the move was submitted: a move names only the stage', async () => {
    const { source, ids } = await seed(2);
    // a job ahead of it in the lane keeps the move queued while the client is changed
    const ahead = await api('POST', '/clients/batch', { items: Array.from({ length: 300 }, (_, i) => person(`ahead${i}`)) });
    const answer = await api('POST', '/clients/bulk', { filter: { source }, action: { type: 'stage', stage: 'next' } });
    const location = answer.headers['location'] as string;
    const changed = await api('PATCH', `/clients/${ids[0]}`, { channel: 'partner', app: 'installed' });
    expect(changed.statusCode).toBe(200);
    expect((await gateway.app.inject(await authed({ url: location }))).json().data.status).toBe('queued');

    expect(await finished(location)).toMatchObject({ status: 'succeeded', counts: { succeeded: 2 } });
    const client = (await api('GET', `/clients/${ids[0]}`, undefined, { 'cache-control': 'no-cache' })).json().data;
    expect(client).toMatchObject({ stage: 'product_selection', channel: 'partner', app: { status: 'installed' }, source });
    await finished(ahead.headers['location'] as string);
  });

  it('reports the moves the process refuses instead of forcing them', async () => {
    const { source, ids } = await seed(2);
    const first = (await api('GET', `/clients/${ids[0]}`, undefined, { 'cache-control': 'no-cache' })).json().data;
    expect((await api('PUT', `/clients/${ids[0]}/stage`, { name: first.name, email: first.email, source, stage: 'product_selection' })).statusCode).toBe(200);
    const answer = await api('POST', '/clients/bulk', { filter: { source }, action: { type: 'stage', stage: 'data_consent' } });
    const job = await finished(answer.headers['location'] as string);
    expect(job.status).toBe('partially_failed');
    const refused = job.items.data.find((item: { status: string }) => item.status === 'refused');
    expect(refused).toMatchObject({ client_id: ids[1], code: expect.any(String), message: expect.stringContaining('not allowed') });
    expect(await stageOf(ids[1]!)).toBe('registration');
    expect(await stageOf(ids[0]!)).toBe('data_consent');
  });

  it('deactivates, then deletes, the clients of a filter', async () => {
    const { source, ids } = await seed(2);
    const off = await finished((await api('POST', '/clients/bulk', { filter: { source }, action: { type: 'set_active', is_active: false } })).headers['location'] as string);
    expect(off.counts).toMatchObject({ total: 2, succeeded: 2 });
    await waitFor(async () => (await api('GET', `/clients?source=${source}&is_active=false`, undefined, { 'cache-control': 'no-cache' })).json().data.length === 2, { what: 'read model' });
    const gone = await finished((await api('POST', '/clients/bulk', { filter: { source, is_active: false }, action: { type: 'delete' } })).headers['location'] as string);
    expect(gone.items.data.map((item: { outcome: string }) => item.outcome)).toEqual(['deleted', 'deleted']);
    for (const id of ids) expect((await api('GET', `/clients/${id}`, undefined, { 'cache-control': 'no-cache' })).statusCode).toBe(404);
  });

  it('refuses an unknown stage up front, naming the field', async () => {
    const answer = await api('POST', '/clients/bulk', { filter: {}, action: { type: 'stage', stage: 'moon' } });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors).toEqual([{ field: 'action.stage', message: 'unknown stage "moon"' }]);
  });
});

describe('POST /clients/import', () => {
  const upload = async (body: string, type: string, query = '') =>
    gateway.app.inject(await authed({ method: 'POST', url: `/api/v1/clients/import${query}`, payload: body, headers: { 'content-type': type } }));

  it('imports a CSV through a header mapping and reports every bad line by its number', async () => {
    const tag = randomUUID().slice(0, 8);
    const csv = [
      'Full name,E-mail,stage,is_active,Notes',
      `Ann,ann-${tag}@example.com,registration,true,vip`,
      `Bob,bob-${tag}@example.com,moon,true,`,
      `Cy,cy-${tag}@example.com,,maybe,`,
      `Dee,ANN-${tag}@example.com,,,`,
      `Eve,eve-${tag}@example.com,,false`,
      `Fay,fay-${tag}@example.com,,false,,extra`,
    ].join('\n');
    const answer = await upload(csv, 'text/csv', `?mapping=${encodeURIComponent('Full name:name,E-mail:email')}`);
    expect(answer.statusCode).toBe(202);
    const job = await finished(answer.headers['location'] as string);
    expect(job).toMatchObject({ kind: 'import', status: 'partially_failed', counts: { total: 6, succeeded: 1, failed: 5 }, spec: { format: 'csv', ignored_columns: ['Notes'] } });
    const byLine = Object.fromEntries(job.items.data.map((item: { line: number }) => [item.line, item]));
    expect(byLine[2]).toMatchObject({ status: 'succeeded', outcome: 'created' });
    expect(byLine[3]).toMatchObject({ status: 'failed', errors: [{ field: 'stage', message: 'unknown stage "moon"' }] });
    expect(byLine[4]).toMatchObject({ status: 'failed', errors: [{ field: 'is_active' }] });
    expect(byLine[5]).toMatchObject({ status: 'failed', code: 'duplicate_email', errors: [{ field: 'email', message: 'repeats line 2' }] });
    expect(byLine[6]).toMatchObject({ status: 'failed', code: 'malformed_line' });
    expect(byLine[7]).toMatchObject({ status: 'failed', code: 'malformed_line' });
    const ann = (await api('GET', `/clients/${byLine[2].client_id}`, undefined, { 'cache-control': 'no-cache' })).json().data;
    expect(ann).toMatchObject({ name: 'Ann', email: `ann-${tag}@example.com`, is_active: true });
  });

  it('checks a file in a dry run and writes nothing', async () => {
    const tag = randomUUID().slice(0, 8);
    const ndjson = `{"name":"Gil","email":"gil-${tag}@example.com"}\nnot json\n{"name":"Hal","email":"hal-${tag}@example.com","is_active":"yes"}\n`;
    const answer = await upload(ndjson, 'application/x-ndjson', '?dry_run=true');
    expect(answer.statusCode).toBe(202);
    const job = answer.json().data;
    expect(job).toMatchObject({ dry_run: true, status: 'partially_failed', counts: { total: 3, succeeded: 1, failed: 2 } });
    expect(job.items.data.map((item: { line: number; status: string }) => [item.line, item.status])).toEqual([[1, 'succeeded'], [2, 'failed'], [3, 'failed']]);
    const listed = await api('GET', `/clients?email=${encodeURIComponent(`gil-${tag}@example.com`)}`, undefined, { 'cache-control': 'no-cache' });
    expect(listed.json().data).toEqual([]);
  });

  it('refuses a file over IMPORT_MAX_BYTES with 413, and an unknown mapping field naming it', async () => {
    const big = `name,email\n${'x,y@example.com\n'.repeat(2_000)}`;
    const answer = await upload(big, 'text/csv');
    expect(answer.statusCode).toBe(413);
    expect(answer.json()).toMatchObject({ code: 'file_too_large' });
    const badMapping = await upload('a,b\n', 'text/csv', '?mapping=a:nickname');
    expect(badMapping.statusCode).toBe(400);
    expect(badMapping.json().errors[0].field).toBe('mapping');
  });
});
