import type { ChangeEvent, Client, Refusal } from '@trackme/contracts';
import { DependencyUnavailableError } from '@trackme/platform';
import { APPLIED_COMMANDS_KEPT, clientFields, type AppliedCommand, type ClientDocument } from './client-document.js';
import type { ChangeOutcome } from './client-repository.js';

/** The document of a new client: its fields, the command that created it and its outbox. */
export function newDocument(client: Client, commandId: string, events: ChangeEvent[]): ClientDocument {
  return { ...clientFields(client), applied_commands: [{ id: commandId, outcome: 'created' }], pending_events: events };
}

/** The fields a decided change sets on a stored client. */
export function changeSet(previous: ClientDocument, next: Client | null, commandId: string, outcome: ChangeOutcome, events: ChangeEvent[]): Partial<ClientDocument> {
  const applied = remember(previous, { id: commandId, outcome });
  const pending = [...previous.pending_events, ...events];
  const set: Partial<ClientDocument> = next
    ? { ...clientFields(next), applied_commands: applied, pending_events: pending }
    : {
        // a tombstone: frees the email for a new client and keeps what redeliveries need
        deleted: true,
        email_normalized: `deleted:${previous._id}`,
        version: previous.version + 1,
        last_updated: new Date(events[0]?.occurred_at ?? Date.now()),
        applied_commands: applied,
        pending_events: pending,
      };
  delete (set as { _id?: string })._id;
  return set;
}

export function refusalSet(previous: ClientDocument, commandId: string, refusal: Refusal): Partial<ClientDocument> {
  return { applied_commands: remember(previous, { id: commandId, outcome: 'refused', refusal }) };
}

function remember(previous: ClientDocument, command: AppliedCommand): AppliedCommand[] {
  return [...previous.applied_commands, command].slice(-APPLIED_COMMANDS_KEPT);
}

export function concurrentWrite(clientId: string): DependencyUnavailableError {
  // the document loaded a moment ago is gone: cannot happen with one writer per client; retrying re-reads it
  return new DependencyUnavailableError(`client ${clientId} changed while the command was applied; retrying`);
}
