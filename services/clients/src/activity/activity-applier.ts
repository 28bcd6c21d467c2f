import { Counter, type Registry } from 'prom-client';
import { Headers, normalizeEmail, Topics, type ApplyActivityCommand, type ChangeEvent } from '@trackme/contracts';
import { laps, Turns, type InboundMessage, type Logger, type MessageProducer, type Rejected } from '@trackme/platform';
import { clientFields, toClient, type ClientDocument } from '../clients/client-document.js';
import type { ActivityWrite, ClientRepository, HistoryEntry } from '../clients/client-repository.js';
import { changeEnvelope, historyOf } from './activity-changes.js';
import { ActivityRejections } from './activity-intake.js';
import { applyActivity, type ActivityClocks } from './apply-activity.js';
import type { ProcessedEvents } from './processed-events.js';

/** An ApplyActivity command read from trackme.client-commands. */
export interface ActivityItem {
  message: InboundMessage;
  command: ApplyActivityCommand;
  correlationId: string;
}

export interface ActivityApplierDeps {
  repository: ClientRepository;
  processed: ProcessedEvents;
  producer: MessageProducer;
  logger: Logger;
  registry?: Registry;
  clock?: () => Date;
}

/** How many clients' last written state is remembered (about 2 KB each). */
const KNOWN_CLIENTS_MAX = 50_000;

/**
 * The state activity last wrote for each client, so the next run need not read it again. Valid
 * because this process is the only writer of the clients of its partitions: every client command
 * makes it forget that client, and a rebalance makes it forget everything.
 */
class KnownClients {
  private readonly docs = new Map<string, ClientDocument>();

  constructor(private readonly repository: ClientRepository) {}

  async load(ids: string[]): Promise<Map<string, ClientDocument>> {
    const found = new Map<string, ClientDocument>();
    const missing: string[] = [];
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (doc) found.set(id, doc);
      else missing.push(id);
    }
    for (const [id, doc] of await this.repository.loadMany(missing)) found.set(id, doc);
    return found;
  }

  remember(docs: ClientDocument[]): void {
    for (const doc of docs) {
      this.docs.delete(doc._id);
      this.docs.set(doc._id, doc);
    }
    // the oldest entries go first (a Map iterates in insertion order)
    for (const id of this.docs.keys()) {
      if (this.docs.size <= KNOWN_CLIENTS_MAX) break;
      this.docs.delete(id);
    }
  }

  forget(id: string): void {
    this.docs.delete(id);
  }

  clear(): void {
    this.docs.clear();
  }
}

/** Runs applied at once across partitions. */
const APPLY_CONCURRENCY = 2;

type Outcome = 'applied' | 'duplicate' | 'stale' | typeof ActivityRejections.unknownClient | typeof ActivityRejections.unknownContract;

export { changeEventId } from './activity-changes.js';

/** The event as it was published to trackme.activity, to dead-letter there (and replay from there). */
function asActivityMessage(item: ActivityItem): InboundMessage {
  const { origin, event } = item.command;
  return {
    topic: origin.topic,
    partition: origin.partition,
    offset: origin.offset,
    key: item.message.key,
    value: Buffer.from(JSON.stringify(event)),
    headers: { [Headers.correlationId]: item.correlationId },
    timestamp: item.message.timestamp,
  };
}

/**
 * Applies a run of activity events (second step of ingestion, on the client's own partition):
 * 1. claims the event ids (dedup for ACTIVITY_DEDUP_DAYS, one insertMany);
 * 2. loads each client once and applies its events in order (pure, see applyActivity);
 * 3. writes each changed client once — coalescing is what lets ingestion beat one write per event;
 * 4. appends app/autopayment changes to the timelines and publishes one change event per applied
 *    event, with ids derived from the activity ids.
 * Events for a missing client or contract are returned for trackme.activity.dlq and their claim is
 * released, so replaying them after the client exists applies them.
 * Offsets are committed after step 4; a crash before it re-runs the run and repeats steps 2–4
 * with the same results and event ids (the activity record is its own outbox).
 */
