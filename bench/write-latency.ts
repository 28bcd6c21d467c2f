/**
 * Write-path latency at a fixed arrival rate (open loop: requests are sent on schedule whether or
 * not earlier ones have answered, so a slow server cannot slow the load down and hide latency).
 *
 *   npx tsx bench/write-latency.ts [--rate 100] [--seconds 60] [--url http://127.0.0.1:8080/api/v1]
 *
 * Alternates POST /clients (new email each) and PUT /clients/{id}/stage (next/prev on clients
 * created beforehand). Reports p50/p90/p99/max per method, status counts and how many answers
 * were 202 (deadline passed). Writes JSON to bench/results/. Run the system with
 * `RATE_LIMIT_PER_CALLER=0 npm start`: every request carries the same admin token.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { adminAuthorization } from './lib/token.js';

const authorization = await adminAuthorization();
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '60' },
    url: { type: 'string', default: 'http://127.0.0.1:8080/api/v1' },
    clients: { type: 'string', default: '200' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const base = new URL(values.url!);
const pool = new Pool(base.origin, { connections: 128, pipelining: 1 });
const prefix = base.pathname.replace(/\/$/, '');

async function call(method: 'POST' | 'PUT', path: string, body: unknown): Promise<{ status: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  const response = await pool.request({ method, path: `${prefix}${path}`, headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  await response.body.text();
  return { status: response.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

const person = (stage: string, email = `bench-${randomUUID()}@example.com`) => ({
  name: 'Bench Client',
  email,
  stage,
  source: 'website',
  channel: 'organic',
  contracts: [{ id: 'c1', autopayment: 'enabled' }],
});

// clients that PUT moves between registration and product_selection
const targets: Array<{ id: string; email: string; forward: boolean }> = [];
for (let i = 0; i < Number(values.clients); i++) {
  const body = person('registration');
  const response = await pool.request({ method: 'POST', path: `${prefix}/clients`, headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  const created = (await response.body.json()) as { data: { id: string } };
  targets.push({ id: created.data.id, email: body.email, forward: true });
}

const samples: Record<'POST' | 'PUT', number[]> = { POST: [], PUT: [] };
const statuses: Record<string, number> = {};
const inFlight = new Set<Promise<void>>();
const total = rate * seconds;
const started = performance.now();
for (let i = 0; i < total; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const method = i % 2 === 0 ? 'POST' : 'PUT';
  let request: Promise<{ status: number; ms: number }>;
  if (method === 'POST') {
    request = call('POST', '/clients', person('registration'));
  } else {
    const target = targets[(i >> 1) % targets.length]!;
    // a client is only moved again after its previous move answered, like a real user would
    const stage = target.forward ? 'next' : 'prev';
    target.forward = !target.forward;
    request = call('PUT', `/clients/${target.id}/stage`, person(stage, target.email));
  }
  const tracked: Promise<void> = request
    .then(({ status, ms }) => {
      samples[method].push(ms);
      statuses[`${method} ${status}`] = (statuses[`${method} ${status}`] ?? 0) + 1;
    })
    .catch(() => {
      statuses[`${method} error`] = (statuses[`${method} error`] ?? 0) + 1;
    })
    .finally(() => inFlight.delete(tracked));
  inFlight.add(tracked);
}
await Promise.all(inFlight);
const elapsed = (performance.now() - started) / 1000;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const summary = Object.fromEntries(
  (['POST', 'PUT'] as const).map((method) => {
    const sorted = [...samples[method]].sort((a, b) => a - b);
    return [method, { count: sorted.length, p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99), max: sorted.at(-1) }];
  }),
);
const accepted = Object.entries(statuses).filter(([k]) => k.endsWith(' 202')).reduce((n, [, v]) => n + v, 0);
const result = { scenario: 'write-latency', rate, seconds, elapsed, summary, statuses, accepted202: accepted, at: new Date().toISOString() };
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/write-latency-${Date.now()}.json`, JSON.stringify(result, null, 2));
console.log(JSON.stringify(result, null, 2));
await pool.close();
