import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  spawnService,
  startTcpProxy,
  waitFor,
  testStack,
  isolatedEnv,
  waitUntilReady,
  type ServiceName,
  type ServiceProcess,
} from '@trackme/testkit';

const SERVICES: ServiceName[] = ['gateway', 'clients', 'read', 'metrics'];
const running: ServiceProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop('SIGKILL')));
});

async function stackEnv(): Promise<Record<string, string>> {
  return { ...(await isolatedEnv()) };
}

describe('the four services as processes', () => {
  it('start, report ready, and exit 0 within 10 s of SIGTERM', async () => {
    const env = await stackEnv();
    const services = await Promise.all(SERVICES.map((name) => spawnService(name, env)));
    running.push(...services);
    await Promise.all(services.map((s) => waitUntilReady(s)));

    for (const service of services) {
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status, service.name).toBe(200);
      const health = await fetch(`${service.url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const metrics = await (await fetch(`${service.metricsUrl}/metrics`)).text();
      // the API port does not show them: on the gateway it is public
      expect((await fetch(`${service.url}/metrics`)).status, service.name).toBe(404);
      expect(metrics).toContain(`trackme_process_cpu_user_seconds_total{service="${service.name}"}`);
    }

    const stopped = await Promise.all(
      services.map(async (s) => {
        const t0 = Date.now();
        const code = await s.stop('SIGTERM');
        return { name: s.name, code, ms: Date.now() - t0 };
      }),
    );
    for (const { name, code, ms } of stopped) {
      expect(code, `${name} exit code`).toBe(0);
      expect(ms, `${name} stop time`).toBeLessThan(10_000);
    }
  }, 90_000);

  it('serves Swagger UI and the OpenAPI document from the gateway', async () => {
    const gateway = await spawnService('gateway', await stackEnv());
    running.push(gateway);
    await waitUntilReady(gateway);
    const ui = await fetch(`${gateway.url}/api/v1/swagger/`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
    const seedUrl = await fetch(`${gateway.url}/swagger/index.html`, { redirect: 'manual' });
    expect(seedUrl.status).toBe(302);
    expect(seedUrl.headers.get('location')).toBe('/api/v1/swagger/');
    const doc = (await (await fetch(`${gateway.url}/api/v1/swagger/json`)).json()) as { openapi: string };
    expect(doc.openapi).toBe('3.1.0');
    const missing = await fetch(`${gateway.url}/api/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    await gateway.stop();
  }, 60_000);

  it('refuses to start with bad configuration, naming every bad variable', async () => {
    const service = await spawnService('clients', { PORT: '0', MONGO_URL: 'postgres://nope', LOG_LEVEL: 'chatty' });
    expect(await service.exited).toBe(1);
    const output = service.output();
    expect(output).toContain('KAFKA_BROKERS: is required but not set');
    expect(output).toContain('MONGO_URL: must match pattern');
    expect(output).toContain('LOG_LEVEL');
  });

  it('rejects a non-numeric PORT at start', async () => {
    const child = await spawnService('gateway', { ...testStack(), PORT: 'abc' });
    expect(await child.exited).toBe(1);
    expect(child.output()).toContain('PORT: must be integer (got "abc")');
  });

  it('refuses to start the gateway without a key to verify tokens with, and never disables authentication silently', async () => {
    const { JWT_SECRET: _secret, AUTH_SIGNING_KEY: _key, ...withoutSecret } = await stackEnv();
    // the refusals are independent: started together, they take the time of one
    const [refused, notAKey, short] = await Promise.all([
      spawnService('gateway', withoutSecret),
      spawnService('gateway', { ...withoutSecret, AUTH_SIGNING_KEY: 'not-a-key' }),
      spawnService('gateway', { ...withoutSecret, JWT_SECRET: 'too-short' }),
    ]);
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toContain('JWT_SECRET: AUTH_MODE=jwt needs AUTH_SIGNING_KEY (its own sign-in), JWT_SECRET (HS256) or JWKS_URL');
    expect(await notAKey.exited).toBe(1);
    expect(notAKey.output()).toContain('AUTH_SIGNING_KEY: must be a PKCS#8 PEM or a JWK of an Ed25519 or P-256 private key');
    expect(await short.exited).toBe(1);
    expect(short.output()).toContain('JWT_SECRET: must not have fewer than 32 characters');

    const open = await spawnService('gateway', { ...withoutSecret, AUTH_MODE: 'disabled' });
    running.push(open);
    await waitUntilReady(open);
    expect(open.output()).toContain('AUTHENTICATION IS DISABLED (AUTH_MODE=disabled)');
    expect((await fetch(`${open.url}/api/v1/stages`)).status).toBe(200);
  }, 60_000);

  it('stays up with /readyz 503 while a dependency is down, then becomes ready when it returns', async () => {
    // Mongo points at a port where nothing listens yet; Kafka and Redis are real
    const mongoPort = await freePort();
    const service = await spawnService('read', { ...(await stackEnv()), MONGO_URL: `mongodb://127.0.0.1:${mongoPort}/trackme` });
    running.push(service);
    const readiness = async () => {
      const response = await fetch(`${service.url}/readyz`).catch(() => undefined);
      return response && { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
    };
    const down = await waitFor(async () => (await readiness())?.status === 503 && readiness(), { what: 'readyz 503' });
    // Redis is no readiness gate of read: it answers from Mongo without it
    expect(down && down.body.checks).toMatchObject({ mongo: 'down' });
    expect(service.child.exitCode).toBeNull();

    const real = new URL(testStack().MONGO_URL);
    const proxy = await startTcpProxy(mongoPort, { host: real.hostname, port: Number(real.port) });
    try {
      await waitFor(async () => (await readiness())?.status === 200, { what: 'readyz 200 after Mongo appeared', timeoutMs: 30_000 });
    } finally {
      expect(await service.stop('SIGTERM')).toBe(0);
      await proxy.close();
    }
  }, 60_000);
});
