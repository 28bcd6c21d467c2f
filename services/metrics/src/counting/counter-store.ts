import type { Collection, Db } from 'mongodb';
import { forEachConcurrently, insertManyExceptDuplicates } from '@trackme/platform';
import type { ClientState, Effects } from './reduce.js';

/**
 * Counters of one period from one partition of trackme.client-events: `o` is the offset of the
 * last batch added, so adding the same batch again (after a crash) changes nothing. One document
 * per partition keeps every document single-writer (the Mongo-wire floor's updates are not
 * atomic against concurrent writers); readers sum the partitions' documents.
 */
export interface CounterDocument {
  _id: string;
  o: number;
  c: Record<string, number>;
}

/** A client state as stored before its fields were named: `v`, `vt` and `lc_day`. */
export type LegacyClientState = Omit<ClientState, 'version' | 'types_at_version' | 'last_change_day'> & {
  v: number;
  vt: string[];
  lc_day: number;
  version?: undefined;
};

/**
 * A client state as written now: the named fields, and their old names beside them, so that during
 * a rolling upgrade an instance of the release before (which reads only `v`, `vt` and `lc_day`)
 * takes over a partition without counting its clients' events again. The old names can go once
 * no instance of that release runs.
 */
export type WrittenClientState = ClientState & Pick<LegacyClientState, 'v' | 'vt' | 'lc_day'>;

/** A client state as read from Mongo: the current format, or one written before the fields were named. */
export type StoredClientState = ClientState | WrittenClientState | LegacyClientState;

export const writtenState = (state: ClientState): WrittenClientState => ({ ...state, v: state.version, vt: state.types_at_version, lc_day: state.last_change_day });

/**
 * A stored state in the current format. States written before the fields were named (in
 * `metric_clients` and in a batch record replayed after a crash) are read through here; each is
 * written back in the current format the next time its client changes.
 */
export function upgradeState(stored: StoredClientState): ClientState {
  if (stored.version !== undefined) return stored;
  const { v, vt, lc_day, ...rest } = stored;
  return { ...rest, version: v, types_at_version: vt, last_change_day: lc_day };
}

/**
 * The last batch of a partition, recorded before any of it is applied: after a crash the batch
 * is applied again from here, so the client states and counters it touched always agree
 * (no multi-document transactions on the floor — docs/adr/0006-mongo-wire-floor.md).
 */
export interface BatchRecord {
  _id: string;
  to: number;
  clients: StoredClientState[];
  counters: { _id: string; inc: Record<string, number> }[];
  at: Date;
}

/** Suffix of the counter documents `npm run metrics -- rebuild` writes. */
export const REBUILT = 'r';
const LOAD_CONCURRENCY = 8;

export const counterDocumentId = (key: string, part: number | typeof REBUILT): string =>
  `${key}|${part === REBUILT ? REBUILT : `p${part}`}`;

export class CounterStore {
  readonly clients: Collection<StoredClientState>;
  readonly counters: Collection<CounterDocument>;
  readonly batches: Collection<BatchRecord>;

  constructor(db: Db) {
    this.clients = db.collection<StoredClientState>('metric_clients');
    this.counters = db.collection<CounterDocument>('metric_counters');
    this.batches = db.collection<BatchRecord>('metric_batches');
  }

  async loadStates(ids: Iterable<string>): Promise<Map<string, ClientState>> {
    const found = new Map<string, ClientState>();
    await forEachConcurrently(ids, LOAD_CONCURRENCY, async (id) => {
      const state = await this.clients.findOne({ _id: id });
      if (state) found.set(id, upgradeState(state));
    });
    return found;
  }

