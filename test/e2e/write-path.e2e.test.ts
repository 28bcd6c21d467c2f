import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, isolatedEnv, spawnService, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';

let env: IsolatedEnv;
let gateway: ServiceProcess;
let clients: ServiceProcess;
let read: ServiceProcess;
let api: string;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  env = await isolatedEnv();
  read = await spawnService('read', { ...env });
  started.push(read);
  clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' });
  started.push(clients);
  gateway = await spawnService('gateway', { ...env, READ_URL: read.url, WRITE_TIMEOUT_MS: '4000', BODY_LIMIT_BYTES: '4096' });
  started.push(gateway);
  await Promise.all(started.map((s) => waitUntilReady(s)));
  api = `${gateway.url}/api/v1`;
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
});

const email = () => `user-${randomUUID()}@example.com`;
const newClient = (overrides: Record<string, unknown> = {}) => ({
  name: 'John Doe',
  email: email(),
  stage: 'registration',
  source: 'website',
  channel: 'organic',
  app: 'not_installed',
  last_login: '2024-01-15T10:00:00Z',
  contracts: [{ id: 'contract123', autopayment: 'enabled' }],
  ...overrides,
});

async function create(overrides: Record<string, unknown> = {}) {
  const answer = await http('POST', `${api}/clients`, newClient(overrides));
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.data as { id: string; email: string; version: number; stage: string };
}

function expectProblem(answer: { status: number; headers: Headers; body: any }, status: number, code: string, field?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body).toMatchObject({ status, code });
  if (field) expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

describe('POST /clients', () => {
  it('creates a client with the seed request body: 201 with every field populated', async () => {
    const body = newClient({ is_active: false });
    const answer = await http('POST', `${api}/clients`, body);
    expect(answer.status).toBe(201);
    expect(answer.body.data).toMatchObject({ ...body, last_login: '2024-01-15T10:00:00.000Z', version: 1, is_active: false });
    expect(answer.body.data.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(answer.body.data.registration_date)).toBeGreaterThan(Date.now() - 60_000);
  });

  it.each([
    ['a malformed email', { email: 'john.doe@' }, 'email'],
    ['an unknown stage', { stage: 'moon' }, 'stage'],
    ['a wrong field type', { is_active: 'yes' }, 'is_active'],
    ['a server-owned field', { id: 'mine' }, 'id'],
    ['a server-owned date', { registration_date: '2020-01-01T00:00:00Z' }, 'registration_date'],
    ['an unknown app status', { app: 'maybe' }, 'app'],
    ['a missing name', { name: undefined }, 'name'],
  ])('refuses %s with 400 naming the field', async (_case, overrides, field) => {
    expectProblem(await http('POST', `${api}/clients`, newClient(overrides)), 400, 'validation_failed', field);
  });

  it('refuses an email already used, whatever its case: 409', async () => {
    const first = await create();
    expectProblem(await http('POST', `${api}/clients`, newClient({ email: first.email.toUpperCase() })), 409, 'email_taken');
  });

  it('refuses a body over the size limit with 413 and a JSON that does not parse with 400', async () => {
    expect((await http('POST', `${api}/clients`, newClient({ name: 'x'.repeat(5000) }))).status).toBe(413);
    expect((await http('POST', `${api}/clients`, '{"name": ')).status).toBe(400);
  });
});

describe('PUT /clients/{id}/stage', () => {
  it('moves to the next stage and updates the fields: 200', async () => {
    const client = await create();
    const answer = await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email, name: 'Jane Doe', stage: 'next' }));
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ stage: 'product_selection', name: 'Jane Doe', version: 2 });
  });

  it('treats the current stage as a no-op: 200, nothing changes', async () => {
    const client = await create();
    const answer = await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email }));
    expect(answer.status).toBe(200);
    expect(answer.body.data).toMatchObject({ stage: 'registration', version: 1 });
  });

  it('refuses a move the process does not allow, and "prev" from the first stage: 400', async () => {
    const client = await create();
    expectProblem(await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email, stage: 'completed' })), 400, 'illegal_transition');
    expectProblem(await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email, stage: 'prev' })), 400, 'illegal_transition');
  });

  it('answers 404 for an unknown client and never creates one', async () => {
    const id = randomUUID();
    expectProblem(await http('PUT', `${api}/clients/${id}/stage`, newClient()), 404, 'not_found');
    expectProblem(await http('DELETE', `${api}/clients/${id}`), 404, 'not_found');
  });

  it("refuses another client's email: 409", async () => {
    const [a, b] = [await create(), await create()];
    expectProblem(await http('PUT', `${api}/clients/${b.id}/stage`, newClient({ email: a.email })), 409, 'email_taken');
  });
});

