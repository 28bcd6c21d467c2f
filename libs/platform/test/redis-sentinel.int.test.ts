import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, uniqueId, waitFor } from '@trackme/testkit';
import { createRedis } from '../src/index.js';

/**
 * A redis-server with a password and a Sentinel of this test's own watching it: the shape of a
 * Redis run by an operator. The client is given only the Sentinel's address and the master's name.
 */
const folder = mkdtempSync(path.join(tmpdir(), 'trackme-redis-sentinel-'));
const PASSWORD = 'local-sentinel-test-password';
const processes: ChildProcess[] = [];
let masterPort: number;
let sentinelPort: number;

beforeAll(async () => {
  masterPort = await freePort();
  sentinelPort = await freePort();
  processes.push(
    spawn('redis-server', ['--port', String(masterPort), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }),
  );
  // Sentinel rewrites its configuration file, so it gets one of its own
  const config = path.join(folder, 'sentinel.conf');
  writeFileSync(
    config,
    [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${folder}`, `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`, `sentinel auth-pass mymaster ${PASSWORD}`, ''].join('\n'),
  );
  processes.push(spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' }));
  const probe = createRedis(`redis://:${PASSWORD}@127.0.0.1:${sentinelPort}`, 'sentinel-probe', { sentinelMaster: 'mymaster' });
  await waitFor(() => probe.ping(), { timeoutMs: 15_000, what: 'redis-server behind a Sentinel' });
  await probe.close();
}, 60_000);

afterAll(() => {
  for (const child of processes) child.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
});

describe('Redis through Sentinel', () => {
  it('finds the master by name through the Sentinel and stores values on it', async () => {
    const redis = createRedis(`redis://:${PASSWORD}@127.0.0.1:${sentinelPort}`, uniqueId('sentinel-'), { sentinelMaster: 'mymaster' });
    try {
      await waitFor(() => redis.ping(), { timeoutMs: 10_000, what: 'connection through Sentinel' });
      await redis.client.set('trackme:sentinel', 'on the master', 'PX', 60_000);
      expect(await redis.client.get('trackme:sentinel')).toBe('on the master');
      // the data went to the master the Sentinel named, not to the Sentinel
      expect(redis.client.stream.remotePort).toBe(masterPort);
    } finally {
      await redis.close();
    }
  });
});