  /**
   * Records the batch, then applies it. `fresh` names the clients that had no stored state when
   * the batch was read: theirs are inserted, which costs the Mongo-wire floor far less than an upsert.
   */
  async writeBatch(partition: number, to: number, states: ClientState[], effects: Effects, fresh: ReadonlySet<string> = new Set()): Promise<void> {
    const record: BatchRecord = {
      _id: `p${partition}`,
      to,
      clients: states.map(writtenState),
      counters: [...effects.counters].map(([key, fields]) => ({ _id: counterDocumentId(key, partition), inc: Object.fromEntries(fields) })),
      at: new Date(),
    };
    await this.batches.replaceOne({ _id: record._id }, record, { upsert: true });
    // in the normal course no counter has seen this batch yet (offsets only move forward)
    await this.apply(states, to, record.counters, fresh);
  }

  /**
   * Applies the partition's last recorded batch again and returns the offset it ended at. States
   * are written whole, so writing them again is harmless; counters that already have the batch
   * (their `o` reached its offset) are left alone.
   */
  async recover(partition: number): Promise<number> {
    const record = await this.batches.findOne({ _id: `p${partition}` });
    if (!record) return -1;
    const missing: BatchRecord['counters'] = [];
    await forEachConcurrently(record.counters, LOAD_CONCURRENCY, async (counter) => {
      const doc = await this.counters.findOne({ _id: counter._id }, { projection: { o: 1 } });
      if (!doc || doc.o < record.to) missing.push(counter);
    });
    await this.apply(record.clients.map(upgradeState), record.to, missing);
    return record.to;
  }

  /**
   * Writes the batch's client states and adds its increments to the given counters (by `_id`
   * alone: a filter on `o` as well makes each upsert several times slower on the Mongo-wire floor).
   */
  private async apply(states: ClientState[], to: number, counters: BatchRecord['counters'], fresh: ReadonlySet<string> = new Set()): Promise<void> {
    // states and counters are separate documents, and the batch record already says what to redo: both at once
    await Promise.all([this.writeStates(states, fresh), this.addCounters(to, counters)]);
  }

  private async writeStates(states: ClientState[], fresh: ReadonlySet<string>): Promise<void> {
    const inserts = states.filter((state) => fresh.has(state._id));
    // a state stored meanwhile (by the run this one repeats) is replaced like any other
    const taken = new Set((await insertManyExceptDuplicates(this.clients, inserts.map(writtenState))).map((index) => inserts[index]!._id));
    const replaces = states.filter((state) => !fresh.has(state._id) || taken.has(state._id));
    if (replaces.length === 0) return;
    await this.clients.bulkWrite(
      replaces.map((state) => ({ replaceOne: { filter: { _id: state._id }, replacement: writtenState(state), upsert: true } })),
      { ordered: false },
    );
  }

  private async addCounters(to: number, counters: BatchRecord['counters']): Promise<void> {
    if (counters.length === 0) return;
    await this.counters.bulkWrite(
      counters.map(({ _id, inc }) => ({
        updateOne: {
          filter: { _id },
          update: { $inc: Object.fromEntries(Object.entries(inc).map(([field, delta]) => [`c.${field}`, delta])), $set: { o: to } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Sums the documents of counter keys over the given partitions and the rebuilt documents. */
  async sum(keys: string[], partitions: number): Promise<Map<string, Map<string, number>>> {
    const sums = new Map<string, Map<string, number>>(keys.map((key) => [key, new Map()]));
    const parts: (number | typeof REBUILT)[] = [REBUILT, ...Array.from({ length: partitions }, (_, p) => p)];
    const ids = keys.flatMap((key) => parts.map((part) => ({ key, id: counterDocumentId(key, part) })));
    const found = new Map<string, Record<string, number>>();
    await forEachConcurrently(ids, LOAD_CONCURRENCY, async ({ id }) => {
      const doc = await this.counters.findOne({ _id: id }, { projection: { c: 1 } });
      if (doc?.c) found.set(id, doc.c);
    });
    // summed in a fixed order: sums of fractional hours must not depend on which read answered first
    for (const { key, id } of ids) {
      const counts = found.get(id);
      if (!counts) continue;
      const total = sums.get(key)!;
      for (const [field, value] of Object.entries(counts)) total.set(field, (total.get(field) ?? 0) + value);
    }
    return sums;
  }
}
