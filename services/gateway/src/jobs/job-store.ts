import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@trackme/platform';
import { CHUNK_SIZE, chunkId, chunkLength, countOf, emptyCounts, sumCounts, type ChunkDocument, type JobCounts, type JobDocument, type JobItem, type JobStatus } from './job-model.js';

/** Every item of a job, its outcome counted once: the chunk's counts move in the same write as the item. */
export interface ItemPage {
  items: JobItem[];
  /** items matching the filter, all pages together */
  matching: number;
}

/**
 * Jobs and their items in the gateway's database (`jobs`, `job_items`). Items live in chunks of
 * CHUNK_SIZE, one document each, so the runner reads and writes by `_id` only (ADR 0006).
 */
export class JobStore {
  private readonly jobs: Collection<JobDocument>;
  private readonly chunks: Collection<ChunkDocument>;

  constructor(db: Db) {
    this.jobs = db.collection<JobDocument>('jobs');
    this.chunks = db.collection<ChunkDocument>('job_items');
  }

  /**
   * Stores a job and its items, unless a job with its id exists already (an Idempotency-Key
   * retried): then that one is answered and nothing is written. Chunks go first, so a job
   * document never points at missing items.
   */
  async create(job: Omit<JobDocument, 'chunks' | 'total'>, items: JobItem[]): Promise<{ job: JobDocument; created: boolean }> {
    const existing = await this.get(job._id);
    if (existing) return { job: existing, created: false };
    const chunks = Math.ceil(items.length / CHUNK_SIZE);
    const progress: Record<string, JobCounts> = {};
    for (let c = 0; c < chunks; c += 1) {
      const slice = items.slice(c * CHUNK_SIZE, (c + 1) * CHUNK_SIZE);
      const counts = countsOf(slice);
      progress[String(c)] = counts;
      const doc: ChunkDocument = { _id: chunkId(job._id, c), job_id: job._id, items: Object.fromEntries(slice.map((item) => [String(item.i), item])), counts };
      await this.chunks.replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
    const full: JobDocument = { ...job, total: items.length, chunks, progress };
    try {
      await this.jobs.insertOne(full);
      return { job: full, created: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return { job: (await this.get(job._id))!, created: false };
    }
  }

  get(id: string): Promise<JobDocument | null> {
    return this.jobs.findOne({ _id: id });
  }

  chunk(jobId: string, chunk: number): Promise<ChunkDocument | null> {
    return this.chunks.findOne({ _id: chunkId(jobId, chunk) });
  }

  /** The counts of a job's items with an outcome, summed over its chunks. */
  async counts(job: JobDocument): Promise<JobCounts> {
    return sumCounts(Object.values(await this.progress(job)));
  }

  /**
   * Each chunk's counts: the job's copy, and for a chunk it has none of (a job stored before
   * progress was kept) the chunk's own.
   */
  private async progress(job: JobDocument): Promise<Record<string, JobCounts>> {
    const counts: Record<string, JobCounts> = {};
    for (let c = 0; c < job.chunks; c += 1) counts[String(c)] = job.progress?.[String(c)] ?? (await this.countsInChunk(job._id, c));
    return counts;
  }

  /** Each chunk's counts as the chunk holds them: the exact figures, one read per chunk. */
  async chunkCounts(job: JobDocument): Promise<Record<string, JobCounts>> {
    const counts: Record<string, JobCounts> = {};
    for (let c = 0; c < job.chunks; c += 1) counts[String(c)] = await this.countsInChunk(job._id, c);
    return counts;
  }

  private async countsInChunk(jobId: string, chunk: number): Promise<JobCounts> {
    const doc = await this.chunks.findOne({ _id: chunkId(jobId, chunk) }, { projection: { counts: 1 } });
    return doc?.counts ?? emptyCounts();
  }

  /**
   * A page of the item report, in item order, optionally only items of one status. With the job's
   * progress only the chunks holding the page are read; the rest are known by their counts.
   */
  async items(job: JobDocument, offset: number, limit: number, status?: JobItem['status']): Promise<ItemPage> {
    const progress = await this.progress(job);
    const inChunk = (c: number) => {
      const length = chunkLength(job.total, c);
      return status ? countOf(progress[String(c)] ?? emptyCounts(), length, status) : length;
    };
    const page: JobItem[] = [];
    let matching = 0;
    for (let c = 0; c < job.chunks; c += 1) {
      const here = inChunk(c);
      const wanted = page.length < limit && matching + here > offset;
      matching += here;
      if (!wanted) continue;
      let seen = matching - here;
      for (const item of orderedItems(await this.chunk(job._id, c))) {
        if (status && item.status !== status) continue;
        if (seen >= offset && page.length < limit) page.push(item);
        seen += 1;
      }
    }
    return { items: page, matching };
  }

  /** Records outcomes of items of one chunk and counts them, in one write. */
  async record(jobId: string, chunk: number, items: JobItem[]): Promise<void> {
    if (items.length === 0) return;
    const counts = countsOf(items);
    await this.chunks.updateOne(
      { _id: chunkId(jobId, chunk) },
      {
        $set: Object.fromEntries(items.map((item) => [`items.${item.i}`, item])),
        $inc: { 'counts.succeeded': counts.succeeded, 'counts.refused': counts.refused, 'counts.failed': counts.failed },
      },
    );
    // the job's copy follows; a crash in between leaves it short until the chunk is read again
    const key = `progress.${chunk}`;
    await this.jobs.updateOne({ _id: jobId }, { $inc: { [`${key}.succeeded`]: counts.succeeded, [`${key}.refused`]: counts.refused, [`${key}.failed`]: counts.failed } });
  }

  /** Makes the job's copy of a chunk's counts what the chunk holds (after the chunk was read). */
  async syncProgress(job: JobDocument, chunk: number, counts: JobCounts): Promise<void> {
    const known = job.progress?.[String(chunk)];
    if (known && known.succeeded === counts.succeeded && known.refused === counts.refused && known.failed === counts.failed) return;
    await this.jobs.updateOne({ _id: job._id }, { $set: { [`progress.${chunk}`]: counts } });
  }

  /**
   * Takes the oldest job that is queued, or running with a lapsed lease (its runner died), for
   * `leaseMs`. The conditional write makes one gateway win when several try at once.
   */
  async claim(owner: string, leaseMs: number, now: Date): Promise<JobDocument | null> {
    const candidates = await this.jobs.find({ status: { $in: ['queued', 'running'] } }).sort({ created_at: 1 }).limit(20).toArray();
    for (const job of candidates) {
      if (job.lease_until && job.lease_until > now) continue;
      const set = { status: 'running' as const, lease_owner: owner, lease_until: new Date(now.getTime() + leaseMs), started_at: job.started_at ?? now };
      const taken = await this.jobs.updateOne({ _id: job._id, lease_owner: job.lease_owner ?? null, lease_until: job.lease_until ?? null } as never, { $set: set });
      if (taken.modifiedCount === 1) return { ...job, ...set };
    }
    return null;
  }

  /** Extends the lease; false when another runner took the job meanwhile. Also says whether a cancel was asked for. */
  async renew(jobId: string, owner: string, until: Date): Promise<{ held: boolean; cancelRequested: boolean }> {
    const held = await this.jobs.updateOne({ _id: jobId, lease_owner: owner }, { $set: { lease_until: until } });
    const job = await this.get(jobId);
    return { held: held.matchedCount === 1, cancelRequested: job?.cancel_requested === true };
  }

  /** Ends the job with the exact counts of its chunks as its progress. */
  async finish(jobId: string, owner: string, status: JobStatus, now: Date, retentionMs: number, progress: Record<string, JobCounts>): Promise<void> {
    await this.jobs.updateOne(
      { _id: jobId, lease_owner: owner },
      { $set: { status, finished_at: now, expires_at: new Date(now.getTime() + retentionMs), progress }, $unset: { lease_until: '' } },
    );
  }

  /** Asks the runner to stop; a job not started yet is cancelled at once. Returns the job after it. */
  async requestCancel(jobId: string, now: Date, retentionMs: number): Promise<JobDocument | null> {
    await this.jobs.updateOne({ _id: jobId, status: 'queued' }, { $set: { status: 'cancelled', finished_at: now, expires_at: new Date(now.getTime() + retentionMs) } });
    await this.jobs.updateOne({ _id: jobId, status: 'running' }, { $set: { cancel_requested: true } });
    return this.get(jobId);
  }

  /** Drops jobs kept past their retention, their items first (no TTL index on the Mongo-wire floor). */
  async sweep(now: Date): Promise<number> {
    const expired = await this.jobs.find({ expires_at: { $lt: now } }, { projection: { _id: 1, chunks: 1 } }).toArray();
    for (const job of expired) {
      for (let c = 0; c < job.chunks; c += 1) await this.chunks.deleteOne({ _id: chunkId(job._id, c) });
      await this.jobs.deleteOne({ _id: job._id });
    }
    return expired.length;
  }
}

function countsOf(items: JobItem[]): JobCounts {
  const counts = emptyCounts();
  for (const item of items) if (item.status !== 'pending') counts[item.status] += 1;
  return counts;
}

/** A chunk's items in index order. */
export function orderedItems(doc: ChunkDocument | null): JobItem[] {
  return doc ? Object.values(doc.items).sort((a, b) => a.i - b.i) : [];
}
