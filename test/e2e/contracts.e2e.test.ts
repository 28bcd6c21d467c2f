import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEventTypes, Topics } from '@trackme/contracts';
import { http, isolatedEnv, spawnService, TopicReader, waitFor, waitUntilReady, type ServiceProcess } from '@trackme/testkit';

/**
 * A contract as the older service's callers send it (nine fields) travels the whole system: the
 * write answer, the change event, the history, the list and GET /clients/{id}, with its
 * autopayment highlighted as before.
 */

let api: string;
let events: TopicReader<{ client_id: string; client: { contracts: unknown[] }; changes?: Record<string, unknown> }>;
const started: ServiceProcess[] = [];

beforeAll(async () => {
  const env = await isolatedEnv();
  const read = await spawnService('read', { ...env });
  const clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const gateway = await spawnService('gateway', { ...env, READ_URL: read.url });
  started.push(read, clients, gateway);
  await Promise.all(started.map((s) => waitUntilReady(s)));
  api = `${gateway.url}/api/v1`;
  events = await new TopicReader<never>(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
});

/** The older service's contract: every field it stored. */
const olderContract = {
  id: 'contract123',
  name: 'Premium plan',
  number: 'PR-2024-001',
  status: 'active',
  conclusion_date: '2024-01-15T10:00:00Z',
  expiration_date: '2025-01-15T13:00:00+03:00',
  amount: 1499.5,
  payment_frequency: 'monthly',
  autopayment: 'disabled',
};
/** The same contract as trackme answers it: dates in UTC. */
const storedContract = { ...olderContract, conclusion_date: '2024-01-15T10:00:00.000Z', expiration_date: '2025-01-15T10:00:00.000Z' };
const viewOf = (contract: typeof storedContract) => ({ ...contract, autopayment: { status: contract.autopayment, highlight: contract.autopayment === 'disabled' } });

describe('a contract with all nine fields', () => {
  it('is stored, answered by every read and carried by the change event', async () => {
    const source = `src-${randomUUID()}`;
    const created = await http('POST', `${api}/clients`, {
      name: 'John Doe',
      email: `user-${randomUUID()}@example.com`,
      stage: 'registration',
      source,
      contracts: [olderContract, { id: 'contract124', autopayment: 'enabled' }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.data.id as string;
    expect(created.body.data.contracts).toEqual([storedContract, { id: 'contract124', autopayment: 'enabled' }]);

    const byId = await http('GET', `${api}/clients/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.data.contracts).toEqual([viewOf(storedContract), { id: 'contract124', autopayment: { status: 'enabled', highlight: false } }]);

    const listed = await waitFor(async () => (await http('GET', `${api}/clients?source=${source}`)).body.data[0]);
    expect(listed.contracts).toEqual(byId.body.data.contracts);

    const event = await waitFor(() => events.messages.find((m) => m.key === id && m.envelope.type === ClientEventTypes.created));
    expect(event.envelope.data.client.contracts[0]).toEqual(storedContract);
  });

  it('changes with PATCH, and the history and the event record from what to what', async () => {
    const created = await http('POST', `${api}/clients`, { name: 'Jane Roe', email: `user-${randomUUID()}@example.com`, contracts: [olderContract] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.data.id as string;

    const renewed = { ...olderContract, status: 'renewed', amount: 1600, expiration_date: '2026-01-15T10:00:00Z', autopayment: 'enabled' };
    const patched = await http('PATCH', `${api}/clients/${id}`, { contracts: [renewed] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const after = { ...storedContract, status: 'renewed', amount: 1600, expiration_date: '2026-01-15T10:00:00.000Z', autopayment: 'enabled' };
    expect(patched.body.data).toMatchObject({ version: 2, contracts: [after] });

    const history = await http('GET', `${api}/clients/${id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.data.map((e: { type: string }) => e.type)).toEqual(['ClientCreated', 'ClientUpdated']);
    expect(history.body.data[1].changes).toEqual({ contracts: { from: [storedContract], to: [after] } });

    const event = await waitFor(() => events.messages.find((m) => m.key === id && m.envelope.type === ClientEventTypes.updated));
    expect(event.envelope.data.changes).toEqual({ contracts: { from: [storedContract], to: [after] } });

    // the read side follows: the highlight goes with the autopayment
    await waitFor(async () => {
      const read = await http('GET', `${api}/clients/${id}`, undefined, { 'cache-control': 'no-cache' });
      return read.body.data.version === 2 && JSON.stringify(read.body.data.contracts) === JSON.stringify([viewOf(after as typeof storedContract)]);
    });
  });
});
