import { COMMAND_REPLY_TYPE, Headers, type Client, type ClientCommandMessage, type CommandOutcome, type CommandReply, type Refusal } from '@trackme/contracts';
import { buildEnvelope, refusalOf, type InboundMessage, type KeyedEnvelope } from '@trackme/platform';
import type { AppliedCommand } from './client-document.js';
import type { Decision } from './decide.js';

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
