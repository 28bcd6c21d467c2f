import { describe, expect, it } from 'vitest';
import { ClientEventTypes, loadStageProcess, type Client } from '@trackme/contracts';
import { REPO_ROOT, sampleClient } from '@trackme/testkit';
import { Effects, reduce, TOTALS_KEY, type ClientState, type CountedEvent } from '../src/counting/reduce.js';
import { Calendar } from '../src/periods.js';

/**
 * The figures of docs/metrics.md as one client's events move them: what each event adds to the
 * day, week and month counters and to the "at period end" totals.
 */
const context = { calendar: new Calendar('UTC'), process: loadStageProcess(`${REPO_ROOT}/config/stages.yaml`) };

// Monday 2 November 2026: its week starts that day, its month on the 1st
const DAY = 'day|2026-11-02';
const WEEK = 'week|2026-11-02';
const MONTH = 'month|2026-11-01';
const PERIODS = [DAY, WEEK, MONTH];

const base = sampleClient({ id: 'c1', source: 'ads', channel: 'web', registration_date: '2026-11-02T09:00:00.000Z', last_updated: '2026-11-02T09:00:00.000Z' });
let version = 0;

function at(when: string, client: Partial<Client>, type: string, extra: Partial<CountedEvent['data']> = {}): CountedEvent {
  const snapshot = { ...base, ...client };
  return { id: `${type}-${snapshot.version}`, type, occurredAt: Date.parse(when), data: { client_id: snapshot.id, version: snapshot.version, client: snapshot, ...extra } };
}
const create = (when = '2026-11-02T09:00:00Z', client: Partial<Client> = {}) => at(when, { version: (version = 1), ...client }, ClientEventTypes.created);
/** a stage command: one new version, one event */
const move = (when: string, from: string, to: string, client: Partial<Client> = {}) =>
  at(when, { version: (version += 1), stage: to, ...client }, ClientEventTypes.stageChanged, { from, to, rollback: (context.process.byId.get(to)?.order ?? 0) < (context.process.byId.get(from)?.order ?? 0) });

function replay(events: CountedEvent[]): { state: ClientState | undefined; effects: Effects; field: (doc: string, name: string) => number | undefined } {
  const effects = new Effects();
  let state: ClientState | undefined;
  for (const e of events) state = reduce(state, e, context, effects);
  return { state, effects, field: (doc, name) => effects.counters.get(doc)?.get(name) };
}
const inPeriods = (field: (doc: string, name: string) => number | undefined, name: string) => PERIODS.map((doc) => field(doc, name));

describe('figures at period end', () => {
  const contracts = [
    { id: 'k1', autopayment: 'enabled' as const },
    { id: 'k2', autopayment: 'disabled' as const },
    { id: 'k3', autopayment: 'enabled' as const },
  ];

  it('counts an active client with its app, contracts, autopayments, stage and last change day', () => {
    const { field } = replay([create(undefined, { contracts })]);
    const lastChange = `g:lc:${context.calendar.dayNumber(Date.parse('2026-11-02T09:00:00Z'))}`;
    for (const doc of [DAY, TOTALS_KEY]) {
      expect([field(doc, 'g:clients'), field(doc, 'g:active'), field(doc, 'g:installed')]).toEqual([1, 1, 1]);
      expect([field(doc, 'g:contracts'), field(doc, 'g:contracts_on')]).toEqual([3, 2]);
      expect([field(doc, 'g:stage:registration'), field(doc, lastChange)]).toEqual([1, 1]);
    }
  });

  it('counts an inactive client only among the clients and in its stage', () => {
    const { effects } = replay([create(undefined, { is_active: false, contracts })]);
    expect(Object.fromEntries(effects.counters.get(TOTALS_KEY)!)).toEqual({ 'g:clients': 1, 'g:stage:registration': 1 });
  });

  it('counts no installed app for a client without it', () => {
    const { field } = replay([create(undefined, { app: 'not_installed' })]);
    expect(field(TOTALS_KEY, 'g:active')).toBe(1);
    expect(field(TOTALS_KEY, 'g:installed')).toBeUndefined();
  });

  it('takes a client out of the active figures when it is deactivated', () => {
    const { field } = replay([create(undefined, { contracts }), at('2026-11-03T09:00:00Z', { version: 2, is_active: false, contracts }, ClientEventTypes.updated)]);
    expect(['g:active', 'g:installed', 'g:contracts', 'g:contracts_on'].map((name) => field('day|2026-11-03', name))).toEqual([-1, -1, -3, -2]);
    expect(field(TOTALS_KEY, 'g:active')).toBeUndefined();
    expect(field(TOTALS_KEY, 'g:clients')).toBe(1);
  });
});

