import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, isolatedEnv, spawnService, startBalancer, waitUntilReady, type Balancer, type IsolatedEnv, type ServiceName, type ServiceProcess } from '@trackme/testkit';

/**
 * Two instances of every service, the gateways behind a round-robin balancer (as are read and
 * metrics, which the gateways call), under steady load. Each service is restarted in turn, one
 * instance at a time, with SIGTERM: callers see no 5xx and no connection error.
 */

type Fleet = Record<ServiceName, ServiceProcess[]>;
let env: IsolatedEnv;
let fleet: Fleet;
const balancers: Partial<Record<ServiceName, Balancer>> = {};
const everyone: ServiceProcess[] = [];

async function spawn(name: ServiceName): Promise<ServiceProcess> {
  const extra: Record<string, string> = name === 'gateway' ? { READ_URL: balancers.read!.url, METRICS_URL: balancers.metrics!.url } : {};
  const service = await spawnService(name, { ...env, ...extra });
  everyone.push(service);
  await waitUntilReady(service, 120_000);
  return service;
}

async function pair(name: ServiceName): Promise<ServiceProcess[]> {
  return Promise.all([spawn(name), spawn(name)]);
}

beforeAll(async () => {
  env = await isolatedEnv();
  balancers.read = await startBalancer([]);
  balancers.metrics = await startBalancer([]);
  // one service at a time: six processes starting at once starve a small machine
  const read = await pair('read');
  const metrics = await pair('metrics');
  const clients = await pair('clients');
  balancers.read.setTargets(read.map((s) => s.url));
  balancers.metrics.setTargets(metrics.map((s) => s.url));
  const gateway = await pair('gateway');
  balancers.gateway = await startBalancer(gateway.map((s) => s.url));
  fleet = { read, metrics, clients, gateway };
}, 400_000);

afterAll(async () => {
  await Promise.all(Object.values(balancers).map((b) => b.close()));
  await Promise.all(everyone.map((s) => s.stop('SIGKILL')));
});

/** Replaces each instance in turn: SIGTERM (it drains and exits 0), then a new one, ready, takes its place. */
async function rollingRestart(name: ServiceName): Promise<void> {
  for (let index = 0; index < fleet[name].length; index += 1) {
    const old = fleet[name][index]!;
    const code = await old.stop('SIGTERM');
    expect(code, `${name} exit code; its output:\n${old.output().slice(-3000)}`).toBe(0);
    const replacement = await spawn(name);
    fleet[name][index] = replacement;
    balancers[name]?.setTargets(fleet[name].map((s) => s.url));
    // the balancer sees the new instance ready before the next one stops
    await sleep(500);
  }
}

describe('a rolling restart of every service under load', () => {
  it('answers every request, with no 5xx and no connection error', async () => {
    const api = `${balancers.gateway!.url}/api/v1`;
    const problems: string[] = [];
    const statuses = new Map<number, number>();
    let running = true;
    const note = (what: string, status: number, body: unknown) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) problems.push(`${what}: ${status} ${JSON.stringify(body)}`);
    };
    const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      try {
        const answer = await http(method, `${api}${path}`, body, headers);
        note(`${method} ${path}`, answer.status, answer.body);
        return answer;
      } catch (error) {
        problems.push(`${method} ${path}: ${String(error)}`);
        return undefined;
      }
    };
    const worker = async (w: number) => {
      for (let i = 0; running; i += 1) {
        const fields = { name: 'Roll Ing', email: `roll-${w}-${i}-${randomUUID()}@example.com` };
        const created = await call('POST', '/clients', fields, { 'idempotency-key': randomUUID() });
        const id = created?.status === 201 ? (created.body as { data: { id: string } }).data.id : undefined;
        if (id) await call('PUT', `/clients/${id}/stage`, { ...fields, stage: 'next' }, { 'idempotency-key': randomUUID() });
        await call('GET', '/clients?limit=5');
        await call('GET', '/metrics?limit=5');
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    for (const name of ['clients', 'read', 'metrics', 'gateway'] as const) await rollingRestart(name);
    await sleep(1_000);
    running = false;
    await load;

    const failures = Object.values(balancers).flatMap((b) => b.failures);
    console.log(`rolling restart: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(20);
  }, 300_000);
});
