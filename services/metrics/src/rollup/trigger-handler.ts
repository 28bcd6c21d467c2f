import { METRICS_COMMAND_SCHEMAS } from '@trackme/contracts';
import { parseMessage, type MessageHandler } from '@trackme/platform';
import type { RollupJobs } from './rollup-jobs.js';

/** Handles TriggerRollup commands on trackme.metrics-commands: each one runs (at most once) as a job. */
export function createTriggerHandler(jobs: RollupJobs): MessageHandler {
  return async (message) => {
    const { data: command } = parseMessage(message, METRICS_COMMAND_SCHEMAS, { kind: 'command' });
    await jobs.run({
      id: command.job_id,
      interval: command.interval,
      ...(command.period ? { period: command.period } : {}),
      requestedAt: new Date(command.requested_at),
    });
  };
}
