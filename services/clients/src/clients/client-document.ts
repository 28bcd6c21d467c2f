import type { ChangeEvent, CommandOutcome, Refusal, StoredClient } from '@trackme/contracts';
import type { ActivityClocks } from '../activity/apply-activity.js';

export { normalizeEmail, toClient, storedFields as clientFields } from '@trackme/contracts';

/**
 * Outcome of a command already handled for this client, kept to answer redeliveries: what it did
 * (the client is the one stored) or the refusal.
 */
export interface AppliedCommand {
  id: string;
  outcome?: CommandOutcome['outcome'];
  refusal?: Refusal;
  /** documents stored before outcomes were kept hold the HTTP status and problem body instead */
  status?: number;
  problem?: { code?: string; detail?: string; errors?: Refusal['errors'] };
}

/**
 * A client as stored in Mongo. Besides the client's fields it carries, in the same document (one
 * atomic write, no transactions — docs/adr/0003-in-document-outbox.md): the change events not yet published
 * (the outbox) and the ids of the last commands applied to it.
 */
export interface ClientDocument extends StoredClient {
  applied_commands: AppliedCommand[];
  pending_events: ChangeEvent[];
  /** which activity events last set the app status and each autopayment (absent until one did) */
  activity_clocks?: ActivityClocks;
}

/** How many applied command ids a document remembers; redeliveries come within seconds. */
export const APPLIED_COMMANDS_KEPT = 20;
