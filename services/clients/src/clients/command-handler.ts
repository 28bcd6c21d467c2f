import { type ChangeEvent, type CommandOutcome, type StageProcess } from '@trackme/contracts';
import { laps, type Logger, type MessageProducer } from '@trackme/platform';
import { createApplyOne } from './apply-one.js';
import { changeEventsOf } from './change-events.js';
import { toClient } from './client-document.js';
import type { ClientChange, ClientRepository, RememberedRefusal } from './client-repository.js';
import { decidedOutcome, refusalOutcome, replyOf, type CommandItem } from './command-outcome.js';
import { decide, type Decision } from './decide.js';
import type { EmailDirectory } from './email-directory.js';
import { createOutboxRelay, type Written } from './outbox-relay.js';

export type { CommandItem } from './command-outcome.js';

export interface CommandHandlerDeps {
  repository: ClientRepository;
  directory: EmailDirectory;
  producer: MessageProducer;
  process: StageProcess;
  logger: Logger;
  clock?: () => Date;
}

/**
 * Applies client commands (docs/architecture.md, "Write path") so that any redelivery is harmless:
 * 1. the decision, its events (outbox) and the command id are written in one document write;
 * 2. history rows, events and replies are published from the outbox (outbox-relay.ts), the replies
 *    in the events' produce request;
 * 3. the outbox is cleared.
 * A redelivered command finds its id on the client and replays its outcome, publishing the outbox
 * again if a crash interrupted step 2 or 3 (consumers dedup events by id). Refusals of an existing
 * client are remembered the same way; a refused create has no document to remember it on and is
 * decided again, with the same answer.
 *
 * A run of commands of one partition is applied in waves: a wave is a stretch of consecutive
 * commands that name distinct clients, so their order does not matter and every step above is one
 * round trip for the whole wave. Each client's commands still apply in partition order, one wave
 * after the other. Commands a wave cannot decide alone (a redelivery, an outbox left by a crash, a
 * duplicate key, a change of email) are applied one by one after it (apply-one.ts).
 */
export function createCommandHandler({ repository, directory, producer, process, logger, clock = () => new Date() }: CommandHandlerDeps) {
  const relay = createOutboxRelay({ repository, directory, producer, logger });
  const applyOne = createApplyOne({ repository, relay, producer, process, logger, clock });

  /** A wave of commands naming distinct clients: each step is one round trip for all of them. */
  async function applyWave(wave: CommandItem[]): Promise<void> {
    const now = clock();
    const { lap, timings } = laps();
    const answered: Array<{ item: CommandItem; outcome: CommandOutcome }> = [];
    const alone: CommandItem[] = [];
    const creates: Array<{ item: CommandItem; decision: Decision; events: ChangeEvent[] }> = [];
    const changes: Array<{ item: CommandItem; decision: Decision; change: ClientChange }> = [];
    const refusals: RememberedRefusal[] = [];

    const docs = await repository.loadMany(wave.filter((i) => i.command.type !== 'CreateClient').map((i) => i.command.data.client_id));
    lap('load');
    for (const item of wave) {
      const { command } = item;
      const doc = command.type === 'CreateClient' ? null : (docs.get(command.data.client_id) ?? null);
      // a redelivery replays its outcome; an outbox left by a crash is relayed before anything else
      if (doc && (doc.pending_events.length > 0 || doc.applied_commands.some((c) => c.id === command.id))) {
        alone.push(item);
        continue;
      }
      const live = doc && !doc.deleted ? doc : null;
      try {
        const decision = decide(command, live ? toClient(live) : null, { process, now });
        const events = changeEventsOf(decision, command, command.correlation_id, now);
        if (command.type === 'CreateClient') creates.push({ item, decision, events });
        else if (events.length === 0) answered.push({ item, outcome: decidedOutcome(decision.outcome, decision.client) });
        // another client may hold the new email: the bulk write cannot refuse just this one
        else if (changesEmail(decision)) alone.push(item);
        else changes.push({ item, decision, change: { previous: live!, next: decision.client, commandId: command.id, outcome: decision.outcome, events } });
      } catch (error) {
        const refused = refusalOutcome(error);
        if (doc) refusals.push({ previous: doc, commandId: command.id, refusal: refused.refusal });
        answered.push({ item, outcome: refused });
      }
    }

    const [inserted, updated] = await Promise.all([
      repository.insertMany(creates.map(({ item, decision, events }) => ({ client: decision.client!, commandId: item.command.id, events }))),
      repository.updateMany(
        changes.map((c) => c.change),
        refusals,
      ),
    ]);
    lap('write');
    const written: Written[] = [];
    creates.forEach(({ item, decision }, index) => {
      const doc = inserted[index];
      // a taken id (a redelivery, a tombstone) or a taken email: decided one by one
      if (!doc) return alone.push(item);
      written.push({ doc, isNew: true });
      answered.push({ item, outcome: decidedOutcome('created', decision.client) });
    });
    changes.forEach(({ item, decision }, index) => {
      written.push({ doc: updated[index]!, isNew: false });
      answered.push({ item, outcome: decidedOutcome(decision.outcome, decision.client) });
    });

    await relay.relay(
      written,
      answered.map(({ item, outcome }) => replyOf(item, outcome)),
    );
    lap('relay_and_reply');
    await relay.settle(written);
    lap('settle');
    for (const item of alone) await applyOne(item);
    lap('one_by_one');
    logger.debug({ commands: wave.length, one_by_one: alone.length, ms: timings }, 'commands handled');
  }

  /** Applies a run of consecutive client commands of one partition. */
  return async function handleCommands(items: CommandItem[]): Promise<void> {
    for (const wave of wavesOf(items)) await applyWave(wave);
  };
}

/** Consecutive stretches of commands in which no client is named twice. */
function* wavesOf(items: CommandItem[]): Generator<CommandItem[]> {
  let wave: CommandItem[] = [];
  let clients = new Set<string>();
  for (const item of items) {
    const clientId = item.command.data.client_id;
    if (clients.has(clientId)) {
      yield wave;
      wave = [];
      clients = new Set();
    }
    wave.push(item);
    clients.add(clientId);
  }
  if (wave.length > 0) yield wave;
}

const changesEmail = (decision: Decision) => decision.events.some((e) => e.type === 'ClientUpdated' && 'email' in e.changes);
