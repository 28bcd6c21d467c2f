import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEventTypes, Topics } from '@trackme/contracts';
import {
  http,
  isolatedEnv,
  mongoUrlWithDatabase,
  REPO_ROOT,
  spawnSystem,
  TopicReader,
  uniqueId,
  waitFor,
  type IsolatedEnv,
  type RunningSystem,
} from '@trackme/testkit';

/**
 * `npm run import-legacy` against a database in the older service's shape, oddities included
 * (`current_stage`, `DD.MM.YYYY` dates, the `_id: ""` client, contracts with `_id`, bcrypt users),
 * imported twice: the first run brings everything takeable in through the write path and reports
 * the rest; the second changes nothing.
 */

const run = promisify(execFile);
let system: RunningSystem;
let env: IsolatedEnv & { METRICS_KEY_PREFIX: string };
let api: string;
let legacy: MongoClient;
let legacyDb: string;
let events: TopicReader<{ client_id: string; imported?: true; client: { stage: string } }>;

const tag = randomUUID().slice(0, 8);
const email = (name: string) => `${name}-${tag}@example.com`;
const annId = new ObjectId();
const oldPassword = 'old-service-password';

const olderClients = [
  {
    _id: annId,
    name: 'Ann Lee',
    email: email('ann'),
    registration_date: new Date('2024-03-01T09:00:00Z'),
    current_stage: 'payment_waiting',
    last_updated: new Date('2024-04-02T10:00:00Z'),
    is_active: true,
    source: 'website',
    channel: 'organic',
    app: 'installed',
    last_login: new Date('2024-04-01T08:00:00Z'),
    contracts: [
      {
        _id: 'contract123',
        name: 'Premium plan',
        number: 'PR-2024-001',
        status: 'active',
        conclusion_date: new Date('2024-01-15T10:00:00Z'),
        expiration_date: '15.01.2025',
        amount: 1499.5,
        payment_frequency: 'monthly',
        autopayment: 'disabled',
      },
    ],
  },
  // the older service's first create stored an empty id; dates rendered DD.MM.YYYY
  { _id: '', name: 'Bob Stone', email: email('bob'), registration_date: '15.01.2024', current_stage: 'registration', last_updated: '16.01.2024', is_active: true, app: 'not_installed', last_login: null, contracts: [] },
  { _id: 'client-3', name: 'Cy Young', email: email('cy'), registration_date: '2024-02-10T12:00:00+02:00', current_stage: 'document_signing', last_updated: '01.03.2024 10:30', app: 'installed', last_login: '01.02.2024 10:30', contracts: [] },
  { _id: 'bad-email', name: 'No Mail', email: 'not an email', registration_date: new Date(), current_stage: 'registration', contracts: [] },
  { _id: 'dup-email', name: 'Ann Again', email: email('ANN').toUpperCase(), registration_date: new Date(), current_stage: 'registration', contracts: [] },
  { _id: 'odd-stage', name: 'Old Stage', email: email('odd'), registration_date: new Date(), current_stage: 'archived', contracts: [] },
];
const takeable = 3;

const hash = bcrypt.hashSync(oldPassword, 10);
const olderUsers = [
  { _id: new ObjectId(), name: 'Mia Manager', email: email('mia'), password: hash, role: 'manager', created_at: new Date('2024-01-01T00:00:00Z'), updated_at: new Date('2024-01-02T00:00:00Z') },
  { _id: new ObjectId(), name: 'Wrong Role', email: email('role'), password: hash, role: 'owner', created_at: new Date(), updated_at: new Date() },
  { _id: new ObjectId(), name: 'Mia Twice', email: email('MIA'), password: hash, role: 'admin', created_at: new Date(), updated_at: new Date() },
];

beforeAll(async () => {
  env = { ...(await isolatedEnv()), METRICS_KEY_PREFIX: `${uniqueId('m')}:` };
  system = await spawnSystem(env);
  api = system.api;
  events = await new TopicReader<never>(env, Topics.clientEvents, env.KAFKA_TOPIC_PREFIX).start();

  legacyDb = uniqueId('older');
  legacy = new MongoClient(mongoUrlWithDatabase(env.MONGO_URL, legacyDb));
  await legacy.db(legacyDb).collection('clients').insertMany(olderClients as never[]);
  await legacy.db(legacyDb).collection('users').insertMany(olderUsers);
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await legacy?.close();
  await system?.stop();
});

