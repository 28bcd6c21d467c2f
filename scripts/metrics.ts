/**
 * Maintenance of the metrics service's counters.
 *
 *   npm run metrics -- rebuild [--from YYYY-MM-DD] [--force]
 *
 * `rebuild` recomputes the counters from Mongo after data loss or a change of a metric's
 * definition: every client's timeline (client_history) is replayed through the same code the
 * service counts events with, plus the login days it remembered and each client's last_login.
 * Periods starting on or after --from are rewritten (all without it). Stop the metrics service
 * first (the command refuses while its consumer group has members, unless --force); events that
 * arrive meanwhile wait in Kafka and are counted once it is back. Reads MONGO_URL, KAFKA_BROKERS,
 * KAFKA_TOPIC_PREFIX, STAGES_CONFIG and METRICS_TZ like the service. Rerun the rollups of the
 * rewritten periods afterwards (POST /metrics/calculate?interval=…&period=…).
 */
import { parseArgs } from 'node:util';
import { Type } from 'typebox';
import { loadStageProcess } from '@trackme/contracts';
import { createKafka, createLogger, createMongo, KafkaConfig, kafkaConnection, KafkaConnectionConfig, loadConfig, MongoConfig, StagesConfig, topicFor } from '@trackme/platform';
import { MetricsConfigSchema } from '../services/metrics/src/config.js';
import { CounterStore } from '../services/metrics/src/counting/counter-store.js';
import { Calendar, dayOfDate } from '../services/metrics/src/periods.js';
import { rebuildCounters } from '../services/metrics/src/rebuild.js';

const USAGE = 'usage: npm run metrics -- rebuild [--from YYYY-MM-DD] [--force]';
const { positionals, values } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, force: { type: 'boolean', default: false } } });
const fromDay = values.from === undefined ? undefined : dayOfDate(values.from);
const problems = [
  ...(positionals[0] === 'rebuild' ? [] : [`unknown command "${positionals[0] ?? ''}"`]),
  ...(values.from !== undefined && fromDay === undefined ? ['--from must be a date (YYYY-MM-DD)'] : []),
];
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig(
  'metrics',
  Type.Object({ ...MongoConfig, ...StagesConfig, ...KafkaConnectionConfig, KAFKA_TOPIC_PREFIX: KafkaConfig.KAFKA_TOPIC_PREFIX, METRICS_TZ: MetricsConfigSchema.properties.METRICS_TZ }),
);
const logger = createLogger('metrics-rebuild', 'warn');
const kafka = createKafka({ ...kafkaConnection(config), clientId: 'trackme-metrics-rebuild' }, logger);
if (!values.force) {
  const admin = kafka.admin();
  await admin.connect();
  const group = topicFor(config.KAFKA_TOPIC_PREFIX ?? '', 'trackme-metrics');
  const { groups } = await admin.describeGroups([group]);
  await admin.disconnect();
  const members = groups[0]?.members.length ?? 0;
  if (members > 0) {
    console.error(`the metrics service is running (${members} member(s) in consumer group ${group}); stop it first, or pass --force`);
    process.exit(1);
  }
}
const mongo = createMongo(config.MONGO_URL, 'trackme-metrics-rebuild');
try {
  const started = Date.now();
  const result = await rebuildCounters({
    db: mongo.db,
    store: new CounterStore(mongo.db),
    calendar: new Calendar(config.METRICS_TZ),
    process: loadStageProcess(config.STAGES_CONFIG),
    ...(fromDay === undefined ? {} : { fromDay }),
  });
  console.log(
    `rebuilt ${result.clients} client(s) from ${result.events} change(s) and ${result.logins} login day(s): ` +
      `${result.counterDocuments} counter document(s) for the periods ${result.from ? `from ${result.from}` : 'of all time'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} finally {
  await mongo.close();
}
