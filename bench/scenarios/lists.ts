import { MongoClient } from 'mongodb';
import type { ListClientsQuery, StoredClient } from '@trackme/contracts';
import { listFilter } from '../../services/read/src/clients/client-source.js';
import { startFloor } from '../lib/floor.js';
import { quantile, summarize as summarizeTimes } from '../lib/latency.mjs';
import { alternate, load, type LoadResult } from '../lib/load.js';
import { fmt, type BenchContext, type Scenario } from '../lib/scenario.js';
import { apiClient, newClient, seedClients } from '../lib/seed.js';
import { startSystem, type BenchSystem } from '../lib/system.js';

const CLIENTS = 10_000;
const LIST = '/clients?limit=50';

const shape = (context: BenchContext) => ({
  rounds: context.quick ? 1 : 3,
  seconds: context.quick ? 3 : 10,
  connections: 16,
});

/** The system with at least 10,000 clients, and the cached first page (the API's shape) for the floor server. */
async function withClients<T>(context: BenchContext, body: (system: BenchSystem, page: { data: unknown[] }) => Promise<T>): Promise<T> {
  const system = await startSystem(context.env);
  try {
    const seeded = await seedClients(system.api, context.authorization, CLIENTS);
    if (seeded.created) console.log(`seeded ${seeded.created} clients in ${seeded.seconds.toFixed(0)} s`);
    const client = apiClient(system.api, context.authorization);
    const page = (await client.request('GET', LIST)).body as { data: unknown[] };
    await client.close();
    if (page.data.length !== 50) throw new Error(`expected a page of 50 clients, got ${page.data.length}`);
    return await body(system, page);
  } finally {
    await system.stop();
  }
}

const row = (label: string, r: LoadResult) => `| ${label} | ${fmt.rps(r.rps)} | ${fmt.ms(r.mean)} | ${r.p50} ms | ${r.p99} ms | ${r.non2xx + r.errors} |`;
const HEAD = ['| target | requests/s | mean | p50 | p99 | errors |', '|---|---:|---:|---:|---:|---:|'];

/** 1. What this machine does with HTTP at all: a bare fastify route, and the same serializing a page of 50 clients. */
export const httpFloor: Scenario = {
  name: 'http-floor',
  title: "HTTP floor: bare fastify route vs the gateway's /healthz; the serialization floor (a page of 50 clients, JSON.stringify)",
  async run(context) {
    const { rounds, seconds, connections } = shape(context);
    return withClients(context, async (system, page) => {
      const floor = await startFloor(page);
      try {
        const gatewayOrigin = new URL(system.api).origin;
        const r = await alternate(rounds, {
          bare: () => load(`${floor.url}/healthz`, { connections, seconds }),
          gateway: () => load(`${gatewayOrigin}/healthz`, { connections, seconds }),
          page: () => load(`${floor.url}/page`, { connections, seconds }),
        });
        const ratio = r.gateway.median.rps / r.bare.median.rps;
        return {
          figures: { rounds, seconds, connections, ...r, gatewayOverBare: ratio },
          goals: [],
          markdown: [
            `${connections} connections, median of ${rounds} alternating rounds of ${seconds} s`,
            '',
            ...HEAD,
            row('bare fastify `GET /healthz` (baseline)', r.bare.median),
            row("gateway `GET /healthz` (its hooks: correlation id, security headers, metrics, readiness)", r.gateway.median),
            row('bare fastify `GET /page`: a prebuilt page of 50 clients, `JSON.stringify` (the serialization floor)', r.page.median),
            '',
            `gateway /healthz ÷ bare route: ${fmt.ratio(ratio)}`,
          ].join('\n'),
        };
      } finally {
        await floor.stop();
      }
    });
  },
};