describe('PATCH, DELETE and the timeline', () => {
  it('changes only the given fields, deletes, and shows each step in the history', async () => {
    const client = await create();
    const correlation = `corr-${randomUUID()}`;
    const patched = await http('PATCH', `${api}/clients/${client.id}`, { app: 'installed', channel: null }, { 'x-correlation-id': correlation });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ app: 'installed', channel: null, source: 'website', version: 2 });
    expectProblem(await http('PATCH', `${api}/clients/${client.id}`, { stage: 'next' }), 400, 'validation_failed', 'stage');
    expect((await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email, app: 'installed', channel: undefined, stage: 'next' }))).status).toBe(200);
    expect((await http('PUT', `${api}/clients/${client.id}/stage`, newClient({ email: client.email, app: 'installed', channel: undefined, stage: 'prev' }))).status).toBe(200);
    expect((await http('DELETE', `${api}/clients/${client.id}`)).status).toBe(204);

    const history = await http('GET', `${api}/clients/${client.id}/history`);
    expect(history.status).toBe(200);
    const steps = history.body.data.map((e: { type: string }) => e.type);
    expect(steps).toEqual(['ClientCreated', 'ClientUpdated', 'ClientStageChanged', 'ClientStageChanged', 'ClientDeleted']);
    expect(history.body.data[1].changes).toEqual({ app: { from: 'not_installed', to: 'installed' }, channel: { from: 'organic', to: null } });
    expect(history.body.data[3]).toMatchObject({ from: 'product_selection', to: 'registration', rollback: true });
    expect(history.body.data[0].actor).toMatchObject({ subject: 'test-admin', role: 'admin' });
    expect(history.body.data[1].correlation_id).toBe(correlation);

    // the audit trail: one log line per change with who, through which request and command
    const audit = await waitFor(() =>
      clients
        .output()
        .split('\n')
        .filter((line) => line.includes('"client changed"'))
        .map((line) => JSON.parse(line) as { audit: Record<string, unknown> })
        .find((line) => line.audit['correlation_id'] === correlation),
    );
    expect(audit.audit).toMatchObject({ type: 'ClientUpdated', client_id: client.id, version: 2, command_id: history.body.data[1].command_id });
    expect(audit.audit['actor']).toMatchObject({ subject: 'test-admin', role: 'admin', ip: expect.any(String) });
    expectProblem(await http('GET', `${api}/clients/${randomUUID()}/history`), 404, 'not_found');
  });

  it('frees the email of a deleted client for a new one', async () => {
    const client = await create();
    expect((await http('DELETE', `${api}/clients/${client.id}`)).status).toBe(204);
    await create({ email: client.email });
  });
});

describe('Idempotency-Key', () => {
  it('replays the stored answer to a retry, 422 for the same key with another body', async () => {
    const key = randomUUID();
    const body = newClient();
    const first = await http('POST', `${api}/clients`, body, { 'idempotency-key': key });
    const retry = await http('POST', `${api}/clients`, body, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(await http('POST', `${api}/clients`, { ...body, name: 'Other' }, { 'idempotency-key': key }), 422, 'idempotency_key_reused');
  });

  it('answers a request sent again while the first is in flight with the first one\'s outcome, applied once', async () => {
    const key = randomUUID();
    const body = newClient();
    const [a, b] = await Promise.all([
      http('POST', `${api}/clients`, body, { 'idempotency-key': key }),
      http('POST', `${api}/clients`, body, { 'idempotency-key': key }),
    ]);
    // the second waits on the first one's lease instead of being refused with 409
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body).toEqual(a.body);
    expect([a.headers.get('idempotent-replayed'), b.headers.get('idempotent-replayed')].sort()).toEqual(['true', null].sort());
    const listed = await http('GET', `${api}/clients?email=${encodeURIComponent(body.email)}`, undefined, { 'cache-control': 'no-cache' });
    expect(listed.body.meta.total).toBe(1);
  });
});

describe('GET /stages', () => {
  it('describes the configured process', async () => {
    const answer = await http('GET', `${api}/stages`);
    expect(answer.status).toBe(200);
    expect(answer.body.data.stages).toHaveLength(12);
    expect(answer.body.data.stages[0]).toMatchObject({ id: 'registration', order: 1, transitions: ['product_selection'] });
    expect(answer.body.data.conversion).toBe('completed');
  });
});

describe('when the clients service is down', () => {
  it('answers 202 with an operation, which reports the result once the command is applied', async () => {
    await clients.stop('SIGTERM');
    const accepted = await http('POST', `${api}/clients`, newClient());
    expect(accepted.status).toBe(202);
    const location = accepted.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v1\/operations\/[A-Za-z0-9_-]+$/);
    const pending = await http('GET', `${gateway.url}${location}`);
    expect(pending.body.data).toMatchObject({ status: 'pending' });

    clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000', LOG_LEVEL: 'info' });
    started.push(clients);
    await waitUntilReady(clients);
    const done = await waitFor(
      async () => {
        const operation = await http('GET', `${gateway.url}${location}`);
        return operation.body.data.status === 'completed' && operation.body.data;
      },
      { what: 'operation completed', timeoutMs: 60_000 },
    );
    expect(done.result.status).toBe(201);
    expect(done.result.body.data.id).toBe(done.client_id);
    expectProblem(await http('GET', `${api}/operations/unknown-op`), 404, 'not_found');
  }, 90_000);
});
