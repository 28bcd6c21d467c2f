import { describe, expect, it } from 'vitest';
import { SpanKind, trace } from '@opentelemetry/api';
import { Headers } from '@trackme/contracts';
import { inConsumerSpan } from '../src/kafka/consumer-telemetry.js';
import { producerSpans } from '../src/kafka/producer-telemetry.js';
import type { InboundMessage } from '../src/index.js';
import { inMemoryTracing } from './in-memory-tracing.js';

const exporter = inMemoryTracing();

const traceA = '0af7651916cd43dd8448eb211c80319c';
const traceB = '4bf92f3577b34da6a3ce929d0e0e4736';
const message = (traceId: string, correlationId: string, offset: string): InboundMessage => ({
  topic: 'trackme.client-commands',
  partition: 2,
  offset,
  key: 'c1',
  value: Buffer.from('{}'),
  timestamp: '0',
  headers: { traceparent: `00-${traceId}-${'1'.repeat(16)}-01`, [Headers.correlationId]: correlationId },
});
const record = (correlationId: string) => ({ headers: { [Headers.correlationId]: correlationId } as Record<string, string> });

describe('Kafka spans', () => {
  it('continue the sender trace for one message, and link a run to every message it processed', async () => {
    exporter.reset();
    await inConsumerSpan([message(traceA, 'a', '7')], 'p.trackme.client-commands', 'p.trackme-clients', async () => undefined);
    const replies = [record('a'), record('b')];
    await inConsumerSpan([message(traceA, 'a', '8'), message(traceB, 'b', '9')], 'p.trackme.client-commands', 'p.trackme-clients', async () => {
      producerSpans('p.trackme.command-replies', replies).settle();
    });

    const [single, replyA, replyB, run] = exporter.getFinishedSpans();
    expect(single!.spanContext().traceId).toBe(traceA);
    expect(single!.parentSpanContext?.spanId).toBe('1'.repeat(16));
    expect(single!).toMatchObject({ name: 'process p.trackme.client-commands', kind: SpanKind.CONSUMER });
    expect(single!.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.partition.id': '2', 'messaging.kafka.offset': 7, 'messaging.consumer.group.name': 'p.trackme-clients' });

    expect(run!.links.map((l) => l.context.traceId)).toEqual([traceA, traceB]);
    expect(run!.attributes['messaging.batch.message_count']).toBe(2);
    expect([traceA, traceB]).not.toContain(run!.spanContext().traceId);

    // each reply is sent in the trace of the command it answers, linked to the run that sent it
    for (const [span, traceId, sent] of [[replyA!, traceA, replies[0]!], [replyB!, traceB, replies[1]!]] as const) {
      expect(span).toMatchObject({ name: 'send p.trackme.command-replies', kind: SpanKind.PRODUCER });
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([run!.spanContext().spanId]);
      expect(sent.headers['traceparent']).toBe(`00-${traceId}-${span.spanContext().spanId}-01`);
    }
  });

  it('send one span for records of the same trace, under the active span', async () => {
    exporter.reset();
    const records = [record('x'), record('x')];
    trace.getTracer('test').startActiveSpan('request', (request) => {
      producerSpans('p.trackme.client-events', records).settle();
      request.end();
    });
    const [send, request] = exporter.getFinishedSpans();
    expect(send!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId);
    expect(send!.attributes['messaging.batch.message_count']).toBe(2);
    expect(send!.links).toEqual([]);
    expect(new Set(records.map((r) => r.headers['traceparent']))).toEqual(new Set([`00-${request!.spanContext().traceId}-${send!.spanContext().spanId}-01`]));
  });
});
