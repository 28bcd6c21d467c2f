import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link } from '@opentelemetry/api';
import { Headers } from '@trackme/contracts';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InboundMessage } from './consumer.js';
import { withOrigins } from './producer-telemetry.js';

const tracer = trace.getTracer('@trackme/platform/kafka');

/** The consumers of one process share these metrics; the topic label tells them apart. */
export function consumerMetrics(registry: Registry | undefined) {
  if (!registry) return {};
  const shared = <T>(name: string, create: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? create();
  const outcomes = shared(
    'trackme_kafka_messages_consumed_total',
    () =>
      new Counter({
        name: 'trackme_kafka_messages_consumed_total',
        help: 'Messages consumed, by outcome (processed, dead_lettered)',
        labelNames: ['topic', 'outcome'],
        registers: [registry],
      }),
  ) as Counter<'topic' | 'outcome'>;
  const duration = shared(
    'trackme_kafka_handler_duration_seconds',
    () =>
      new Histogram({
        name: 'trackme_kafka_handler_duration_seconds',
        help: 'Time to handle one message (or one run of a batch consumer), retries included',
        labelNames: ['topic'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
  ) as Histogram<'topic'>;
  const deadLetters = shared(
    'trackme_kafka_dead_letters_total',
    () =>
      new Counter({
        name: 'trackme_kafka_dead_letters_total',
        help: 'Messages sent to a dead-letter topic, by that topic',
        labelNames: ['topic'],
        registers: [registry],
      }),
  ) as Counter<'topic'>;
  return { outcomes, duration, deadLetters };
}

/**
 * Runs `work` in a CONSUMER "process" span (messaging semantic conventions). One message's span is
 * the child of the context its producer sent, so the work stays in the sender's trace. A run of
 * several messages serves many traces: its span links to every message's context, and what the
 * run publishes for one of them continues that message's trace (producer-telemetry.ts).
 */
export async function inConsumerSpan(
  messages: InboundMessage[],
  physicalTopic: string,
  groupId: string,
  work: () => Promise<void>,
): Promise<void> {
  const first = messages[0]!;
  const single = messages.length === 1;
  const parent = single ? propagation.extract(context.active(), first.headers) : context.active();
  const byCorrelationId = new Map<string, Context>();
  const links: Link[] = [];
  if (!single) {
    for (const message of messages) {
      const sent = propagation.extract(ROOT_CONTEXT, message.headers);
      const spanContext = trace.getSpanContext(sent);
      if (!spanContext || !trace.isSpanContextValid(spanContext)) continue;
      links.push({ context: spanContext });
      const correlationId = message.headers[Headers.correlationId];
      if (correlationId) byCorrelationId.set(correlationId, sent);
    }
  }
  const attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': physicalTopic,
    'messaging.destination.partition.id': String(first.partition),
    'messaging.consumer.group.name': groupId,
    ...(single ? { 'messaging.kafka.offset': Number(first.offset) } : { 'messaging.batch.message_count': messages.length }),
  };
  await context.with(parent, () =>
    tracer.startActiveSpan(`process ${physicalTopic}`, { kind: SpanKind.CONSUMER, attributes, links }, async (span) => {
      try {
        await (single ? work() : withOrigins(byCorrelationId, work));
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    }),
  );
}
