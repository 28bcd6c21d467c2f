/** Creates every declared Kafka topic (and its .dlq twin) that is missing. Usage: npm run topics */
import { Type } from 'typebox';
import { allTopicDeclarations } from '@trackme/contracts';
import { createKafka, createLogger, ensureTopics, KafkaConfig, kafkaConnection, KafkaConnectionConfig, loadConfig } from '@trackme/platform';

const config = loadConfig('topics', Type.Object({ ...KafkaConnectionConfig, KAFKA_TOPIC_PREFIX: KafkaConfig.KAFKA_TOPIC_PREFIX }));
const logger = createLogger('topics');
const kafka = createKafka({ ...kafkaConnection(config), clientId: 'trackme-topics' }, logger);
const created = await ensureTopics(kafka, allTopicDeclarations(), config.KAFKA_TOPIC_PREFIX);
logger.info({ created }, created.length ? `created ${created.length} topic(s)` : 'all topics exist');
