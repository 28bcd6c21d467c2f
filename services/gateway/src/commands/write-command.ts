import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '@trackme/contracts';
import { ConflictError, DependencyUnavailableError, PROBLEM_CONTENT_TYPE, problem, sendProblem } from '@trackme/platform';
import type { CommandBus } from './command-bus.js';
import { responseOf } from './command-response.js';
import type { IdempotencyStart, OperationStore, StoredResponse } from './operation-store.js';

export interface WriteContext {
  bus: CommandBus;
  operations: OperationStore;
  basePath: string;
  timeoutMs: number;
  /** told when a command was sent and answered or accepted: cached reads may be out of date */
  onWritten?: () => void;
}

/** Who makes the request: the verified token's subject and role (recorded in history and audit), and the IP. */
export function actorOf(request: FastifyRequest): Actor {
  const caller = request.caller;
  return { subject: caller?.subject ?? 'anonymous', ...(caller?.role ? { role: caller.role } : {}), ip: request.ip };
}

export const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('base64url');

/** An id derived from the caller's Idempotency-Key, so a retry maps to the same command and client. */
export function derivedId(kind: string, actor: Actor, key: string, route: string): string {
  return hash(kind, actor.subject, key, route).slice(0, 32);
}

export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (typeof raw !== 'string') return undefined;
  // the draft sends a structured-field string ("key"); plain tokens are accepted too
  return raw.startsWith('"') && raw.endsWith('"') && raw.length > 1 ? raw.slice(1, -1) : raw;
}

/** How often a retry looks again at a key another request holds. */
const LEASE_POLL_MS = 100;

/**
 * Claims the key; while another request holds it, waits up to `timeoutMs` for that request to
 * finish (a replay) or for its lease to lapse because its gateway died (then this one claims it).
 */
async function claim(operations: OperationStore, key: string, fingerprint: string, timeoutMs: number): Promise<IdempotencyStart> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const start = await operations.begin(key, fingerprint);
    if (start.kind !== 'in_flight' || Date.now() >= deadline) return start;
    await sleep(LEASE_POLL_MS);
  }
}

export function send(request: FastifyRequest, reply: FastifyReply, response: StoredResponse): FastifyReply {
  if (response.status >= 400 && response.body && typeof response.body === 'object') {
    const body = response.body as Record<string, unknown>;
    return reply
      .code(response.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send({ ...body, instance: request.url, correlation_id: request.id });
  }
  if (response.status === 204) return reply.code(204).send();
  return reply.code(response.status).send(response.body);
}

/**
 * The write path of every mutating route: idempotency, publish, wait for the reply, and answer
 * with the reply's status, or 202 with an operation when the deadline passes.
 */
export async function executeWrite(
  context: WriteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  command: { type: string; clientId: string | ((key: string | undefined) => string); data: (clientId: string, actor: Actor) => unknown },
): Promise<FastifyReply> {
  const actor = actorOf(request);
  const key = idempotencyKeyOf(request);
  const route = `${request.method} ${request.routeOptions.url} ${JSON.stringify(request.params)}`;
  const clientId = typeof command.clientId === 'function' ? command.clientId(key && derivedId('client', actor, key, route)) : command.clientId;
  const scopedKey = key ? hash(actor.subject, key) : undefined;
  const fingerprint = hash(route, JSON.stringify(request.body ?? null));

  // one deadline for the whole request: waiting for another request's lease counts against it
  const deadline = Date.now() + context.timeoutMs;
  if (scopedKey) {
    const start = await claim(context.operations, scopedKey, fingerprint, context.timeoutMs).catch((error: unknown) => {
      request.log.error({ err: error }, 'idempotency store unavailable');
      throw new DependencyUnavailableError('the idempotency store is unavailable; retry later');
    });
    if (start.kind === 'replay') return send(request, reply.header('idempotent-replayed', 'true'), start.response);
    if (start.kind === 'mismatch') {
      return sendProblem(request, reply, problem(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request'));
    }
    if (start.kind === 'in_flight') {
      throw new ConflictError('a request with this Idempotency-Key is still being processed', 'idempotency_key_in_flight');
    }
  }

  const commandId = key ? derivedId('command', actor, key, route) : randomUUID();
  let outcome;
  const release = scopedKey ? context.operations.keepClaimed(scopedKey, fingerprint) : undefined;
  try {
    outcome = await context.bus.send(command.type, clientId, command.data(clientId, actor), commandId, Math.max(1, deadline - Date.now()), scopedKey);
  } catch (error) {
    // free the key so the caller's retry can run; the command id is derived from the key, so even
    // if this attempt did reach Kafka the retry cannot apply it twice
    if (scopedKey) await context.operations.abandon(scopedKey).catch(() => undefined);
    throw error;
  } finally {
    // after a 202 the claim lapses too: a retry then sends the command again and gets its outcome
    release?.();
  }
  context.onWritten?.();
  if (outcome.kind === 'timeout') {
    return reply
      .code(202)
      .header('location', `${context.basePath}/operations/${commandId}`)
      .send({ data: { operation_id: commandId, status: 'pending' } });
  }
  const response = responseOf(outcome.reply);
  // the write is done: a lost idempotency record only costs a retry its replay, never a second effect
  if (scopedKey) await context.operations.complete(scopedKey, fingerprint, response).catch(() => undefined);
  return send(request, reply, response);
}