describe('repeats', () => {
  it('ignores an event older than the version already counted', () => {
    const created = create();
    const { field, effects } = replay([created, move('2026-11-02T10:00:00Z', 'registration', 'product_selection'), created]);
    expect(field(DAY, 'created')).toBe(1);
    expect(effects.outcomes.get('duplicate')).toBe(1);
  });

  it('counts the two events of a PUT once each when both come again', () => {
    const put = { version: 2, stage: 'product_selection' };
    const updated = at('2026-11-02T10:00:00Z', put, ClientEventTypes.updated);
    const moved = at('2026-11-02T10:00:00Z', put, ClientEventTypes.stageChanged, { from: 'registration', to: 'product_selection', rollback: false });
    const { field, effects } = replay([create(), updated, moved, updated, moved]);
    expect(field(DAY, 'tr:registration:product_selection')).toBe(1);
    expect(effects.outcomes.get('duplicate')).toBe(2);
  });

  it('counts a PUT that moves the stage after a stage command moved it before', () => {
    const put = { version: 3, stage: 'data_consent' };
    const { field } = replay([
      create(),
      move('2026-11-02T10:00:00Z', 'registration', 'product_selection'),
      at('2026-11-02T11:00:00Z', put, ClientEventTypes.updated),
      at('2026-11-02T11:00:00Z', put, ClientEventTypes.stageChanged, { from: 'product_selection', to: 'data_consent', rollback: false }),
    ]);
    expect(field(DAY, 'tr:product_selection:data_consent')).toBe(1);
  });
});

describe('distinct clients per period', () => {
  it('counts a new client as created, changed and entering its first stage', () => {
    const { field } = replay([create()]);
    for (const name of ['created', 'changed', 'entered:registration']) expect(inPeriods(field, name)).toEqual([1, 1, 1]);
  });

  it('counts a client that changes three times in a day once as changed, mover and converter', () => {
    const { field } = replay([
      create(undefined, { stage: 'payment_waiting' }),
      at('2026-11-02T09:30:00Z', { version: 2, stage: 'payment_waiting', name: 'Renamed' }, ClientEventTypes.updated),
      move('2026-11-02T10:00:00Z', 'payment_waiting', 'completed'),
      move('2026-11-02T11:00:00Z', 'completed', 'payment_waiting'),
      move('2026-11-02T12:00:00Z', 'payment_waiting', 'completed'),
    ]);
    for (const name of ['changed', 'movers', 'movers_source:ads', 'movers_channel:web', 'converters', 'converters_source:ads', 'converters_channel:web', 'total_n', 'entered:completed']) {
      expect({ name, counts: inPeriods(field, name) }).toEqual({ name, counts: [1, 1, 1] });
    }
    expect(inPeriods(field, 'tr:payment_waiting:completed')).toEqual([2, 2, 2]);
    expect(inPeriods(field, 'rollbacks')).toEqual([1, 1, 1]);
  });

  it('counts the client again in the next period', () => {
    const { field } = replay([create(), move('2026-11-02T10:00:00Z', 'registration', 'product_selection'), move('2026-11-03T10:00:00Z', 'product_selection', 'data_consent')]);
    expect(field('day|2026-11-03', 'movers')).toBe(1);
    expect(field(WEEK, 'movers')).toBe(1);
    expect(field('day|2026-11-03', 'changed')).toBe(1);
  });

  it('counts a client without source or channel under unknown', () => {
    const { field } = replay([create(undefined, { source: null, channel: null }), move('2026-11-02T10:00:00Z', 'registration', 'product_selection', { source: null, channel: null })]);
    expect([field(DAY, 'movers_source:unknown'), field(DAY, 'movers_channel:unknown')]).toEqual([1, 1]);
  });
});

