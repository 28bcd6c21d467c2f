import { Counter, type Registry } from 'prom-client';
import { CHANGE_EVENT_SCHEMAS } from '@trackme/contracts';
import { parseMessage, PoisonMessageError, type InboundMessage, type Logger, type Parsed, type Rejected } from '@trackme/platform';
import type { CounterStore } from './counter-store.js';
import type { LiveCounts } from './live-counts.js';
import { Effects, reduce, type ClientState, type CountedEvent, type ReduceContext } from './reduce.js';

/** Reads a change event; anything else is poison (dead-lettered with the reason). */
export function parseCountedEvent(message: InboundMessage): CountedEvent {
  const envelope = parseMessage(message, CHANGE_EVENT_SCHEMAS, { reason: 'invalid_event', kind: 'change event' });
  return { id: envelope.id, type: envelope.type, occurredAt: Date.parse(envelope.occurred_at), data: envelope.data };
}

/** How many client states are kept in memory between batches (a few hundred bytes each). */
const KNOWN_STATES_MAX = 20_000;

export interface EventCounterDeps {
  store: CounterStore;
  live: LiveCounts;
  context: ReduceContext;
  logger: Logger;
  registry?: Registry;
}

/**
 * The batch handler of trackme.client-events: turns a run of one partition's events into counter
 * increments and client states, recorded and applied together (counter-store.ts). The states it
 * wrote and the offset each partition reached are kept, valid while this process holds the
 * partition; `forgetAll` is called on every rebalance. Its `parse` reads the events for the
 * consumer, which dead-letters what it rejects.
 */
export function createEventCounter({ store, live, context, logger, registry }: EventCounterDeps) {
  const reached = new Map<number, number>();
  const known = new Map<string, ClientState>();
  const outcomes = new Counter({
    name: 'trackme_metrics_events_total',
    help: 'Change events read by metrics, by outcome (counted, duplicate, too_late, after_delete, rejected)',
    labelNames: ['outcome'],
    registers: registry ? [registry] : [],
  });

  const remember = (states: ClientState[]) => {
    for (const state of states) {
      known.delete(state._id);
      known.set(state._id, state);
    }
    for (const id of known.keys()) {
      if (known.size <= KNOWN_STATES_MAX) break;
      known.delete(id);
    }
  };

  const parse = (message: InboundMessage): CountedEvent => {
    try {
      return parseCountedEvent(message);
    } catch (error) {
      if (error instanceof PoisonMessageError) outcomes.inc({ outcome: 'rejected' });
      throw error;
    }
  };

  const handleBatch = async (items: Parsed<CountedEvent>[]): Promise<Rejected[]> => {
    const partition = items[0]!.message.partition;
    let done = reached.get(partition);
    if (done === undefined) {
      done = await store.recover(partition);
      known.clear();
      reached.set(partition, done);
    }
    const events = items.filter(({ message }) => Number(message.offset) > done).map(({ value }) => value);
    const to = Number(items[items.length - 1]!.message.offset);
    if (to <= done) return [];

    const ids = new Set(events.map((e) => e.data.client_id));
    const states = new Map<string, ClientState>();
    const missing: string[] = [];
    for (const id of ids) {
      const state = known.get(id);
      if (state) states.set(id, state);
      else missing.push(id);
    }
    const started = performance.now();
    const loadedStates = await store.loadStates(missing);
    for (const [id, state] of loadedStates) states.set(id, state);
    const fresh = new Set(missing.filter((id) => !loadedStates.has(id)));
    const loaded = performance.now();

    const effects = new Effects();
    const touched = new Map<string, ClientState>();
    for (const event of events) {
      const before = states.get(event.data.client_id);
      const after = reduce(before, event, context, effects);
      if (after && after !== before) {
        states.set(event.data.client_id, after);
        touched.set(after._id, after);
      }
    }
    const written = [...touched.values()];
    const reduced = performance.now();
    if (written.length > 0 || effects.counters.size > 0) await store.writeBatch(partition, to, written, effects, fresh);
    const stored = performance.now();
    reached.set(partition, to);
    remember(written);
    await live.add(effects.hll);
    for (const [outcome, n] of effects.outcomes) outcomes.inc({ outcome }, n);
    logger.debug(
      {
        partition,
        to,
        events: events.length,
        clients: written.length,
        counters: effects.counters.size,
        read: missing.length,
        ms: { load: Math.round(loaded - started), reduce: Math.round(reduced - loaded), store: Math.round(stored - reduced), live: Math.round(performance.now() - stored) },
      },
      'events counted',
    );
    return [];
  };

  return {
    parse,
    handleBatch,
    /** After a rebalance another process may have counted our partitions: read them again. */
    forgetAll(): void {
      reached.clear();
      known.clear();
    },
  };
}