export function createActivityApplier({ repository, processed, producer, logger, registry, clock = () => new Date() }: ActivityApplierDeps) {
  const known = new KnownClients(repository);
  const outcomes = registry
    ? new Counter({
        name: 'trackme_activity_events_total',
        help: 'Activity events reaching their client, by type and outcome (applied, duplicate, stale, unknown_client, unknown_contract)',
        labelNames: ['type', 'outcome'],
        registers: [registry],
      })
    : undefined;

  // Runs of different partitions take turns at the database: on the Mongo-wire floor (SQLite, one
  // writer) six concurrent runs made every read and write ~6× slower and cut throughput by 40%.
  const turns = new Turns(APPLY_CONCURRENCY);
  const applyRun = (items: ActivityItem[]) => turns.run(() => applyRunNow(items));

  return {
    applyRun,
    /** a client command is about to change this client: its remembered state is no longer current */
    forget: (clientId: string) => known.forget(clientId),
    /** partitions moved: other processes may have written any client since */
    forgetAll: () => known.clear(),
  };

  async function applyRunNow(items: ActivityItem[]): Promise<Rejected[]> {
    const now = clock();
    const { lap, timings } = laps();
    const counts = new Map<string, number>();
    const count = (item: ActivityItem, outcome: Outcome) => {
      outcomes?.inc({ type: item.command.event.type, outcome });
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    };

    const fresh = await processed.claim(
      items.map((i) => ({ eventId: i.command.event.event_id, clientId: i.command.client_id, partition: i.message.partition, offset: i.message.offset })),
      now,
    );
    lap('claim');
    const byClient = new Map<string, ActivityItem[]>();
    items.forEach((item, index) => {
      if (!fresh[index]) return count(item, 'duplicate');
      const group = byClient.get(item.command.client_id);
      if (group) group.push(item);
      else byClient.set(item.command.client_id, [item]);
    });

    const docs = await known.load([...byClient.keys()]);
    lap('load');
    const rejected: Rejected[] = [];
    const writes: ActivityWrite[] = [];
    const envelopes: ChangeEvent[] = [];
    const timelines = new Map<string, HistoryEntry[]>();
    const unclaimed: string[] = [];
    const reject = (item: ActivityItem, reason: Outcome, error: string) => {
      count(item, reason);
      unclaimed.push(item.command.event.event_id);
      rejected.push({ message: asActivityMessage(item), reason, errors: [error] });
    };

    for (const [clientId, group] of byClient) {
      const doc = docs.get(clientId);
      if (!doc || doc.deleted) {
        for (const item of group) reject(item, ActivityRejections.unknownClient, `client ${clientId} does not exist`);
        continue;
      }
      let client = toClient(doc);
      let clocks: ActivityClocks = doc.activity_clocks ?? {};
      let changed = false;
      for (const item of group) {
        const { event } = item.command;
        if (event.client_id === undefined && normalizeEmail(event.email!) !== doc.email_normalized) {
          // resolved by an email the client has given up since
          reject(item, ActivityRejections.unknownClient, `client ${clientId} no longer has the email of event ${event.event_id}`);
          continue;
        }
        const outcome = applyActivity(client, clocks, event);
        if (outcome.kind === 'unknown_contract') {
          reject(item, ActivityRejections.unknownContract, `client ${clientId} has no contract ${event.contract_id}`);
          continue;
        }
        if (outcome.kind === 'stale') {
          count(item, 'stale');
          continue;
        }
        count(item, 'applied');
        ({ client, clocks } = outcome);
        changed = true;
        const envelope = changeEnvelope(outcome.change, item.correlationId, now);
        envelopes.push(envelope);
        const entry = historyOf(outcome.change, envelope, now);
        if (entry) timelines.set(clientId, [...(timelines.get(clientId) ?? []), entry]);
      }
      if (changed) writes.push({ client, clocks });
    }

    lap('apply');
    try {
      await repository.writeActivity(writes);
    } catch (error) {
      // some writes may have landed: read every client again next time
      known.clear();
      throw error;
    }
    known.remember(writes.map((w) => ({ ...docs.get(w.client.id)!, ...clientFields(w.client), activity_clocks: w.clocks })));
    lap('write');
    for (const [clientId, entries] of timelines) await repository.appendHistory(clientId, entries, false);
    await producer.publishEnvelopes(
      Topics.clientEvents,
      envelopes.map((envelope) => ({ key: envelope.data.client_id, envelope })),
    );
    await processed.release(unclaimed);
    lap('publish');
    logger.info({ events: items.length, clients: byClient.size, writes: writes.length, ...Object.fromEntries(counts), ms: timings }, 'activity applied');
    return rejected;
  }
}
