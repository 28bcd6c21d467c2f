import {
  ActivityEventTypes,
  ClientEventTypes,
  METRIC_INTERVALS,
  type Client,
  type MetricInterval,
  type StageProcess,
} from '@trackme/contracts';
import type { Calendar } from '../periods.js';
import { counterKey, Fields, periodKeys, TOTALS_KEY, type Effects } from './counter-fields.js';
import { countLogin } from './logins.js';

/**
 * What the metrics service remembers of one client: enough to turn its next event into counter
 * increments without reading anything else. Written as a whole after every batch (its value does
 * not depend on how often it is written), by the one consumer of the client's partition.
 */
export interface ClientState {
  _id: string;
  /** last version counted */
  version: number;
  /** the event types counted at that version (a PUT emits two) */
  types_at_version: string[];
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
  last_change_day: number;
  /** when the client last entered each stage */
  entered: Record<string, number>;
  /** distinct counts: the period each one last counted this client in, by `<name>|<interval>` */
  marks: Record<string, string>;
  /** day numbers with a login, the last LOGIN_DAYS_KEPT days before the latest */
  days: number[];
}

export { counterKey, Effects, TOTALS_KEY } from './counter-fields.js';
export { countLoginAt, LOGIN_DAYS_KEPT } from './logins.js';
const UNKNOWN = 'unknown';

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

/** What a client adds to the "at period end" figures (summed over clients; a delta per change). */
function gaugesOf(state: ClientState | undefined): Map<string, number> {
  const gauges = new Map<string, number>();
  if (!state || state.deleted) return gauges;
  gauges.set(Fields.gauges.stage(state.stage), 1);
  gauges.set(Fields.gauges.clients, 1);
  if (state.active) {
    gauges.set(Fields.gauges.active, 1);
    gauges.set(Fields.gauges.installed, state.installed ? 1 : 0);
    gauges.set(Fields.gauges.contracts, state.contracts);
    gauges.set(Fields.gauges.contractsWithAutopayment, state.contracts_on);
    gauges.set(Fields.gauges.lastChangeDay(state.last_change_day), 1);
  }
  return gauges;
}

function stateFromSnapshot(client: Client, previous: ClientState | undefined, calendar: Calendar): ClientState {
  return {
    _id: client.id,
    version: previous?.version ?? 0,
    types_at_version: previous?.types_at_version ?? [],
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
    last_change_day: calendar.dayNumber(Date.parse(client.last_updated)),
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
  if (previous && (data.version < previous.version || (data.version === previous.version && previous.types_at_version.includes(event.type)))) {
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
  state.version = data.version;
  state.types_at_version = previous && previous.version === data.version ? [...previous.types_at_version, event.type] : [event.type];

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
      add(Fields.created);
      addFirst(state, Fields.entered(state.stage), [Fields.entered(state.stage)]);
      break;
    }
    case ClientEventTypes.stageChanged: {
      const from = data.from!;
      const to = data.to!;
      add(Fields.transition(from, to));
      if (data.rollback) add(Fields.rollbacks);
      const bySource = (kind: 'movers' | 'converters') => Fields.byLabel(kind, 'source', state.source ?? UNKNOWN);
      const byChannel = (kind: 'movers' | 'converters') => Fields.byLabel(kind, 'channel', state.channel ?? UNKNOWN);
      addFirst(state, Fields.movers, [Fields.movers]);
      addFirst(state, bySource('movers'), [bySource('movers')]);
      addFirst(state, byChannel('movers'), [byChannel('movers')]);
      if (to === process.conversionId) {
        const days = (at - state.registered) / 86_400_000;
        each((interval, key) => {
          if (!firstIn(state, Fields.converters, interval, key)) return;
          effects.add(counterKey(interval, key), Fields.converters, 1);
          effects.add(counterKey(interval, key), Fields.totalDurationSum, days);
          effects.add(counterKey(interval, key), Fields.totalDurationCount, 1);
        });
        addFirst(state, bySource('converters'), [bySource('converters')]);
        addFirst(state, byChannel('converters'), [byChannel('converters')]);
      }
      const since = previous?.stage === from ? previous.stage_since : null;
      if (since !== null) {
        add(Fields.stageDurationSum(from), (at - since) / 3_600_000);
        add(Fields.stageDurationCount(from));
      }
      const enteredFrom = state.entered[from];
      const forward = (process.byId.get(to)?.order ?? 0) > (process.byId.get(from)?.order ?? 0);
      if (forward && enteredFrom !== undefined) {
        const enteredKeys = periodKeys(calendar.dayNumber(enteredFrom));
        each((interval, key) => {
          if (enteredKeys[interval] === key && firstIn(state, Fields.advanced(from), interval, key)) {
            effects.add(counterKey(interval, key), Fields.advanced(from), 1);
          }
        });
      }
      state.stage = to;
      state.stage_since = at;
      state.entered = { ...state.entered, [to]: at };
      addFirst(state, Fields.entered(to), [Fields.entered(to)]);
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
  if (COMMAND_CHANGES.has(event.type) && !data.imported) addFirst(state, Fields.changed, [Fields.changed]);

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
