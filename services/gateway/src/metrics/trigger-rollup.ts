import type { Actor, CalculateQuery, RollupJob, TriggerRollupCommand } from '@trackme/contracts';
import { ValidationError } from '@trackme/platform';

/**
 * How far ahead of today (UTC) a requested period may lie. The metrics service reads the date in
 * METRICS_TZ, which the gateway does not know; no zone's today is more than a day ahead of UTC's.
 */
const PERIOD_AHEAD_MS = 24 * 60 * 60 * 1000;

const utcDate = (at: Date) => at.toISOString().slice(0, 10);

/**
 * The TriggerRollup command for a validated GET|POST /metrics/calculate; refuses a period that has
 * not begun anywhere yet (nothing to compute, and a typo the caller should hear about).
 */
export function triggerRollup(query: CalculateQuery, job: { id: string; actor: Actor; now: Date }): TriggerRollupCommand {
  if (query.period !== undefined) {
    const latest = utcDate(new Date(job.now.getTime() + PERIOD_AHEAD_MS));
    // YYYY-MM-DD strings compare like the dates they name
    if (query.period > latest) {
      const message = `must not be more than one day in the future (at most ${latest})`;
      throw new ValidationError(`Invalid querystring: period ${message}`, [{ field: 'period', message }]);
    }
  }
  return {
    job_id: job.id,
    interval: query.interval,
    ...(query.period !== undefined ? { period: query.period } : {}),
    requested_at: job.now.toISOString(),
    actor: job.actor,
  };
}

/** The job as POST /metrics/calculate reports it: queued, its period still to be resolved by the metrics service. */
export function queuedJob(command: TriggerRollupCommand): RollupJob {
  return { id: command.job_id, interval: command.interval, status: 'queued', requested_at: command.requested_at };
}
