import { TRIGGER_ROLLUP_TYPE, TriggerRollupCommandSchema, type TriggerRollupCommand } from '@trackme/contracts';
import { checkedData, parseEnvelope, PoisonMessageError, type MessageHandler } from '@trackme/platform';
import type { RollupJobs } from './rollup-jobs.js';

/** Handles TriggerRollup commands on trackme.metrics-commands: each one runs (at most once) as a job. */
export function createTriggerHandler(jobs: RollupJobs): MessageHandler {
  return async (message) => {
    const envelope = parseEnvelope(message);
    if (envelope.type !== TRIGGER_ROLLUP_TYPE) throw new PoisonMessageError('unknown_type', `unknown command type ${envelope.type}`);
    const command = checkedData<TriggerRollupCommand>(envelope, TriggerRollupCommandSchema);
    await jobs.run({
      id: command.job_id,
      interval: command.interval,
      ...(command.period ? { period: command.period } : {}),
      requestedAt: new Date(command.requested_at),
    });
  };
}
