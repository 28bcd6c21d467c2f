import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceName } from '@trackme/testkit';
import { load, type LoadResult } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { apiClient, seedClients } from '../lib/seed.js';
import { rssMb, startSystem } from '../lib/system.js';
import { cpuCell, cpuMeter } from '../lib/cpu.js';
import { createLoad, retryOnPortRace, statusesOf } from '../lib/create-load.js';

const CLIENTS = 10_000;
const LIST = '/clients?limit=50';
const IDLE_SECONDS = 15;
const SAMPLE_EVERY_MS = 500;
const IDLE_GOAL_MB = 150;
const SERVICES: ServiceName[] = ['gateway', 'clients', 'read', 'metrics'];

/** List reads of the read service so far, by cache outcome (its Prometheus counter). */
async function listLookups(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^trackme_read_cache_lookups_total\{(?=[^}]*resource="list")[^}]*result="(\w+)"[^}]*\} (\S+)$/.exec(line);
    if (match) counts[match[1]!] = (counts[match[1]!] ?? 0) + Number(match[2]);
  }
  return counts;
}

const row = (label: string, r: LoadResult, answers: string) => `| ${label} | ${fmt.rps(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${r.non2xx + r.errors} | ${answers} |`;

/** Resident memory of every service process, idle and under a mixed load of cached lists and creates. */
export const memory: Scenario = {
  name: 'memory',
  title: 'Memory: RSS of each service idle and under load',
  async run(context) {
    const seconds = context.quick ? 5 : 20;
    const listConnections = 16;
    const createConnections = 8;
    const system = await retryOnPortRace(() => startSystem(context.env));
    try {
      const seeded = await seedClients(system.api, context.authorization, CLIENTS);
      if (seeded.created) console.log(`seeded ${seeded.created} clients in ${seeded.seconds.toFixed(0)} s`);
      const probe = apiClient(system.api, context.authorization);
      const page = await probe.request('GET', LIST);
      await probe.close();
      if (page.status !== 200 || page.body.data.length !== 50) throw new Error(`expected a page of 50 clients, got ${page.status}`);

      // RSS per service: the largest of its processes (one each here)
      const sample = () =>
        Object.fromEntries(SERVICES.map((name) => [name, Math.max(...system.of(name).map((p) => (p.child.pid ? rssMb(p.child.pid) : Number.NaN)))])) as Record<ServiceName, number>;
      await sleep(IDLE_SECONDS * 1000);
      const idle = sample();

      const readUrl = system.of('read')[0]!.metricsUrl;
      const lookupsBefore = await listLookups(readUrl);
      const samples: Record<ServiceName, number>[] = [sample()];
      const meter = cpuMeter(system.processes, system.env);
      const timer = setInterval(() => samples.push(sample()), SAMPLE_EVERY_MS);
      let list: LoadResult;
      let creates: Awaited<ReturnType<typeof createLoad>>;
      try {
        [list, creates] = await Promise.all([
          load(`${system.api}${LIST}`, { connections: listConnections, seconds, headers: { authorization: context.authorization } }),
          createLoad(system.api, context.authorization, { connections: createConnections, seconds }),
        ]);
      } finally {
        clearInterval(timer);
      }
      const cpu = meter();
      samples.push(sample());
      const lookupsAfter = await listLookups(readUrl);
      const lookups = Object.fromEntries(Object.entries(lookupsAfter).map(([result, n]) => [result, n - (lookupsBefore[result] ?? 0)]));
      const peak = Object.fromEntries(SERVICES.map((name) => [name, Math.max(...samples.map((s) => s[name]))])) as Record<ServiceName, number>;
      const mb = (n: number) => `${Math.round(n)} MB`;

      return {
        figures: { clients: seeded.existing + seeded.created, seeded: seeded.created, idleSeconds: IDLE_SECONDS, seconds, sampleEveryMs: SAMPLE_EVERY_MS, idle, peak, samples, list, creates, lookups, cpu },
        goals: SERVICES.map((name) => ({ goal: `${name}: idle RSS ≤ ${IDLE_GOAL_MB} MB`, measured: mb(idle[name]), met: idle[name] <= IDLE_GOAL_MB })),
        markdown: [
          `One instance of each service (built \`dist/\`, each its own process), ${fmt.rps(seeded.existing + seeded.created)} clients` +
            `${seeded.created ? ` (${fmt.rps(seeded.created)} of them seeded in this run, so idle follows that work)` : ''}. ` +
            `Idle: resident memory (VmRSS) after ${IDLE_SECONDS} s without requests. Under load: the largest of the samples taken every ${SAMPLE_EVERY_MS} ms ` +
            `during ${seconds} s of cached lists and creates at the same time (${samples.length} samples).`,
          '',
          '| service | idle RSS | peak RSS under load | goal: idle ≤ 150 MB |',
          '|---|---:|---:|---|',
          ...SERVICES.map((name) => `| \`${name}\` | ${mb(idle[name])} | ${mb(peak[name])} | ${idle[name] <= IDLE_GOAL_MB ? 'met' : '**not met**'} |`),
          '',
          '| load, at the same time | requests/s | p50 | p99 | errors | answers |',
          '|---|---:|---:|---:|---:|---|',
          row(`cached \`GET ${LIST}\`, autocannon, ${listConnections} connections`, list, `read's cache: ${Object.entries(lookups).map(([result, n]) => `${result} ${fmt.rps(n)}`).join(', ')} (every create invalidates the cached pages; a miss renders the page from the model in Redis)`),
          row(`\`POST /clients\`, fresh emails, ${createConnections} connections (bench/lib/create-load.mjs)`, creates, statusesOf(creates)),
          '',
          `CPU during the load, % of one core: ${cpuCell(cpu)} (\`mongo\` is the dev stack's Mongo server; "rest" is everything else on the machine, the load generators included).`,
        ].join('\n'),
      };
    } finally {
      await system.stop();
    }
  },
};
