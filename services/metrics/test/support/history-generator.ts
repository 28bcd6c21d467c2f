import type { StageProcess } from '@trackme/contracts';
import type { AppStatus, Autopayment, ClientChange, ClientHistory, ContractFact, FieldValues, History, LoginFact } from './history.js';
import { Prng } from './prng.js';

export type { History } from './history.js';
export { toEnvelopes, type GeneratedEnvelope } from './to-envelopes.js';

export interface GenerateHistoryOptions {
  clients: number;
  days: number;
  /** the fixed clock: the last instant of the history */
  end: Date;
  seed: number;
  process: StageProcess;
  /** prefix of the client ids (default `g<seed>`), so runs with one seed can still use fresh ids */
  idPrefix?: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Shape of the generated population; named so a reader can see what the histories look like. */
const SOURCES = [['website', 4], ['referral', 2], ['ads', 2], [null, 1]] as const;
const CHANNELS = [['organic', 4], ['paid', 3], ['partner', 1], [null, 1]] as const;
/** mean time between a client's changes, in days (Infinity: never changes after creation) */
const CHANGE_PACE = [[0.5, 2], [2, 4.5], [6, 2.5], [Infinity, 1]] as const;
/** chance of logging in on a given day */
const LOGIN_HABIT = [[0, 1], [0.1, 3], [0.3, 3], [0.6, 2], [0.9, 1]] as const;
const LOGINS_ON_A_DAY = [[1, 75], [2, 18], [3, 7]] as const;
const CONTRACT_COUNT = [[0, 25], [1, 40], [2, 25], [3, 10]] as const;
const CREATED_ALONG = 0.15;
const CREATED_CONVERTED = 0.01;
const ACTIVE = 0.9;
const APP_INSTALLED = 0.35;
const DELETED = 0.08;
const FORWARD = 0.78;
/** chance that a converted client is moved back */
const ROLLBACK_FROM_LAST = 0.3;
const LATE_LOGIN = 0.005;
const MAX_LATENESS = 3 * DAY;
/** an on-time login is applied within this delay */
const TRANSPORT_DELAY_MS = 3000;
const CHANGE_KINDS = [['move', 55], ['update+move', 10], ['update', 15], ['app', 10], ['autopayment', 10]] as const;

/**
 * A deterministic history of `clients` clients over `days` days ending at `end` (seeded PRNG, no
 * clock): creations (mostly in the first stage, some further along), neighbour stage moves with
 * rollbacks and conversions, field updates (some together with a move), app and autopayment
 * activity, logins on random days (some several a day, a few applied up to 3 days late) and some
 * deletions. Times have millisecond resolution and fall at any hour.
 */
export function generateHistory(options: GenerateHistoryOptions): History {
  const { days, seed, process } = options;
  if (!Number.isInteger(options.clients) || options.clients < 0) throw new Error('clients must be a whole number');
  if (!(days > 0)) throw new Error('days must be positive');
  const rng = new Prng(seed);
  const end = options.end.getTime();
  const start = end - days * DAY;
  const idPrefix = options.idPrefix ?? `g${seed >>> 0}`;
  const clients: ClientHistory[] = [];
  for (let i = 0; i < options.clients; i++) {
    const id = `${idPrefix}-${String(i).padStart(6, '0')}`;
    clients.push(generateClient(rng, { id, name: `Client ${i}`, start, end, process }));
  }
  return { seed, start, end, process, clients };
}

interface ClientFrame {
  id: string;
  name: string;
  start: number;
  end: number;
  process: StageProcess;
}

function generateClient(rng: Prng, { id, name, start, end, process }: ClientFrame): ClientHistory {
  const stages = process.stages.filter((s) => process.initialIds.has(s.id));
  const last = process.stages[process.stages.length - 1]!;
  const span = end - start;
  // a quarter of the clients exist from the first days on, so long idle stretches (dropout) occur
  const createdAt = start + 1 + Math.floor((rng.chance(0.25) ? rng.next() * 2 * DAY : rng.next() * span) % (span - 1));
  const along = rng.chance(CREATED_ALONG);
  const initial = rng.chance(CREATED_CONVERTED) && process.initialIds.has(last.id)
    ? last.id
    : along
      ? rng.pick(stages.slice(1, -1).length > 0 ? stages.slice(1, -1) : stages).id
      : stages[0]!.id;
  const contracts: ContractFact[] = Array.from({ length: rng.weighted(CONTRACT_COUNT) }, (_, k) => ({
    id: `k${k + 1}`,
    autopayment: rng.chance(0.5) ? 'enabled' : 'disabled',
  }));
  const created = {
    at: createdAt,
    stage: initial,
    source: rng.weighted(SOURCES),
    channel: rng.weighted(CHANNELS),
    is_active: rng.chance(ACTIVE),
    app: (rng.chance(APP_INSTALLED) ? 'installed' : 'not_installed') as AppStatus,
    contracts,
  };
  const deletionTime = createdAt + HOUR + Math.floor(rng.next() * Math.max(0, end - createdAt - HOUR));
  const deletedAt = rng.chance(DELETED) && deletionTime <= end ? deletionTime : undefined;
  const lifeEnd = deletedAt ?? end + 1; // exclusive

  const changes: ClientChange[] = [];
  const pace = rng.weighted(CHANGE_PACE);
  const state = { stage: initial, is_active: created.is_active, app: created.app, contracts };
  let t = createdAt;
  while (Number.isFinite(pace)) {
    t += Math.max(1000, Math.floor(rng.exponential(pace * DAY)));
    if (t >= lifeEnd || t > end) break;
    const hasContracts = state.contracts.length > 0;
    const kind = rng.weighted(CHANGE_KINDS.filter(([k]) => hasContracts || k !== 'autopayment'));
    const move = kind === 'move' || kind === 'update+move' ? nextMove(rng, process, state.stage) : undefined;
    if (kind === 'app') {
      state.app = state.app === 'installed' ? 'not_installed' : 'installed';
      changes.push({ kind: 'app', at: t, to: state.app });
    } else if (kind === 'autopayment') {
      const contract = rng.pick(state.contracts);
      const to: Autopayment = contract.autopayment === 'enabled' ? 'disabled' : 'enabled';
      state.contracts = state.contracts.map((c) => (c.id === contract.id ? { ...c, autopayment: to } : c));
      changes.push({ kind: 'autopayment', at: t, contractId: contract.id, to });
    } else {
      const fields = kind === 'move' && move ? undefined : fieldUpdate(rng, state);
      if (move) state.stage = move;
      if (fields) Object.assign(state, fields);
      changes.push({ kind: 'update', at: t, ...(fields ? { fields } : {}), ...(move ? { stage: move } : {}) });
    }
  }
  if (deletedAt !== undefined) changes.push({ kind: 'delete', at: deletedAt });

  return { id, name, email: `${id.toLowerCase()}@example.com`, created, changes, logins: generateLogins(rng, { start, end, createdAt, lifeEnd, changes }) };
}

/** A neighbour move: mostly forward; back from the last stage now and then; none otherwise. */
function nextMove(rng: Prng, process: StageProcess, current: string): string | undefined {
  const index = process.stages.findIndex((s) => s.id === current);
  const next = process.stages[index + 1];
  const prev = process.stages[index - 1];
  const allowed = process.byId.get(current)!.transitions;
  const forward = next && allowed.includes(next.id) ? next.id : undefined;
  const back = prev && allowed.includes(prev.id) ? prev.id : undefined;
  if (!forward) return back && rng.chance(ROLLBACK_FROM_LAST) ? back : undefined;
  if (!back) return forward;
  return rng.chance(FORWARD) ? forward : back;
}

/** A field change that really changes something: is_active, app, or the contracts. */
function fieldUpdate(rng: Prng, state: { is_active: boolean; app: AppStatus; contracts: ContractFact[] }): FieldValues {
  const options = [
    ['is_active', 40],
    ['app', 25],
    ...(state.contracts.length > 0 ? ([['flip-contract', 25]] as const) : []),
    ...(state.contracts.length < 3 ? ([['add-contract', 10]] as const) : []),
  ] as const;
  switch (rng.weighted(options)) {
    case 'is_active':
      return { is_active: !state.is_active };
    case 'app':
      return { app: state.app === 'installed' ? 'not_installed' : 'installed' };
    case 'flip-contract': {
      const contract = rng.pick(state.contracts);
      return {
        contracts: state.contracts.map((c) => (c.id === contract.id ? { ...c, autopayment: c.autopayment === 'enabled' ? 'disabled' : 'enabled' } : c)),
      };
    }
    case 'add-contract': {
      const used = new Set(state.contracts.map((c) => c.id));
      const id = ['k1', 'k2', 'k3', 'k4'].find((k) => !used.has(k))!;
      return { contracts: [...state.contracts, { id, autopayment: rng.chance(0.5) ? 'enabled' : 'disabled' }] };
    }
  }
}

interface LoginFrame {
  start: number;
  end: number;
  createdAt: number;
  /** exclusive: the deletion, or just after the end */
  lifeEnd: number;
  changes: ClientChange[];
}

/** Logins on a random subset of days (sometimes several a day); a few applied late, but before a deletion. */
function generateLogins(rng: Prng, { start, end, createdAt, lifeEnd, changes }: LoginFrame): LoginFact[] {
  const habit = rng.weighted(LOGIN_HABIT);
  const times: number[] = [];
  for (let day = start; day < end; day += DAY) {
    if (!rng.chance(habit)) continue;
    const count = rng.weighted(LOGINS_ON_A_DAY);
    for (let k = 0; k < count; k++) times.push(day + Math.floor(rng.next() * DAY));
  }
  const lastChange = changes.at(-1)?.at ?? createdAt;
  return [...new Set(times)]
    .filter((at) => at > createdAt && at < lifeEnd && at <= end)
    .sort((a, b) => a - b)
    .map((at) => {
      const delay = rng.chance(LATE_LOGIN) ? HOUR + Math.floor(rng.next() * (MAX_LATENESS - HOUR)) : Math.floor(rng.next() * TRANSPORT_DELAY_MS);
      // applied by the end of the history, and before a deletion (a deleted client gets nothing more)
      const limit = lifeEnd > end ? end : Math.max(at, lastChange - 1);
      return { at, arrivedAt: Math.min(at + delay, Math.max(at, limit)) };
    });
}