async function importOnce(report: string, db = legacyDb, ...flags: string[]) {
  const { stdout, stderr } = await run(
    'npx',
    ['tsx', '--conditions=@trackme/source', 'scripts/import-legacy.ts', '--from', env.MONGO_URL, '--db', db, '--report', report, ...flags],
    { cwd: REPO_ROOT, env: { ...process.env, ...env } },
  );
  const reported = (await readFile(report, 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { collection: string; legacy_id: string; reason: string });
  return { stdout, stderr, reported };
}

/** Every client of this test's database: the imported ones. */
const list = async () => (await http('GET', `${api}/clients?limit=100`)).body;

describe('npm run import-legacy', () => {
  let first: Awaited<ReturnType<typeof importOnce>>;

  beforeAll(async () => {
    first = await importOnce(path.join(tmpdir(), `import-${tag}-1.ndjson`));
  }, 120_000);

  it('brings every takeable client in through the write path, with its stage, dates and contracts', async () => {
    expect(first.stdout).toContain(`clients: ${olderClients.length} read, ${takeable} imported, 0 already in trackme, 3 refused`);
    // progress on stderr: count, rate and ETA
    expect(first.stderr).toMatch(new RegExp(`clients: ${olderClients.length}/${olderClients.length} · \\d+/s · ETA \\d+ s`));
    const ann = await http('GET', `${api}/clients/${annId.toHexString()}`);
    expect(ann.status).toBe(200);
    expect(ann.body.data).toMatchObject({
      stage: 'payment_waiting',
      registration_date: '2024-03-01T09:00:00.000Z',
      last_updated: '2024-04-02T10:00:00.000Z',
      source: 'website',
      app: { status: 'installed', highlight: false },
      contracts: [{ id: 'contract123', number: 'PR-2024-001', amount: 1499.5, expiration_date: '2025-01-15T00:00:00.000Z', autopayment: { status: 'disabled', highlight: true } }],
    });
    const history = await http('GET', `${api}/clients/${annId.toHexString()}/history`);
    expect(history.body.data).toHaveLength(1);
    expect(history.body.data[0]).toMatchObject({ type: ClientEventTypes.created, actor: { subject: 'import-legacy' } });

    const created = await waitFor(() => {
      const mine = events.messages.filter((m) => m.envelope.type === ClientEventTypes.created && m.envelope.data.imported);
      return mine.length >= takeable ? mine : undefined;
    }, { what: 'the imported clients\' events' });
    expect(created.map((m) => m.envelope.data.client.stage).sort()).toEqual(['document_signing', 'payment_waiting', 'registration']);
  });

  it('gives the client stored with an empty id an id of its own, and reads DD.MM.YYYY dates as UTC days', async () => {
    const listed = await waitFor(async () => {
      const body = await list();
      return body.meta.total === takeable ? body.data : undefined;
    }, { what: 'the imported clients listed' });
    const bob = listed.find((c: { email: string }) => c.email === email('bob'));
    expect(bob.id).toMatch(/^legacy-[0-9a-f]{32}$/);
    expect(bob.registration_date).toBe('2024-01-15T00:00:00.000Z');
    const cy = listed.find((c: { email: string }) => c.email === email('cy'));
    expect(cy).toMatchObject({ id: 'client-3', registration_date: '2024-02-10T10:00:00.000Z', last_login: { at: '2024-02-01T10:30:00.000Z' } });
  });

  it('reports every record it cannot take, with the reason', () => {
    const clients = Object.fromEntries(first.reported.filter((r) => r.collection === 'clients').map((r) => [r.legacy_id, r.reason]));
    expect(Object.keys(clients).sort()).toEqual(['bad-email', 'dup-email', 'odd-stage']);
    expect(clients['bad-email']).toMatch(/^email:/);
    expect(clients['dup-email']).toContain(annId.toHexString());
    expect(clients['odd-stage']).toContain('"archived" is not a configured stage');
    const users = first.reported.filter((r) => r.collection === 'users');
    expect(users.map((r) => r.legacy_id).sort()).toEqual([olderUsers[1]!._id.toHexString(), olderUsers[2]!._id.toHexString()].sort());
    expect(users.find((r) => r.legacy_id === olderUsers[1]!._id.toHexString())!.reason).toContain('role');
  });

  it('lets an older user sign in with the old password, under the old id', async () => {
    const login = await http('POST', `${api}/auth/login`, { email: email('mia'), password: oldPassword }, { authorization: '' });
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.data.user).toMatchObject({ id: olderUsers[0]!._id.toHexString(), role: 'manager', email: email('mia') });
  });

  it('counts the imported clients in the stage figures but not as today\'s new clients', async () => {
    const rows = await waitFor(async () => {
      const trigger = await http('POST', `${api}/metrics/calculate?interval=day`);
      expect(trigger.status).toBe(202);
      const day = new Date().toISOString().slice(0, 10);
      const answer = await http('GET', `${api}/metrics?interval=day&from=${day}&to=${day}&limit=1000`);
      const data = answer.body.data as Array<{ type: string; value: number; labels: Record<string, string> }>;
      return data.some((r) => r.type === 'clients-per-stage' && r.labels['stage'] === 'payment_waiting' && r.value === 1) ? data : undefined;
    }, { what: 'the day\'s figures', timeoutMs: 60_000, intervalMs: 500 });
    expect(rows.find((r) => r.type === 'new-clients')?.value ?? 0).toBe(0);
    expect(rows.find((r) => r.type === 'clients-per-stage' && r.labels['stage'] === 'document_signing')?.value).toBe(1);
  });

  it('checks everything and writes nothing with --dry-run, naming an email trackme already has', async () => {
    const db = uniqueId('older');
    await legacy.db(db).collection('clients').insertMany([
      { _id: 'dry-1', name: 'Dry Run', email: email('dry'), registration_date: '01.03.2024', current_stage: 'registration', contracts: [] },
      { _id: 'dry-2', name: 'Ann Elsewhere', email: email('ann'), registration_date: '01.03.2024', current_stage: 'registration', contracts: [] },
    ] as never[]);
    const before = (await list()).meta.total;
    const dry = await importOnce(path.join(tmpdir(), `import-${tag}-dry.ndjson`), db, '--dry-run');
    expect(dry.stdout).toContain('clients: 2 read, 1 to import, 0 already in trackme, 1 refused');
    expect(dry.reported).toEqual([{ collection: 'clients', legacy_id: 'dry-2', reason: expect.stringContaining(`already used by client ${annId.toHexString()}`) }]);
    expect((await http('GET', `${api}/clients?email=${encodeURIComponent(email('dry'))}`)).body.meta.total).toBe(0);
    expect((await list()).meta.total).toBe(before);
  });

  it('changes nothing when run again', async () => {
    const before = await list();
    const again = await importOnce(path.join(tmpdir(), `import-${tag}-2.ndjson`));
    expect(again.stdout).toContain(`clients: ${olderClients.length} read, 0 imported, ${takeable} already in trackme, 3 refused`);
    expect(again.stdout).toContain('users: 3 read, 0 imported, 1 already in trackme, 2 refused');
    expect(again.reported).toHaveLength(first.reported.length);
    const after = await list();
    expect(after.data.map((c: { id: string; version: number }) => [c.id, c.version])).toEqual(before.data.map((c: { id: string; version: number }) => [c.id, c.version]));
    const history = await http('GET', `${api}/clients/${annId.toHexString()}/history`);
    expect(history.body.data).toHaveLength(1);
  });
});

