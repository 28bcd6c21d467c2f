// Closed-loop create load in a process of its own (autocannon sends one fixed body; every create
// needs a fresh email): N connections, each sending POST /clients as soon as its previous answer
// arrived, for S seconds.
//   BENCH_AUTHORIZATION='Bearer …' node bench/lib/create-load.mjs '{"api":…,"connections":N,"seconds":S,"templates":[…]}'
// `templates` are client bodies, used in turn, each sent with a fresh email. Prints one JSON line:
// {requests, rps, mean, p50, p90, p99, max, errors, non2xx, statuses, seconds}; latencies in ms,
// of answered requests (errors are requests that got no HTTP answer). Requests still in flight at
// the end are waited for and counted; rps is answers over the time until the last one.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { summarize } from './latency.mjs';

const { api, connections, seconds, templates } = JSON.parse(process.argv[2] ?? '{}');
const authorization = process.env.BENCH_AUTHORIZATION ?? '';
if (!api || !(connections > 0) || !(seconds > 0) || !Array.isArray(templates) || templates.length === 0) {
  console.error('usage: node create-load.mjs \'{"api":"http://host:port/api/v1","connections":32,"seconds":10,"templates":[{…}]}\'');
  process.exit(2);
}

const base = new URL(api);
const path = `${base.pathname.replace(/\/$/, '')}/clients`;
const pool = new Pool(base.origin, { connections, pipelining: 1 });
const latencies = [];
const statuses = {};
let errors = 0;

const start = performance.now();
const deadline = start + seconds * 1000;
async function worker(first) {
  for (let i = first; performance.now() < deadline; i += connections) {
    const body = JSON.stringify({ ...templates[i % templates.length], email: `bench-${randomUUID()}@example.com` });
    const t0 = performance.now();
    try {
      const response = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', authorization }, body });
      await response.body.text();
      latencies.push(performance.now() - t0);
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    } catch {
      errors += 1;
      await sleep(10); // a refused connection must not turn into a busy loop
    }
  }
}
await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
const elapsed = (performance.now() - start) / 1000;
await pool.close();

const non2xx = Object.entries(statuses).reduce((n, [status, count]) => (status.startsWith('2') ? n : n + count), 0);
console.log(JSON.stringify({ ...summarize(latencies, elapsed), errors, non2xx, statuses, seconds: elapsed }));
