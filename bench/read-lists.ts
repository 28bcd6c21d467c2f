/**
 * Read path: requests/s and latency of `GET /clients` (a page of 50) through the gateway, served
 * from the cache and with `Cache-Control: no-cache` (read through to Mongo), plus how long a write
 * takes to show up in that list.
 *
 *   npx tsx bench/read-lists.ts [--clients 10000] [--seconds 20] [--connections 16] [--url http://127.0.0.1:8080/api/v1]
 *
 * Runs against a started system (`RATE_LIMIT_PER_CALLER=0 npm start`: it sends everything with one token). Tops the database up to `--clients` clients through
 * the API. Load comes from autocannon in a separate process (fixed connections). Writes JSON and a
 * Markdown table to bench/results/.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { adminAuthorization } from './lib/token.js';

const authorization = await adminAuthorization();
const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080/api/v1' },
    clients: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    visibility: { type: 'string', default: '100' },
  },
});
const base = new URL(values.url!);
const prefix = base.pathname.replace(/\/$/, '');
const pool = new Pool(base.origin, { connections: 64 });
const run = promisify(execFile);
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await pool.request({
    method: method as 'GET',
    path: `${prefix}${path}`,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), authorization, ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const newClient = (i: number) => ({
  name: `Bench Client ${i}`,
  email: `bench-${randomUUID()}@example.com`,
  stage: 'registration',
  source: ['website', 'mobile', 'partner'][i % 3],
  channel: ['organic', 'ads'][i % 2],
  app: i % 4 === 0 ? 'not_installed' : 'installed',
  last_login: new Date(Date.now() - (i % 60) * 86_400_000).toISOString(),
  contracts: [{ id: 'c1', autopayment: i % 5 === 0 ? 'disabled' : 'enabled' }],
});

// 1. top the database up to the wanted number of active clients, through the API
const wanted = Number(values.clients);
const existing = (await request('GET', '/clients?limit=1')).body.meta.total as number;
let next = existing;
const seedStarted = performance.now();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (next < wanted) {
      const i = next++;
      const answer = await request('POST', '/clients', newClient(i));
      if (answer.status !== 201) throw new Error(`seeding failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
  }),
);
const seeded = Math.max(0, wanted - existing);
console.log(`clients: ${existing} existing, ${seeded} created in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

// 2. visibility: from a create's answer until the first page of the list shows it
const visibility: number[] = [];
for (let i = 0; i < Number(values.visibility); i++) {
  const created = await request('POST', '/clients', newClient(i));
  const answered = performance.now();
  for (;;) {
    const page = await request('GET', '/clients?limit=50');
    if (page.body.data[0]?.id === created.body.data.id) break;
    if (performance.now() - answered > 10_000) throw new Error('a created client did not show up within 10 s');
  }
  visibility.push(performance.now() - answered);
}

// 3. load: cached page vs read-through, each after a warm-up
const listUrl = `${base.origin}${prefix}/clients?limit=50`;
async function autocannon(headers: string[], connections = values.connections!): Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }> {
  const args = ['-c', connections, '-d', values.seconds!, '-j', ...[`authorization=${authorization}`, ...headers].flatMap((h) => ['-H', h]), listUrl];
  await run(process.execPath, [autocannonBin, '-c', connections, '-d', '3', ...[`authorization=${authorization}`, ...headers].flatMap((h) => ['-H', h]), listUrl]);
  const { stdout } = await run(process.execPath, [autocannonBin, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout);
  return { rps: report.requests.average, p50: report.latency.p50, p99: report.latency.p99, non2xx: report.non2xx, errors: report.errors };
}
const probe = await request('GET', '/clients?limit=50');
if (probe.headers['x-cache'] !== 'hit') console.warn(`warning: the page was not a cache hit before the run (${String(probe.headers['x-cache'])})`);
const total = probe.body.meta.total as number;
const cached = await autocannon([]);
// one connection: the cost of one read-through; then as many connections as the cached run
const bypassOne = await autocannon(['cache-control=no-cache'], '1');
const bypass = await autocannon(['cache-control=no-cache']);

const sorted = [...visibility].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const result = {
  scenario: 'read-lists',
  at: new Date().toISOString(),
  clients: total,
  connections: Number(values.connections),
  seconds: Number(values.seconds),
  cached,
  bypassOne,
  bypass,
  cachedOverBypass: cached.rps / bypassOne.rps,
  visibilityMs: { samples: sorted.length, p50: q(0.5), p99: q(0.99), max: sorted.at(-1) },
};
const table = [
  `Read path, ${total} clients, page of 50, ${values.connections} connections × ${values.seconds} s (${result.at})`,
  '',
  '| request | requests/s | p50 | p99 | non-2xx | errors |',
  '|---|---:|---:|---:|---:|---:|',
  `| \`GET /clients\` (cache hit) | ${cached.rps.toFixed(0)} | ${cached.p50} ms | ${cached.p99} ms | ${cached.non2xx} | ${cached.errors} |`,
  `| \`GET /clients\` + \`Cache-Control: no-cache\`, 1 connection | ${bypassOne.rps.toFixed(1)} | ${bypassOne.p50} ms | ${bypassOne.p99} ms | ${bypassOne.non2xx} | ${bypassOne.errors} |`,
  `| \`GET /clients\` + \`Cache-Control: no-cache\`, ${values.connections} connections (non-2xx: 503 from the read-through limit) | ${bypass.rps.toFixed(1)} | ${bypass.p50} ms | ${bypass.p99} ms | ${bypass.non2xx} | ${bypass.errors} |`,
  '',
  `cache hit ÷ read-through (1 connection): ${result.cachedOverBypass.toFixed(0)}×; a create shows up in the first page after p50 ${q(0.5).toFixed(0)} ms, p99 ${q(0.99).toFixed(0)} ms (${sorted.length} creates)`,
].join('\n');
mkdirSync('bench/results', { recursive: true });
const stamp = Date.now();
writeFileSync(`bench/results/read-lists-${stamp}.json`, JSON.stringify(result, null, 2));
writeFileSync(`bench/results/read-lists-${stamp}.md`, `${table}\n`);
console.log(table);
await pool.close();
