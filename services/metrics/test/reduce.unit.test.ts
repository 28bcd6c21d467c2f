import { describe, expect, it } from 'vitest';
import { ActivityEventTypes, ClientEventTypes, loadStageProcess, type Client } from '@trackme/contracts';
import { REPO_ROOT, sampleClient } from '@trackme/testkit';
import { Effects, reduce, type ClientState, type CountedEvent } from '../src/counting/reduce.js';
import { Calendar } from '../src/periods.js';

const context = { calendar: new Calendar('UTC'), process: loadStageProcess(`${REPO_ROOT}/config/stages.yaml`) };

function event(type: string, at: string, client: Client, extra: Partial<CountedEvent['data']> = {}): CountedEvent {
  return { id: `${type}-${client.version}`, type, occurredAt: Date.parse(at), data: { client_id: client.id, version: client.version, client, ...extra } };
}
const login = (client: Client, at: string, arrived = at) =>
  event(ActivityEventTypes.loggedIn, arrived, client, { activity: { occurred_at: at } });

function replay(events: CountedEvent[]): { state: ClientState | undefined; effects: Effects } {
  const effects = new Effects();
  let state: ClientState | undefined;
  for (const e of events) state = reduce(state, e, context, effects);
  return { state, effects };
}

const created = sampleClient({ id: 'c1', registration_date: '2026-11-02T09:00:00.000Z', last_updated: '2026-11-02T09:00:00.000Z' });

describe('reduce', () => {
  it('counts an event once: the same version and type again is a repeat', () => {
    const { effects } = replay([event(ClientEventTypes.created, '2026-11-02T09:00:00Z', created), event(ClientEventTypes.created, '2026-11-02T09:00:00Z', created)]);
    expect(effects.counters.get('day|2026-11-02')?.get('created')).toBe(1);
    expect(effects.outcomes.get('duplicate')).toBe(1);
  });

  it('counts both events of one PUT (same version, two types)', () => {
    const put = { ...created, stage: 'product_selection', app: 'not_installed' as const, version: 2, last_updated: '2026-11-02T10:00:00.000Z' };
    const { effects, state } = replay([
      event(ClientEventTypes.created, '2026-11-02T09:00:00Z', created),
      event(ClientEventTypes.updated, '2026-11-02T10:00:00Z', put),
      event(ClientEventTypes.stageChanged, '2026-11-02T10:00:00Z', put, { from: 'registration', to: 'product_selection', rollback: false }),
    ]);
    expect(effects.counters.get('day|2026-11-02')?.get('tr:registration:product_selection')).toBe(1);
    expect(state).toMatchObject({ stage: 'product_selection', version: 2, installed: false });
    expect(effects.outcomes.get('counted')).toBe(3);
  });

  it('moves nothing when activity is applied again after a crash (a new version, the same change)', () => {
    const installed = { ...created, app: 'installed' as const, version: 2 };
    const once = replay([event(ClientEventTypes.created, '2026-11-02T09:00:00Z', { ...created, app: 'not_installed' }), event(ActivityEventTypes.appStatusChanged, '2026-11-02T11:00:00Z', installed)]);
    const twice = replay([
      event(ClientEventTypes.created, '2026-11-02T09:00:00Z', { ...created, app: 'not_installed' }),
      event(ActivityEventTypes.appStatusChanged, '2026-11-02T11:00:00Z', installed),
      event(ActivityEventTypes.appStatusChanged, '2026-11-02T11:00:05Z', { ...installed, version: 3 }),
    ]);
    expect(twice.effects.counters).toEqual(once.effects.counters);
  });

  it('counts a client once per day, week and month however often it logs in', () => {
    const { effects } = replay([
      event(ClientEventTypes.created, '2026-11-02T09:00:00Z', created),
      login({ ...created, version: 2 }, '2026-11-02T10:00:00Z'),
      login({ ...created, version: 3 }, '2026-11-02T18:00:00Z'),
      login({ ...created, version: 4 }, '2026-11-03T08:00:00Z'),
    ]);
    expect(effects.counters.get('day|2026-11-02')?.get('active')).toBe(1);
    expect(effects.counters.get('day|2026-11-03')?.get('active')).toBe(1);
    expect(effects.counters.get('week|2026-11-02')?.get('active')).toBe(1);
    expect(effects.counters.get('week|2026-11-02')?.get('active_days')).toBe(2);
    expect(effects.counters.get('month|2026-11-01')?.get('active')).toBe(1);
  });

  it('ignores a login older than the login days it remembers, instead of counting it twice', () => {
    const { effects, state } = replay([
      event(ClientEventTypes.created, '2026-06-01T09:00:00Z', { ...created, registration_date: '2026-06-01T09:00:00.000Z', last_updated: '2026-06-01T09:00:00.000Z' }),
      login({ ...created, version: 2 }, '2026-06-10T10:00:00Z'),
      login({ ...created, version: 3 }, '2026-11-02T10:00:00Z'),
      // June is more than 70 days before the latest login: its June days are forgotten
      login({ ...created, version: 4 }, '2026-06-11T10:00:00Z', '2026-11-02T11:00:00Z'),
    ]);
    expect(effects.outcomes.get('too_late')).toBe(1);
    expect(effects.counters.get('month|2026-06-01')?.get('active')).toBe(1);
    expect(effects.counters.get('day|2026-06-11')).toBeUndefined();
    expect(state?.days).toEqual([context.calendar.dayNumber(Date.parse('2026-11-02T10:00:00Z'))]);
  });

  it('counts nothing for a deleted client, and takes it out of the state figures', () => {
    const { effects } = replay([
      event(ClientEventTypes.created, '2026-11-02T09:00:00Z', created),
      event(ClientEventTypes.deleted, '2026-11-03T09:00:00Z', { ...created, version: 2 }),
      login({ ...created, version: 3 }, '2026-11-03T10:00:00Z'),
    ]);
    expect(effects.outcomes.get('after_delete')).toBe(1);
    expect(effects.counters.get('all|-')?.get('g:clients')).toBeUndefined();
    expect(effects.counters.get('day|2026-11-03')?.get('g:clients')).toBe(-1);
    expect(effects.counters.get('day|2026-11-03')?.get('active')).toBeUndefined();
  });
});

