import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadResult } from './load.js';
import { fmt } from './scenario.js';
import { newClient } from './seed.js';

const run = promisify(execFile);
const CREATE_LOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'create-load.mjs');

export interface CreateLoadResult extends LoadResult {
  /** answers by HTTP status */
  statuses: Record<string, number>;
}

/**
 * Closed-loop `POST /clients` load, each with a fresh email, from bench/lib/create-load.mjs in a
 * process of its own (autocannon can only send one fixed body).
 */
export async function createLoad(api: string, authorization: string, options: { connections: number; seconds: number }): Promise<CreateLoadResult> {
  // the bodies of the list benches (varied sources, channels, highlights); the generator gives each a fresh email
  const templates = Array.from({ length: 60 }, (_, i) => newClient(i));
  const { stdout } = await run(process.execPath, [CREATE_LOAD, JSON.stringify({ api, ...options, templates })], {
    env: { PATH: process.env['PATH'] ?? '', BENCH_AUTHORIZATION: authorization },
    maxBuffer: 16 * 1024 * 1024,
  });
  const r = JSON.parse(stdout) as Omit<CreateLoadResult, 'timeouts'>;
  return { ...r, timeouts: 0 };
}

/** `201: 1,234, 202: 5`: the statuses of a create load, for a table cell. */
export const statusesOf = (r: CreateLoadResult) =>
  Object.entries(r.statuses)
    .map(([status, n]) => `${status}: ${fmt.rps(n)}`)
    .join(', ') || 'none';

/**
 * Starts something once more when one of its services lost its port (testkit's freePort hands out
 * a port that another process can take before the service listens on it: EADDRINUSE).
 */
export async function retryOnPortRace<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (!String(error).includes('EADDRINUSE')) throw error;
    console.log('  a service lost its port to another process (EADDRINUSE); starting again');
    return start();
  }
}
