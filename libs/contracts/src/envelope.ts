import { Type, type Static } from 'typebox';

/** Every message trackme itself produces travels in this envelope. */
export const EnvelopeSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: 'Unique message id; consumers dedup on it.' }),
    type: Type.String({ minLength: 1, maxLength: 128, description: 'Message type, e.g. ClientStageChanged.' }),
    version: Type.Integer({ minimum: 1, description: 'Schema version of `data` for this type.' }),
    occurred_at: Type.String({ format: 'date-time' }),
    correlation_id: Type.String({ minLength: 1, maxLength: 128 }),
    data: Type.Unknown(),
  },
  { additionalProperties: false, $id: 'Envelope' },
);

export type Envelope<T = unknown> = Omit<Static<typeof EnvelopeSchema>, 'data'> & { data: T };

/** Kafka header names used across services. */
export const Headers = {
  messageType: 'trackme-type',
  correlationId: 'x-correlation-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  dlqReason: 'dlq-reason',
  dlqErrors: 'dlq-errors',
  dlqTopic: 'dlq-original-topic',
  dlqPartition: 'dlq-original-partition',
  dlqOffset: 'dlq-original-offset',
  dlqKey: 'dlq-original-key',
  dlqConsumerGroup: 'dlq-consumer-group',
  dlqAttempts: 'dlq-attempts',
  dlqFailedAt: 'dlq-failed-at',
} as const;
