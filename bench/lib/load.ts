import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

/**
 * HTTP load from autocannon in a process of its own (so the generator's CPU is not the measured
 * process's), in either mode: a fixed number of connections, each sending as fast as answers come
 * back (closed loop), or a fixed arrival rate over those connections (`rate`, requests/s).
 */
export interface LoadOptions {
  connections: number;
  seconds: number;
  /** requests/s across all connections; absent: as fast as the connections go */
  rate?: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  rps: number;
  /** latency in milliseconds (autocannon's percentiles are whole milliseconds; the mean is not) */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

const run = promisify(execFile);
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

export async function load(url: string, options: LoadOptions): Promise<LoadResult> {
  const args = ['-c', String(options.connections), '-d', String(options.seconds), '-j', '-m', options.method ?? 'GET'];
  if (options.rate !== undefined) args.push('-R', String(options.rate));
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (options.body !== undefined) args.push('-b', options.body);
  const { stdout } = await run(process.execPath, [autocannonBin, ...args, url], { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout) as {
    requests: { total: number; average: number };
    latency: { average: number; p50: number; p90: number; p99: number; max: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    requests: report.requests.total,
    rps: report.requests.average,
    mean: report.latency.average,
    p50: report.latency.p50,
    p90: report.latency.p90,
    p99: report.latency.p99,
    max: report.latency.max,
    non2xx: report.non2xx,
    errors: report.errors,
    timeouts: report.timeouts,
  };
}

/** The median of some numbers (of rounds of one measurement). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs each target's load `rounds` times, alternating the order every round so a drift in the
 * machine's load falls on all alike, and gives every target's median round (by requests/s) plus all rounds.
 */
export async function alternate<K extends string>(rounds: number, targets: Record<K, () => Promise<LoadResult>>): Promise<Record<K, { median: LoadResult; rounds: LoadResult[] }>> {
  const names = Object.keys(targets) as K[];
  const results = Object.fromEntries(names.map((n) => [n, [] as LoadResult[]])) as Record<K, LoadResult[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) results[name].push(await targets[name]());
  }
  const medianRound = (all: LoadResult[]) => [...all].sort((a, b) => a.rps - b.rps)[Math.floor(all.length / 2)]!;
  return Object.fromEntries(names.map((n) => [n, { median: medianRound(results[n]), rounds: results[n] }])) as Record<K, { median: LoadResult; rounds: LoadResult[] }>;
}
