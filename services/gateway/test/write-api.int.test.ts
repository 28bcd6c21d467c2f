import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, isolatedEnv, runInProcess, waitFor, type InProcessService } from '@trackme/testkit';
import { composeClients } from '../../clients/src/compose.js';
import { ClientsConfigSchema } from '../../clients/src/config.js';
import { composeRead } from '../../read/src/compose.js';
import { ReadConfigSchema } from '../../read/src/config.js';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

// gateway, clients and read in this process, against the real Kafka, Mongo-wire server and Redis
let gateway: InProcessService<GatewayConfig>;
const others: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  const env = await isolatedEnv();
  const clients = await runInProcess('clients', ClientsConfigSchema, composeClients, { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const read = await runInProcess('read', ReadConfigSchema, composeRead, { ...env });
  others.push(clients, read);
  const address = read.app.server.address();
  const readPort = typeof address === 'object' && address ? address.port : 0;
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, READ_URL: `http://127.0.0.1:${readPort}` });
  for (const service of [clients, gateway]) {
    await waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'ready', timeoutMs: 30_000 });
  }
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  for (const service of others) await service.stop();
});

const post = async (body: unknown, headers: Record<string, string> = {}) =>
  gateway.app.inject(await authed({ method: 'POST', url: '/api/v1/clients', payload: body as object, headers }));

