import type { Collection, Db } from 'mongodb';
import { METRIC_INTERVALS, type MetricInterval, type RollupJob } from '@trackme/contracts';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '@trackme/platform';
import type { Calendar, Period } from '../periods.js';
import type { RollupLock } from './rollup-lock.js';
import type { Rollups } from './rollups.js';

interface JobDocument {
  _id: string;
  interval: MetricInterval;
  period_start?: string;
  status: RollupJob['status'];
  requested_at: Date;
  started_at?: Date;
  finished_at?: Date;
  rows?: number;
  error?: string;
}

export interface JobRequest {
  id: string;
  interval: MetricInterval;
  /** a date inside the period; absent: the current period, to date */
  period?: string;
  requestedAt: Date;
}

/** Rollups asked for (by the API or the schedule), recorded so their outcome can be looked up. */
export class RollupJobs {
  private readonly jobs: Collection<JobDocument>;

  constructor(
    db: Db,
    private readonly rollups: Rollups,
    private readonly lock: RollupLock,
    private readonly calendar: Calendar,
    private readonly clock: () => Date,
    private readonly logger: Logger,
  ) {
    this.jobs = db.collection<JobDocument>('metric_jobs');
  }

  /** Runs a job once: a redelivered request of a finished job changes nothing. */
  async run(request: JobRequest): Promise<RollupJob> {
    const existing = await this.jobs.findOne({ _id: request.id });
    if (existing?.status === 'succeeded') return toJob(existing);
    const now = this.clock();
    const period = request.period ? this.calendar.periodOfDate(request.interval, request.period) : this.calendar.periodOf(request.interval, now.getTime());
    const base: JobDocument = { _id: request.id, interval: request.interval, status: 'running', requested_at: request.requestedAt, started_at: now };
    if (period) base.period_start = period.key;
    await this.jobs.replaceOne({ _id: request.id }, base, { upsert: true });
    const finished = await this.execute(period, now).then(
      (rows): JobDocument => ({ ...base, status: 'succeeded', rows, finished_at: this.clock() }),
      (error: unknown): JobDocument => ({ ...base, status: 'failed', error: (error as Error).message, finished_at: this.clock() }),
    );
    await this.jobs.replaceOne({ _id: request.id }, finished, { upsert: true });
    const log = { job: request.id, interval: request.interval, period: period?.key, status: finished.status, rows: finished.rows, error: finished.error };
    if (finished.status === 'failed') this.logger.error(log, 'rollup failed');
    else this.logger.info({ ...log, ms: finished.finished_at!.getTime() - now.getTime() }, 'rollup done');
    return toJob(finished);
  }

  private async execute(period: Period | undefined, now: Date): Promise<number> {
    if (!period) throw new Error('the period is not a calendar date');
    if (period.start > now.getTime()) throw new Error(`period ${period.key} has not started yet`);
    const doc = await this.lock.exclusive(period, () => this.rollups.run(period, now.getTime()));
    return doc.rows.length;
  }

  /** When the last successful rollup of this interval finished (scheduled or asked for). */
  async lastSucceeded(interval: MetricInterval): Promise<Date | undefined> {
    const last = await this.jobs.findOne({ interval, status: 'succeeded' }, { sort: { finished_at: -1 }, projection: { finished_at: 1 } });
    return last?.finished_at;
  }

  async get(id: string): Promise<RollupJob | undefined> {
    const doc = await this.jobs.findOne({ _id: id });
    return doc ? toJob(doc) : undefined;
  }
}

function toJob(doc: JobDocument): RollupJob {
  return {
    id: doc._id,
    interval: doc.interval,
    ...(doc.period_start ? { period_start: doc.period_start } : {}),
    status: doc.status,
    requested_at: doc.requested_at.toISOString(),
    ...(doc.started_at ? { started_at: doc.started_at.toISOString() } : {}),
    ...(doc.finished_at ? { finished_at: doc.finished_at.toISOString() } : {}),
    ...(doc.rows !== undefined ? { rows: doc.rows } : {}),
    ...(doc.error ? { error: doc.error } : {}),
  };
}

/**
 * `trackme_rollup_last_success_timestamp_seconds{interval}`, read from the job records at each
 * scrape: every replica reports the same value, and a restart does not reset it.
 */
export function rollupFreshness(jobs: RollupJobs, registry: Registry): void {
  new Gauge({
    name: 'trackme_rollup_last_success_timestamp_seconds',
    help: 'When the last successful rollup of each interval finished (Unix seconds; 0 before the first)',
    labelNames: ['interval'],
    registers: [registry],
    async collect() {
      const finished = await Promise.all(METRIC_INTERVALS.map((interval) => jobs.lastSucceeded(interval).catch(() => undefined)));
      METRIC_INTERVALS.forEach((interval, i) => this.set({ interval }, (finished[i]?.getTime() ?? 0) / 1000));
    },
  });
}
