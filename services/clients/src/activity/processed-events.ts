import { MongoBulkWriteError, type Collection, type Db } from 'mongodb';
import { isDuplicateKeyError } from '@trackme/platform';

/** One activity event id seen by the clients service, and the command record that carried it. */
export interface ProcessedEventDocument {
  _id: string;
  client_id: string;
  partition: number;
  offset: string;
  at: Date;
}

/** An event about to be applied, and where its ApplyActivity command sits on trackme.client-commands. */
export interface Claim {
  eventId: string;
  clientId: string;
  partition: number;
  offset: string;
}

export const DUPLICATE_KEY = 11000;

/**
 * The dedup record of activity events (collection `activity_events`, one document per event id,
 * kept ACTIVITY_DEDUP_DAYS). An id is claimed by inserting its document before the event is
 * applied, in one insertMany per run. A duplicate key means the id was seen before, which is either
 * - the same command record again (same partition and offset): its run did not finish (a crash or
 *   a retry), so it is applied again — applying is idempotent and re-emits the same event ids; or
 * - another record with the same event id: a true duplicate, skipped.
 */
export class ProcessedEvents {
  readonly collection: Collection<ProcessedEventDocument>;

  constructor(db: Db) {
    this.collection = db.collection<ProcessedEventDocument>('activity_events');
  }

  /** Claims the ids; answers, per claim in order, whether to apply it (false: a duplicate). */
  async claim(claims: Claim[], now: Date): Promise<boolean[]> {
    if (claims.length === 0) return [];
    const docs = claims.map((c) => ({ _id: c.eventId, client_id: c.clientId, partition: c.partition, offset: c.offset, at: now }));
    const taken = new Set<number>();
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      for (const writeError of writeErrors) {
        if (writeError.code !== DUPLICATE_KEY) throw error;
        taken.add(writeError.index);
      }
      if (taken.size === 0 && !isDuplicateKeyError(error)) throw error;
    }
    const decisions: boolean[] = [];
    for (const [index, claim] of claims.entries()) {
      if (!taken.has(index)) {
        decisions.push(true);
        continue;
      }
      // rare path (duplicates and redeliveries): look the earlier claim up by _id
      const earlier = await this.collection.findOne({ _id: claim.eventId });
      decisions.push(earlier !== null && earlier.partition === claim.partition && earlier.offset === claim.offset);
    }
    return decisions;
  }

  /** Forgets claims of events that were not applied (dead-lettered), so a replay applies them. */
  async release(eventIds: string[]): Promise<void> {
    for (const id of eventIds) await this.collection.deleteOne({ _id: id });
  }

  /** Deletes records older than `before`; returns how many. */
  async expire(before: Date): Promise<number> {
    const result = await this.collection.deleteMany({ at: { $lt: before } });
    return result.deletedCount;
  }
}
