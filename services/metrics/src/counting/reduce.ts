import {
  ActivityEventTypes,
  ClientEventTypes,
  METRIC_INTERVALS,
  type Client,
  type MetricInterval,
  type StageProcess,
} from '@trackme/contracts';
import { dateOfDay, periodDays, type Calendar } from '../periods.js';

/**
 * What the metrics service remembers of one client: enough to turn its next event into counter
 * increments without reading anything else. Written as a whole after every batch (its value does
 * not depend on how often it is written), by the one consumer of the client's partition.
 */
export interface ClientState {
  _id: string;
  /** last version counted, and the event types counted at that version (a PUT emits two) */
  v: number;
  vt: string[];
  deleted: boolean;
  stage: string;
  /** when the client entered its current stage; null when the service never saw it enter */
  stage_since: number | null;
  registered: number;
  active: boolean;
  installed: boolean;
  contracts: number;
  contracts_on: number;
  source: string | null;
  channel: string | null;
  /** day number of `last_updated` */
  lc_day: number;
  /** when the client last entered each stage */
  entered: Record<string, number>;
  /** distinct counts: the period each one last counted this client in, by `<name>|<interval>` */
  marks: Record<string, string>;
  /** day numbers with a login, the last LOGIN_DAYS_KEPT days before the latest */
  days: number[];
}

/** How many days of logins a client's state keeps (decides whether a login is new in its month). */
export const LOGIN_DAYS_KEPT = 70;

/** Counter documents: one per period (`<interval>|<period start>`) plus the running totals. */
export const TOTALS_KEY = 'all|-';
export const counterKey = (interval: MetricInterval, periodStart: string): string => `${interval}|${periodStart}`;

/** A label value as part of a field name (Mongo field names may not hold `.` or start with `$`). */
export const encodeLabel = (value: string): string => encodeURIComponent(value).replace(/\./g, '%2E');
export const decodeLabel = (value: string): string => decodeURIComponent(value);
const UNKNOWN = 'unknown';

/** Increments of one batch: counter document → field → delta; HyperLogLog key → members. */
export class Effects {
  readonly counters = new Map<string, Map<string, number>>();
  readonly hll = new Map<string, Set<string>>();
  readonly outcomes = new Map<string, number>();

  add(doc: string, field: string, delta: number): void {
    if (delta === 0) return;
    let fields = this.counters.get(doc);
    if (!fields) this.counters.set(doc, (fields = new Map()));
    const next = (fields.get(field) ?? 0) + delta;
    if (next === 0) fields.delete(field);
    else fields.set(field, next);
  }

  addHll(key: string, member: string): void {
    let members = this.hll.get(key);
    if (!members) this.hll.set(key, (members = new Set()));
    members.add(member);
  }

