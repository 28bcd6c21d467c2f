import {
  COMMAND_REPLY_TYPE,
  CommandTypes,
  Headers,
  type ChangeEvent,
  type Client,
  type ClientCommandMessage,
  type CommandOutcome,
  type CommandReply,
  type Refusal,
  type StageProcess,
} from '@trackme/contracts';
import { buildEnvelope, refusalOf, type InboundMessage, type KeyedEnvelope } from '@trackme/platform';
import { changeEventsOf } from './change-events.js';
import { toClient, type AppliedCommand, type ClientDocument } from './client-document.js';
import type { ClientChange, RememberedRefusal } from './client-repository.js';
import { decide, type Decision } from './decide.js';

/** A command whose outcome is known before anything is written. */
export interface Answered {
  item: CommandItem;
  outcome: CommandOutcome;
}

/** A create of an id no loaded document holds. */
export interface PlannedInsert {
  item: CommandItem;
  client: Client;
  events: ChangeEvent[];
}

/**
 * A write that may collide with another client's email, which a bulk write cannot refuse for one
 * command alone: a change of email, or a create over a deleted client's tombstone.
 */
export type PlannedSingle =
  | { kind: 'change'; item: CommandItem; change: ClientChange }
  | { kind: 'recreate'; item: CommandItem; tombstone: ClientDocument; client: Client; events: ChangeEvent[] };

/** What a wave does with each of its commands, from the documents loaded for it. */
export interface WavePlan {
  answered: Answered[];
  inserts: PlannedInsert[];
  changes: Array<{ item: CommandItem; change: ClientChange }>;
  singles: PlannedSingle[];
  /** refusals remembered on their client, so a redelivery answers the same */
  refusals: RememberedRefusal[];
}

export interface PlanContext {
  process: StageProcess;
  now: Date;
}

/**
 * Decides every command of a wave (commands naming distinct clients) against its client's loaded
 * document: a redelivery replays the outcome it had, a decision becomes a write or an answer, and
 * a refusal is answered (and remembered on an existing client). A create whose id no loaded
 * document holds is planned as an insert; the caller learns from the insert whether the id was
 * free. Pure: nothing here reads or writes.
 */
export function planWave(wave: CommandItem[], docs: ReadonlyMap<string, ClientDocument>, context: PlanContext): WavePlan {
  const plan: WavePlan = { answered: [], inserts: [], changes: [], singles: [], refusals: [] };
  for (const item of wave) {
    const { command } = item;
    const doc = docs.get(command.data.client_id) ?? null;
    const handled = doc?.applied_commands.find((c) => c.id === command.id);
    if (doc && handled) {
      // a tombstone keeps the client's last fields: a change applied before the delete still answers 'changed'
      plan.answered.push({ item, outcome: rememberedOutcome(handled, toClient(doc)) });
      continue;
    }
    const live = doc && !doc.deleted ? doc : null;
    try {
      const decision = decide(command, live ? toClient(live) : null, context);
      const events = changeEventsOf(decision, command, command.correlation_id, context.now);
      if (command.type === CommandTypes.createClient) {
        // decide refused a create of a live client, so a document here is a tombstone
        if (doc) plan.singles.push({ kind: 'recreate', item, tombstone: doc, client: decision.client!, events });
        else plan.inserts.push({ item, client: decision.client!, events });
      } else if (events.length === 0) {
        plan.answered.push({ item, outcome: decidedOutcome(decision.outcome, decision.client) });
      } else {
        const change: ClientChange = { previous: live!, next: decision.client, commandId: command.id, outcome: decision.outcome, events };
        if (changesEmail(decision)) plan.singles.push({ kind: 'change', item, change });
        else plan.changes.push({ item, change });
      }
    } catch (error) {
      const refused = refusalOutcome(error);
      if (doc) plan.refusals.push({ previous: doc, commandId: command.id, refusal: refused.refusal });
      plan.answered.push({ item, outcome: refused });
    }
  }
  return plan;
}

const changesEmail = (decision: Decision) => decision.events.some((e) => e.type === 'ClientUpdated' && 'email' in e.changes);

/** A client command read from trackme.client-commands, checked against its schema. */
export interface CommandItem {
  message: InboundMessage;
  command: ClientCommandMessage;
}

/** The request a command came from: its header, or the envelope's own id. */
export const correlationOf = (item: CommandItem) => item.message.headers[Headers.correlationId] ?? item.command.correlation_id;

/** The reply to a command, keyed by its client like the command. */
export function replyOf(item: CommandItem, outcome: CommandOutcome): KeyedEnvelope {
  const data: CommandReply = { command_id: item.command.id, client_id: item.command.data.client_id, ...outcome };
  return { key: data.client_id, envelope: buildEnvelope({ type: COMMAND_REPLY_TYPE, data, correlationId: correlationOf(item) }) };
}

/** What a decided command did, with the client after it. */
export function decidedOutcome(outcome: Decision['outcome'], client: Client | null): CommandOutcome {
  return outcome === 'deleted' || !client ? { outcome: 'deleted' } : { outcome, client };
}

/** A decided refusal (a domain error) is an outcome like any other; anything else is thrown, to be retried. */
export function refusalOutcome(error: unknown): CommandOutcome & { outcome: 'refused' } {
  const refusal = refusalOf(error);
  if (!refusal) throw error;
  return { outcome: 'refused', refusal };
}

/** The outcome a client remembers for a command it already handled, to answer its redelivery the same way. */
export function rememberedOutcome(handled: AppliedCommand, client: Client | null): CommandOutcome {
  const outcome = handled.outcome ?? LEGACY_OUTCOMES[handled.status ?? 0] ?? 'refused';
  if (outcome === 'refused') return { outcome, refusal: handled.refusal ?? legacyRefusal(handled) };
  return decidedOutcome(outcome, client);
}

// documents written before outcomes were stored remember the HTTP status and problem body
const LEGACY_OUTCOMES: Record<number, Decision['outcome']> = { 200: 'changed', 201: 'created', 204: 'deleted' };

function legacyRefusal({ status, problem }: AppliedCommand): Refusal {
  const reason = status === 404 ? 'not_found' : status === 409 ? 'conflict' : 'invalid';
  return { reason, code: problem?.code ?? 'refused', message: problem?.detail ?? '', ...(problem?.errors ? { errors: problem.errors } : {}) };
}
