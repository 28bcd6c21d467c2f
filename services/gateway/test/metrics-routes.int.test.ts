import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Topics, TRIGGER_ROLLUP_TYPE, TriggerRollupCommandSchema, type TriggerRollupCommand } from '@trackme/contracts';
import { TEST_INTERNAL_TOKEN, authed,
  freePort,
  isolatedEnv,
  runInProcess,
  topicMessageCount,
  TopicReader,
  uniqueId,
  waitFor,
  type InProcessService,
  type IsolatedEnv,
} from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

// the gateway in this process against the real Kafka and Redis. The metrics service's internal API
// is stood in for by a small HTTP server that records what it is asked (the real service has its
// own tests); nothing consumes trackme.metrics-commands here.

interface Answer {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

/** What the stand-in metrics service was asked, and what it answers next. */
const metricsService = {
  requests: [] as { url: string; correlationId: string | undefined }[],
  authorizations: [] as (string | undefined)[],
  answer: (_url: string): Answer => ({ status: 500, type: 'text/plain', body: 'no answer set' }),
};

const PAGE =
  '{"data":[{"id":"5f1e0c2a9b8d7e6f5a4b3c2d","type":"dau","value":3,"interval":"day","period_start":"2025-05-01","labels":{},"metadata":{},' +
  '"calculated_at":"2025-05-02T00:01:00.000Z","created_at":"2025-05-02T00:01:00.000Z"}],"meta":{"total":1,"limit":100,"offset":0}}';
const KNOWN_JOB = { id: randomUUID(), interval: 'day', period_start: '2025-05-01', status: 'succeeded', requested_at: '2025-05-02T00:00:00.000Z', rows: 42 };
const NOT_FOUND = '{"type":"urn:trackme:problem:not_found","title":"Not Found","status":404,"code":"not_found","detail":"no such job"}';

let env: IsolatedEnv;
let standIn: FastifyInstance;
let gateway: InProcessService<GatewayConfig>;
let reader: TopicReader<TriggerRollupCommand>;

async function startStandIn(): Promise<string> {
  standIn = Fastify({ logger: false });
  standIn.get('/*', async (request, reply) => {
    const correlationId = request.headers['x-correlation-id'];
    metricsService.requests.push({ url: request.url, correlationId: typeof correlationId === 'string' ? correlationId : undefined });
    metricsService.authorizations.push(request.headers.authorization);
    const answer = metricsService.answer(request.url);
    return reply
      .code(answer.status)
      .headers(answer.headers ?? {})
      .type(answer.type)
      // bytes, so fastify sends the content type exactly as given
      .send(Buffer.from(answer.body));
  });
  await standIn.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
}

const waitReady = (service: InProcessService<GatewayConfig>) =>
  waitFor(async () => (await service.app.inject({ url: '/readyz' })).statusCode === 200, { what: 'gateway ready', timeoutMs: 30_000 });

beforeAll(async () => {
  env = await isolatedEnv();
  const metricsUrl = await startStandIn();
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, METRICS_URL: metricsUrl });
  await waitReady(gateway);
  reader = await new TopicReader<TriggerRollupCommand>(env, Topics.metricsCommands, env.KAFKA_TOPIC_PREFIX).start();
}, 90_000);

afterAll(async () => {
  await reader?.stop();
  await gateway?.stop();
  await standIn?.close();
});

beforeEach(() => {
  metricsService.requests.length = 0;
  metricsService.authorizations.length = 0;
  metricsService.answer = (url) => {
    if (url.startsWith('/internal/metrics?')) return { status: 200, type: 'application/json; charset=utf-8', body: PAGE };
    if (url === `/internal/metrics/jobs/${KNOWN_JOB.id}`) return { status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify({ data: KNOWN_JOB }) };
    return { status: 404, type: 'application/problem+json', body: NOT_FOUND };
  };
});

const commandsOnTopic = () => topicMessageCount(env, Topics.metricsCommands, env.KAFKA_TOPIC_PREFIX);

const calculate = async (service: InProcessService<GatewayConfig>, method: 'GET' | 'POST', query: string, correlationId = uniqueId('corr-')) =>
  service.app.inject(await authed({ method, url: `/api/v1/metrics/calculate?${query}`, headers: { 'x-correlation-id': correlationId } }));

/** The rollup request published for the request with this correlation id. */
const published = (correlationId: string) =>
  waitFor(() => reader.messages.find((m) => m.envelope.correlation_id === correlationId), { what: 'the TriggerRollup on trackme.metrics-commands' });

const expectProblem = (answer: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string) => {
  expect(answer.statusCode).toBe(status);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.json()).toMatchObject({ status, code });
};

