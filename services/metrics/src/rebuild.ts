import type { Db } from 'mongodb';
import { ClientEventTypes, toClient, type Client, type StageProcess, type StoredClient } from '@trackme/contracts';
import { REBUILT, type CounterDocument, type CounterStore } from './counting/counter-store.js';
import { countLoginAt, Effects, reduce, TOTALS_KEY, type ClientState, type CountedEvent } from './counting/reduce.js';
import type { Calendar } from './periods.js';

/** A row of a client's timeline (client_history, written by the clients service). */
interface TimelineEntry {
  event_id: string;
  type: string;
  version: number;
  at: Date;
  from?: string;
  to?: string;
  rollback?: boolean;
  changes?: Record<string, { from: unknown; to: unknown }>;
}

export interface RebuildResult {
  clients: number;
  events: number;
  logins: number;
  counterDocuments: number;
  /** first day whose periods were rewritten (YYYY-MM-DD), or undefined for all */
  from: string | undefined;
}

const EDITABLE = new Set(['name', 'email', 'is_active', 'source', 'channel', 'app', 'last_login', 'contracts']);
const WRITE_CHUNK = 500;
const COMMAND_TYPES: ReadonlySet<string> = new Set(Object.values(ClientEventTypes));

/**
 * The client's state before its first change, found by undoing its timeline from its current
 * document (or tombstone): the timeline holds what each change changed, not whole snapshots.
 */
function initialClient(doc: StoredClient, entries: TimelineEntry[]): Client {
  // as created: no login yet, last changed when registered; undoing the timeline gives the rest
  const client: Client = {
    ...toClient(doc),
    last_login: null,
    last_updated: doc.registration_date.toISOString(),
    contracts: doc.contracts.map((c) => ({ ...c })),
    version: 1,
  };
  for (const entry of [...entries].reverse()) undo(client, entry);
  return client;
}

function undo(client: Client, entry: TimelineEntry): void {
  if (entry.type === ClientEventTypes.stageChanged && entry.from) client.stage = entry.from;
  for (const [field, change] of Object.entries(entry.changes ?? {})) setField(client, field, change.from);
}

function redo(client: Client, entry: TimelineEntry): void {
  if (entry.type === ClientEventTypes.stageChanged && entry.to) client.stage = entry.to;
  for (const [field, change] of Object.entries(entry.changes ?? {})) setField(client, field, change.to);
}

function setField(client: Client, field: string, value: unknown): void {
  if (field.startsWith('autopayment:')) {
    const id = field.slice('autopayment:'.length);
    client.contracts = client.contracts.map((c) => (c.id === id ? { ...c, autopayment: value as 'enabled' | 'disabled' } : c));
  } else if (EDITABLE.has(field)) {
    (client as unknown as Record<string, unknown>)[field] = field === 'contracts' ? structuredClone(value) : value;
  }
}

/** Replays one client's timeline as the change events it produced. */
export function replayClient(doc: StoredClient, timeline: TimelineEntry[]): CountedEvent[] {
  const entries = [...timeline].sort((a, b) => a.version - b.version || a.at.getTime() - b.at.getTime());
  const client = initialClient(doc, entries);
  const events: CountedEvent[] = [];
  for (const entry of entries) {
    if (entry.type !== ClientEventTypes.created) redo(client, entry);
    client.version = entry.version;
    // activity (app, autopayment) leaves last_updated where the last command put it
    if (COMMAND_TYPES.has(entry.type)) client.last_updated = entry.at.toISOString();
    events.push({
      id: entry.event_id,
      type: entry.type,
      occurredAt: entry.at.getTime(),
      data: {
        client_id: client.id,
        version: entry.version,
        client: structuredClone(client),
        ...(entry.from !== undefined ? { from: entry.from, to: entry.to!, rollback: entry.rollback ?? false } : {}),
      },
    });
  }
  return events;
}

/**
 * Recomputes the counters from Mongo: every client's timeline (client_history) replayed through the
 * same reducer the consumer uses, plus the login days the service remembered (and each client's
 * last_login). Periods starting on or after `fromDay` are rewritten (all of them without it); the
 * running totals and the client states always are. The metrics service must be stopped meanwhile.
 */
export async function rebuildCounters(deps: { db: Db; store: CounterStore; calendar: Calendar; process: StageProcess; fromDay?: number }): Promise<RebuildResult> {
  const { db, store, calendar, process, fromDay } = deps;
  const timelines = new Map<string, TimelineEntry[]>();
  for await (const doc of db.collection<{ _id: string; entries: TimelineEntry[] }>('client_history').find({})) timelines.set(doc._id, doc.entries);
  const rememberedDays = new Map<string, number[]>();
  for await (const state of store.clients.find({}, { projection: { days: 1 } })) rememberedDays.set(state._id, state.days ?? []);

  const effects = new Effects();
  const states: ClientState[] = [];
  let events = 0;
  let logins = 0;
  for await (const doc of db.collection<StoredClient>('clients').find({})) {
    const timeline = timelines.get(doc._id) ?? [];
    let state: ClientState | undefined;
    for (const event of replayClient(doc, timeline)) {
      state = reduce(state, event, { calendar, process }, effects);
      events += 1;
    }
    if (!state) continue;
    const days = new Set(rememberedDays.get(doc._id) ?? []);
    if (doc.last_login) days.add(calendar.dayNumber(doc.last_login.getTime()));
    state.days = [];
    for (const day of [...days].sort((a, b) => a - b)) {
      if (state.deleted) break;
      // noon of a remembered day stands for the logins of that day
      countLoginAt(state, calendar.startOfDay(day) + 12 * 3_600_000, { calendar, process }, effects);
      logins += 1;
    }
    states.push(state);
  }

  const rewritten = (key: string) => {
    if (key === TOTALS_KEY) return true;
    const start = key.split('|')[1]!;
    return fromDay === undefined || calendar.dayNumber(Date.parse(`${start}T12:00:00Z`)) >= fromDay;
  };
  const stale: string[] = [];
  for await (const doc of store.counters.find({}, { projection: { _id: 1 } })) {
    const key = doc._id.slice(0, doc._id.lastIndexOf('|'));
    if (rewritten(key)) stale.push(doc._id);
  }
  const fresh: CounterDocument[] = [...effects.counters]
    .filter(([key]) => rewritten(key))
    .map(([key, fields]) => ({ _id: `${key}|${REBUILT}`, o: 0, c: Object.fromEntries(fields) }));

  for (let i = 0; i < stale.length; i += WRITE_CHUNK) await store.counters.deleteMany({ _id: { $in: stale.slice(i, i + WRITE_CHUNK) } });
  for (let i = 0; i < fresh.length; i += WRITE_CHUNK) await store.counters.insertMany(fresh.slice(i, i + WRITE_CHUNK));
  // the consumer's last batches would write the old states back over the rebuilt ones
  await store.batches.deleteMany({});
  await store.clients.deleteMany({});
  for (let i = 0; i < states.length; i += WRITE_CHUNK) await store.clients.insertMany(states.slice(i, i + WRITE_CHUNK));
  return {
    clients: states.length,
    events,
    logins,
    counterDocuments: fresh.length,
    from: fromDay === undefined ? undefined : new Date(fromDay * 86_400_000).toISOString().slice(0, 10),
  };
}
