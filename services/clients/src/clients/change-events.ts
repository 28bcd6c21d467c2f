import { randomUUID } from 'node:crypto';
import type { ChangeEvent, ClientCommandMessage } from '@trackme/contracts';
import { buildEnvelope } from '@trackme/platform';
import type { HistoryEntry } from './client-repository.js';
import type { Decision, DomainEvent } from './decide.js';

/** The change events of a decision, in envelopes that name the command, its actor and its request. */
export function changeEventsOf(decision: Decision, command: ClientCommandMessage, correlationId: string, now: Date): ChangeEvent[] {
  return decision.events.map((event) => toEnvelope(event, command, correlationId, now));
}

function toEnvelope(event: DomainEvent, command: ClientCommandMessage, correlationId: string, now: Date): ChangeEvent {
  const common = { client_id: event.client.id, version: event.client.version, command_id: command.id, actor: command.data.actor, client: event.client };
  const meta = { id: randomUUID(), occurredAt: now, correlationId };
  switch (event.type) {
    case 'ClientStageChanged':
      return buildEnvelope({ ...meta, type: event.type, data: { ...common, from: event.from, to: event.to, rollback: event.rollback } });
    case 'ClientUpdated':
      return buildEnvelope({ ...meta, type: event.type, data: { ...common, changes: event.changes } });
    case 'ClientCreated':
      return buildEnvelope({ ...meta, type: event.type, data: event.imported ? { ...common, imported: true as const } : common });
    default:
      return buildEnvelope({ ...meta, type: event.type, data: common });
  }
}

/** A change event as a row of its client's timeline. */
export function historyEntry(event: ChangeEvent): HistoryEntry {
  const data = event.data;
  return {
    event_id: event.id,
    type: event.type,
    version: data.version,
    command_id: data.command_id,
    correlation_id: event.correlation_id,
    actor: data.actor,
    at: new Date(event.occurred_at),
    ...('rollback' in data ? { from: data.from, to: data.to, rollback: data.rollback } : {}),
    ...('changes' in data ? { changes: data.changes } : {}),
  };
}

/** The audit record of one change: who (subject, role, ip), what, through which request and command. */
export function auditOf(event: ChangeEvent): Record<string, unknown> {
  const { data } = event;
  return {
    event_id: event.id,
    type: event.type,
    client_id: data.client_id,
    version: data.version,
    command_id: data.command_id,
    correlation_id: event.correlation_id,
    actor: data.actor,
    at: event.occurred_at,
  };
}
