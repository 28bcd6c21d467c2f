import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { http, isolatedEnv, spawnService, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';

/**
 * The gateway dies between publishing a command and answering it. The caller's retry with the same
 * Idempotency-Key, on a gateway started afterwards, resolves to the original outcome; an operation
 * answered 202 by the dead gateway still completes for GET /operations/{id}.
 */

const WRITE_TIMEOUT_MS = 4_000;
let env: IsolatedEnv;
let mongo: MongoClient;
const spawned: ServiceProcess[] = [];

async function start(name: 'gateway' | 'clients', extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await spawnService(name, { ...env, WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS), ...extra });
  spawned.push(service);
  await waitUntilReady(service, 60_000);
  return service;
}

/** Clients stopped (it leaves its group), so a command waits in Kafka while its gateway is killed. */
async function commandPublishedThenGatewayKilled(body: unknown, key: string, gatewayEnv: Record<string, string> = {}) {
  await Promise.all(spawned.filter((s) => s.name === 'clients').map((s) => s.stop('SIGTERM')));
  const gateway = await start('gateway', gatewayEnv);
  const pending = http('POST', `${gateway.url}/api/v1/clients`, body, { 'idempotency-key': key }).catch((error: unknown) => error);
  return { gateway, pending };
}

async function clientsNamed(email: string) {
  return mongo.db().collection('clients').find({ email_normalized: email }).toArray();
}

beforeAll(async () => {
  env = await isolatedEnv();
  mongo = await MongoClient.connect(env.MONGO_URL);
}, 60_000);

afterAll(async () => {
  await mongo?.close();
  await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
});

describe('a gateway killed between publish and reply', () => {
  it('answers the retry with the original outcome, applied once, within the write timeout', async () => {
    const email = `crash-${randomUUID()}@example.com`;
    const body = { name: 'Ann Lee', email };
    const key = `gw-crash-${randomUUID()}`;
    const { gateway, pending } = await commandPublishedThenGatewayKilled(body, key);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await gateway.stop('SIGKILL');
    expect(await pending).toBeInstanceOf(Error);

    // the command waited in Kafka; the clients service applies it while no gateway listens
    await start('clients');
    await waitFor(async () => (await clientsNamed(email)).length === 1, { what: 'the create applied', timeoutMs: 30_000 });
    const next = await start('gateway');

    const asked = Date.now();
    const retried = await http('POST', `${next.url}/api/v1/clients`, body, { 'idempotency-key': key });
    const took = Date.now() - asked;
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(took).toBeLessThan(WRITE_TIMEOUT_MS);
    const stored = await clientsNamed(email);
    expect(stored).toHaveLength(1);
    expect(retried.body).toMatchObject({ data: { id: stored[0]!._id, email } });

    const again = await http('POST', `${next.url}/api/v1/clients`, body, { 'idempotency-key': key });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  }, 120_000);

  it('answers a retry sent while the dead gateway still held the key, once its lease lapses', async () => {
    const email = `lease-${randomUUID()}@example.com`;
    const body = { name: 'Bo Chen', email };
    const key = `gw-lease-${randomUUID()}`;
    const { gateway, pending } = await commandPublishedThenGatewayKilled(body, key);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await gateway.stop('SIGKILL');
    await pending;
    const [next] = await Promise.all([start('gateway'), start('clients')]);
    // the caller retries until answered, as a careful client does; never a 409 for a dead owner's key
    const answers: number[] = [];
    const answer = await waitFor(
      async () => {
        const retried = await http('POST', `${next.url}/api/v1/clients`, body, { 'idempotency-key': key });
        answers.push(retried.status);
        return retried.status === 201 ? retried : undefined;
      },
      { what: 'the retry answered 201', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(answers.filter((status) => status !== 201 && status !== 202)).toEqual([]);
    expect(await clientsNamed(email)).toHaveLength(1);
    expect(answer.body).toMatchObject({ data: { email } });
  }, 120_000);

  it('completes the operation it answered 202 for, seen from another gateway', async () => {
    const email = `op-${randomUUID()}@example.com`;
    const key = `gw-op-${randomUUID()}`;
    const { gateway, pending } = await commandPublishedThenGatewayKilled({ name: 'Cy Diaz', email }, key, { WRITE_TIMEOUT_MS: '500' });
    const accepted = (await pending) as { status: number; headers: Headers; body: { data: { operation_id: string } } };
    expect(accepted.status).toBe(202);
    await gateway.stop('SIGKILL');

    // the reply comes while no gateway listens; the next one has never heard of it
    await start('clients');
    await waitFor(async () => (await clientsNamed(email)).length === 1, { what: 'the create applied', timeoutMs: 30_000 });
    const next = await start('gateway');
    const location = accepted.headers.get('location')!;
    const operation = await waitFor(
      async () => {
        const answer = await http('GET', `${next.url}${location}`);
        return answer.body.data.status === 'completed' ? answer.body.data : undefined;
      },
      { what: `operation ${location} completed`, timeoutMs: 3 * WRITE_TIMEOUT_MS, intervalMs: 200 },
    );
    const stored = await clientsNamed(email);
    expect(operation).toMatchObject({ operation_id: accepted.body.data.operation_id, result: { status: 201, body: { data: { id: stored[0]!._id } } } });
  }, 120_000);
});
