import { describe, expect, it } from 'vitest';
import type { Client } from '@trackme/contracts';
import { isHighlighted, renderClient } from '../../src/clients/highlights.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const policy = { lastLoginDays: 30 };

const client = (overrides: Partial<Client> = {}): Client => ({
  id: 'c1',
  name: 'John Doe',
  email: 'john@example.com',
  stage: 'registration',
  is_active: true,
  source: 'website',
  channel: 'organic',
  app: 'installed',
  last_login: new Date(NOW - DAY).toISOString(),
  registration_date: '2026-01-01T00:00:00.000Z',
  last_updated: '2026-11-20T00:00:00.000Z',
  contracts: [{ id: 'k1', autopayment: 'enabled' }],
  version: 3,
  ...overrides,
});

const daysAgo = (days: number) => new Date(NOW - days * DAY).toISOString();

describe('renderClient', () => {
  it('gives the older service shape: app, last_login and each contract autopayment as {status, highlight}', () => {
    const { view } = renderClient(client({ contracts: [{ id: 'k1', name: 'Main', amount: 10, autopayment: 'enabled' }] }), NOW, policy);
    expect(view).toEqual({
      id: 'c1',
      name: 'John Doe',
      email: 'john@example.com',
      stage: 'registration',
      is_active: true,
      registration_date: '2026-01-01T00:00:00.000Z',
      last_updated: '2026-11-20T00:00:00.000Z',
      source: 'website',
      channel: 'organic',
      app: { status: 'installed', highlight: false },
      last_login: { date: '2026-11-25', at: '2026-11-25T12:00:00.000Z', highlight: false },
      contracts: [{ id: 'k1', name: 'Main', amount: 10, autopayment: { status: 'enabled', highlight: false } }],
      version: 3,
    });
    expect(isHighlighted(view)).toBe(false);
  });

  it.each([
    ['29 days ago', daysAgo(29), false],
    ['exactly 30 days ago', daysAgo(30), false],
    ['30 days and a second ago', new Date(NOW - 30 * DAY - 1000).toISOString(), true],
    ['31 days ago', daysAgo(31), true],
    ['never', null, true],
  ])('highlights a last login %s: %s', (_case, lastLogin, highlight) => {
    const { view } = renderClient(client({ last_login: lastLogin }), NOW, policy);
    expect(view.last_login.highlight).toBe(highlight);
    expect(isHighlighted(view)).toBe(highlight);
  });

  it('shows a client who never logged in with a null date', () => {
    expect(renderClient(client({ last_login: null }), NOW, policy).view.last_login).toEqual({ date: null, at: null, highlight: true });
  });

  it('follows the configured number of days', () => {
    expect(renderClient(client({ last_login: daysAgo(8) }), NOW, { lastLoginDays: 7 }).view.last_login.highlight).toBe(true);
    expect(renderClient(client({ last_login: daysAgo(6) }), NOW, { lastLoginDays: 7 }).view.last_login.highlight).toBe(false);
  });

  it.each([
    ['installed', false],
    ['not_installed', true],
  ] as const)('highlights app %s: %s', (app, highlight) => {
    const { view } = renderClient(client({ app }), NOW, policy);
    expect(view.app).toEqual({ status: app, highlight });
    expect(isHighlighted(view)).toBe(highlight);
  });

  it('highlights each contract whose autopayment is disabled, and only those', () => {
    const { view } = renderClient(
      client({ contracts: [{ id: 'a', autopayment: 'enabled' }, { id: 'b', autopayment: 'disabled' }] }),
      NOW,
      policy,
    );
    expect(view.contracts.map((c) => c.autopayment)).toEqual([
      { status: 'enabled', highlight: false },
      { status: 'disabled', highlight: true },
    ]);
    expect(isHighlighted(view)).toBe(true);
  });

  it('says until when its highlights hold: the instant the last login becomes too old', () => {
    const lastLogin = NOW - 10 * DAY;
    const recent = client({ last_login: new Date(lastLogin).toISOString() });
    const { validUntil } = renderClient(recent, NOW, policy);
    expect(validUntil).toBe(lastLogin + 30 * DAY);
    expect(renderClient(recent, validUntil - 1, policy).view.last_login.highlight).toBe(false);
    expect(renderClient(recent, validUntil + 1, policy).view.last_login.highlight).toBe(true);
  });

  it('holds forever when nothing depends on the clock (already highlighted or never logged in)', () => {
    expect(renderClient(client({ last_login: daysAgo(40) }), NOW, policy).validUntil).toBe(Number.POSITIVE_INFINITY);
    expect(renderClient(client({ last_login: null }), NOW, policy).validUntil).toBe(Number.POSITIVE_INFINITY);
  });
});
