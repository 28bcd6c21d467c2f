import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InboundMessage } from './consumer.js';

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
  return { outcomes, duration };
}

/**
 * Runs `work` in a consumer span that continues the messages' trace contexts: one message's span
 * is the child of the context its producer sent; a run's span links to every message's context.
 */
export async function inConsumerSpan(
  messages: InboundMessage[],
  physicalTopic: string,
  work: () => Promise<void>,
): Promise<void> {
  const first = messages[0]!;
  const contexts = messages.map((m) => propagation.extract(ROOT_CONTEXT, m.headers));
  const links: Link[] = contexts.flatMap((c) => {
    const spanContext = trace.getSpanContext(c);
    return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : [];
  });
  const parent = messages.length === 1 ? propagation.extract(context.active(), first.headers) : context.active();
  await context.with(parent, () =>
    tracer.startActiveSpan(`${first.topic} process`, { kind: SpanKind.CONSUMER, ...(messages.length > 1 ? { links } : {}) }, async (span) => {
      span.setAttributes({
        'messaging.system': 'kafka',
        'messaging.destination.name': physicalTopic,
        'messaging.kafka.destination.partition': first.partition,
        ...(messages.length === 1 ? { 'messaging.kafka.message.offset': Number(first.offset) } : { 'messaging.batch.message_count': messages.length }),
      });
      try {
        await work();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    }),
  );
}