describe('GET /metrics/calculate', () => {
  it("publishes a TriggerRollup for the interval and period, acknowledged before it answers the older service's message", async () => {
    const correlationId = uniqueId('corr-');
    const before = await commandsOnTopic();
    const sentAt = Date.now();

    const answer = await calculate(gateway, 'GET', 'interval=week&period=2025-05-07', correlationId);

    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(answer.body).toBe('{"data":{"message":"triggerred success"}}');
    expect((await commandsOnTopic()) - before).toBe(1);

    const message = await published(correlationId);
    expect(message.key).toBe('week');
    expect(message.headers).toMatchObject({ 'trackme-type': TRIGGER_ROLLUP_TYPE, 'x-correlation-id': correlationId });
    const { envelope } = message;
    expect(envelope).toMatchObject({ type: TRIGGER_ROLLUP_TYPE, version: 1, id: envelope.data.job_id });
    expect(Value.Check(TriggerRollupCommandSchema, envelope.data)).toBe(true);
    expect(envelope.data).toEqual({
      job_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      interval: 'week',
      period: '2025-05-07',
      requested_at: envelope.occurred_at,
      actor: { subject: 'test-admin', role: 'admin', ip: '127.0.0.1' },
    });
    expect(Date.parse(envelope.data.requested_at)).toBeGreaterThanOrEqual(sentAt - 1);
    expect(Date.parse(envelope.data.requested_at)).toBeLessThanOrEqual(Date.now());
  });

  it('asks for the current period when no period is given', async () => {
    const correlationId = uniqueId('corr-');
    const answer = await calculate(gateway, 'GET', 'interval=day', correlationId);
    expect(answer.statusCode).toBe(200);
    const { envelope, key } = await published(correlationId);
    expect(key).toBe('day');
    expect(envelope.data).not.toHaveProperty('period');
  });
});

describe('POST /metrics/calculate', () => {
  it('answers 202 with the queued job and its Location; the job id is the published envelope id', async () => {
    const correlationId = uniqueId('corr-');
    const answer = await calculate(gateway, 'POST', 'interval=month&period=2025-04-15', correlationId);

    expect(answer.statusCode).toBe(202);
    const { data } = answer.json<{ data: { id: string; requested_at: string } }>();
    expect(data).toEqual({ id: expect.any(String), interval: 'month', status: 'queued', requested_at: expect.any(String) });
    expect(answer.headers['location']).toBe(`/api/v1/metrics/jobs/${data.id}`);

    const { envelope, key } = await published(correlationId);
    expect(key).toBe('month');
    expect(envelope.id).toBe(data.id);
    expect(envelope.data).toMatchObject({ job_id: data.id, interval: 'month', period: '2025-04-15', requested_at: data.requested_at });
  });
});

