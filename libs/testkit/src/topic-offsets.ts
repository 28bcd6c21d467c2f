import { topicFor } from '@trackme/platform';
import { stackKafka, type StackEnv } from './stack.js';

/**
 * How many messages a (prefixed) topic holds over all its partitions, from the broker's offsets:
 * exact at once, unlike a reader that may not have caught up, so "nothing was published" is provable.
 */
export async function topicMessageCount(stack: StackEnv, topic: string, prefix = ''): Promise<number> {
  const admin = stackKafka('trackme-test-offsets', stack).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topicFor(prefix, topic));
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
