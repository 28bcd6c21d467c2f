import type { Actor, FieldError } from '@trackme/contracts';

/**
 * What an item asks of one client; each becomes one ordinary client command. `replace` (a stage
 * move with the client's fields as read) is what jobs stored before `move` existed hold.
 */
export type ItemOp = 'create' | 'upsert' | 'patch' | 'move' | 'replace' | 'delete';

export type ItemStatus = 'pending' | 'succeeded' | 'refused' | 'failed';

export interface JobItem {
  /** position in the job (the batch index, the file's line number order, the filter's order) */
  i: number;
  op: ItemOp;
  /** the client the command is keyed by; for a create, derived from the job so a resend hits the same one */
  client_id: string;
  fields?: Record<string, unknown>;
  /** the line of an imported file */
  line?: number;
  status: ItemStatus;
  /** created, changed, unchanged or deleted, once succeeded */
  outcome?: string;
  code?: string;
  message?: string;
  errors?: FieldError[];
}

export type JobKind = 'batch' | 'bulk' | 'import';
export type JobStatus = 'queued' | 'running' | 'cancelled' | 'succeeded' | 'partially_failed' | 'failed';

export interface JobCounts {
  succeeded: number;
  refused: number;
  failed: number;
}

export interface JobDocument {
  _id: string;
  kind: JobKind;
  status: JobStatus;
  /** who asked for it (the audit line and the job report name them) */
  requested_by: Actor;
  /** the filter and action of a bulk job, the options of an import */
  spec?: Record<string, unknown>;
  total: number;
  chunks: number;
  dry_run?: boolean;
  created_at: Date;
  started_at?: Date;
  finished_at?: Date;
  /** the runner's lease: another gateway takes the job over once it lapses (its runner died) */
  lease_owner?: string;
  lease_until?: Date;
  cancel_requested?: boolean;
  /** dropped with its chunks after this (JOB_RETENTION_DAYS after it finished) */
  expires_at?: Date;
  /**
   * The outcomes counted so far, by chunk (its index as a string): a copy of each chunk's own
   * counts, moved right after the chunk's write, so GET /jobs reads this one document instead of
   * every chunk. Made exact from the chunks whenever the runner reads one and when the job ends.
   * Jobs stored before it have none, and are counted from their chunks.
   */
  progress?: Record<string, JobCounts>;
}

/** Items are stored by chunk, one document each, so every read and write goes by `_id`. */
export const CHUNK_SIZE = 500;
export const chunkId = (jobId: string, chunk: number) => `${jobId}:${chunk}`;

export interface ChunkDocument {
  _id: string;
  job_id: string;
  /** by the item's index as a string: an outcome is one `$set` of `items.<i>`, a path every Mongo-wire server takes */
  items: Record<string, JobItem>;
  counts: JobCounts;
}

export const emptyCounts = (): JobCounts => ({ succeeded: 0, refused: 0, failed: 0 });

/** The items a chunk holds: CHUNK_SIZE, fewer in the last one. */
export const chunkLength = (total: number, chunk: number) => Math.max(0, Math.min(CHUNK_SIZE, total - chunk * CHUNK_SIZE));

/** Counts added up. */
export function sumCounts(all: Iterable<JobCounts>): JobCounts {
  const sum = emptyCounts();
  for (const counts of all) for (const key of Object.keys(sum) as (keyof JobCounts)[]) sum[key] += counts[key];
  return sum;
}

/** Items of a chunk with this status (pending: those without an outcome yet). */
export function countOf(counts: JobCounts, length: number, status: ItemStatus): number {
  return status === 'pending' ? length - counts.succeeded - counts.refused - counts.failed : counts[status];
}

/** The command id of an item: the same on every resend, so the clients service applies it once. */
export const itemCommandId = (jobId: string, index: number, step = '') => `job:${jobId}:${index}${step}`;

/** The actor a job's changes carry in the history: the job itself, with the role of who started it. */
export const jobActor = (jobId: string, requestedBy: Actor): Actor => ({ subject: `job:${jobId}`, ...(requestedBy.role ? { role: requestedBy.role } : {}) });

/** A job's status once no item is pending: what its items came to, or cancelled. */
export function finalStatus(counts: JobCounts, total: number, cancelled: boolean): JobStatus {
  if (cancelled) return 'cancelled';
  if (counts.succeeded === total) return 'succeeded';
  return counts.succeeded === 0 && total > 0 ? 'failed' : 'partially_failed';
}

/** Items per second since the start, and the seconds left at that rate (null before any is done). */
export function progressOf(done: number, total: number, startedAt: Date | undefined, now: Date): { rate: number; eta_seconds: number | null } {
  const seconds = startedAt ? Math.max((now.getTime() - startedAt.getTime()) / 1000, 0.001) : 0;
  const rate = seconds > 0 ? done / seconds : 0;
  return { rate: Math.round(rate * 10) / 10, eta_seconds: rate > 0 ? Math.ceil((total - done) / rate) : null };
}
