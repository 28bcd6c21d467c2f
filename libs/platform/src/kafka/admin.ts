import type { Kafka } from 'kafkajs';
import type { TopicDeclaration } from '@trackme/contracts';
import { topicFor } from './kafka.js';

/**
 * Creates the declared topics that do not exist yet (idempotent). Existing topics are left as
 * they are: partitions can only grow, and that is an operator's decision.
 */
export async function ensureTopics(kafka: Kafka, declarations: readonly TopicDeclaration[], prefix = ''): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = declarations.filter((t) => !existing.has(topicFor(prefix, t.name)));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: topicFor(prefix, t.name),
        numPartitions: t.partitions,
        replicationFactor: -1,
        configEntries: [{ name: 'retention.ms', value: String(t.retentionMs) }],
      })),
    });
    return missing.map((t) => topicFor(prefix, t.name));
  } finally {
    await admin.disconnect();
  }
}
