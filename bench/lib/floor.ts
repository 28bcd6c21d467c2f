import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@trackme/testkit';

export interface Floor {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/lib/floor-server.mjs in its own process; `page` is what its GET /page serializes. */
export async function startFloor(page?: unknown): Promise<Floor> {
  const port = await freePort();
  const args = [String(port)];
  if (page !== undefined) {
    const file = path.join(os.tmpdir(), `trackme-bench-page-${port}.json`);
    writeFileSync(file, JSON.stringify(page));
    args.push(file);
  }
  const child = fork(path.join(path.dirname(fileURLToPath(import.meta.url)), 'floor-server.mjs'), args, { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill()))),
  };
}
