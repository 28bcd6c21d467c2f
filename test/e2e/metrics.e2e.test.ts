import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { http, isolatedEnv, REPO_ROOT, spawnService, uniqueId, waitFor, waitUntilReady, type IsolatedEnv, type ServiceProcess } from '@trackme/testkit';

/**
 * Metrics as a user meets them: clients written and logins reported through the public API,
 * rollups triggered with GET and POST /metrics/calculate, figures read with GET /metrics; then
 * the metrics data is lost and `npm run metrics -- rebuild` brings the same figures back.
 * Services run as processes.
 */

const run = promisify(execFile);
let env: IsolatedEnv & { METRICS_KEY_PREFIX: string };
let api: string;
let metrics: ServiceProcess;
const started: ServiceProcess[] = [];

interface Row {
  type: string;
  value: number;
  interval: string;
  period_start: string;
  labels: Record<string, string>;
}

beforeAll(async () => {
  env = { ...(await isolatedEnv()), METRICS_KEY_PREFIX: `${uniqueId('m')}:` };
  const clients = await spawnService('clients', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const read = await spawnService('read', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  metrics = await spawnService('metrics', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' });
  const gateway = await spawnService('gateway', { ...env, READ_URL: read.url, METRICS_URL: metrics.url });
  started.push(clients, read, gateway);
  await Promise.all([...started, metrics].map((s) => waitUntilReady(s)));
  api = `${gateway.url}/api/v1`;
}, 120_000);

afterAll(async () => {
  await Promise.all([...started, metrics].map((s) => s?.stop('SIGKILL')));
});

async function create(fields: Record<string, unknown> = {}): Promise<string> {
  const answer = await http('POST', `${api}/clients`, { name: 'Ann Lee', email: `ann-${randomUUID()}@example.com`, source: 'web', ...fields });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return (answer.body.data as { id: string }).id;
}

async function moveTo(id: string, stage: string): Promise<void> {
  const current = (await waitFor(async () => {
    const answer = await http('GET', `${api}/clients/${id}`);
    return answer.status === 200 ? answer.body.data : undefined;
  }, { what: 'client readable' })) as { name: string; email: string };
  const answer = await http('PUT', `${api}/clients/${id}/stage`, { name: current.name, email: current.email, source: 'web', stage });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

/** POST /metrics/calculate for today, then the job's outcome and the day's rows. */
async function calculateToday(): Promise<Row[]> {
  const trigger = await http('POST', `${api}/metrics/calculate?interval=day`);
  expect(trigger.status).toBe(202);
  const location = trigger.headers.get('location');
  expect(location).toMatch(/\/api\/v1\/metrics\/jobs\//);
  const job = await waitFor(async () => {
    const answer = await http('GET', `${api}${location!.slice('/api/v1'.length)}`);
    const data = answer.status === 200 ? (answer.body.data as { status: string; period_start: string }) : undefined;
    return data && (data.status === 'succeeded' || data.status === 'failed') ? data : undefined;
  }, { what: 'rollup job', timeoutMs: 30_000 });
  expect(job.status).toBe('succeeded');
  const rows = await http('GET', `${api}/metrics?interval=day&from=${job.period_start}&to=${job.period_start}&limit=1000`);
  expect(rows.status).toBe(200);
  return rows.body.data as Row[];
}

const valueOf = (rows: Row[], type: string, labels: Record<string, string> = {}) =>
  rows.find((r) => r.type === type && JSON.stringify(r.labels) === JSON.stringify(labels))?.value;

/** Recalculates until the day shows what the test wrote (events reach metrics asynchronously). */
const expectDay = (what: string, test: (rows: Row[]) => boolean) =>
  waitFor(async () => {
    const rows = await calculateToday();
    return test(rows) ? rows : undefined;
  }, { what, timeoutMs: 60_000, intervalMs: 500 });

describe('metrics through the public API', () => {
  let ids: string[];
  let before: Row[];

  beforeAll(async () => {
    ids = [await create(), await create(), await create({ source: 'partner' })];
    await moveTo(ids[0]!, 'product_selection');
    await moveTo(ids[1]!, 'product_selection');
    await moveTo(ids[1]!, 'registration');
    const now = new Date().toISOString();
    const logins = await http('POST', `${api}/events`, {
      events: ids.slice(0, 2).map((id) => ({ event_id: randomUUID(), type: 'login', client_id: id, occurred_at: now })),
    });
    expect(logins.status).toBe(202);
  }, 60_000);

  it('answers the older service\'s trigger exactly, and refuses a missing interval', async () => {
    const answer = await http('GET', `${api}/metrics/calculate?interval=week`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ data: { message: 'triggerred success' } });
    const missing = await http('GET', `${api}/metrics/calculate`);
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body)).toContain('interval');
  });

  it('turns the writes and logins into the day\'s figures', async () => {
    before = await expectDay('day figures', (rows) => valueOf(rows, 'new-clients') === 3 && valueOf(rows, 'dau') === 2 && valueOf(rows, 'rollback-count') === 1);
    expect(valueOf(before, 'transitions', { from: 'registration', to: 'product_selection' })).toBe(2);
    expect(valueOf(before, 'transitions', { from: 'product_selection', to: 'registration' })).toBe(1);
    expect(valueOf(before, 'clients-per-stage', { stage: 'registration' })).toBe(2);
    expect(valueOf(before, 'clients-per-stage', { stage: 'product_selection' })).toBe(1);
    expect(valueOf(before, 'status-updates')).toBe(3);
    expect(valueOf(before, 'source-conversion', { source: 'web' })).toBe(0);
  });

  it("answers the older service's source-conversion and channel-conversion queries, rows with its id, created_at and metadata", async () => {
    const day = before[0]!.period_start;
    const query = (type: string) => http('GET', `${api}/metrics?type=${type}&interval=day&from=${day}&to=${day}`);
    const bySource = await query('source-conversion');
    expect(bySource.status, JSON.stringify(bySource.body)).toBe(200);
    // only the clients from web moved; the partner's client did not, so it has no row
    expect(bySource.body.data.map((r: Row) => [r.type, r.labels, r.value])).toEqual([['source-conversion', { source: 'web' }, 0]]);
    const byChannel = await query('channel-conversion');
    expect(byChannel.body.data.map((r: Row) => [r.type, r.labels, r.value])).toEqual([['channel-conversion', { channel: 'unknown' }, 0]]);
    for (const row of [...bySource.body.data, ...byChannel.body.data] as (Row & Record<string, unknown>)[]) {
      expect(row).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{24}$/), metadata: row.labels, created_at: row['calculated_at'] });
    }
    // the id names the row, not the calculation: recomputing the day keeps it
    await calculateToday();
    expect((await query('source-conversion')).body.data[0].id).toBe(bySource.body.data[0].id);
  });

  it('brings the same figures back with `npm run metrics -- rebuild` after the metrics data is lost', async () => {
    await metrics.stop('SIGTERM');
    const mongo = await MongoClient.connect(env.MONGO_URL);
    try {
      for (const name of ['metric_counters', 'metric_clients', 'metric_batches', 'metric_rollups']) await mongo.db().collection(name).deleteMany({});
    } finally {
      await mongo.close();
    }
    const { stdout } = await run('npm', ['run', '--silent', 'metrics', '--', 'rebuild'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
    expect(stdout).toMatch(/rebuilt 3 client\(s\)/);

    metrics = await spawnService('metrics', { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000', PORT: new URL(metrics.url).port });
    await waitUntilReady(metrics);
    const after = await calculateToday();
    const strip = (rows: Row[]) => rows.filter((r) => !r.labels['estimate']).map(({ type, labels, value }) => ({ type, labels, value }));
    expect(strip(after)).toEqual(strip(before));
  });
});