describe('a client imported from the older service', () => {
  const imported = sampleClient({ id: 'old-1', stage: 'payment_waiting', registration_date: '2024-03-01T09:00:00.000Z', last_updated: '2024-04-02T10:00:00.000Z' });

  it('counts in the stage figures of the day it arrived, not as a new client or a change of that day', () => {
    const { effects, state } = replay([event(ClientEventTypes.created, '2026-11-02T09:00:00Z', imported, { imported: true })]);
    const day = effects.counters.get('day|2026-11-02');
    expect(day?.get('g:stage:payment_waiting')).toBe(1);
    expect(day?.get('created')).toBeUndefined();
    expect(day?.get('changed')).toBeUndefined();
    expect(day?.get('entered:payment_waiting')).toBeUndefined();
    expect(state).toMatchObject({ stage: 'payment_waiting', stage_since: null, registered: Date.parse('2024-03-01T09:00:00.000Z') });
  });

  it('gives its first move no time in stage, since nobody recorded when it entered the stage', () => {
    const moved = { ...imported, stage: 'completed', version: 2 };
    const { effects } = replay([
      event(ClientEventTypes.created, '2026-11-02T09:00:00Z', imported, { imported: true }),
      event(ClientEventTypes.stageChanged, '2026-11-03T09:00:00Z', moved, { from: 'payment_waiting', to: 'completed', rollback: false }),
    ]);
    const day = effects.counters.get('day|2026-11-03');
    expect(day?.get('tr:payment_waiting:completed')).toBe(1);
    expect(day?.get('dur_n:payment_waiting')).toBeUndefined();
  });
});