describe('stage changes', () => {
  it('counts no rollback and no conversion for a forward move to a stage before the last', () => {
    const { field } = replay([create(), move('2026-11-02T10:00:00Z', 'registration', 'product_selection')]);
    expect(field(DAY, 'rollbacks')).toBeUndefined();
    expect(field(DAY, 'converters')).toBeUndefined();
    expect(field(DAY, 'total_n')).toBeUndefined();
  });

  it('measures the days from registration to conversion', () => {
    const { field } = replay([create(undefined, { stage: 'payment_waiting' }), move('2026-11-05T21:00:00Z', 'payment_waiting', 'completed')]);
    expect([field('day|2026-11-05', 'total_sum'), field('day|2026-11-05', 'total_n')]).toEqual([3.5, 1]);
  });

  it('measures the hours spent in a stage, from registration and then from the last move', () => {
    const { field } = replay([create(), move('2026-11-02T11:30:00Z', 'registration', 'product_selection'), move('2026-11-02T15:30:00Z', 'product_selection', 'data_consent')]);
    expect(inPeriods(field, 'dur_sum:registration')).toEqual([2.5, 2.5, 2.5]);
    expect(inPeriods(field, 'dur_n:registration')).toEqual([1, 1, 1]);
    expect([field(DAY, 'dur_sum:product_selection'), field(DAY, 'dur_n:product_selection')]).toEqual([4, 1]);
  });

  it('measures the stage a PUT leaves from when the client entered it', () => {
    const put = { version: 2, stage: 'product_selection' };
    const { field } = replay([
      create(),
      at('2026-11-02T10:00:00Z', put, ClientEventTypes.updated),
      at('2026-11-02T10:00:00Z', put, ClientEventTypes.stageChanged, { from: 'registration', to: 'product_selection', rollback: false }),
    ]);
    expect([field(DAY, 'dur_sum:registration'), field(DAY, 'dur_n:registration')]).toEqual([1, 1]);
  });

  it('counts the move of a client it never saw created, without time in stage', () => {
    const { field } = replay([move('2026-11-02T10:00:00Z', 'registration', 'product_selection')]);
    expect(field(DAY, 'tr:registration:product_selection')).toBe(1);
    expect(field(DAY, 'dur_n:registration')).toBeUndefined();
    expect(field(TOTALS_KEY, 'g:stage:product_selection')).toBe(1);
  });

  it('counts the first seen event of a client in its stage', () => {
    const { field } = replay([at('2026-11-02T10:00:00Z', { version: 4, stage: 'data_consent' }, ClientEventTypes.updated)]);
    expect(field(TOTALS_KEY, 'g:stage:data_consent')).toBe(1);
  });

  it('keeps counting a move from or to a stage no longer in the stage file', () => {
    const { field } = replay([create(undefined, { stage: 'retired' }), move('2026-11-02T10:00:00Z', 'retired', 'registration'), move('2026-11-02T11:00:00Z', 'registration', 'gone')]);
    expect([field(DAY, 'tr:retired:registration'), field(DAY, 'tr:registration:gone')]).toEqual([1, 1]);
    // a stage without an order is no step forward in the funnel
    expect(field(DAY, 'advanced:registration')).toBeUndefined();
  });
});

describe('funnel: advanced from a stage entered in the period', () => {
  it('counts a client advancing from each stage it entered that day, once however often', () => {
    const { field } = replay([
      create(),
      move('2026-11-02T10:00:00Z', 'registration', 'product_selection'),
      move('2026-11-02T11:00:00Z', 'product_selection', 'registration'),
      move('2026-11-02T12:00:00Z', 'registration', 'product_selection'),
      move('2026-11-02T13:00:00Z', 'product_selection', 'data_consent'),
    ]);
    expect(inPeriods(field, 'advanced:registration')).toEqual([1, 1, 1]);
    expect(inPeriods(field, 'advanced:product_selection')).toEqual([1, 1, 1]);
    expect(inPeriods(field, 'entered:product_selection')).toEqual([1, 1, 1]);
  });

  it('does not count a move back as advancing', () => {
    const { field } = replay([create(), move('2026-11-02T10:00:00Z', 'registration', 'product_selection'), move('2026-11-02T11:00:00Z', 'product_selection', 'registration')]);
    expect(field(DAY, 'advanced:product_selection')).toBeUndefined();
  });

  it('counts an advance only in the periods that also hold its entry into the stage', () => {
    // entered on Monday, advanced on Wednesday: same week and month, another day
    const { field } = replay([create(), move('2026-11-04T10:00:00Z', 'registration', 'product_selection')]);
    expect(field('day|2026-11-04', 'advanced:registration')).toBeUndefined();
    expect([field(WEEK, 'advanced:registration'), field(MONTH, 'advanced:registration')]).toEqual([1, 1]);
  });
});