  count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

/** A change event as the reducer reads it (the envelope already validated). */
export interface CountedEvent {
  id: string;
  type: string;
  /** envelope occurred_at, epoch ms */
  occurredAt: number;
  data: {
    client_id: string;
    version: number;
    client: Client;
    from?: string;
    to?: string;
    rollback?: boolean;
    activity?: { occurred_at: string };
    /** a client brought over from another system: not a registration or a change of today */
    imported?: true;
  };
}

export interface ReduceContext {
  calendar: Calendar;
  process: StageProcess;
}

const COMMAND_CHANGES: ReadonlySet<string> = new Set([ClientEventTypes.created, ClientEventTypes.updated, ClientEventTypes.stageChanged]);

/** The period of each interval holding a day, by interval. */
function periodKeys(day: number): Record<MetricInterval, string> {
  return {
    day: dateOfDay(day),
    week: dateOfDay(periodDays('week', day).first),
    month: dateOfDay(periodDays('month', day).first),
  };
}

/** What a client adds to the "at period end" figures (summed over clients; a delta per change). */
function gaugesOf(state: ClientState | undefined): Map<string, number> {
  const gauges = new Map<string, number>();
  if (!state || state.deleted) return gauges;
  gauges.set(`g:stage:${state.stage}`, 1);
  gauges.set('g:clients', 1);
  if (state.active) {
    gauges.set('g:active', 1);
    gauges.set('g:installed', state.installed ? 1 : 0);
    gauges.set('g:contracts', state.contracts);
    gauges.set('g:contracts_on', state.contracts_on);
    gauges.set(`g:lc:${state.lc_day}`, 1);
  }
  return gauges;
}

function stateFromSnapshot(client: Client, previous: ClientState | undefined, calendar: Calendar): ClientState {
  return {
    _id: client.id,
    v: previous?.v ?? 0,
    vt: previous?.vt ?? [],
    deleted: false,
    stage: previous?.stage ?? client.stage,
    stage_since: previous ? previous.stage_since : null,
    registered: Date.parse(client.registration_date),
    active: client.is_active,
    installed: client.app === 'installed',
    contracts: client.contracts.length,
    contracts_on: client.contracts.filter((c) => c.autopayment === 'enabled').length,
    source: client.source,
    channel: client.channel,
    lc_day: calendar.dayNumber(Date.parse(client.last_updated)),
    // copies: a state held in memory must not change if this batch is retried
    entered: { ...previous?.entered },
    marks: { ...previous?.marks },
    days: [...(previous?.days ?? [])],
  };
}

/** Counts a client once per period for a distinct figure; true the first time in that period. */
function firstIn(state: ClientState, name: string, interval: MetricInterval, key: string): boolean {
  const mark = `${name}|${interval}`;
  if (state.marks[mark] === key) return false;
  state.marks[mark] = key;
  return true;
}

/**
 * Applies one change event to a client's state and records what it adds to the counters
 * (docs/metrics.md). Pure apart from `effects`; returns the new state (the same one when the
 * event was already counted).
 */
export function reduce(previous: ClientState | undefined, event: CountedEvent, context: ReduceContext, effects: Effects): ClientState | undefined {
  const { data } = event;
  if (previous && (data.version < previous.v || (data.version === previous.v && previous.vt.includes(event.type)))) {
    effects.count('duplicate');
    return previous;
  }
  if (previous?.deleted) {
    effects.count('after_delete');
    return previous;
  }
  const { calendar, process } = context;
  const at = event.occurredAt;
  const day = calendar.dayNumber(at);
  const keys = periodKeys(day);
  const each = (fn: (interval: MetricInterval, key: string) => void) => {
    for (const interval of METRIC_INTERVALS) fn(interval, keys[interval]);
  };
  const add = (field: string, delta = 1) => each((interval, key) => effects.add(counterKey(interval, key), field, delta));
  const addFirst = (state: ClientState, name: string, fields: string[]) =>
    each((interval, key) => {
      if (firstIn(state, name, interval, key)) for (const field of fields) effects.add(counterKey(interval, key), field, 1);
    });

  const state = stateFromSnapshot(data.client, previous, calendar);
  // a client's events come in order: marks of periods before this event's can never match again
  for (const [mark, key] of Object.entries(state.marks)) {
    if (key < keys[mark.slice(mark.lastIndexOf('|') + 1) as MetricInterval]) delete state.marks[mark];
  }
  state.v = data.version;
  state.vt = previous && previous.v === data.version ? [...previous.vt, event.type] : [event.type];

  switch (event.type) {
    case ClientEventTypes.created: {
      state.stage = data.client.stage;
      if (data.imported) {
        // its stage was entered before, on a day nobody recorded: no stage time, no "created"
        state.stage_since = null;
        state.entered = {};
        break;
      }
      state.stage_since = state.registered;
      state.entered = { [state.stage]: at };
      add('created');
      addFirst(state, `entered:${state.stage}`, [`entered:${state.stage}`]);
      break;
    }
    case ClientEventTypes.stageChanged: {
      const from = data.from!;
      const to = data.to!;
      add(`tr:${from}:${to}`);
      if (data.rollback) add('rollbacks');
      const source = `source:${encodeLabel(state.source ?? UNKNOWN)}`;
      const channel = `channel:${encodeLabel(state.channel ?? UNKNOWN)}`;
      addFirst(state, 'movers', ['movers']);
      addFirst(state, `movers_${source}`, [`movers_${source}`]);
      addFirst(state, `movers_${channel}`, [`movers_${channel}`]);
      if (to === process.conversionId) {
        const days = (at - state.registered) / 86_400_000;
        each((interval, key) => {
          if (!firstIn(state, 'converters', interval, key)) return;
          effects.add(counterKey(interval, key), 'converters', 1);
          effects.add(counterKey(interval, key), 'total_sum', days);
          effects.add(counterKey(interval, key), 'total_n', 1);
        });
        addFirst(state, `converters_${source}`, [`converters_${source}`]);
        addFirst(state, `converters_${channel}`, [`converters_${channel}`]);
      }
      const since = previous?.stage === from ? previous.stage_since : null;
      if (since !== null) {
        add(`dur_sum:${from}`, (at - since) / 3_600_000);
        add(`dur_n:${from}`);
      }
      const enteredFrom = state.entered[from];
      const forward = (process.byId.get(to)?.order ?? 0) > (process.byId.get(from)?.order ?? 0);
      if (forward && enteredFrom !== undefined) {
        const enteredKeys = periodKeys(calendar.dayNumber(enteredFrom));
        each((interval, key) => {
          if (enteredKeys[interval] === key && firstIn(state, `advanced:${from}`, interval, key)) {
            effects.add(counterKey(interval, key), `advanced:${from}`, 1);
          }
        });
      }
      state.stage = to;
      state.stage_since = at;
      state.entered = { ...state.entered, [to]: at };
      addFirst(state, `entered:${to}`, [`entered:${to}`]);
      break;
    }
    case ClientEventTypes.deleted:
      state.deleted = true;
      break;
    case ActivityEventTypes.loggedIn:
      countLogin(state, Date.parse(data.activity!.occurred_at), context, effects);
      break;
    default:
      break;
  }
  if (COMMAND_CHANGES.has(event.type) && !data.imported) addFirst(state, 'changed', ['changed']);

  // the "at period end" figures move by the difference the event made to this client
  const before = gaugesOf(previous);
  const after = gaugesOf(state);
  for (const [field, value] of after) {
    const delta = value - (before.get(field) ?? 0);
    effects.add(counterKey('day', keys.day), field, delta);
    effects.add(TOTALS_KEY, field, delta);
  }
  for (const [field, value] of before) {
    if (after.has(field)) continue;
    effects.add(counterKey('day', keys.day), field, -value);
    effects.add(TOTALS_KEY, field, -value);
  }
  effects.count('counted');
  return state;
}

/** Counts a login outside of an event (a rebuild replaying the login days a state remembered). */
export function countLoginAt(state: ClientState, at: number, context: ReduceContext, effects: Effects): void {
  countLogin(state, at, context, effects);
}

/** A login counts once per client and day, week and month; the live HyperLogLogs get it too. */
function countLogin(state: ClientState, at: number, { calendar }: ReduceContext, effects: Effects): void {
  const day = calendar.dayNumber(at);
  const keys = periodKeys(day);
  const latest = state.days.length > 0 ? state.days[state.days.length - 1]! : day;
  const earliestNeeded = Math.min(periodDays('week', day).first, periodDays('month', day).first);
  if (earliestNeeded < latest - LOGIN_DAYS_KEPT) {
    effects.count('too_late');
    return;
  }
  for (const interval of METRIC_INTERVALS) effects.addHll(`${interval}:${keys[interval]}`, state._id);
  if (state.days.includes(day)) return;
  for (const interval of ['week', 'month'] as const) {
    const { first, next } = periodDays(interval, day);
    const doc = counterKey(interval, keys[interval]);
    if (!state.days.some((d) => d >= first && d < next)) effects.add(doc, 'active', 1);
    effects.add(doc, 'active_days', 1);
  }
  effects.add(counterKey('day', keys.day), 'active', 1);
  const days = [...state.days, day].sort((a, b) => a - b);
  const newest = days[days.length - 1]!;
  state.days = days.filter((d) => d >= newest - LOGIN_DAYS_KEPT);
}
