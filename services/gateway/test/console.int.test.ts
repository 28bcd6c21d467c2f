import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runInProcess, type InProcessService } from '@trackme/testkit';
import { ConfigError } from '@trackme/platform';
import { consoleDirOf } from '../src/console/assets.js';
import { composeGateway } from '../src/compose.js';
import { GatewayConfigSchema, type GatewayConfig } from '../src/config.js';
import { createUserWithCli, freshAddress, freshEmail, goodPassword } from './users/sign-in-helpers.js';

/**
 * The console as the gateway serves it: its files with the right caching under a strict CSP, and
 * the browser session whose refresh token only ever travels in an httpOnly cookie.
 */

let gateway: InProcessService<GatewayConfig>;
const account = { email: freshEmail('console'), password: goodPassword() };
const CSRF = { 'x-trackme-csrf': '1' };

beforeAll(async () => {
  const env = await isolatedEnv();
  const dir = mkdtempSync(path.join(tmpdir(), 'console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><script type="module" src="./assets/app-1a2b3c.js"></script></head><body></body></html>');
  writeFileSync(path.join(dir, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
  const created = await createUserWithCli(env.MONGO_URL, ['create', '--role', 'admin', '--email', account.email, '--name', 'Console User'], account.password);
  expect(created.code, created.output).toBe(0);
  gateway = await runInProcess('gateway', GatewayConfigSchema, composeGateway, { ...env, CONSOLE_DIR: dir });
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
});

const cookieOf = (setCookie: string | string[] | undefined): string => {
  const line = [setCookie ?? []].flat().find((c) => c.startsWith('trackme_refresh='));
  if (!line) throw new Error(`no refresh cookie in ${String(setCookie)}`);
  return line;
};
const valueOf = (line: string) => line.split(';')[0]!;

async function startSession(headers: Record<string, string> = CSRF) {
  return gateway.app.inject({ method: 'POST', url: '/api/v1/auth/session', headers, payload: account, remoteAddress: freshAddress() });
}

describe('the browser session', () => {
  it('sets the refresh token only as an httpOnly, Secure, SameSite=Strict cookie scoped to the session routes', async () => {
    const answer = await startSession();
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json<{ data: Record<string, unknown> }>().data;
    expect(body).toMatchObject({ token: expect.any(String), token_type: 'Bearer', user: { email: account.email, role: 'admin' } });
    expect(body).not.toHaveProperty('refresh_token');
    expect(answer.headers['cache-control']).toBe('no-store');
    const cookie = cookieOf(answer.headers['set-cookie']);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\/api\/v1\/auth\/session/);
    const token = body['token'] as string;
    const list = await gateway.app.inject({ url: '/api/v1/stages', headers: { authorization: `Bearer ${token}` } });
    expect(list.statusCode).toBe(200);
  });

  it('refuses a request without the CSRF header, and one from another origin', async () => {
    const bare = await startSession({});
    expect(bare.statusCode).toBe(400);
    expect(bare.json<{ errors: { field: string }[] }>().errors[0]?.field).toContain('x-trackme-csrf');
    const foreign = await startSession({ ...CSRF, origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json<{ detail: string }>().detail).toContain('cross-site');
  });

  it('rotates the cookie on refresh; the used cookie is refused afterwards, and sign-out ends the session', async () => {
    const first = valueOf(cookieOf((await startSession()).headers['set-cookie']));
    const refresh = (cookie: string) => gateway.app.inject({ method: 'POST', url: '/api/v1/auth/session/refresh', headers: { ...CSRF, cookie }, remoteAddress: freshAddress() });
    const rotated = await refresh(first);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json<{ data: { token: string } }>().data.token).toEqual(expect.any(String));
    const second = valueOf(cookieOf(rotated.headers['set-cookie']));
    expect(second).not.toBe(first);
    // a replayed cookie revokes the sign-in (reuse detection), so the rotated one stops too
    expect((await refresh(first)).statusCode).toBe(401);
    expect((await refresh(second)).statusCode).toBe(401);

    const third = valueOf(cookieOf((await startSession()).headers['set-cookie']));
    const out = await gateway.app.inject({ method: 'DELETE', url: '/api/v1/auth/session', headers: { ...CSRF, cookie: third } });
    expect(out.statusCode).toBe(204);
    expect(cookieOf(out.headers['set-cookie'])).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await refresh(third)).statusCode).toBe(401);
    expect((await gateway.app.inject({ method: 'POST', url: '/api/v1/auth/session/refresh', headers: CSRF })).statusCode).toBe(401);
  });
});

describe('the console files', () => {
  it('answers every console path with the page, revalidated, under a CSP without inline script', async () => {
    for (const url of ['/api/v1/console', '/api/v1/console/', '/api/v1/console/clients/abc?stage=registration']) {
      const answer = await gateway.app.inject({ url });
      expect(answer.statusCode, url).toBe(200);
      expect(answer.headers['content-type']).toContain('text/html');
      expect(answer.headers['cache-control']).toBe('no-cache');
      expect(answer.body).toContain('<base href="/api/v1/console/" />');
      const csp = String(answer.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    }
  });

  it('serves hashed assets as immutable, and a missing one as 404 rather than the page', async () => {
    const asset = await gateway.app.inject({ url: '/api/v1/console/assets/app-1a2b3c.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toContain('javascript');
    const missing = await gateway.app.inject({ url: '/api/v1/console/assets/app-000000.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });

  it('stops the start when CONSOLE_DIR names a folder without a built console', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'console-empty-'));
    expect(() => consoleDirOf(empty)).toThrow(ConfigError);
    expect(() => consoleDirOf(empty)).toThrow(/CONSOLE_DIR|index\.html/);
  });
});
