import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { Topics } from '@trackme/contracts';
import { adminHeaders, http, isolatedEnv, spawnService, TopicReader, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess, seeded } from '@trackme/testkit';

const ITEMS = 700;
const KILLS = 3;

let env: IsolatedEnv;
let gatewayEnv: Record<string, string>;
let gateway: ServiceProcess;
let events: TopicReader<{ client_id: string; version: number }>;
let mongo: MongoClient;
const spawned: ServiceProcess[] = [];

beforeAll(async () => {
  env = await isolatedEnv();
  const clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  // a short lease, so a job whose gateway was killed resumes within seconds
  gatewayEnv = { ...env, JOB_LEASE_MS: '1500', JOB_WINDOW: '32', WRITE_TIMEOUT_MS: '3000' };
  gateway = await spawnService('gateway', gatewayEnv);
  spawned.push(clients, gateway);
  await Promise.all([waitUntilReady(clients), waitUntilReady(gateway)]);
  events = await new TopicReader<{ client_id: string; version: number }>(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();
  mongo = await MongoClient.connect(env.MONGO_URL);
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await mongo?.close();
  await Promise.all(spawned.map((s) => s.stop('SIGKILL')));
});

const jobOf = async (id: string) => (await http('GET', `${gateway.url}/api/v1/jobs/${id}?items_limit=1000`)).body?.data;

describe('a job whose gateway is killed (SIGKILL) at random moments', () => {
  it('resumes and ends with every item applied exactly once', async () => {
    const tag = randomUUID().slice(0, 8);
    const items = Array.from({ length: ITEMS }, (_, i) => ({ name: `Crash ${i}`, email: `crash-${tag}-${i}@example.com`, source: `s${i % 7}` }));
    const submitted = await http('POST', `${gateway.url}/api/v1/clients/batch`, { items });
    expect(submitted.status).toBe(202);
    const jobId = submitted.body.data.id as string;

    const random = seeded(20261204);
    for (let kill = 0; kill < KILLS; kill += 1) {
      await waitFor(async () => (await jobOf(jobId))?.status === 'running', { what: 'job running', timeoutMs: 60_000, intervalMs: 100 });
      await sleep(200 + Math.floor(random() * 1500));
      await gateway.stop('SIGKILL');
      gateway = await spawnService('gateway', gatewayEnv);
      spawned.push(gateway);
      await waitUntilReady(gateway);
    }
    const job = await waitFor(
      async () => {
        const current = await jobOf(jobId);
        return current && current.status !== 'running' && current.status !== 'queued' && current;
      },
      { what: 'job finished', timeoutMs: 180_000, intervalMs: 300 },
    );

    // the oracle: every item became exactly the client it describes, once
    expect(job).toMatchObject({ status: 'succeeded', counts: { total: ITEMS, done: ITEMS, succeeded: ITEMS, refused: 0, failed: 0 } });
    const stored = await mongo.db().collection('clients').find({ email: { $regex: `^crash-${tag}-` } }).toArray();
    expect(stored).toHaveLength(ITEMS);
    const byEmail = new Map(stored.map((doc) => [doc['email'] as string, doc]));
    for (const item of items) expect(byEmail.get(item.email), item.email).toMatchObject({ name: item.name, source: item.source, version: 1 });
    const ids = new Set(stored.map((doc) => String(doc['_id'])));
    const created = await waitFor(
      () => {
        const seen = events.messages.filter((m) => m.envelope.type === 'ClientCreated' && ids.has(m.envelope.data.client_id));
        return new Set(seen.map((m) => m.envelope.data.client_id)).size === ITEMS && seen;
      },
      { what: 'a ClientCreated of every client', timeoutMs: 60_000 },
    );
    // a redelivered event keeps its id; no client was created by two different events
    expect(new Set(created.map((m) => m.envelope.id)).size).toBe(ITEMS);
  }, 420_000);

  it('reads an import uploaded over a real connection as it streams in', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ name: `Upload ${i}`, email: `upload-${randomUUID()}@example.com` })).join('\n');
    const response = await fetch(`${gateway.url}/api/v1/clients/import?dry_run=true`, { method: 'POST', headers: { ...(await adminHeaders()), 'content-type': 'application/x-ndjson' }, body: lines });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { data: unknown }).data).toMatchObject({ dry_run: true, status: 'succeeded', counts: { total: 50, succeeded: 50 } });
  });
});
