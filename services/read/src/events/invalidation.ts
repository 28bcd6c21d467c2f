import { Value } from 'typebox/value';
import { ChangeFactsSchema, ClientEventTypes, ClientSchema, type Client } from '@trackme/contracts';
import { checkedData, parseEnvelope, type InboundMessage, type ParsedBatchHandler } from '@trackme/platform';
import type { CachedClient, ReadCache } from '../cache/read-cache.js';
import type { ClientSource } from '../clients/client-source.js';

export interface ChangeFacts {
  clientId: string;
  version: number;
  /** the client after the change; null once deleted; undefined when the event carries no snapshot */
  client: Client | null | undefined;
}

/**
 * What the cache needs from a change event on trackme.client-events: whose version it is and, when
 * the event carries one, the client's snapshot. Any event type with `client_id` and `version`
 * invalidates, so types added later keep the cache correct before the read side knows them.
 * Anything else is poison (dead-lettered by the consumer with the reason).
 */
export function changeFacts(message: InboundMessage): ChangeFacts {
  const envelope = parseEnvelope(message);
  const data = checkedData(envelope, ChangeFactsSchema);
  const snapshot = data.client !== undefined && Value.Check(ClientSchema, data.client) ? data.client : undefined;
  const deleted = envelope.type === ClientEventTypes.deleted;
  return { clientId: data.client_id, version: data.version, client: deleted ? null : snapshot };
}

/**
 * Keeps the cache current: each change event stores its client's new state (version-aware, so a
 * repeated or late event changes nothing) and so invalidates every cached list. A run of events
 * is stored in one Redis round trip, in partition order; an event without a snapshot makes its
 * client be read again from Mongo.
 */
export function createInvalidationHandler(cache: ReadCache, source: ClientSource): ParsedBatchHandler<ChangeFacts> {
  return async (items) => {
    const states: CachedClient[] = [];
    for (const { value: facts } of items) {
      if (facts.client !== undefined) {
        states.push({ id: facts.clientId, version: facts.version, client: facts.client });
        continue;
      }
      const stored = await source.get(facts.clientId);
      if (stored) states.push(stored);
    }
    await cache.applyMany(states);
    return [];
  };
}
