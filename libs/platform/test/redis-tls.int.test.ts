import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, uniqueId, waitFor } from '@trackme/testkit';
import { createRedis, type RedisConnection } from '../src/index.js';

/**
 * A redis-server of this test's own that speaks only TLS, with a certificate signed by a CA made
 * up here (openssl), and a password: the shape of a managed Redis. The client must verify the
 * server against REDIS_TLS_CA_FILE and authenticate inside the TLS session.
 */
const folder = mkdtempSync(path.join(tmpdir(), 'trackme-redis-tls-'));
const file = (name: string) => path.join(folder, name);
const PASSWORD = 'local-test-password';
let server: ChildProcess;
let port: number;

function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=trackme test CA', '-keyout', file('ca-key.pem'), '-out', file('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server-key.pem'), '-out', file('server.csr'));
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', file('san.ext'), '-out', file('server.pem'));
}

beforeAll(async () => {
  makeCertificates();
  port = await freePort();
  server = spawn(
    'redis-server',
    ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', file('server.pem'), '--tls-key-file', file('server-key.pem'),
      '--tls-ca-cert-file', file('ca.pem'), '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const ready = createRedis(`rediss://:${PASSWORD}@127.0.0.1:${port}`, 'tls-probe', { tlsCaFile: file('ca.pem') });
  await waitFor(() => ready.ping(), { timeoutMs: 15_000, what: 'redis-server with TLS' });
  await ready.close();
}, 60_000);

afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
});

describe('Redis over TLS', () => {
  const opened: RedisConnection[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((redis) => redis.close()));
  });

  async function outcome(url: string, tlsCaFile?: string): Promise<string> {
    const redis = createRedis(url, uniqueId('tls-'), { tlsCaFile });
    opened.push(redis);
    return new Promise<string>((resolve) => {
      redis.client.once('ready', () => resolve('ready'));
      redis.client.once('error', (error: Error) => resolve(error.message));
    });
  }

  it('a rediss:// URL with the password and REDIS_TLS_CA_FILE connects and stores values', async () => {
    const redis = createRedis(`rediss://:${PASSWORD}@127.0.0.1:${port}`, 'tls-test', { tlsCaFile: file('ca.pem') });
    opened.push(redis);
    await waitFor(() => redis.ping(), { timeoutMs: 10_000, what: 'TLS connection' });
    await redis.client.set('trackme:tls', 'secret value', 'PX', 60_000);
    expect(await redis.client.get('trackme:tls')).toBe('secret value');
  });

  it('a server whose certificate is not signed by a trusted CA is refused', async () => {
    expect(await outcome(`rediss://:${PASSWORD}@127.0.0.1:${port}`)).toMatch(/self[- ]signed certificate|unable to verify/i);
  });

  it('the right CA but a wrong password is refused', async () => {
    expect(await outcome(`rediss://:wrong@127.0.0.1:${port}`, file('ca.pem'))).toMatch(/WRONGPASS/);
  });
});