/** 2. The cached list through the gateway against the serialization floor, at full speed and at half of it. */
export const cachedList: Scenario = {
  name: 'cached-list',
  title: 'Cached list: GET /clients (page of 50, 10,000 clients, cache hit) vs the serialization floor',
  async run(context) {
    const { rounds, seconds, connections } = shape(context);
    return withClients(context, async (system, page) => {
      const floor = await startFloor(page);
      try {
        const headers = { authorization: context.authorization };
        const r = await alternate(rounds, {
          floor: () => load(`${floor.url}/page`, { connections, seconds }),
          list: () => load(`${system.api}${LIST}`, { connections, seconds, headers }),
        });
        const ratio = r.list.median.rps / r.floor.median.rps;
        // open loop at half the list's own maximum: requests leave on schedule
        const halfRate = Math.round(r.list.median.rps / 2);
        const atHalf = await load(`${system.api}${LIST}`, { connections: 32, seconds: seconds * 2, rate: halfRate, headers });
        const shown = await visibility(system.api, context.authorization, context.quick ? 20 : 100);
        return {
          figures: { rounds, seconds, connections, ...r, listOverFloor: ratio, halfRate, atHalf, visibilityMs: shown },
          goals: [
            { goal: 'cached list ≥ 50% of the serialization floor (requests/s)', measured: `${(ratio * 100).toFixed(0)}%`, met: ratio >= 0.5 },
            { goal: `cached list p99 ≤ 20 ms at half its maximum (${fmt.rps(halfRate)}/s)`, measured: `${atHalf.p99} ms`, met: atHalf.p99 <= 20 && atHalf.errors === 0 },
          ],
          markdown: [
            `${connections} connections, median of ${rounds} alternating rounds of ${seconds} s; then a fixed arrival rate of half the list's maximum for ${seconds * 2} s`,
            '',
            ...HEAD,
            row('serialization floor: bare fastify, prebuilt page, `JSON.stringify` (baseline)', r.floor.median),
            row('`GET /clients?limit=50` through the gateway, cache hit', r.list.median),
            row(`the same at ${fmt.rps(halfRate)} requests/s (open loop)`, atHalf),
            '',
            `cached list ÷ floor: ${(ratio * 100).toFixed(0)}%; a create shows up in the first page p50 ${fmt.ms(shown.p50)}, p99 ${fmt.ms(shown.p99)} after its 201 (${shown.samples} creates)`,
          ].join('\n'),
        };
      } finally {
        await floor.stop();
      }
    });
  },
};

/** How long after a create's 201 the first page of the list shows it (polled without pause). */
async function visibility(api: string, authorization: string, creates: number) {
  const client = apiClient(api, authorization);
  const times: number[] = [];
  try {
    for (let i = 0; i < creates; i++) {
      const created = await client.request('POST', '/clients', newClient(i));
      const answered = performance.now();
      for (;;) {
        const page = await client.request('GET', LIST);
        if (page.body.data[0]?.id === created.body.data.id) break;
        if (performance.now() - answered > 10_000) throw new Error('a created client did not show up in the list within 10 s');
      }
      times.push(performance.now() - answered);
    }
  } finally {
    await client.close();
  }
  const sorted = times.sort((a, b) => a - b);
  return { samples: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1)! };
}

/** 3. A list read through to the database, against the same query sent with the MongoDB driver. */
export const uncachedList: Scenario = {
  name: 'uncached-list',
  title: 'Uncached list: GET /clients with Cache-Control: no-cache vs the same query with the MongoDB driver',
  async run(context) {
    const rounds = context.quick ? 1 : 3;
    const seconds = context.quick ? 5 : 15;
    return withClients(context, async (system) => {
      const mongo = await MongoClient.connect(context.env['MONGO_URL']!);
      try {
        const clients = mongo.db().collection<StoredClient>('clients');
        const query = { is_active: true, limit: 50, offset: 0 } as ListClientsQuery;
        // what `read` sends for this query: the page and the count, side by side
        const direct = async (): Promise<LoadResult> => {
          const times: number[] = [];
          const until = performance.now() + seconds * 1000;
          while (performance.now() < until) {
            const t0 = performance.now();
            const filter = listFilter(query, Date.now(), { lastLoginDays: 30 });
            await Promise.all([clients.find(filter).sort({ last_updated: -1, _id: 1 }).skip(0).limit(50).toArray(), clients.countDocuments(filter)]);
            times.push(performance.now() - t0);
          }
          return summarize(times, seconds);
        };
        const headers = { authorization: context.authorization, 'cache-control': 'no-cache' };
        const r = await alternate(rounds, {
          driver: direct,
          api: () => load(`${system.api}${LIST}`, { connections: 1, seconds, headers }),
        });
        // one request at a time: the ratio of the mean times is the ratio of throughputs, without
        // autocannon's per-second rounding of a few requests
        const ratio = r.driver.median.mean / r.api.median.mean;
        return {
          figures: { rounds, seconds, ...r, apiOverDriver: ratio },
          goals: [],
          markdown: [
            `one request at a time, median of ${rounds} alternating rounds of ${seconds} s, 10,000+ clients`,
            '',
            ...HEAD,
            row('MongoDB driver: `find` (sorted page of 50) + `countDocuments`, as `read` sends them (baseline)', r.driver.median),
            row('`GET /clients?limit=50` + `Cache-Control: no-cache` through the gateway', r.api.median),
            '',
            `API ÷ driver (throughput, from the mean times): ${fmt.ratio(ratio)}`,
          ].join('\n'),
        };
      } finally {
        await mongo.close();
      }
    });
  },
};

function summarize(times: number[], seconds: number): LoadResult {
  return { ...summarizeTimes(times, seconds), non2xx: 0, errors: 0, timeouts: 0 };
}
