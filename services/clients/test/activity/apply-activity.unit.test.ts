import { describe, expect, it } from 'vitest';
import type { ActivityEvent } from '@trackme/contracts';
import { sampleClient } from '@trackme/testkit';
import { applyActivity, type ActivityClocks } from '../../src/activity/apply-activity.js';

const event = (overrides: Partial<ActivityEvent> & Pick<ActivityEvent, 'type' | 'occurred_at'>): ActivityEvent => ({
  event_id: `e-${overrides.occurred_at}-${overrides.type}`,
  client_id: 'c1',
  ...overrides,
});

/** Applies events in order, as the applier does for one client's run. */
function applyAll(events: ActivityEvent[], start = sampleClient({ contracts: [{ id: 'k1', autopayment: 'enabled' }] })) {
  let client = start;
  let clocks: ActivityClocks = {};
  const outcomes: string[] = [];
  for (const e of events) {
    const outcome = applyActivity(client, clocks, e);
    outcomes.push(outcome.kind);
    if (outcome.kind === 'applied') ({ client, clocks } = outcome);
  }
  return { client, clocks, outcomes };
}

describe('login', () => {
  it('moves last_login to the latest occurred_at whatever the arrival order', () => {
    const inOrder = applyAll([
      event({ type: 'login', occurred_at: '2026-11-01T10:00:00Z' }),
      event({ type: 'login', occurred_at: '2026-11-03T10:00:00Z' }),
      event({ type: 'login', occurred_at: '2026-11-02T10:00:00Z' }),
    ]);
    expect(inOrder.client.last_login).toBe('2026-11-03T10:00:00.000Z');
    // a late login is still activity: it is applied (and emitted) without moving last_login back
    expect(inOrder.outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(inOrder.client.version).toBe(4);
  });

  it('reports the last login after the event, which a late one leaves unchanged', () => {
    const client = sampleClient({ last_login: '2026-11-05T00:00:00.000Z' });
    const outcome = applyActivity(client, {}, event({ type: 'login', occurred_at: '2026-11-04T00:00:00+02:00' }));
    expect(outcome).toMatchObject({ kind: 'applied', change: { type: 'ClientLoggedIn', lastLogin: '2026-11-05T00:00:00.000Z' } });
  });

  it('normalises occurred_at offsets to UTC', () => {
    const { client } = applyAll([event({ type: 'login', occurred_at: '2026-11-04T03:00:00+03:00' })]);
    expect(client.last_login).toBe('2026-11-04T00:00:00.000Z');
  });
});

describe('app status', () => {
  it('keeps the newest event by occurred_at, not the last to arrive', () => {
    const { client, outcomes } = applyAll([
      event({ type: 'app_uninstalled', occurred_at: '2026-11-02T00:00:00Z' }),
      event({ type: 'app_installed', occurred_at: '2026-11-01T00:00:00Z' }),
    ]);
    expect(client.app).toBe('not_installed');
    expect(outcomes).toEqual(['applied', 'stale']);
  });

  it('records from and to', () => {
    const outcome = applyActivity(sampleClient({ app: 'not_installed' }), {}, event({ type: 'app_installed', occurred_at: '2026-11-01T00:00:00Z' }));
    expect(outcome).toMatchObject({ kind: 'applied', client: { app: 'installed' }, change: { type: 'ClientAppStatusChanged', from: 'not_installed', to: 'installed' } });
  });

  it('breaks a tie of occurred_at by event id, so every replica decides alike', () => {
    const at = '2026-11-01T00:00:00Z';
    const a = event({ type: 'app_installed', occurred_at: at, event_id: 'a' });
    const b = event({ type: 'app_uninstalled', occurred_at: at, event_id: 'b' });
    expect(applyAll([a, b]).client.app).toBe('not_installed');
    expect(applyAll([b, a]).client.app).toBe('not_installed');
  });

  it('applies the event that set the field again without change (a redelivery after a crash)', () => {
    const installed = event({ type: 'app_installed', occurred_at: '2026-11-01T00:00:00Z' });
    const first = applyAll([installed], sampleClient({ app: 'not_installed' }));
    const again = applyActivity(first.client, first.clocks, installed);
    expect(again).toMatchObject({ kind: 'applied', client: { app: 'installed' }, change: { from: 'installed', to: 'installed' } });
  });
});

describe('autopayment', () => {
  const contracts = [
    { id: 'k1', autopayment: 'enabled' as const },
    { id: 'k2', autopayment: 'enabled' as const },
  ];

  it("sets the named contract's autopayment only", () => {
    const { client } = applyAll([event({ type: 'autopayment_disabled', contract_id: 'k2', occurred_at: '2026-11-01T00:00:00Z' })], sampleClient({ contracts }));
    expect(client.contracts).toEqual([
      { id: 'k1', autopayment: 'enabled' },
      { id: 'k2', autopayment: 'disabled' },
    ]);
  });

  it('orders events per contract', () => {
    const { client, outcomes } = applyAll(
      [
        event({ type: 'autopayment_disabled', contract_id: 'k1', occurred_at: '2026-11-03T00:00:00Z' }),
        event({ type: 'autopayment_enabled', contract_id: 'k2', occurred_at: '2026-11-01T00:00:00Z' }),
        event({ type: 'autopayment_enabled', contract_id: 'k1', occurred_at: '2026-11-02T00:00:00Z' }),
      ],
      sampleClient({ contracts }),
    );
    expect(outcomes).toEqual(['applied', 'applied', 'stale']);
    expect(client.contracts.map((c) => c.autopayment)).toEqual(['disabled', 'enabled']);
  });

  it('refuses a contract the client does not have', () => {
    const outcome = applyActivity(sampleClient({ contracts }), {}, event({ type: 'autopayment_enabled', contract_id: 'k9', occurred_at: '2026-11-01T00:00:00Z' }));
    expect(outcome).toEqual({ kind: 'unknown_contract' });
  });
});
