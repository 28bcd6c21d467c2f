import type { StageProcess } from '@trackme/contracts';
import { ConflictError, laps, type Logger, type MessageProducer } from '@trackme/platform';
import type { ClientDocument } from './client-document.js';
import { emailTaken, type ClientRepository } from './client-repository.js';
import type { EmailDirectory } from './email-directory.js';
import { createOutboxRelay, type Written } from './outbox-relay.js';
import { decidedOutcome, planWave, refusalOutcome, replyOf, type Answered, type CommandItem, type PlannedSingle } from './wave-plan.js';

export type { CommandItem } from './wave-plan.js';

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
 * A redelivered command finds its id on the client and replays its outcome. An outbox a crash left
 * between steps 1 and 3 is relayed again before its client's next command (consumers dedup events
 * by id). Refusals of an existing client are remembered the same way; a refused create has no
 * document to remember it on and is decided again, with the same answer.
 *
 * A run of commands of one partition is applied in waves: a wave is a stretch of consecutive
 * commands that name distinct clients, so their order does not matter and every step above is one
 * round trip for the whole wave. Each client's commands still apply in partition order, one wave
 * after the other. Every command takes this one path; the only difference is how a write is made
 * (wave-plan.ts): in bulk, or on its own where it may collide with another client's email. A
 * create whose id turns out to be taken (a redelivery, a tombstone, a clash) is applied again in a
 * wave of its own that loads its document first.
 */
export function createCommandHandler({ repository, directory, producer, process, logger, clock = () => new Date() }: CommandHandlerDeps) {
  const relay = createOutboxRelay({ repository, directory, producer, logger });

  /** Relays outboxes a crash left behind, so each client's next events follow its earlier ones. */
  async function recover(docs: Map<string, ClientDocument>): Promise<void> {
    const left: Written[] = [...docs.values()].filter((doc) => doc.pending_events.length > 0).map((doc) => ({ doc, isNew: false }));
    if (left.length === 0) return;
    await relay.relay(left);
    await relay.settle(left);
    for (const { doc } of left) docs.set(doc._id, { ...doc, pending_events: [] });
  }

  /** Writes one at a time what may collide with another client's email; a collision refuses that command alone. */
  async function writeSingles(singles: PlannedSingle[]): Promise<{ written: Written[]; answered: Answered[] }> {
    const written: Written[] = [];
    const answered: Answered[] = [];
    for (const single of singles) {
      const { item } = single;
      const previous = single.kind === 'change' ? single.change.previous : single.tombstone;
      try {
        if (single.kind === 'change') {
          const { next, commandId, outcome, events } = single.change;
          written.push({ doc: await repository.update(previous, next, commandId, outcome, events), isNew: false });
          answered.push({ item, outcome: decidedOutcome(outcome, next) });
        } else {
          written.push({ doc: await repository.replaceTombstone(single.client, item.command.id, single.events), isNew: false });
          answered.push({ item, outcome: decidedOutcome('created', single.client) });
        }
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        const refused = refusalOutcome(error);
        await repository.rememberRefusal(previous, item.command.id, refused.refusal);
        answered.push({ item, outcome: refused });
      }
    }
    return { written, answered };
  }

  /**
   * A wave of commands naming distinct clients: each step is one round trip for all of them.
   * `loadCreates`: the creates' ids were found taken or their email was, so their documents are read first.
   */
  async function applyWave(wave: CommandItem[], loadCreates: boolean): Promise<void> {
    const { lap, timings } = laps();
    const loaded = wave.filter((i) => loadCreates || i.command.type !== 'CreateClient');
    const docs = await repository.loadMany(loaded.map((i) => i.command.data.client_id));
    await recover(docs);
    lap('load');
    const plan = planWave(wave, docs, { process, now: clock() });
    const [inserted, updated, singles] = await Promise.all([
      repository.insertMany(plan.inserts.map(({ item, client, events }) => ({ client, commandId: item.command.id, events }))),
      repository.updateMany(
        plan.changes.map((c) => c.change),
        plan.refusals,
      ),
      writeSingles(plan.singles),
    ]);
    lap('write');

    const written: Written[] = [...singles.written];
    const answered: Answered[] = [...plan.answered, ...singles.answered];
    const again: CommandItem[] = [];
    plan.inserts.forEach(({ item, client }, index) => {
      const doc = inserted[index];
      if (doc) {
        written.push({ doc, isNew: true });
        answered.push({ item, outcome: decidedOutcome('created', client) });
      } else if (loadCreates) {
        // no document holds the id, so the email is what is taken
        answered.push({ item, outcome: refusalOutcome(emailTaken()) });
      } else {
        again.push(item);
      }
    });
    plan.changes.forEach(({ item, change }, index) => {
      written.push({ doc: updated[index]!, isNew: false });
      answered.push({ item, outcome: decidedOutcome(change.outcome, change.next) });
    });

    await relay.relay(
      written,
      answered.map(({ item, outcome }) => replyOf(item, outcome)),
    );
    lap('relay_and_reply');
    await relay.settle(written);
    lap('settle');
    logger.debug({ commands: wave.length, again: again.length, ms: timings }, 'commands handled');
    if (again.length > 0) await applyWave(again, true);
  }

  /** Applies a run of consecutive client commands of one partition. */
  return async function handleCommands(items: CommandItem[]): Promise<void> {
    for (const wave of wavesOf(items)) await applyWave(wave, false);
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
