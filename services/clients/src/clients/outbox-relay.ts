import { Topics } from '@trackme/contracts';
import type { KeyedEnvelope, Logger, MessageProducer } from '@trackme/platform';
import { auditOf, historyEntry } from './change-events.js';
import type { ClientDocument } from './client-document.js';
import type { ClientRepository } from './client-repository.js';
import type { EmailDirectory } from './email-directory.js';

/** A document written by a command, whose outbox is to be relayed. */
export interface Written {
  doc: ClientDocument;
  isNew: boolean;
}

export interface OutboxRelayDeps {
  repository: ClientRepository;
  directory: EmailDirectory;
  producer: MessageProducer;
  logger: Logger;
}

/**
 * Relays the outboxes of stored client documents (docs/adr/0003-in-document-outbox.md): the
 * history rows, the email directory and the change events, then clears the outboxes. Every step is
 * idempotent, so a crash part-way relays again on redelivery.
 */
export function createOutboxRelay({ repository, directory, producer, logger }: OutboxRelayDeps) {
  /**
   * The history rows and the email directory first, then the events with the `replies` (of the
   * commands that wrote these documents) in one produce request, the replies after the events. So a
   * client that has its reply finds the change in its history and its email resolved at once, and a
   * reply is never acknowledged before its events.
   */
  async function relay(written: Written[], replies: KeyedEnvelope[] = []): Promise<void> {
    const pending = written.filter((w) => w.doc.pending_events.length > 0);
    const events = pending.flatMap((w) => w.doc.pending_events);
    if (pending.length > 0) {
      await Promise.all([
        repository.appendHistories(pending.map((w) => ({ clientId: w.doc._id, entries: w.doc.pending_events.map(historyEntry), isNew: w.isNew }))),
        directory.follow(events),
      ]);
    }
    await producer.publishEnvelopesTogether([
      { topic: Topics.clientEvents, items: events.map((event) => ({ key: event.data.client_id, envelope: event })) },
      { topic: Topics.commandReplies, items: replies },
    ]);
  }

  /** Empties the relayed outboxes, and records the changes in the audit log. */
  async function settle(written: Written[]): Promise<void> {
    const relayed = written.filter((w) => w.doc.pending_events.length > 0);
    await repository.clearPending(relayed.map((w) => w.doc._id));
    for (const event of relayed.flatMap((w) => w.doc.pending_events)) logger.info({ audit: auditOf(event) }, 'client changed');
  }

  return { relay, settle };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
