import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createHttpServer, createLogger, DependencyUnavailableError, MAX_URL_LENGTH, NotFoundError } from '../src/index.js';

function server() {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), registry: new Registry(), readiness: {} });
  app.get('/down', async () => {
    throw new DependencyUnavailableError('the store is unavailable; retry later', { cause: 'connect ECONNREFUSED 10.0.0.7:27017' });
  });
  app.get('/missing', async () => {
    throw new NotFoundError('client x not found');
  });
  return app;
}

describe('createHttpServer errors', () => {
  it('answers a dependency outage with 503 problem+json, Retry-After, and without the internal cause', async () => {
    const answer = await server().inject({ url: '/down' });
    expect(answer.statusCode).toBe(503);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json()).toMatchObject({ status: 503, code: 'dependency_unavailable', detail: 'the store is unavailable; retry later' });
    expect(answer.body).not.toContain('10.0.0.7');
  });

  it('sends Retry-After only with 503', async () => {
    const answer = await server().inject({ url: '/missing' });
    expect(answer.statusCode).toBe(404);
    expect(answer.headers['retry-after']).toBeUndefined();
  });
});

describe('createHttpServer limits', () => {
  it('refuses a URL longer than the limit with 414 problem+json before routing', async () => {
    const answer = await server().inject({ url: `/missing?q=${'x'.repeat(MAX_URL_LENGTH)}` });
    expect(answer.statusCode).toBe(414);
    expect(answer.headers['content-type']).toContain('application/problem+json');
    expect(answer.json()).toMatchObject({ status: 414, code: 'uri_too_long' });
    expect((await server().inject({ url: `/missing?q=${'x'.repeat(100)}` })).statusCode).toBe(404);
  });
});
