import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './stack.js';
import { waitFor } from './wait.js';

export type ServiceName = 'gateway' | 'clients' | 'read' | 'metrics';

export interface ServiceProcess {
  name: ServiceName;
  port: string;
  url: string;
  /** where its Prometheus metrics are served */
  metricsUrl: string;
  child: ChildProcess;
  /** everything the process wrote, for assertions and failure messages */
  output(): string;
  /** resolves with the exit code (or the signal name) */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a built service (`services/<name>/dist/main.js`) as its own process, as production runs
 * it. The environment is exactly `env` plus PATH, so nothing leaks in from the test runner.
 */
export async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  // a PORT given by the test is passed through untouched (tests of bad config need that)
  const port = env['PORT'] ?? String(await freePort());
  const metricsPort = env['METRICS_PORT'] ?? String(await freePort());
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', name, 'dist', 'main.js')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: port, METRICS_PORT: metricsPort },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    child,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the service answers /readyz with 200 (or fails with its output). */
export async function waitUntilReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  let exitedEarly = false;
  void service.exited.then(() => (exitedEarly = true));
  await waitFor(
    async () => {
      if (exitedEarly) throw new Error(`${service.name} exited:\n${service.output()}`);
      const response = await fetch(`${service.url}/readyz`);
      return response.status === 200;
    },
    { timeoutMs, intervalMs: 200, what: `${service.name} /readyz` },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- ${service.name} output ---\n${service.output()}`);
  });
}

/** The four services started as processes on one environment, ready. */
export interface RunningSystem {
  /** the gateway's root, e.g. http://127.0.0.1:41234 */
  root: string;
  /** the gateway's API base (`/api/v1`) */
  api: string;
  processes: ServiceProcess[];
  /** SIGKILL of every process (tests own their data; nothing to drain) */
  stop(): Promise<void>;
}

/**
 * Starts read, clients, metrics and the gateway wired to them, consumers with a short session
 * timeout so a restarted one takes its partitions back quickly, and waits until all are ready.
 */
export async function spawnSystem(env: Record<string, string>): Promise<RunningSystem> {
  const consumer = { ...env, KAFKA_SESSION_TIMEOUT_MS: '6000' };
  const [read, clients, metrics] = await Promise.all([spawnService('read', consumer), spawnService('clients', consumer), spawnService('metrics', consumer)]);
  const gateway = await spawnService('gateway', { ...env, READ_URL: read.url, METRICS_URL: metrics.url });
  const processes = [read, clients, metrics, gateway];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  };
  try {
    await Promise.all(processes.map((p) => waitUntilReady(p)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { root: gateway.url, api: `${gateway.url}/api/v1`, processes, stop };
}
