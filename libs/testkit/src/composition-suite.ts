import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Static, TObject } from 'typebox';
import type { BaseConfig, Compose } from '@trackme/platform';
import { runInProcess, type InProcessService } from './in-process.js';
import { isolatedEnv } from './isolated.js';
import { waitFor } from './wait.js';

/**
 * The behaviour every service's composition root owes its operators, checked in process against
 * the real stack: it becomes ready, exports labelled metrics, and answers unknown routes with
 * problem+json carrying the correlation id. `checks` names the dependencies its readiness must
 * report, so a readiness that checks nothing cannot pass.
 */
export function describeComposition<S extends TObject>(service: string, schema: S, compose: Compose<Static<S> & BaseConfig>, checks: readonly string[]): void {
  describe(`${service} composition against the real stack`, () => {
    let running: InProcessService<Static<S> & BaseConfig>;

    beforeAll(async () => {
      running = await runInProcess(service, schema, compose, { ...(await isolatedEnv()) });
    }, 90_000);
    afterAll(() => running?.stop());

    it('becomes ready once its dependencies answer', async () => {
      const body = await waitFor(
        async () => {
          const response = await running.app.inject({ url: '/readyz' });
          return response.statusCode === 200 && response.json<{ checks: Record<string, string> }>();
        },
        { what: `${service} ready`, timeoutMs: 30_000 },
      );
      expect(body.checks).toEqual(Object.fromEntries(checks.map((name) => [name, 'up'])));
    });

    it('exports Prometheus metrics labelled with the service, on the metrics port only', async () => {
      await running.app.inject({ url: '/healthz' });
      const response = await running.metrics.inject({ url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect((await running.app.inject({ url: '/metrics' })).statusCode).toBe(404);
      expect(response.body).toContain('trackme_http_request_duration_seconds_bucket');
      expect(response.body).toContain(`service="${service}"`);
    });

    it('answers unknown routes with problem+json and echoes the correlation id', async () => {
      const correlationId = `corr-${service}`;
      const response = await running.app.inject({ url: '/no-such-route', headers: { 'x-correlation-id': correlationId } });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['x-correlation-id']).toBe(correlationId);
      expect(response.json()).toMatchObject({ status: 404, code: 'route_not_found', correlation_id: correlationId });
    });
  });
}
