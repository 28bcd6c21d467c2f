import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StageProcess } from '@trackme/contracts';
import { ConflictError, DependencyUnavailableError, problem, sendProblem } from '@trackme/platform';
import { actorOf, derivedId, hash, idempotencyKeyOf, send, type WriteContext } from '../commands/write-command.js';
import type { StoredResponse } from '../commands/operation-store.js';
import type { ReadClient } from '../read/read-client.js';
import { auditJobFinished } from './audit-job.js';
import type { JobItem, JobKind } from './job-model.js';
import type { JobStore } from './job-store.js';
import { jobView } from './job-view.js';

export interface JobsDeps {
  store: JobStore;
  write: WriteContext;
  read: ReadClient;
  process: StageProcess;
  retentionMs: number;
  importMaxBytes: number;
}

/** The id of a request's job, and the stem of its items' client ids: derived from an Idempotency-Key, so a retry finds the same job. */
export function jobIdOf(request: FastifyRequest): string {
  const key = idempotencyKeyOf(request);
  return key ? derivedId('job', actorOf(request), key, `${request.method} ${request.routeOptions.url}`) : randomUUID();
}

/** The client id of item `index` of a job: the same on every resend of the create. */
export const itemClientId = (jobId: string, index: number) => hash('job-client', jobId, String(index)).slice(0, 32);

/**
 * An Idempotency-Key covering a whole request: the first answer is stored and replayed to a retry
 * with the same key and body; the same key with another body is refused (422).
 */
export async function idempotent(
  write: WriteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  body: string,
  compute: () => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (!key) return send(request, reply, await compute());
  const scopedKey = hash(actorOf(request).subject, key);
  const fingerprint = hash(request.method, request.routeOptions.url ?? '', body);
  const start = await write.operations.begin(scopedKey, fingerprint).catch((error: unknown) => {
    request.log.error({ err: error }, 'idempotency store unavailable');
    throw new DependencyUnavailableError('the idempotency store is unavailable; retry later');
  });
  if (start.kind === 'replay') return send(request, reply.header('idempotent-replayed', 'true'), start.response);
  if (start.kind === 'mismatch') return sendProblem(request, reply, problem(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request'));
  if (start.kind === 'in_flight') throw new ConflictError('a request with this Idempotency-Key is still being processed', 'idempotency_key_in_flight');
  let response: StoredResponse;
  // the claim is a lease: renewed while an upload streams in, so a retry waits instead of running twice
  const release = write.operations.keepClaimed(scopedKey, fingerprint);
  try {
    response = await compute();
  } catch (error) {
    await write.operations.abandon(scopedKey).catch(() => undefined);
    throw error;
  } finally {
    release();
  }
  await write.operations.complete(scopedKey, fingerprint, response).catch(() => undefined);
  return send(request, reply, response);
}

/** Stores a job (queued, or finished at once for a dry run) and answers 202 with it and its Location. */
export async function submitJob(
  deps: JobsDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  job: { id: string; kind: JobKind; items: JobItem[]; spec?: Record<string, unknown>; dryRun?: boolean },
): Promise<StoredResponse> {
  const now = new Date();
  const finished = job.dryRun === true;
  const { job: stored } = await deps.store.create(
    {
      _id: job.id,
      kind: job.kind,
      status: finished ? (job.items.every((item) => item.status === 'succeeded') ? 'succeeded' : 'partially_failed') : 'queued',
      requested_by: actorOf(request),
      ...(job.spec ? { spec: job.spec } : {}),
      ...(finished ? { dry_run: true, started_at: now, finished_at: now, expires_at: new Date(now.getTime() + deps.retentionMs) } : {}),
      created_at: now,
    },
    job.items,
  );
  if (finished) auditJobFinished(request.log, stored, stored.status, await deps.store.counts(stored));
  reply.header('location', `${deps.write.basePath}/jobs/${stored._id}`);
  request.log.info({ job_id: stored._id, kind: stored.kind, total: stored.total }, 'job submitted');
  return { status: 202, body: { data: await jobView(deps.store, stored, { items_offset: 0, items_limit: 100 }, now) } };
}
