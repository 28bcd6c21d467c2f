import { setTimeout as sleep } from 'node:timers/promises';
import { withCorrelation, type Logger } from '@trackme/platform';
import { finalStatus, itemCommandId, jobActor, sumCounts, type JobDocument, type JobItem } from './job-model.js';
import { orderedItems, type JobStore } from './job-store.js';
import { sendItem, type ItemSending } from './item-sender.js';
import { auditJobFinished } from './audit-job.js';

export interface JobRunnerOptions {
  /** this gateway instance, the holder of the leases it takes */
  owner: string;
  /** items in flight at once (JOB_WINDOW) */
  window: number;
  retentionMs: number;
  /** whether items can be sent now (the command bus is connected); no job is claimed before */
  ready: () => boolean;
  leaseMs?: number;
  pollMs?: number;
}

const LEASE_MS = 15_000;
const POLL_MS = 500;
const SWEEP_EVERY_MS = 60_000;
/** outcomes written together: one chunk write per this many settled items */
const FLUSH_EVERY = 50;

/**
 * Runs jobs one at a time on a gateway instance, under a lease in `jobs` so a job whose runner
 * died (SIGKILL included) is taken over by the next claim. Every item goes out under a command id
 * derived from the job and its index, and its outcome is written only after the reply: a resumed
 * job sends again what it had no outcome for, and the clients service answers a command it already
 * applied with the recorded outcome. No item is applied twice, none is skipped.
 */
export class JobRunner {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(
    private readonly store: JobStore,
    private readonly sending: ItemSending,
    private readonly logger: Logger,
    private readonly options: JobRunnerOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops between items; the items in flight finish, and the lease lapses for another runner. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.sweep();
        const job = this.options.ready() ? await this.store.claim(this.options.owner, this.leaseMs, new Date()) : null;
        if (job) await this.runJob(job);
        else await sleep(this.options.pollMs ?? POLL_MS);
      } catch (error) {
        this.logger.error({ err: error }, 'job runner failed; trying again');
        await sleep(this.options.pollMs ?? POLL_MS);
      }
    }
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? LEASE_MS;
  }

  private async sweep(): Promise<void> {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = Date.now();
    const dropped = await this.store.sweep(new Date());
    if (dropped > 0) this.logger.info({ dropped }, 'jobs past their retention dropped');
  }

  private async runJob(job: JobDocument): Promise<void> {
    const state = { held: true, cancelled: job.cancel_requested === true };
    const renew = setInterval(() => {
      this.store
        .renew(job._id, this.options.owner, new Date(Date.now() + this.leaseMs))
        .then((r) => {
          state.held &&= r.held;
          state.cancelled ||= r.cancelRequested;
        })
        .catch((error: unknown) => this.logger.warn({ err: error, job_id: job._id }, 'could not renew the job lease'));
    }, this.leaseMs / 3);
    const proceed = () => state.held && !state.cancelled && !this.stopped;
    // items sent without an answer in time: on a cancel they are asked again, so the report says what they did
    const sent = new Map<JobItem, number>();
    try {
      this.logger.info({ job_id: job._id, kind: job.kind, total: job.total }, 'job running');
      // passes until every item has an outcome: an item without a reply in time goes again
      for (let pending = true; pending && proceed(); ) {
        pending = false;
        for (let c = 0; c < job.chunks && proceed(); c += 1) pending = (await this.runChunk(job, c, proceed, sent)) || pending;
        if (pending) await sleep(this.options.pollMs ?? POLL_MS);
      }
      if (!state.held || this.stopped) return;
      if (state.cancelled) await this.settleSent(job, sent);
      const progress = await this.store.chunkCounts(job);
      const counts = sumCounts(Object.values(progress));
      const status = finalStatus(counts, job.total, state.cancelled);
      await this.store.finish(job._id, this.options.owner, status, new Date(), this.options.retentionMs, progress);
      auditJobFinished(this.logger, job, status, counts);
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * A cancelled job's items that were sent but not answered may have been applied: the same
   * command is sent again, and the clients service answers with what it did (or does it now, as
   * an item already on its way). The report then holds no applied item as pending.
   */
  private async settleSent(job: JobDocument, sent: Map<JobItem, number>): Promise<void> {
    const actor = jobActor(job._id, job.requested_by);
    for (const [item, chunk] of sent) {
      const done = await withCorrelation(job._id, () => sendItem(this.sending, item, itemCommandId(job._id, item.i), actor)).catch(() => item);
      if (done.status !== 'pending') await this.store.record(job._id, chunk, [done]);
    }
  }

  /** Sends a chunk's pending items, `window` at a time; true when some are still pending after it. */
  private async runChunk(job: JobDocument, chunk: number, proceed: () => boolean, sent: Map<JobItem, number>): Promise<boolean> {
    const doc = await this.store.chunk(job._id, chunk);
    if (doc) await this.store.syncProgress(job, chunk, doc.counts);
    const pending = orderedItems(doc).filter((item) => item.status === 'pending');
    const actor = jobActor(job._id, job.requested_by);
    const settled: JobItem[] = [];
    const inFlight = new Set<Promise<void>>();
    let left = 0;
    const flush = async () => this.store.record(job._id, chunk, settled.splice(0));
    for (const item of pending) {
      if (!proceed()) break;
      if (inFlight.size >= this.options.window) await Promise.race(inFlight);
      if (settled.length >= FLUSH_EVERY) await flush();
      const task = withCorrelation(job._id, () => sendItem(this.sending, item, itemCommandId(job._id, item.i), actor))
        .then((done) => {
          if (done.status === 'pending') {
            left += 1;
            sent.set(item, chunk);
          } else {
            settled.push(done);
            sent.delete(item);
          }
        })
        .catch((error: unknown) => {
          left += 1;
          this.logger.warn({ err: error, job_id: job._id, item: item.i }, 'job item not sent; sent again on the next pass');
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    await flush();
    return left > 0 || (pending.length > 0 && !proceed());
  }
}
