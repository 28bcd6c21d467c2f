import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { clientIdOf, fromLegacyClient } from '../scripts/lib/legacy/legacy-client.js';
import { fromLegacyUser } from '../scripts/lib/legacy/legacy-user.js';
import { legacyDate } from '../scripts/lib/legacy/legacy-values.js';
import { sameDatabase } from '../scripts/lib/legacy/same-database.js';

/** How `npm run import-legacy` reads the older service's documents (the import itself: test/e2e). */

describe('older dates', () => {
  it.each([
    [new Date('2024-03-01T09:00:00Z'), '2024-03-01T09:00:00.000Z'],
    ['15.01.2024', '2024-01-15T00:00:00.000Z'],
    ['01.02.2024 10:30', '2024-02-01T10:30:00.000Z'],
    ['2024-02-10T12:00:00+02:00', '2024-02-10T10:00:00.000Z'],
    ['2024-02-10 12:00:00', '2024-02-10T12:00:00.000Z'],
    ['2024-02-10', '2024-02-10T00:00:00.000Z'],
    ['2024-02-10T12:00:00.250Z', '2024-02-10T12:00:00.250Z'],
    [1_717_200_000_000, '2024-06-01T00:00:00.000Z'],
  ])('reads %j as %s', (value, expected) => {
    expect(legacyDate(value)).toBe(expected);
  });

  it.each([['31.02.2024'], ['2024-13-01'], ['yesterday'], [''], [null], [{}], ['0001-01-01T00:00:00Z'], ['2024-02-10T25:00:00Z'], [new Date(Number.NaN)]])(
    'refuses %j',
    (value) => {
      expect(legacyDate(value)).toBeNull();
    },
  );
});

const stages = new Set(['registration', 'payment_waiting']);
const older = (overrides: Record<string, unknown> = {}) => ({
  _id: new ObjectId('6650f0c2a1b2c3d4e5f60718'),
  name: 'Ann Lee',
  email: 'ann@example.com',
  registration_date: '15.01.2024',
  current_stage: 'payment_waiting',
  last_updated: new Date('2024-02-01T00:00:00Z'),
  is_active: true,
  source: '  website ',
  channel: '',
  app: 'installed',
  last_login: null,
  contracts: [{ _id: 'c-1', name: 'Plan', number: 'N-1', status: 'active', amount: '99.5', conclusion_date: '01.01.2024', autopayment: 'enabled', payment_frequency: '' }],
  ...overrides,
});

describe('an older client', () => {
  it('becomes a create command with its id, stage, dates and contracts', () => {
    const outcome = fromLegacyClient(older(), stages);
    expect(outcome).toEqual({
      ok: true,
      legacyId: '6650f0c2a1b2c3d4e5f60718',
      clientId: '6650f0c2a1b2c3d4e5f60718',
      email: 'ann@example.com',
      fields: {
        name: 'Ann Lee',
        email: 'ann@example.com',
        stage: 'payment_waiting',
        is_active: true,
        source: 'website',
        app: 'installed',
        contracts: [{ id: 'c-1', name: 'Plan', number: 'N-1', status: 'active', amount: 99.5, conclusion_date: '2024-01-01T00:00:00.000Z', autopayment: 'enabled' }],
      },
      imported: { registration_date: '2024-01-15T00:00:00.000Z', last_updated: '2024-02-01T00:00:00.000Z' },
    });
  });

  it('gets an id derived from its email when its own is empty, the same on every run', () => {
    const first = fromLegacyClient(older({ _id: '' }), stages);
    const again = fromLegacyClient(older({ _id: '', email: ' ANN@example.com' }), stages);
    expect(first.ok && first.clientId).toMatch(/^legacy-[0-9a-f]{32}$/);
    expect(again.ok && again.clientId).toBe(first.ok && first.clientId);
    expect(clientIdOf('has space', 'ann@example.com')).toBe(first.ok && first.clientId);
  });

  it.each([
    [{ email: 'not an email' }, /^email: /],
    [{ email: undefined }, /^email: missing/],
    [{ current_stage: 'archived' }, /"archived" is not a configured stage/],
    [{ current_stage: undefined }, /^stage: missing/],
    [{ registration_date: '31.02.2024', last_updated: 'soon' }, /^registration_date: not a date/],
    [{ last_login: 'yesterday' }, /^last_login: not a date/],
    [{ name: '  ' }, /^name: /],
    [{ app: 'maybe' }, /^app: /],
    [{ contracts: [{ _id: 'c-1', autopayment: 'sometimes' }] }, /^contracts\.0\.autopayment: /],
    [{ contracts: [{ _id: 'c-1', autopayment: 'enabled', amount: -5 }] }, /^contracts\.0\.amount: /],
    [{ contracts: [{ autopayment: 'enabled' }] }, /contracts\[0\] has no id/],
  ])('is refused with the field named: %j', (overrides, reason) => {
    const outcome = fromLegacyClient(older(overrides), stages);
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(reason);
  });
});

describe('an older user', () => {
  const hash = `$2a$10$${'a'.repeat(53)}`;
  const user = { _id: new ObjectId('6650f0c2a1b2c3d4e5f60719'), name: 'Mia', email: 'Mia@example.com', password: hash, role: 'admin', created_at: new Date('2024-01-01T00:00:00Z'), updated_at: new Date('2024-01-02T00:00:00Z') };

  it('keeps its ObjectId, bcrypt hash and dates, with the email normalised for uniqueness', () => {
    const outcome = fromLegacyUser(user, new Date());
    expect(outcome).toEqual({ ok: true, legacyId: '6650f0c2a1b2c3d4e5f60719', user: { ...user, email_normalized: 'mia@example.com' } });
  });

  it.each([
    [{ role: 'owner' }, /^role: /],
    [{ password: 'plain-text' }, /^password: not a bcrypt hash/],
    [{ email: 'mia' }, /^email: /],
    [{ name: '' }, /^name: /],
    [{ _id: '' }, /^_id: /],
  ])('is refused with the field named: %j', (overrides, reason) => {
    const outcome = fromLegacyUser({ ...user, ...overrides }, new Date());
    expect(!outcome.ok && outcome.reason).toMatch(reason);
  });
});

describe('the older database and trackme\'s', () => {
  it.each([
    ['mongodb://localhost:27017', 'trackme', 'mongodb://127.0.0.1:27017/trackme', true],
    ['mongodb://user:pw@a:27017,b:27018/admin?replicaSet=rs', 'trackme', 'mongodb://b:27018/trackme?w=majority', true],
    ['mongodb://a', 'trackme', 'mongodb://a:27017/trackme', true],
    ['mongodb://localhost:27017', 'trackme', 'mongodb://127.0.0.1:27017/trackme_v2', false],
    ['mongodb://old-host:27017', 'trackme', 'mongodb://new-host:27017/trackme', false],
  ])('%s (db %s) and %s are the same: %s', (from, db, mongoUrl, same) => {
    expect(sameDatabase(from, db, mongoUrl)).toBe(same);
  });
});
