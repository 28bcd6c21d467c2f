import { describe, expect, it } from 'vitest';
import { activityKey, ACTIVITY_MAX_FUTURE_MS, validateActivity, type ActivityEvent } from '../src/index.js';

const now = new Date('2026-11-02T12:00:00.000Z');
const login = { event_id: 'ev-1', type: 'login', client_id: 'c1', occurred_at: '2026-11-02T11:00:00.000Z' };
const autopayment = { event_id: 'ev-2', type: 'autopayment_enabled', client_id: 'c1', contract_id: 'k-1', occurred_at: '2026-11-02T11:00:00.000Z' };

/** `levels` objects nested inside one another, `properties` itself being the first */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i += 1) value = { a: value };
  return value;
}

const errorsOf = (raw: unknown, at = now) => {
  const checked = validateActivity(raw, at);
  return checked.ok ? [] : checked.errors;
};

describe('validateActivity', () => {
  it('accepts a login by client id or by email, and returns the event as sent', () => {
    expect(validateActivity(login, now)).toEqual({ ok: true, event: login });
    const { client_id: _, ...anonymous } = login;
    const byEmail = { ...anonymous, email: 'Ann@Example.com' };
    expect(validateActivity(byEmail, now)).toEqual({ ok: true, event: byEmail });
  });

  it('accepts both autopayment events with a contract', () => {
    expect(validateActivity(autopayment, now).ok).toBe(true);
    expect(validateActivity({ ...autopayment, type: 'autopayment_disabled' }, now).ok).toBe(true);
  });

  it('refuses what the schema refuses, naming the field', () => {
    expect(errorsOf({ ...login, type: 'logout' }).map((e) => e.field)).toContain('type');
    expect(errorsOf({ ...login, occurred_at: 'yesterday' }).map((e) => e.field)).toEqual(['occurred_at']);
    expect(errorsOf({ ...login, colour: 'red' }).map((e) => e.field)).toEqual(['colour']);
  });

  it('requires a client id or an email', () => {
    const { client_id: _, ...anonymous } = login;
    expect(errorsOf(anonymous)).toEqual([{ field: 'client_id', message: 'client_id or email is required' }]);
  });

  it('requires a contract on autopayment events, and only there', () => {
    const { contract_id: _, ...noContract } = autopayment;
    expect(errorsOf(noContract)).toEqual([{ field: 'contract_id', message: 'required for autopayment_enabled' }]);
    expect(errorsOf({ ...noContract, type: 'autopayment_disabled' })).toEqual([{ field: 'contract_id', message: 'required for autopayment_disabled' }]);
    for (const type of ['login', 'app_installed', 'app_uninstalled']) {
      expect(errorsOf({ ...login, type, contract_id: 'k-1' })).toEqual([{ field: 'contract_id', message: 'only autopayment events name a contract' }]);
      expect(errorsOf({ ...login, type })).toEqual([]);
    }
  });

  it('accepts properties up to 8 levels deep and 4096 bytes, and refuses more', () => {
    expect(errorsOf({ ...login, properties: nested(8) })).toEqual([]);
    expect(errorsOf({ ...login, properties: nested(9) })).toEqual([{ field: 'properties', message: 'must not nest more than 8 levels deep' }]);
    // {"x":"…"} is 8 bytes around the text
    expect(errorsOf({ ...login, properties: { x: 'y'.repeat(4088) } })).toEqual([]);
    expect(errorsOf({ ...login, properties: { x: 'y'.repeat(4089) } })).toEqual([{ field: 'properties', message: 'must not exceed 4096 bytes as JSON' }]);
    expect(errorsOf({ ...login, properties: { x: 'é'.repeat(2045) } })).toEqual([{ field: 'properties', message: 'must not exceed 4096 bytes as JSON' }]);
  });

  it('accepts an event up to 5 minutes in the future, not later', () => {
    const at = (ms: number) => ({ ...login, occurred_at: new Date(now.getTime() + ms).toISOString() });
    expect(errorsOf(at(ACTIVITY_MAX_FUTURE_MS))).toEqual([]);
    expect(errorsOf(at(ACTIVITY_MAX_FUTURE_MS + 1))).toEqual([{ field: 'occurred_at', message: 'must not be more than 5 minutes in the future' }]);
    expect(errorsOf(at(-365 * 86_400_000))).toEqual([]);
  });

  it('lists every problem of one event', () => {
    const { client_id: _, ...anonymous } = autopayment;
    const bad = { ...anonymous, type: 'login', properties: nested(9), occurred_at: '2026-11-02T13:00:00.000Z' };
    expect(errorsOf(bad).map((e) => e.field)).toEqual(['client_id', 'contract_id', 'properties', 'occurred_at']);
  });
});

describe('activityKey', () => {
  it('keys an event by client id, else by its email normalized', () => {
    expect(activityKey({ ...login, email: 'ann@example.com' } as ActivityEvent)).toBe('c1');
    expect(activityKey({ event_id: 'e', type: 'login', email: ' Ann@Example.COM ', occurred_at: login.occurred_at } as ActivityEvent)).toBe('ann@example.com');
  });
});
