import { Topics, TRIGGER_ROLLUP_TYPE, type TriggerRollupCommand } from '@trackme/contracts';
import { publishAcknowledged, type KafkaPublishing } from '../kafka/publish-acknowledged.js';

/**
 * Publishes the command to trackme.metrics-commands in the envelope (id = job id), keyed by the
 * interval, and resolves once Kafka acknowledged it; otherwise DependencyUnavailableError (503).
 * A request that timed out may still arrive; the caller's retry then computes the period twice,
 * which writes the same figures again.
 */
export async function publishRollup(publishing: KafkaPublishing, command: TriggerRollupCommand): Promise<void> {
  await publishAcknowledged(publishing, 'the rollup request', (producer) =>
    producer.publish(Topics.metricsCommands, command.interval, {
      id: command.job_id,
      type: TRIGGER_ROLLUP_TYPE,
      data: command,
      occurredAt: new Date(command.requested_at),
    }),
  );
}
