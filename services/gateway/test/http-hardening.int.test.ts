import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { authed, isolatedEnv, runInProcess, type InProcessService } from '@trackme/testkit';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';

let gateway: InProcessService<GatewayConfig>;
const ALLOWED = 'https://app.example.com';

beforeAll(async () => {
  const env = await isolatedEnv();
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, CORS_ORIGINS: `${ALLOWED},http://localhost:3000` });
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
});

describe('gateway HTTP hardening', () => {
  it('answers a method a path does not have with 405 and the methods it has, before reading any body', async () => {
    const put = await gateway.app.inject(await authed({ method: 'PUT', url: '/api/v1/stages' }));
    expect(put.statusCode).toBe(405);
    expect(put.headers['allow']).toBe('GET');
    expect(put.headers['content-type']).toContain('application/problem+json');
    expect(put.json()).toMatchObject({ code: 'method_not_allowed' });
    for (const method of ['QUERY', 'TRACE'] as const) {
      const answer = await gateway.app.inject({ method, url: '/api/v1/clients/c1' });
      expect(answer.statusCode, method).toBe(405);
      expect(answer.headers['allow'], method).toBe('DELETE, GET, PATCH');
    }
    // a path that does not exist stays a 404
    expect((await gateway.app.inject({ method: 'PUT', url: '/api/v1/nothing' })).statusCode).toBe(404);
  });

  it('sends security headers on API answers', async () => {
    const answer = await gateway.app.inject(await authed({ url: '/api/v1/stages' }));
    expect(answer.statusCode).toBe(200);
    expect(answer.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringContaining('max-age='),
      'content-security-policy': expect.stringContaining("default-src 'self'"),
    });
    expect(answer.headers['x-powered-by']).toBeUndefined();
  });

  it('still serves the Swagger UI under its content security policy', async () => {
    const page = await gateway.app.inject(await authed({ url: '/api/v1/swagger/' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain('script-src');
  });

  it('lets only the configured origins call the API from a browser', async () => {
    const allowed = await gateway.app.inject(await authed({ url: '/api/v1/stages', headers: { origin: ALLOWED } }));
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    const other = await gateway.app.inject(await authed({ url: '/api/v1/stages', headers: { origin: 'https://evil.example.net' } }));
    expect(other.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = await gateway.app.inject(await authed({
      method: 'OPTIONS',
      url: '/api/v1/clients',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
    }));
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
  });

  it('refuses a malformed CORS_ORIGINS at start, naming the variable', async () => {
    const env = await isolatedEnv();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, CORS_ORIGINS: '*' })).rejects.toThrow('did not start (exit 1)');
      expect(write.mock.calls.map(([chunk]) => String(chunk)).join('')).toMatch(/CORS_ORIGINS: /);
    } finally {
      write.mockRestore();
    }
  });
});
