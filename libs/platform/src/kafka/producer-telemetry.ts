import { AsyncLocalStorage } from 'node:async_hooks';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { Headers } from '@trackme/contracts';

const tracer = trace.getTracer('@trackme/platform/kafka');

/** The trace contexts of the messages a batch run is handling, by correlation id. */
const origins = new AsyncLocalStorage<Map<string, Context>>();

/**
 * Runs a batch's work knowing the trace context of each of its messages, so what it publishes on
 * behalf of one of them (a reply, a change event) continues that message's trace.
 */
export function withOrigins<T>(byCorrelationId: Map<string, Context>, fn: () => T): T {
  return origins.run(byCorrelationId, fn);
}

interface TracedRecord {
  headers: Record<string, string>;
}

/**
 * Opens the PRODUCER spans of one send and writes their W3C context into the records' headers:
 * one span per trace the records belong to (the trace of the message each answers, looked up by
 * correlation id, or else the active one), linked to the batch span that published them.
 * The spans end when the broker acknowledged the records (`settle`).
 */
export function producerSpans(topic: string, records: TracedRecord[]): { settle: (error?: unknown) => void } {
  const active = context.active();
  const known = origins.getStore();
  const groups = new Map<Context, TracedRecord[]>();
  for (const record of records) {
    const correlationId = record.headers[Headers.correlationId];
    const parent = (correlationId && known?.get(correlationId)) || active;
    groups.set(parent, [...(groups.get(parent) ?? []), record]);
  }
  const batchSpan = trace.getSpan(active)?.spanContext();
  const spans: Span[] = [];
  for (const [parent, members] of groups) {
    const span = tracer.startSpan(
      `send ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': topic,
          ...(members.length > 1 ? { 'messaging.batch.message_count': members.length } : {}),
        },
        ...(parent !== active && batchSpan && trace.isSpanContextValid(batchSpan) ? { links: [{ context: batchSpan }] } : {}),
      },
      parent,
    );
    const sent = trace.setSpan(parent, span);
    for (const record of members) propagation.inject(sent, record.headers);
    spans.push(span);
  }
  return {
    settle(error) {
      for (const span of spans) {
        if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'send failed' });
        span.end();
      }
    },
  };
}