describe('an import killed half-way', () => {
  const count = 1_000;

  it('goes on where it stopped when run again: every client exactly once', async () => {
    const db = uniqueId('older');
    const source = legacy.db(db).collection('clients');
    await source.insertMany(
      Array.from({ length: count }, (_, i) => ({
        _id: new ObjectId(),
        name: `Client ${i}`,
        email: `bulk-${i}-${tag}@example.com`,
        registration_date: '01.06.2024',
        current_stage: i % 2 ? 'registration' : 'form_filling',
        last_updated: new Date('2024-06-02T00:00:00Z'),
        is_active: true,
        app: 'not_installed',
        contracts: [],
      })),
    );
    const args = ['tsx', '--conditions=@trackme/source', 'scripts/import-legacy.ts', '--from', env.MONGO_URL, '--db', db, '--report', path.join(tmpdir(), `import-${tag}-kill.ndjson`)];
    const child = spawn('npx', args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let killed = false;
    const killGroup = () => {
      if (killed || child.exitCode !== null) return;
      killed = true;
      process.kill(-child.pid!, 'SIGKILL');
    };
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const target = new MongoClient(env.MONGO_URL);
    try {
      const imported = () => target.db().collection('clients').countDocuments({ name: /^Client / });
      await waitFor(async () => ((await imported()) >= 100 ? true : undefined), { what: 'a hundred clients imported', timeoutMs: 60_000, intervalMs: 50 });
      expect(child.exitCode, `the import ended before it could be killed:\n${output}`).toBeNull();
      killGroup();
      const atKill = await imported();
      expect(atKill).toBeLessThan(count);

      const { stdout } = await run('npx', args, { cwd: REPO_ROOT, env: { ...process.env, ...env } });
      const [, fresh, already] = /clients: 1000 read, (\d+) imported, (\d+) already in trackme, 0 refused/.exec(stdout) ?? [];
      expect(Number(fresh) + Number(already), stdout).toBe(count);
      expect(Number(already)).toBeGreaterThanOrEqual(atKill);
      expect(await imported()).toBe(count);
      const versions = await target.db().collection('clients').distinct('version', { name: /^Client / });
      expect(versions).toEqual([1]);
      const histories = await target.db().collection<{ entries: unknown[] }>('client_history').find({}, { projection: { entries: 1 } }).toArray();
      expect(histories.filter((h) => h.entries.length !== 1)).toEqual([]);
    } finally {
      killGroup();
      await target.close();
    }
  }, 180_000);
});
