import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendsFrom, freePort, http, isolatedEnv, spansOfOtlp, spawnSystem, waitFor, type OtlpTraces, type ReceivedSpan, type RunningSystem } from '@trackme/testkit';
import { startJaeger, type RunningJaeger } from '../../scripts/lib/jaeger.mjs';

/**
 * The trace store of `npm start -- --observe`: a real Jaeger (deploy/jaeger/config.yaml, built
 * from source into ~/.cache/trackme when missing) receives the four services' OTLP export, and one
 * POST /clients can be read back from its query API as one trace across every service. The API
 * is Jaeger's v3 one, which answers in OTLP's JSON: the spans read as the OTLP receiver's do.
 */

const SERVER = 2;
const CONSUMER = 5;
const OPERATION = 'POST /api/v1/clients';
// the first run on a machine builds Jaeger (10 to 30 minutes on two cores); later runs find it cached
const PROVISION_TIMEOUT_MS = 45 * 60_000;

let jaeger: RunningJaeger;
let system: RunningSystem;

beforeAll(async () => {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [otlpPort, queryPort, queryGrpcPort] = [...ports];
  jaeger = await startJaeger({ otlpPort, queryPort, queryGrpcPort, log: (line) => console.log(`[jaeger] ${line}`) });
  const env = await isolatedEnv();
  system = await spawnSystem({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_BSP_SCHEDULE_DELAY: '200' });
}, PROVISION_TIMEOUT_MS);

afterAll(async () => {
  await system?.stop();
  await jaeger?.stop();
});

/** The spans a v3 query answers with (`undefined` when it finds no trace), and the answer as stored. */
async function query(path: string): Promise<{ spans: ReceivedSpan[]; raw: string } | undefined> {
  const response = await fetch(`${jaeger.queryUrl}/api/v3${path}`);
  if (response.status === 404) return undefined;
  const raw = await response.text();
  if (!response.ok) throw new Error(`GET /api/v3${path}: ${response.status} ${raw}`);
  return { spans: spansOfOtlp((JSON.parse(raw) as { result: OtlpTraces }).result), raw };
}

describe('the trace store', () => {
  it('holds one POST /clients as one trace from all four services, without personal data', async () => {
    const name = `Stored ${randomUUID().slice(0, 6)}`;
    const email = `stored-${randomUUID()}@example.com`;
    const created = await http('POST', `${system.api}/clients`, { name, email, source: 'ads' });
    expect(created.status).toBe(201);

    // found by the gateway's operation, the way a user searches the store; then read by its id
    const search = new URLSearchParams({
      'query.service_name': 'trackme-gateway',
      'query.operation_name': OPERATION,
      'query.start_time_min': new Date(Date.now() - 3_600_000).toISOString(),
      'query.start_time_max': new Date(Date.now() + 3_600_000).toISOString(),
      'query.num_traces': '20',
    });
    const found = await waitFor(async () => (await query(`/traces?${search}`))?.spans, { timeoutMs: 20_000, intervalMs: 250, what: `a ${OPERATION} trace in Jaeger` });
    const traceIds = new Set(found.map((s) => s.traceId));
    expect(traceIds.size).toBe(1);
    const [traceId] = traceIds;
    const complete = (spans: ReceivedSpan[]) => {
      const consumers = spans.filter((s) => s.kind === CONSUMER);
      return (
        ['read', 'metrics'].every((service) => consumers.some((s) => s.service === `trackme-${service}` && s.name.endsWith('client-events'))) &&
        consumers.some((s) => s.service === 'trackme-gateway' && s.name.endsWith('command-replies'))
      );
    };
    const trace = await waitFor(
      async () => {
        const answer = await query(`/traces/${traceId}`);
        return answer && complete(answer.spans) && answer;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the projections and the reply in the stored trace' },
    );

    const { spans } = trace;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (span: ReceivedSpan) => byId.get(span.parentSpanId ?? '');
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['trackme-gateway', 'trackme-clients', 'trackme-read', 'trackme-metrics']));

    // the gateway's HTTP server span is the root; the clients service's handling descends from it
    const roots = spans.filter((s) => !parentOf(s));
    expect(roots.map((s) => [s.service, s.kind, s.name, s.parentSpanId])).toEqual([['trackme-gateway', SERVER, OPERATION, undefined]]);
    const handling = spans.find((s) => s.service === 'trackme-clients' && s.kind === CONSUMER && s.name.endsWith('client-commands'));
    expect(handling).toBeDefined();
    expect(descendsFrom(handling!, roots[0]!, parentOf)).toBe(true);
    for (const span of spans) if (span !== roots[0]) expect(descendsFrom(span, roots[0]!, parentOf)).toBe(true);

    // nothing Jaeger stored names the client: no attribute, resource attribute or event of any span
    for (const personal of [email, email.split('@')[0]!, name]) expect(trace.raw).not.toContain(personal);
  });
});
