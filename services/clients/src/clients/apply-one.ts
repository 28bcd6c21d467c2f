import { Topics, type CommandOutcome, type StageProcess } from '@trackme/contracts';
import { ConflictError, withCorrelation, type Logger, type MessageProducer } from '@trackme/platform';
import { changeEventsOf } from './change-events.js';
import { toClient, type ClientDocument } from './client-document.js';
import { emailTaken, type ClientRepository } from './client-repository.js';
import { correlationOf, decidedOutcome, refusalOutcome, rememberedOutcome, replyOf, type CommandItem } from './command-outcome.js';
import { decide } from './decide.js';
import type { OutboxRelay } from './outbox-relay.js';

export interface ApplyOneDeps {
  repository: ClientRepository;
  relay: OutboxRelay;
  producer: MessageProducer;
  process: StageProcess;
  logger: Logger;
  clock: () => Date;
}

/**
 * The path of a command a wave cannot decide alone: a redelivery (its outcome is replayed), an
 * outbox a crash left behind (relayed first), a duplicate key on insert, a change of email. One
 * command at a time, from its load to its reply.
 */
export function createApplyOne({ repository, relay, producer, process, logger, clock }: ApplyOneDeps) {
  /** The stored outcome of a command this client already handled, after finishing its relay. */
  async function replay(doc: ClientDocument, commandId: string): Promise<CommandOutcome | undefined> {
    const handled = doc.applied_commands.find((c) => c.id === commandId);
    if (!handled) return undefined;
    await relay.relayNow(doc, false);
    // a tombstone keeps the client's last fields: a change applied before the delete still answers 'changed'
    return rememberedOutcome(handled, toClient(doc));
  }

  async function create(item: CommandItem, now: Date): Promise<CommandOutcome> {
    const { command } = item;
    const decision = decide(command, null, { process, now });
    const events = changeEventsOf(decision, command, command.correlation_id, now);
    const inserted = await repository.insert(decision.client!, command.id, events);
    if (inserted.kind === 'email_taken') throw emailTaken();
    if (inserted.kind === 'inserted') {
      await relay.relayNow(inserted.doc, true);
      return decidedOutcome('created', decision.client);
    }
    const existing = inserted.existing;
    const replayed = await replay(existing, command.id);
    if (replayed) return replayed;
    if (!existing.deleted) throw new ConflictError(`client ${command.data.client_id} already exists`, 'client_exists');
    await relay.relayNow(existing, false);
    const written = await repository.replaceTombstone(decision.client!, command.id, events);
    await relay.relayNow(written, false);
    return decidedOutcome('created', decision.client);
  }

  async function change(item: CommandItem, now: Date): Promise<CommandOutcome> {
    const { command } = item;
    const doc = await repository.load(command.data.client_id);
    if (doc) {
      const replayed = await replay(doc, command.id);
      if (replayed) return replayed;
    }
    const live = doc && !doc.deleted ? doc : null;
    try {
      const decision = decide(command, live ? toClient(live) : null, { process, now });
      if (decision.events.length === 0) return decidedOutcome(decision.outcome, decision.client);
      const events = changeEventsOf(decision, command, command.correlation_id, now);
      const written = await repository.update(live!, decision.client, command.id, decision.outcome, events);
      await relay.relayNow(written, false);
      return decidedOutcome(decision.outcome, decision.client);
    } catch (error) {
      const refused = refusalOutcome(error);
      if (doc) await repository.rememberRefusal(doc, command.id, refused.refusal);
      return refused;
    }
  }

  return async function applyOne(item: CommandItem): Promise<void> {
    await withCorrelation(correlationOf(item), async () => {
      const now = clock();
      let outcome: CommandOutcome;
      try {
        outcome = item.command.type === 'CreateClient' ? await create(item, now) : await change(item, now);
      } catch (error) {
        outcome = refusalOutcome(error);
      }
      await producer.publishEnvelopes(Topics.commandReplies, [replyOf(item, outcome)]);
      logger.debug({ command: item.command.type, command_id: item.command.id, outcome: outcome.outcome }, 'command handled');
    });
  };
}
