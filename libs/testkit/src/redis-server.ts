import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './processes.js';
import { waitFor } from './wait.js';

/** A redis-server of the test's own, so a test may kill it without disturbing others. */
export interface PrivateRedis {
  url: string;
  /** kill -9: the server disappears mid-conversation */
  kill(): Promise<void>;
  /** starts it again on the same port (empty, as after a crash without persistence) */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts redis-server (the binary the local stack provisions) on a free loopback port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitFor(() => accepts(port), { timeoutMs: 10_000, what: `redis-server on port ${port}` });
  };
  const kill = async () => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await launch();
  return { url: `redis://127.0.0.1:${port}`, kill, start: launch, stop: kill };
}
