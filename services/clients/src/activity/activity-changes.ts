import { createHash } from 'node:crypto';
import { ActivityEventTypes, type Actor, type ChangeEvent } from '@trackme/contracts';
import { buildEnvelope } from '@trackme/platform';
import type { HistoryEntry } from '../clients/client-repository.js';
import type { ActivityChange } from './apply-activity.js';

/**
 * The id of the change event an activity event causes: derived from the activity event's id, so
 * applying it again after a crash emits the same id and consumers (deduping by id) see it once.
 */
export function changeEventId(activityEventId: string): string {
  const hex = createHash('sha1').update(`trackme.activity:${activityEventId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const actorOf = (change: ActivityChange): Actor => ({ subject: `activity:${change.event.source ?? 'unknown'}` });

/** The change event an applied activity event causes, with an id derived from the activity event's. */
export function changeEnvelope(change: ActivityChange, correlationId: string, now: Date): ChangeEvent {
  const { event, client } = change;
  const common = {
    client_id: client.id,
    version: client.version,
    command_id: event.event_id,
    actor: actorOf(change),
    activity: {
      event_id: event.event_id,
      type: event.type,
      occurred_at: new Date(event.occurred_at).toISOString(),
      ...(event.source !== undefined ? { source: event.source } : {}),
    },
  };
  const meta = { id: changeEventId(event.event_id), occurredAt: now, correlationId };
  switch (change.type) {
    case ActivityEventTypes.loggedIn:
      return buildEnvelope({ ...meta, type: change.type, data: { ...common, last_login: change.lastLogin, client } });
    case ActivityEventTypes.appStatusChanged:
      return buildEnvelope({ ...meta, type: change.type, data: { ...common, from: change.from, to: change.to, client } });
    default:
      return buildEnvelope({ ...meta, type: change.type, data: { ...common, contract_id: change.contractId, from: change.from, to: change.to, client } });
  }
}

/** App and autopayment changes enter the client's timeline; logins are activity, shown as last_login. */
export function historyOf(change: ActivityChange, envelope: ChangeEvent, now: Date): HistoryEntry | undefined {
  if (change.type === ActivityEventTypes.loggedIn) return undefined;
  // keys name the field; a contract's autopayment is "autopayment:<contract id>" (keys may not hold dots)
  const field = change.type === ActivityEventTypes.appStatusChanged ? 'app' : `autopayment:${change.contractId}`;
  return {
    event_id: envelope.id,
    type: envelope.type,
    version: change.client.version,
    command_id: change.event.event_id,
    correlation_id: envelope.correlation_id,
    actor: actorOf(change),
    at: now,
    changes: { [field]: { from: change.from, to: change.to } },
  };
}
