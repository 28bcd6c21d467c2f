import { stringify } from 'yaml';
import { Type, type TSchema } from 'typebox';
import { dlqTopicOf, EnvelopeSchema, Headers, MESSAGE_CATALOG, TOPIC_DECLARATIONS, type ChannelSpec } from '@trackme/contracts';

export const ASYNCAPI_PATH = 'docs/asyncapi.yaml';

const KAFKA_BINDING_VERSION = '0.5.0';

/** Named schemas are inlined several times here; their `$id`s would clash, so they are dropped. */
function plain(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(plain);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([key]) => key !== '$id').map(([key, value]) => [key, plain(value)]));
}

const channelId = (topic: string) =>
  topic
    .replace(/^trackme\./, '')
    .split(/[.-]/)
    .map((part, i) => (i === 0 ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join('');

const camel = (words: string) => words.replace(/\s+(\w)/g, (_, c: string) => c.toUpperCase());

const MessageHeaders = Type.Object({
  [Headers.messageType]: Type.Optional(Type.String({ description: 'The envelope type, for routing without parsing the value' })),
  [Headers.correlationId]: Type.Optional(Type.String({ description: 'Correlation id of the request that caused the message' })),
  [Headers.traceparent]: Type.Optional(Type.String({ description: 'W3C trace context' })),
});

const DeadLetterHeaders = Type.Object({
  [Headers.dlqReason]: Type.String({ description: 'Why it failed, e.g. invalid_json, invalid_schema, unknown_type, handler_failed' }),
  [Headers.dlqErrors]: Type.String({ description: 'JSON array of error lines (validation errors name the field)' }),
  [Headers.dlqTopic]: Type.String({ description: 'Topic the message failed on' }),
  [Headers.dlqPartition]: Type.String(),
  [Headers.dlqOffset]: Type.String(),
  [Headers.dlqKey]: Type.Optional(Type.String({ description: 'Original key' })),
  [Headers.dlqConsumerGroup]: Type.String(),
  [Headers.dlqAttempts]: Type.String(),
  [Headers.dlqFailedAt]: Type.String({ format: 'date-time' }),
});

function envelopeOf(type: string, data: TSchema): unknown {
  return plain({
    ...EnvelopeSchema,
    properties: { ...EnvelopeSchema.properties, type: Type.Literal(type), data },
  });
}

/**
 * The AsyncAPI 3 document of every topic trackme produces or consumes, generated from the same
 * TypeBox schemas the services validate with, plus the dead-letter twin of each consumed topic.
 */
export function buildAsyncApiDocument(version: string): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  const addChannel = (spec: ChannelSpec) => {
    const declaration = TOPIC_DECLARATIONS.find((t) => t.name === spec.topic);
    if (!declaration) throw new Error(`${spec.topic} is not a declared topic`);
    const id = channelId(spec.topic);
    channels[id] = {
      address: spec.topic,
      description: `${declaration.description} Key: ${spec.key}.`,
      messages: Object.fromEntries(spec.messages.map((m) => [m.type, { $ref: `#/components/messages/${m.type}` }])),
      bindings: {
        kafka: { partitions: declaration.partitions, topicConfiguration: { 'retention.ms': declaration.retentionMs }, bindingVersion: KAFKA_BINDING_VERSION },
      },
    };
    for (const message of spec.messages) {
      messages[message.type] = {
        name: message.type,
        title: message.type,
        summary: message.summary,
        contentType: 'application/json',
        ...(message.plain ? {} : { headers: plain(MessageHeaders) }),
        payload: message.plain ? plain(message.data) : envelopeOf(message.type, message.data),
        bindings: { kafka: { key: { type: 'string', description: spec.key }, bindingVersion: KAFKA_BINDING_VERSION } },
      };
    }
    const refs = spec.messages.map((m) => ({ $ref: `#/channels/${id}/messages/${m.type}` }));
    for (const producer of spec.producers) {
      operations[`${camel(producer)}Sends${id[0]!.toUpperCase()}${id.slice(1)}`] = {
        action: 'send',
        channel: { $ref: `#/channels/${id}` },
        summary: `${producer} publishes to ${spec.topic}`,
        messages: refs,
      };
    }
    for (const consumer of spec.consumers) {
      operations[`${consumer}Receives${id[0]!.toUpperCase()}${id.slice(1)}`] = {
        action: 'receive',
        channel: { $ref: `#/channels/${id}` },
        summary: `${consumer} consumes ${spec.topic} (consumer group ${spec.consumerGroup ?? `trackme-${consumer}`})`,
        messages: refs,
      };
    }
    const dlq = dlqTopicOf(spec.topic);
    const dlqId = channelId(dlq);
    channels[dlqId] = {
      address: dlq,
      description: `Messages of ${spec.topic} that could not be processed, with the reason; \`npm run dlq\` lists and replays them.`,
      messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
      bindings: { kafka: { partitions: 1, bindingVersion: KAFKA_BINDING_VERSION } },
    };
  };
  for (const spec of MESSAGE_CATALOG) addChannel(spec);

  messages['DeadLetter'] = {
    name: 'DeadLetter',
    title: 'Dead letter',
    summary: 'The original key, bytes and headers of a message that failed, plus why and where',
    headers: plain(DeadLetterHeaders),
    payload: { description: 'The original message value, byte for byte (it may not even be JSON)' },
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'trackme messages',
      version,
      description:
        'Kafka topics of trackme. Messages are JSON envelopes (id, type, version, occurred_at, correlation_id, data) keyed ' +
        'by client id; delivery is at least once and consumers dedup by the envelope id. Generated by `npm run asyncapi`.',
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'The broker `npm start` runs (KAFKA_TOPIC_PREFIX may prefix every topic)' },
    },
    channels,
    operations,
    components: { messages },
  };
}

export const renderAsyncApi = (document: unknown): string => stringify(document, { lineWidth: 0, aliasDuplicateObjects: false });
