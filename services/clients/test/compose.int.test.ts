import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runInProcess, waitFor, type InProcessService } from '@trackme/testkit';
import { composeClients } from '../src/compose.js';
import { ClientsConfigSchema, type ClientsConfig } from '../src/config.js';

describe('clients composition against the real stack', () => {
  let service: InProcessService<ClientsConfig>;

  beforeAll(async () => {
    service = await runInProcess('clients', ClientsConfigSchema, composeClients, { ...(await isolatedEnv()) });
  });
  afterAll(() => service.stop());

  it('becomes ready once its dependencies answer', async () => {
    const body = await waitFor(
      async () => {
        const response = await service.app.inject({ url: '/readyz' });
        return response.statusCode === 200 && response.json<{ checks: Record<string, string> }>();
      },
      { what: 'clients ready', timeoutMs: 30_000 },
    );
    expect(Object.values(body.checks).every((state) => state === 'up')).toBe(true);
  });

  it('exports Prometheus metrics labelled with the service', async () => {
    await service.app.inject({ url: '/healthz' });
    const response = await service.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('trackme_http_request_duration_seconds_bucket');
    expect(response.body).toContain('service="clients"');
  });

  it('answers unknown routes with problem+json and echoes the correlation id', async () => {
    const response = await service.app.inject({ url: '/no-such-route', headers: { 'x-correlation-id': 'corr-clients' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['x-correlation-id']).toBe('corr-clients');
    expect(response.json()).toMatchObject({ status: 404, code: 'route_not_found', correlation_id: 'corr-clients' });
  });
});