describe('/metrics/calculate refuses bad parameters before publishing anything', () => {
  const inTwoDays = new Date(Date.now() + 2 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);

  it.each([
    ['GET', 'no interval', 'period=2025-05-01', 'interval'],
    ['GET', 'an unknown interval', 'interval=year', 'interval'],
    ['POST', 'an unknown interval', 'interval=hour', 'interval'],
    ['GET', 'an impossible date', 'interval=day&period=2026-02-30', 'period'],
    ['POST', 'a period that is not a date', 'interval=day&period=yesterday', 'period'],
    ['GET', 'a period more than one day ahead', `interval=day&period=${inTwoDays}`, 'period'],
    ['POST', 'a period more than one day ahead', `interval=week&period=${inTwoDays}`, 'period'],
    ['GET', 'an unknown parameter', 'interval=day&force=true', 'force'],
  ] as const)('%s with %s: 400 naming %s', async (method, _case, query, field) => {
    const before = await commandsOnTopic();
    const answer = await calculate(gateway, method, query);
    expectProblem(answer, 400, 'validation_failed');
    expect(answer.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    expect(await commandsOnTopic()).toBe(before);
  });
});

describe('GET /metrics', () => {
  it("asks the metrics service with the validated query (defaults filled in, one order) and relays its answer byte for byte", async () => {
    const answer = await gateway.app.inject(await authed({
      url: '/api/v1/metrics?to=2025-05-07&interval=day&type=dau&from=2025-05-01',
      headers: { 'x-correlation-id': 'corr-metrics-list' },
    }));

    expect(metricsService.requests).toEqual([
      { url: '/internal/metrics?type=dau&interval=day&from=2025-05-01&to=2025-05-07&limit=100&offset=0', correlationId: 'corr-metrics-list' },
    ]);
    // the service token its internal API requires
    expect(metricsService.authorizations).toEqual([`Bearer ${TEST_INTERNAL_TOKEN}`]);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.body).toBe(PAGE);
  });

  it.each(['source-conversion', 'channel-conversion'])("takes the older service's type=%s", async (type) => {
    const answer = await gateway.app.inject(await authed({ url: `/api/v1/metrics?type=${type}` }));
    expect(answer.statusCode).toBe(200);
    expect(metricsService.requests.map((r) => r.url)).toEqual([`/internal/metrics?type=${type}&limit=100&offset=0`]);
  });

  it("passes the metrics service's refusals and Retry-After on as received", async () => {
    const tooWide = '{"type":"urn:trackme:problem:validation_failed","title":"Bad Request","status":400,"code":"validation_failed","errors":[{"field":"from","message":"too wide"}]}';
    metricsService.answer = () => ({ status: 400, type: 'application/problem+json', body: tooWide });
    const refused = await gateway.app.inject(await authed({ url: '/api/v1/metrics?interval=day&from=1990-01-01' }));
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    expect(refused.body).toBe(tooWide);

    metricsService.answer = () => ({ status: 503, type: 'application/problem+json', body: '{"status":503}', headers: { 'retry-after': '7' } });
    const busy = await gateway.app.inject(await authed({ url: '/api/v1/metrics?limit=5&offset=10' }));
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('7');
    expect(metricsService.requests.map((r) => r.url)).toEqual([
      '/internal/metrics?interval=day&from=1990-01-01&limit=100&offset=0',
      '/internal/metrics?limit=5&offset=10',
    ]);
  });

  it.each([
    ['an unknown type', 'type=visits', 'type'],
    ['an unknown interval', 'interval=year', 'interval'],
    ['an impossible date', 'from=2025-13-01', 'from'],
    ['a limit of 0', 'limit=0', 'limit'],
    ['a limit over 1000', 'limit=1001', 'limit'],
    ['a negative offset', 'offset=-1', 'offset'],
    ['from after to', 'from=2025-05-08&to=2025-05-01', 'from'],
    ['an unknown parameter', 'interval=day&client=c-1', 'client'],
    ['a repeated parameter', 'interval=day&interval=week', 'interval'],
  ])('refuses %s with 400 naming the parameter, without asking the metrics service', async (_case, query, field) => {
    const answer = await gateway.app.inject(await authed({ url: `/api/v1/metrics?${query}` }));
    expectProblem(answer, 400, 'validation_failed');
    expect(answer.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
    expect(metricsService.requests).toEqual([]);
  });
});

describe('GET /metrics/jobs/{id}', () => {
  it("relays the metrics service's job", async () => {
    const answer = await gateway.app.inject(await authed({ url: `/api/v1/metrics/jobs/${KNOWN_JOB.id}` }));
    expect(metricsService.requests.map((r) => r.url)).toEqual([`/internal/metrics/jobs/${KNOWN_JOB.id}`]);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ data: KNOWN_JOB });
  });

  it("passes the metrics service's 404 on as received", async () => {
    const answer = await gateway.app.inject(await authed({ url: '/api/v1/metrics/jobs/0c4f6b2e-unknown' }));
    expect(answer.statusCode).toBe(404);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toBe(NOT_FOUND);
  });

  it.each([
    ['characters other than letters, digits and -', 'job_1'],
    ['more than 64 characters', 'x'.repeat(65)],
  ])('refuses an id with %s with 400 naming id, without asking the metrics service', async (_case, id) => {
    const answer = await gateway.app.inject(await authed({ url: `/api/v1/metrics/jobs/${id}` }));
    expectProblem(answer, 400, 'validation_failed');
    expect(answer.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain('id');
    expect(metricsService.requests).toEqual([]);
  });
});

describe('/metrics routes while their dependencies are down', () => {
  let lonely: InProcessService<GatewayConfig>;

  beforeAll(async () => {
    // neither a broker nor a metrics service listens on these ports
    lonely = await runInProcess('gateway', GatewayConfigSchema, composeGateway, {
      ...env,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      METRICS_URL: `http://127.0.0.1:${await freePort()}`,
    });
  });

  afterAll(async () => {
    await lonely?.stop();
  });

  it.each(['GET', 'POST'] as const)('%s /metrics/calculate answers 503 with Retry-After when the gateway is not connected to Kafka', async (method) => {
    const answer = await calculate(lonely, method, 'interval=day');
    expectProblem(answer, 503, 'dependency_unavailable');
    expect(answer.headers['retry-after']).toBe('1');
  });

  it.each(['/api/v1/metrics?interval=day', '/api/v1/metrics/jobs/0c4f6b2e'])(
    'GET %s answers 503 with Retry-After when the metrics service is unreachable, without naming its address',
    async (url) => {
      const answer = await lonely.app.inject(await authed({ url }));
      expectProblem(answer, 503, 'dependency_unavailable');
      expect(answer.headers['retry-after']).toBe('1');
      expect(answer.body).not.toContain('127.0.0.1');
    },
  );
});
