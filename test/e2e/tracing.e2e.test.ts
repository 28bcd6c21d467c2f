import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, descendsFrom, http, isolatedEnv, spawnSystem, startOtlpReceiver, waitFor, type OtlpReceiver, type ReceivedSpan, type RunningSystem } from '@trackme/testkit';

/**
 * One POST /clients with tracing on, the four services exporting to a real OTLP/HTTP receiver:
 * the request is one trace from the gateway's HTTP span through Kafka, the clients service and its
 * MongoDB writes, the read and metrics projections, back to the gateway's reply handling.
 */

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

let receiver: OtlpReceiver;
let system: RunningSystem;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const env = await isolatedEnv();
  system = await spawnSystem({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
}, 120_000);

afterAll(async () => {
  await system?.stop();
  await receiver?.close();
});

describe('tracing across the services', () => {
  it('gives one POST /clients one trace through every service, with no personal data', async () => {
    const name = `Tracy ${randomUUID().slice(0, 6)}`;
    const email = `traced-${randomUUID()}@example.com`;
    const created = await http('POST', `${system.api}/clients`, { name, email, source: 'ads' });
    expect(created.status).toBe(201);

    const server = await waitFor(() => receiver.spans.find((s) => s.service === 'trackme-gateway' && s.kind === SERVER && s.name === 'POST /api/v1/clients'), {
      timeoutMs: 15_000,
      what: 'the gateway HTTP span',
    });
    const inTrace = () => receiver.spans.filter((s) => s.traceId === server.traceId);
    const consumerOf = (service: string, topic: string) => inTrace().find((s) => s.service === `trackme-${service}` && s.kind === CONSUMER && s.name.endsWith(topic));
    await waitFor(
      () => ['read', 'metrics'].every((service) => consumerOf(service, 'client-events') && childrenOf(consumerOf(service, 'client-events')!).length > 0) && consumerOf('gateway', 'command-replies'),
      { timeoutMs: 20_000, what: 'the projections and the reply in the trace' },
    );
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId ?? '');
    function childrenOf(span: ReceivedSpan) {
      return receiver.spans.filter((s) => s.parentSpanId === span.spanId);
    }

    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['trackme-gateway', 'trackme-clients', 'trackme-read', 'trackme-metrics']));
    expect(server.parentSpanId).toBeUndefined();
    expect(server.attributes['http.route']).toBe('/api/v1/clients');

    // gateway → clients: the command's PRODUCER span is under the HTTP span; its consumer under it
    const command = spans.find((s) => s.kind === PRODUCER && s.name.endsWith('client-commands'))!;
    expect(command.service).toBe('trackme-gateway');
    const handling = consumerOf('clients', 'client-commands')!;
    expect(parentOf(handling)).toBe(command);
    expect(handling.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.operation.type': 'process' });
    const writes = spans.filter((s) => s.service === 'trackme-clients' && s.attributes['db.system.name'] === 'mongodb');
    expect(writes.map((s) => s.attributes['db.collection.name'])).toContain('clients');

    // clients → read, metrics, gateway: the event and the reply are sent from the command's handling
    const event = spans.find((s) => s.kind === PRODUCER && s.service === 'trackme-clients' && s.name.endsWith('client-events'))!;
    const reply = spans.find((s) => s.kind === PRODUCER && s.service === 'trackme-clients' && s.name.endsWith('command-replies'))!;
    expect(descendsFrom(event, handling, parentOf)).toBe(true);
    expect(descendsFrom(reply, handling, parentOf)).toBe(true);
    for (const service of ['read', 'metrics']) expect(parentOf(consumerOf(service, 'client-events')!)).toBe(event);
    expect(parentOf(consumerOf('gateway', 'command-replies')!)).toBe(reply);
    const readWork = childrenOf(consumerOf('read', 'client-events')!);
    expect(readWork.some((s) => s.attributes['db.system.name'] === 'redis')).toBe(true);
    expect(childrenOf(consumerOf('metrics', 'client-events')!).some((s) => s.attributes['db.system.name'] === 'mongodb')).toBe(true);

    // no personal data and no credentials in any attribute of any span
    const token = (await adminHeaders())['authorization']!.replace('Bearer ', '');
    const exported = JSON.stringify(receiver.spans.map((s) => s.attributes));
    for (const secret of [email, name, token, email.split('@')[0]!]) expect(exported).not.toContain(secret);
  });

  it('continues a trace the caller sent into the read service, with no filter value in it', async () => {
    const traceId = randomUUID().replaceAll('-', '');
    const email = `filtered-${randomUUID()}@example.com`;
    const listed = await http('GET', `${system.api}/clients?limit=5&email=${encodeURIComponent(email)}`, undefined, { traceparent: `00-${traceId}-${'a'.repeat(16)}-01` });
    expect(listed.status).toBe(200);
    const server = await waitFor(() => receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER && s.service === 'trackme-gateway'), { timeoutMs: 10_000, what: 'the list span' });
    expect(server.parentSpanId).toBe('a'.repeat(16));
    expect(server.name).toBe('GET /api/v1/clients');
    // the gateway's call to the read service is a CLIENT span, and the read service's answer joins it
    const read = await waitFor(() => receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER && s.service === 'trackme-read'), { timeoutMs: 10_000, what: 'the read service span' });
    const trace = receiver.spans.filter((s) => s.traceId === traceId);
    const call = trace.find((s) => s.spanId === read.parentSpanId);
    expect(call).toMatchObject({ kind: CLIENT, service: 'trackme-gateway' });
    expect(descendsFrom(read, server, (span) => trace.find((s) => s.spanId === span.parentSpanId))).toBe(true);
    // the filter (an email) is in the query of both requests, and in no attribute of the trace
    const exported = JSON.stringify(trace.map((s) => s.attributes));
    for (const secret of [email, encodeURIComponent(email), email.split('@')[0]!]) expect(exported).not.toContain(secret);
  });
});