describe('gateway write API in process', () => {
  it('creates, patches, moves, deletes a client and reports its timeline', async () => {
    const email = `inproc-${randomUUID()}@example.com`;
    const created = await post({ name: 'Ann', email, source: 'ads' });
    expect(created.statusCode).toBe(201);
    const id = created.json().data.id as string;

    const patched = await gateway.app.inject(await authed({ method: 'PATCH', url: `/api/v1/clients/${id}`, payload: { app: 'installed' } }));
    expect(patched.json().data).toMatchObject({ app: 'installed', version: 2 });
    const moved = await gateway.app.inject(await authed({ method: 'PUT', url: `/api/v1/clients/${id}/stage`, payload: { name: 'Ann', email, stage: 'next' } }));
    expect(moved.json().data).toMatchObject({ stage: 'product_selection', source: null, app: 'not_installed' });
    const illegal = await gateway.app.inject(await authed({ method: 'PUT', url: `/api/v1/clients/${id}/stage`, payload: { name: 'Ann', email, stage: 'completed' } }));
    expect(illegal.statusCode).toBe(400);
    expect(illegal.headers['content-type']).toContain('application/problem+json');
    expect((await gateway.app.inject(await authed({ method: 'DELETE', url: `/api/v1/clients/${id}` }))).statusCode).toBe(204);

    const history = await gateway.app.inject(await authed({ url: `/api/v1/clients/${id}/history` }));
    expect(history.json().data.map((e: { type: string }) => e.type)).toEqual([
      'ClientCreated',
      'ClientUpdated',
      'ClientUpdated',
      'ClientStageChanged',
      'ClientDeleted',
    ]);
    // the token's subject and role act, from the caller's address, through one request each
    for (const entry of history.json().data as Array<{ actor: unknown; correlation_id: string; command_id: string }>) {
      expect(entry.actor).toEqual({ subject: 'test-admin', role: 'admin', ip: '127.0.0.1' });
      expect(entry.correlation_id).toBeTruthy();
      expect(entry.command_id).toBeTruthy();
    }
    expect((await gateway.app.inject(await authed({ url: `/api/v1/clients/${randomUUID()}/history` }))).statusCode).toBe(404);
  });

  it('moves only the stage with PATCH …/stage, keeping fields changed since the caller read the client', async () => {
    const email = `move-${randomUUID()}@example.com`;
    const id = (await post({ name: 'Dee', email, source: 'ads' })).json().data.id as string;
    const read = (await gateway.app.inject(await authed({ url: `/api/v1/clients/${id}` }))).json().data;
    // someone else changes the client after it was read
    await gateway.app.inject(await authed({ method: 'PATCH', url: `/api/v1/clients/${id}`, payload: { app: 'installed', channel: 'paid' } }));
    const move = async (stage: string) => gateway.app.inject(await authed({ method: 'PATCH', url: `/api/v1/clients/${id}/stage`, payload: { stage } }));

    const moved = await move('next');
    expect(moved.statusCode).toBe(200);
    expect(moved.json().data).toMatchObject({ stage: 'product_selection', app: 'installed', channel: 'paid', source: 'ads', name: read.name, version: 3 });
    expect((await move('product_selection')).json().data).toMatchObject({ stage: 'product_selection', version: 3 });
    const illegal = await move('completed');
    expect([illegal.statusCode, illegal.json().code]).toEqual([400, 'illegal_transition']);
    const unknown = await move('moon');
    expect([unknown.statusCode, unknown.json().errors]).toEqual([400, [{ field: 'stage', message: 'unknown stage "moon"' }]]);
    const extra = await gateway.app.inject(await authed({ method: 'PATCH', url: `/api/v1/clients/${id}/stage`, payload: { stage: 'next', name: 'X' } }));
    expect(extra.statusCode).toBe(400);
    expect((await gateway.app.inject(await authed({ method: 'PATCH', url: `/api/v1/clients/${randomUUID()}/stage`, payload: { stage: 'next' } }))).statusCode).toBe(404);

    const history = (await gateway.app.inject(await authed({ url: `/api/v1/clients/${id}/history` }))).json().data as Array<{ type: string; from?: string; to?: string }>;
    expect(history.map((e) => e.type)).toEqual(['ClientCreated', 'ClientUpdated', 'ClientStageChanged']);
    expect(history[2]).toMatchObject({ from: 'registration', to: 'product_selection' });
  });

  it('replays an Idempotency-Key retry and refuses the key with another body', async () => {
    const body = { name: 'Bo', email: `idem-${randomUUID()}@example.com` };
    const key = `"${randomUUID()}"`;
    const first = await post(body, { 'idempotency-key': key });
    const again = await post(body, { 'idempotency-key': key });
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await post({ ...body, name: 'Other' }, { 'idempotency-key': key })).statusCode).toBe(422);
  });

  it('refuses a stage the process does not have, naming the field', async () => {
    const created = await post({ name: 'Cy', email: `stage-${randomUUID()}@example.com`, stage: 'moon' });
    expect(created.statusCode).toBe(400);
    expect(created.json().errors).toEqual([{ field: 'stage', message: 'unknown stage "moon"' }]);
    const moved = await gateway.app.inject(await authed({ method: 'PUT', url: `/api/v1/clients/${randomUUID()}/stage`, payload: { name: 'Cy', email: 'cy@example.com', stage: 'moon' } }));
    expect(moved.statusCode).toBe(400);
  });

  it('serves the process and answers 404 for an unknown operation', async () => {
    expect((await gateway.app.inject(await authed({ url: '/api/v1/stages' }))).json().data.conversion).toBe('completed');
    const missing = await gateway.app.inject(await authed({ url: '/api/v1/operations/nope' }));
    expect(missing.statusCode).toBe(404);
  });
});

describe('gateway write API without Redis', () => {
  it('answers 503 to a request with an Idempotency-Key instead of running it unprotected', async () => {
    const env = await isolatedEnv();
    const lonely = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const answer = await lonely.app.inject(await authed({
        method: 'POST',
        url: '/api/v1/clients',
        payload: { name: 'Dee', email: `dee-${randomUUID()}@example.com` },
        headers: { 'idempotency-key': randomUUID() },
      }));
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ code: 'dependency_unavailable' });
      const ready = await lonely.app.inject({ url: '/readyz' });
      expect(ready.json().checks.redis).toBe('down');
    } finally {
      await lonely.stop();
    }
  });
});
