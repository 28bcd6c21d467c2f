/**
 * Shows and replays dead-letter records.
 *
 *   npm run dlq -- list   --topic trackme.activity.dlq [--reason unknown_client] [--limit 50] [--json]
 *   npm run dlq -- replay --topic trackme.activity.dlq [--reason unknown_client] [--limit 50] [--dry-run]
 *
 * `list` prints one line per record (partition/offset, reason, where it failed, errors, key and the
 * start of the value); `--json` prints the records as JSON lines. `replay` publishes the matching
 * records again to the topic they failed on (e.g. after the missing client was created). Reads
 * KAFKA_BROKERS (with the KAFKA_TLS_* and KAFKA_SASL_* settings) and KAFKA_TOPIC_PREFIX like the services.
 */
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { createKafka, createLogger, KafkaConfig, kafkaConnection, KafkaConnectionConfig, loadConfig, MessageProducer, readDeadLetters, replayDeadLetters, type DeadLetter } from '@trackme/platform';

const USAGE = 'usage: npm run dlq -- list|replay --topic <name>.dlq [--reason <reason>] [--limit <n>] [--json] [--dry-run]';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    topic: { type: 'string' },
    reason: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  },
});
const command = positionals[0];
const limit = values.limit === undefined ? undefined : Number(values.limit);
const problems = [
  ...(command === 'list' || command === 'replay' ? [] : [`unknown command "${command ?? ''}"`]),
  ...(values.topic?.endsWith('.dlq') ? [] : ['--topic must name a dead-letter topic (ending in .dlq)']),
  ...(limit === undefined || (Number.isInteger(limit) && limit > 0) ? [] : ['--limit must be a positive integer']),
];
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\n${USAGE}`);
  process.exit(2);
}
const topic = values.topic!;

const config = loadConfig('dlq', Type.Object({ ...KafkaConnectionConfig, KAFKA_TOPIC_PREFIX: KafkaConfig.KAFKA_TOPIC_PREFIX }));
const logger = createLogger('dlq', 'warn');
const kafka = createKafka({ ...kafkaConnection(config), clientId: 'trackme-dlq' }, logger);
const letters = await readDeadLetters(kafka, {
  topic,
  topicPrefix: config.KAFKA_TOPIC_PREFIX,
  ...(values.reason === undefined ? {} : { reason: values.reason }),
  ...(limit === undefined ? {} : { limit }),
});

const preview = (value: Buffer) => {
  const text = value.toString('utf8').replace(/\s+/g, ' ');
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};
const describe = (l: DeadLetter) =>
  `${l.partition}/${l.offset}  ${l.reason}  from ${l.originalTopic ?? '?'}/${l.originalPartition ?? '?'}/${l.originalOffset ?? '?'}` +
  `  group ${l.consumerGroup ?? '?'}  at ${l.failedAt ?? '?'}\n    errors: ${l.errors.join('; ') || '-'}\n    key: ${l.key ?? '-'}  value: ${preview(l.value)}`;

if (command === 'list') {
  for (const letter of letters) {
    console.log(values.json ? JSON.stringify({ ...letter, value: letter.value.toString('utf8') }) : describe(letter));
  }
  console.error(`${letters.length} record(s) in ${topic}${values.reason ? ` with reason ${values.reason}` : ''}`);
} else if (values['dry-run']) {
  for (const letter of letters) console.log(describe(letter));
  console.error(`would replay ${letters.length} record(s)`);
} else {
  const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
  await producer.connect();
  try {
    const { replayed, skipped } = await replayDeadLetters(producer, letters, topic);
    console.error(`replayed ${replayed} record(s) from ${topic}${skipped ? `; skipped ${skipped} without an original topic` : ''}`);
  } finally {
    await producer.disconnect();
  }
}
