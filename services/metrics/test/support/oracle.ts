import { METRIC_TYPES, type MetricInterval, type MetricType, type StageProcess } from '@trackme/contracts';
import { appliedOrder, isRollback, type AppStatus, type ContractFact, type History } from './history.js';
import { dateNumber, daysInPeriod, dayNumber, localDate, periodBegin, periodEnd, periodStartOf } from './periods.js';

export { periodBegin, periodEnd, periodStartOf, dayNumber, localDate } from './periods.js';

/**
 * The metrics of docs/metrics.md for one period, computed by brute force from a history's raw
 * facts — deliberately without looking at the metrics service, so the two can be compared.
 * Rows estimated from a HyperLogLog (`estimate: "hll"`) are not produced: compare those with a
 * tolerance against the exact dau/wau/mau rows.
 *
 * Where docs/metrics.md leaves room, the most literal reading is taken; each such place is marked
 * "Reading:" below.
 */

export interface ExpectedRow {
  type: MetricType;
  labels: Record<string, string>;
  value: number;
}

export interface OracleOptions {
  interval: MetricInterval;
  /** the local date the period starts on (`YYYY-MM-DD`) */
  periodStart: string;
  /** E: the period's end, or now for the current period computed to date */
  end: Date;
  now: Date;
  /** METRICS_TZ */
  tz: string;
  process: StageProcess;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The service remembers 70 days of login days per client (docs/metrics.md, late logins). */
const LOGIN_MEMORY_DAYS = 70;
const DROPOUT_DAYS: Partial<Record<MetricInterval, number>> = { week: 7, month: 30 };
const ACTIVE_USERS: Record<MetricInterval, MetricType> = { day: 'dau', week: 'wau', month: 'mau' };

/** A stage move as its ClientStageChanged event shows it. */
interface Move {
  at: number;
  from: string;
  to: string;
  rollback: boolean;
  /** when the client entered `from`: its creation, or the move into it */
  enteredFromAt: number;
  /** source / channel of the client snapshot in the event */
  source: string | null;
  channel: string | null;
}

interface State {
  /** the time of the change that made this state */
  at: number;
  stage: string;
  is_active: boolean;
  app: AppStatus;
  contracts: ContractFact[];
  /** last_updated: moved by creation, updates, stage changes and deletion, not by activity */
  lastUpdated: number;
}

interface Replayed {
  createdAt: number;
  createdStage: string;
  deletedAt: number | null;
  moves: Move[];
  /** times of its ClientCreated, ClientUpdated and ClientStageChanged events */
  statusTimes: number[];
  /** after the creation and after each later change, in time order */
  states: State[];
}

interface Login {
  client: number;
  at: number;
  day: number;
  /** false when ignored as too late */
  counted: boolean;
}

const replays = new WeakMap<History, WeakMap<StageProcess, Replayed[]>>();
const loginsByZone = new WeakMap<History, Map<string, Login[]>>();

/** Every metric row of one period (hll estimates excepted), ordered by type then labels. */
export function expectedRows(history: History, options: OracleOptions): ExpectedRow[] {
  const { interval, periodStart, tz, process } = options;
  const start = periodBegin(periodStart, interval, tz).getTime();
  const naturalEnd = periodEnd(periodStart, interval, tz).getTime();
  const E = options.end.getTime();
  if (E <= start || E > naturalEnd) throw new Error(`end ${options.end.toISOString()} is not inside the period ${interval} ${periodStart}`);
  // Reading: an event counts in P when start ≤ its time < E ("before E"); one exactly at E belongs to the next period.
  const inP = (t: number) => t >= start && t < E;
  const clients = replayed(history, process);
  const logins = countedLogins(history, tz).filter((l) => l.counted && inP(l.at));
  const rows: ExpectedRow[] = [];
  const add = (type: MetricType, value: number, labels: Record<string, string> = {}) => rows.push({ type, labels, value });

  // logins: dau / wau / mau, stickiness
  const activeUsers = new Set(logins.map((l) => l.client)).size;
  add(ACTIVE_USERS[interval], activeUsers);
  if (interval !== 'day' && activeUsers > 0) {
    const perDay = new Map<number, Set<number>>();
    for (const l of logins) {
      const day = perDay.get(l.day) ?? new Set<number>();
      day.add(l.client);
      perDay.set(l.day, day);
    }
    const dauSum = [...perDay.values()].reduce((sum, day) => sum + day.size, 0);
    const daysIn = daysInPeriod(periodStart, interval);
    // Reading: the period is "current" when E is before its natural end; "today" is the local day of `now`.
    const days = E < naturalEnd ? Math.min(daysIn, Math.max(1, dayNumber(options.now, tz) - dateNumber(periodStart) + 1)) : daysIn;
    add('stickiness', dauSum / days / activeUsers);
  }

  add('new-clients', clients.filter((c) => inP(c.createdAt)).length);

  // state at E
  const atE = clients
    .filter((c) => c.createdAt < E && !(c.deletedAt !== null && c.deletedAt < E))
    .map((c) => stateBefore(c, E));
  for (const stage of process.stages) add('clients-per-stage', atE.filter((s) => s.stage === stage.id).length, { stage: stage.id });

  add('status-updates', clients.filter((c) => c.statusTimes.some(inP)).length);

  const movesInP = clients.map((c) => c.moves.filter((m) => inP(m.at)));
  const transitions = new Map<string, number>();
  for (const m of movesInP.flat()) transitions.set(`${m.from}\0${m.to}`, (transitions.get(`${m.from}\0${m.to}`) ?? 0) + 1);
  for (const [pair, count] of transitions) {
    const [from, to] = pair.split('\0') as [string, string];
    add('transitions', count, { from, to });
  }
  add('rollback-count', movesInP.flat().filter((m) => m.rollback).length);

  // conversion overall, and source-conversion / channel-conversion by the snapshot in each event
  const conversionId = process.conversionId;
  const movers = movesInP.filter((moves) => moves.length > 0);
  if (movers.length > 0) add('conversion', movers.filter((moves) => moves.some((m) => m.to === conversionId)).length / movers.length);
  for (const key of ['source', 'channel'] as const) {
    // Reading: a client is a mover under every label its snapshot showed in one of its moves in P,
    // and a converter under the label of its move to the conversion stage.
    const byLabel = new Map<string, { movers: Set<number>; converters: Set<number> }>();
    movesInP.forEach((moves, client) => {
      for (const m of moves) {
        const label = m[key] ?? 'unknown';
        const entry = byLabel.get(label) ?? { movers: new Set<number>(), converters: new Set<number>() };
        entry.movers.add(client);
        if (m.to === conversionId) entry.converters.add(client);
        byLabel.set(label, entry);
      }
    });
    for (const [label, { movers: m, converters }] of byLabel) add(`${key}-conversion`, converters.size / m.size, { [key]: label });
  }

  // funnel: every stage but the last by order
  for (const stage of process.stages.slice(0, -1)) {
    const entered = new Set<number>();
    const advanced = new Set<number>();
    clients.forEach((c, client) => {
      if (c.createdStage === stage.id && inP(c.createdAt)) entered.add(client);
      for (const m of movesInP[client]!) {
        if (m.to === stage.id) entered.add(client);
        // Reading: "its latest entry into the stage" is the entry this move leaves, i.e. the latest before the move.
        if (m.from === stage.id && process.byId.get(m.to)!.order > stage.order && inP(m.enteredFromAt)) advanced.add(client);
      }
    });
    if (entered.size > 0) add('funnel', advanced.size / entered.size, { stage: stage.id });
  }

  // stage-duration: per ClientStageChanged event leaving the stage in P (an average over events)
  const leftStages = new Map<string, number[]>();
  for (const m of movesInP.flat()) leftStages.set(m.from, [...(leftStages.get(m.from) ?? []), (m.at - m.enteredFromAt) / HOUR]);
  for (const stage of process.stages) {
    const hours = leftStages.get(stage.id);
    if (hours) add('stage-duration', average(hours), { stage: stage.id });
  }

  // total-duration: one per converting client, its first conversion in P
  // Reading: days are elapsed time (24 h), not calendar days, like the hours of stage-duration.
  const toConversion = clients.flatMap((c, client) => {
    const first = movesInP[client]!.find((m) => m.to === conversionId);
    return first ? [(first.at - c.createdAt) / DAY] : [];
  });
  if (toConversion.length > 0) add('total-duration', average(toConversion));

  const dropoutDays = DROPOUT_DAYS[interval];
  if (dropoutDays !== undefined) {
    const limit = dayNumber(E, tz) - dropoutDays;
    add('dropout', atE.filter((s) => s.is_active && dayNumber(s.lastUpdated, tz) < limit).length);
  }

  // Reading: "active clients" of the two rates are, as for dropout, active (is_active) and not deleted at E.
  const active = atE.filter((s) => s.is_active);
  if (active.length > 0) add('app-install-rate', active.filter((s) => s.app === 'installed').length / active.length);
  const contracts = active.flatMap((s) => s.contracts);
  if (contracts.length > 0) add('autopayment-rate', contracts.filter((c) => c.autopayment === 'enabled').length / contracts.length);

  return rows.sort(compareRows);
}

/** A stable identity of a row: its type and labels. */
export function rowKey(row: { type: string; labels: Record<string, string> }): string {
  const labels = Object.entries(row.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${row.type}${labels.map(([k, v]) => ` ${k}=${v}`).join('')}`;
}

function compareRows(a: ExpectedRow, b: ExpectedRow): number {
  const byType = METRIC_TYPES.indexOf(a.type) - METRIC_TYPES.indexOf(b.type);
  if (byType !== 0) return byType;
  const [ka, kb] = [rowKey(a), rowKey(b)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

const average = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/**
 * Reading: state metrics take each field from the client's changes before E. A ClientLoggedIn
 * applied late carries a snapshot that may already hold later changes; the login itself moves
 * nothing these metrics read, so that snapshot is not taken as the state at its occurred_at.
 */
function stateBefore(client: Replayed, E: number): State {
  let state = client.states[0]!;
  for (const s of client.states) {
    if (s.at >= E) break;
    state = s;
  }
  return state;
}

function replayed(history: History, process: StageProcess): Replayed[] {
  let byProcess = replays.get(history);
  if (!byProcess) replays.set(history, (byProcess = new WeakMap()));
  let result = byProcess.get(process);
  if (!result) byProcess.set(process, (result = history.clients.map((c) => replayClient(c, process))));
  return result;
}

function replayClient(facts: History['clients'][number], process: StageProcess): Replayed {
  const { created } = facts;
  let fields = { source: created.source, channel: created.channel };
  let state: State = {
    at: created.at,
    stage: created.stage,
    is_active: created.is_active,
    app: created.app,
    contracts: created.contracts,
    lastUpdated: created.at,
  };
  let enteredAt = created.at;
  const replay: Replayed = { createdAt: created.at, createdStage: created.stage, deletedAt: null, moves: [], statusTimes: [created.at], states: [state] };
  for (const change of facts.changes) {
    switch (change.kind) {
      case 'update': {
        const { source, channel, ...rest } = change.fields ?? {};
        fields = { source: source === undefined ? fields.source : source, channel: channel === undefined ? fields.channel : channel };
        state = { ...state, ...rest, at: change.at, lastUpdated: change.at };
        replay.statusTimes.push(change.at);
        if (change.stage !== undefined) {
          const from = state.stage;
          replay.moves.push({ at: change.at, from, to: change.stage, rollback: isRollback(process, from, change.stage), enteredFromAt: enteredAt, ...fields });
          state = { ...state, stage: change.stage };
          enteredAt = change.at;
        }
        break;
      }
      case 'app':
        state = { ...state, at: change.at, app: change.to };
        break;
      case 'autopayment':
        state = {
          ...state,
          at: change.at,
          contracts: state.contracts.map((c) => (c.id === change.contractId ? { ...c, autopayment: change.to } : c)),
        };
        break;
      case 'delete':
        replay.deletedAt = change.at;
        continue;
      default: {
        const unknown: never = change;
        throw new Error(`unknown change ${JSON.stringify(unknown)}`);
      }
    }
    replay.states.push(state);
  }
  return replay;
}

/**
 * Every login with its local day and whether it counts. In the order the logins were applied,
 * one is ignored when the month it falls in starts more than 70 days before the client's latest
 * login so far. Reading: "more than 70 days" compares local day numbers, and "the client's
 * latest login" is the latest occurred_at among its logins applied so far, this one included.
 */
function countedLogins(history: History, tz: string): Login[] {
  let byZone = loginsByZone.get(history);
  if (!byZone) loginsByZone.set(history, (byZone = new Map()));
  let logins = byZone.get(tz);
  if (logins) return logins;
  logins = [];
  for (const [client, facts] of history.clients.entries()) {
    let latest = -Infinity;
    for (const fact of appliedOrder(facts)) {
      if (fact.kind !== 'login') continue;
      const { at } = fact.login;
      latest = Math.max(latest, at);
      const monthStart = dateNumber(periodStartOf(new Date(at), 'month', tz));
      const counted = dayNumber(latest, tz) - monthStart <= LOGIN_MEMORY_DAYS;
      logins.push({ client, at, day: dateNumber(localDate(at, tz)), counted });
    }
  }
  byZone.set(tz, logins);
  return logins;
}
