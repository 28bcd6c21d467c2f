import type { Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';

/** How often a consumer's lag is measured. */
export const LAG_REFRESH_MS = 5_000;

/**
 * Exports `trackme_kafka_consumer_lag{group,topic,partition}`: the high watermark minus the
 * group's committed offset (minus the low watermark while the group has committed nothing),
 * measured every LAG_REFRESH_MS with an admin client of the consumer's own. Returns the stop.
 */
export function reportConsumerLag(kafka: Kafka, groupId: string, topics: string[], registry: Registry, logger: Logger): () => Promise<void> {
  const gauge =
    (registry.getSingleMetric('trackme_kafka_consumer_lag') as Gauge<'group' | 'topic' | 'partition'> | undefined) ??
    new Gauge({
      name: 'trackme_kafka_consumer_lag',
      help: 'Messages not yet committed by the consumer group, per partition',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    });
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  let stopped = false;
  const measure = async () => {
    connected ??= admin.connect();
    await connected;
    const committed = await admin.fetchOffsets({ groupId, topics });
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends) {
        const offset = Number(mine.find((p) => p.partition === end.partition)?.offset ?? -1);
        const from = offset >= 0 ? offset : Number(end.low);
        gauge.set({ group: groupId, topic, partition: String(end.partition) }, Math.max(0, Number(end.high) - from));
      }
    }
  };
  const tick = () =>
    void measure().catch((error: unknown) => {
      if (!stopped) logger.debug({ err: error, group: groupId }, 'could not measure consumer lag');
    });
  const timer = setInterval(tick, LAG_REFRESH_MS);
  timer.unref();
  tick();
  return async () => {
    stopped = true;
    clearInterval(timer);
    if (connected) await connected.then(() => admin.disconnect()).catch(() => undefined);
  };
}
