// The write benches' load generator, run in a process of its own (so its CPU is not the measured
// process's), because every POST /clients needs a fresh email and autocannon sends a fixed body.
//   node bench/lib/write-load.mjs < config.json > result.json
// config: {
//   url: API base ("http://127.0.0.1:1234/api/v1" or "http://127.0.0.1:1234"),
//   headers?: extra request headers (authorization),
//   seconds: length of the load,
//   connections?: closed loop: this many connections, each sending its next request when the last answered;
//   rate?: open loop: requests/s, each leaving on schedule whether or not earlier ones answered
//          (`connections` then caps the pool, default 1024); latency counts from the scheduled
//          instant, so a late generator or a queue in the pool shows as latency, not as less load,
//   template: a client body (no email), targets: [{id, email, stage}] clients to move,
//   stages: [a, b] two neighbouring stages the targets move between, timeoutMs?: per request (30 s),
//   mix?: "both" (default), "creates" (POST only) or "moves" (PUT only)
// }
// Requests alternate POST /clients (template + a fresh email) and PUT /clients/{id}/stage (template +
// the target's email + the other stage of the pair), or are all of one kind (`mix`). A target is moved again only once its previous
// move answered, unless every target is in flight (counted as `overlapped`). Prints one JSON result:
// counts, latency percentiles (ms), statuses, and the targets with the stage each is now in.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { quantile } from './latency.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const config = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const { seconds, template, stages } = config;
const openLoop = config.rate !== undefined;
const timeoutMs = config.timeoutMs ?? 30_000;
const base = new URL(config.url);
const prefix = base.pathname.replace(/\/$/, '');
const pool = new Pool(base.origin, {
  connections: config.connections ?? 1024,
  pipelining: 1,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
});
const headers = { 'content-type': 'application/json', ...config.headers };

// targets not in flight, oldest answer first
const targets = config.targets.map((t) => ({ ...t, busy: 0 }));
const free = [...targets];
let roundRobin = 0;
let overlapped = 0;
function take() {
  let target = free.shift();
  if (!target) {
    target = targets[roundRobin++ % targets.length];
    overlapped += 1;
  }
  target.busy += 1;
  return target;
}
function release(target) {
  target.busy -= 1;
  if (target.busy === 0) free.push(target);
}

const samples = { POST: [], PUT: [] };
const statuses = {};
let errors = 0;
let timeouts = 0;
let sent = 0;

/** Sends the `n`th request; `from` is when its latency starts (performance.now()). */
async function send(n, from) {
  const method = config.mix === 'creates' ? 'POST' : config.mix === 'moves' ? 'PUT' : n % 2 === 0 ? 'POST' : 'PUT';
  let target;
  let path = `${prefix}/clients`;
  let body;
  if (method === 'POST') {
    body = { ...template, email: `bench-${randomUUID()}@example.com`, stage: stages[0] };
  } else {
    target = take();
    target.stage = target.stage === stages[0] ? stages[1] : stages[0];
    path = `${prefix}/clients/${target.id}/stage`;
    body = { ...template, email: target.email, stage: target.stage };
  }
  sent += 1;
  try {
    const response = await pool.request({ method, path, headers, body: JSON.stringify(body) });
    const text = await response.body.text();
    const ms = performance.now() - from;
    samples[method].push({ ms, at: performance.now() });
    const key = `${method} ${response.statusCode}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
    // the stage the server reports wins over the one asked for
    if (target && response.statusCode === 200) target.stage = JSON.parse(text).data?.stage ?? target.stage;
  } catch (error) {
    if (error?.code === 'UND_ERR_HEADERS_TIMEOUT' || error?.code === 'UND_ERR_BODY_TIMEOUT') timeouts += 1;
    else errors += 1;
    const key = `${method} ${error?.code ?? 'error'}`;
    statuses[key] = (statuses[key] ?? 0) + 1;
  } finally {
    if (target) release(target);
  }
}

const started = performance.now();
const deadline = started + seconds * 1000;
let lateMax = 0;
if (openLoop) {
  const total = Math.round(config.rate * seconds);
  const inFlight = new Set();
  for (let n = 0; n < total; n++) {
    const due = started + (n * 1000) / config.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    lateMax = Math.max(lateMax, performance.now() - due);
    const request = send(n, due).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
} else {
  let next = 0;
  await Promise.all(
    Array.from({ length: config.connections }, async () => {
      while (performance.now() < deadline) await send(next++, performance.now());
    }),
  );
}
const elapsed = (performance.now() - started) / 1000;
await pool.close();

const round1 = (ms) => Math.round(ms * 10) / 10;
function summary(list) {
  const sorted = list.map((s) => s.ms).sort((a, b) => a - b);
  return {
    count: sorted.length,
    mean: round1(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    p50: round1(quantile(sorted, 0.5)),
    p90: round1(quantile(sorted, 0.9)),
    p99: round1(quantile(sorted, 0.99)),
    max: round1(sorted.at(-1) ?? Number.NaN),
  };
}
const all = summary([...samples.POST, ...samples.PUT]);
const count = (match) => Object.entries(statuses).reduce((n, [key, value]) => (match(key.split(' ')[1]) ? n + value : n), 0);
// closed loop: what answered within the window; open loop: what answered, over the schedule's length
const answeredInWindow = [...samples.POST, ...samples.PUT].filter((s) => openLoop || s.at <= deadline).length;
const result = {
  mode: openLoop ? 'open' : 'closed',
  rate: config.rate,
  connections: config.connections,
  seconds,
  elapsed,
  sent,
  requests: all.count,
  rps: answeredInWindow / seconds,
  mean: all.mean,
  p50: all.p50,
  p90: all.p90,
  p99: all.p99,
  max: all.max,
  // anything but 2xx, as autocannon counts it; 202 (deadline passed) is 2xx and counted apart
  non2xx: count((s) => /^\d+$/.test(s) && !s.startsWith('2')),
  errors,
  timeouts,
  accepted202: count((s) => s === '202'),
  statuses,
  byMethod: { POST: summary(samples.POST), PUT: summary(samples.PUT) },
  overlapped,
  // open loop: how late the generator sent its most delayed request (ms)
  lateMax: openLoop ? round1(lateMax) : undefined,
  targets: targets.map(({ id, email, stage }) => ({ id, email, stage })),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
