/**
 * What authentication and rate limiting add to a request: p50/p99 and requests/s of a cached
 * `GET /clients?limit=50` through two extra gateways over the same running system, one verifying
 * the bearer token and counting both rate limits in Redis (limits set too high to be reached), the
 * other with `AUTH_MODE=disabled` and both limits off. Rounds alternate between the two, so the
 * machine's noise falls on both alike; the figures are the medians of the rounds.
 *
 *   npx tsx --conditions=@trackme/source bench/auth-overhead.ts [--rounds 5] [--seconds 10] [--connections 8]
 *
 * Needs a started system (`npm start`): its read service and stack serve both gateways.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { spawnService, waitUntilReady, type ServiceProcess } from '@trackme/testkit';
// @ts-expect-error a plain ES module shared with scripts/start.mjs
import { devInternalToken, devJwtSecret } from '../scripts/lib/dev-secret.mjs';
import { load, median, type LoadResult } from './lib/load.js';
import { writeResults } from './lib/results.js';
import { adminAuthorization } from './lib/token.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    'read-url': { type: 'string', default: 'http://127.0.0.1:8082' },
    'metrics-url': { type: 'string', default: 'http://127.0.0.1:8083' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);

const stack = Object.fromEntries(
  spawnSync('bash', ['deploy/local/stack.sh', 'env', 'dev'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.split('=', 2) as [string, string]),
);
const common = {
  ...stack,
  READ_URL: values['read-url']!,
  METRICS_URL: values['metrics-url']!,
  INTERNAL_TOKEN: devInternalToken() as string,
  LOG_LEVEL: 'warn',
};
const NEVER_REACHED = '1000000'; // the largest allowed: per minute, far above what a round sends
const gateways: Record<'checked' | 'unchecked', ServiceProcess> = {
  checked: await spawnService('gateway', {
    ...common,
    JWT_SECRET: devJwtSecret() as string,
    RATE_LIMIT_PER_CALLER: NEVER_REACHED,
    RATE_LIMIT_PER_ADDRESS: NEVER_REACHED,
  }),
  unchecked: await spawnService('gateway', { ...common, AUTH_MODE: 'disabled', RATE_LIMIT_PER_CALLER: '0', RATE_LIMIT_PER_ADDRESS: '0' }),
};
try {
  await Promise.all(Object.values(gateways).map((g) => waitUntilReady(g)));
  const headers = { authorization: await adminAuthorization() };
  const urlOf = (g: ServiceProcess) => `${g.url}/api/v1/clients?limit=50`;
  for (const g of Object.values(gateways)) {
    const probe = await fetch(urlOf(g), { headers });
    if (probe.status !== 200) throw new Error(`${g.url}: ${probe.status} ${await probe.text()}`);
    // warm-up: the page into the cache, the gateways' code paths compiled
    await load(urlOf(g), { connections, seconds: 3, headers });
  }

  const runs: Record<'checked' | 'unchecked', LoadResult[]> = { checked: [], unchecked: [] };
  for (let round = 0; round < rounds; round++) {
    // alternate which goes first, so a trend in the machine's load does not favour one
    const order = round % 2 === 0 ? (['checked', 'unchecked'] as const) : (['unchecked', 'checked'] as const);
    for (const kind of order) {
      const result = await load(urlOf(gateways[kind]), { connections, seconds, headers });
      if (result.non2xx || result.errors) throw new Error(`${kind}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      runs[kind].push(result);
      console.log(`round ${round + 1} ${kind}: ${result.rps.toFixed(0)} req/s, mean ${result.mean.toFixed(2)} ms, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    }
  }

  const summary = (kind: 'checked' | 'unchecked') => ({
    rps: median(runs[kind].map((r) => r.rps)),
    mean: median(runs[kind].map((r) => r.mean)),
    p50: median(runs[kind].map((r) => r.p50)),
    p99: median(runs[kind].map((r) => r.p99)),
  });
  const checked = summary('checked');
  const unchecked = summary('unchecked');
  const figures = { rounds, seconds, connections, checked, unchecked, runs };
  const row = (label: string, s: { rps: number; mean: number; p50: number; p99: number }) =>
    `| ${label} | ${s.rps.toFixed(0)} | ${s.mean.toFixed(2)} ms | ${s.p50.toFixed(0)} ms | ${s.p99.toFixed(0)} ms |`;
  writeResults(
    'auth-overhead',
    figures,
    [
      `Cached \`GET /clients?limit=50\`, ${connections} connections, medians of ${rounds} alternating rounds of ${seconds} s`,
      '',
      '| gateway | requests/s | mean | p50 | p99 |',
      '|---|---:|---:|---:|---:|',
      row('JWT verified + both rate limits counted in Redis', checked),
      row('`AUTH_MODE=disabled`, rate limits off', unchecked),
      '',
      `auth + rate limits: p50 +${(checked.p50 - unchecked.p50).toFixed(0)} ms, mean +${(checked.mean - unchecked.mean).toFixed(2)} ms (${(checked.mean / unchecked.mean).toFixed(2)}×), ` +
        `requests/s ${(checked.rps / unchecked.rps).toFixed(2)}× of without`,
    ].join('\n'),
  );
} finally {
  await Promise.all(Object.values(gateways).map((g) => g.stop()));
}
