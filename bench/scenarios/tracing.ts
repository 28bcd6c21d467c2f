import { setTimeout as sleep } from 'node:timers/promises';
import { createLoad, retryOnPortRace } from '../lib/create-load.js';
import { load, median, type LoadResult } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { seedClients } from '../lib/seed.js';
import { startSpanCounter } from '../lib/span-counter.js';
import { rssMb, startSystem } from '../lib/system.js';

const LIST = '/clients?limit=50';
const MODES = [
  { label: 'tracing off', env: {} },
  { label: 'ratio 1.0', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' } },
  { label: 'ratio 0.1', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
] as const;
type Mode = (typeof MODES)[number]['label'];

interface Round {
  list: LoadResult;
  creates: LoadResult;
  spans: number;
  /** spans exported per list request and per create (everything a create sets off, in all four services) */
  perRequest: { list: number; create: number };
  rss: Record<string, number>;
}

const EXPORT_WAIT_MS = 7_000;

/**
 * Cached list and creates with tracing off, then sampled at 1.0 and 0.1, exported to an OTLP/HTTP
 * receiver in this process that only counts spans. Each round runs every mode on a fresh system, in
 * an order that turns round every round, so a drift in the machine's load falls on all modes alike;
 * each mode's figure is its median round, and each round's traced throughput is also given as a
 * ratio to the untraced one of the same round.
 */
export const tracing: Scenario = {
  name: 'tracing',
  title: 'Tracing: cached list and creates with tracing off, at ratio 1.0 and at 0.1',
  async run(context) {
    const seconds = context.quick ? 5 : 15;
    const rounds = context.quick ? 1 : 3;
    const receiver = await startSpanCounter();
    const results = Object.fromEntries(MODES.map((m) => [m.label, [] as Round[]])) as Record<Mode, Round[]>;
    try {
      for (let round = 0; round < rounds; round++) {
        for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
          const traced = mode.label !== 'tracing off';
          const env = traced ? { ...mode.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } : {};
          const system = await retryOnPortRace(() => startSystem(context.env, { env }));
          try {
            await seedClients(system.api, context.authorization, 1_000);
            const before = receiver.count();
            const list = await load(`${system.api}${LIST}`, { connections: 16, seconds, headers: { authorization: context.authorization } });
            const rss = Object.fromEntries(system.processes.map((p) => [p.name, p.child.pid ? rssMb(p.child.pid) : Number.NaN]));
            // the SDK exports every 5 s (OTEL_BSP_SCHEDULE_DELAY): wait out each load's last spans
            if (traced) await sleep(EXPORT_WAIT_MS);
            const afterList = receiver.count();
            const creates = await createLoad(system.api, context.authorization, { connections: 8, seconds });
            if (traced) await sleep(EXPORT_WAIT_MS);
            const spans = receiver.count() - before;
            const perRequest = { list: (afterList - before) / list.requests, create: (receiver.count() - afterList) / creates.requests };
            results[mode.label].push({ list, creates, spans, perRequest, rss });
          } finally {
            await system.stop();
          }
        }
      }
    } finally {
      await receiver.close();
    }
    const rows = MODES.map(({ label }) => {
      const all = results[label];
      const medianRound = [...all].sort((a, b) => a.list.rps - b.list.rps)[Math.floor(all.length / 2)]!;
      return { label, ...medianRound, listRounds: all.map((r) => r.list.rps), createRounds: all.map((r) => r.creates.rps) };
    });
    const off = rows[0]!;
    // a traced round against the untraced round measured next to it
    const roundRatios = (label: Mode) => results[label].map((r, i) => r.list.rps / results['tracing off'][i]!.list.rps);
    const cost = (r: LoadResult) => `${(((off.list.rps - r.rps) / off.list.rps) * 100).toFixed(1)}%`;
    return {
      figures: { seconds, rounds, rows, roundRatios: { 'ratio 1.0': roundRatios('ratio 1.0'), 'ratio 0.1': roundRatios('ratio 0.1') } },
      goals: [
        { goal: 'ratio 1.0 costs ≤ 10% of cached-list throughput', measured: cost(rows[1]!.list), met: rows[1]!.list.rps >= off.list.rps * 0.9 },
        { goal: 'ratio 0.1 costs ≤ 3% of cached-list throughput', measured: cost(rows[2]!.list), met: rows[2]!.list.rps >= off.list.rps * 0.97 },
      ],
      markdown: [
        `Cached list (${LIST}, 16 connections) then creates (8 connections), ${seconds} s each, a fresh system per mode and round, ${rounds} round(s) in alternating order; each mode's median round (by list requests/s). Spans go to an OTLP/HTTP receiver in the bench process that only counts them.`,
        '',
        '| mode | list req/s | list req/s, every round | ÷ untraced, every round | list p99 | creates/s | create p99 | spans exported | spans per list request / per create | RSS gateway/clients/read/metrics |',
        '|---|---|---|---|---|---|---|---|---|---|',
        ...rows.map(
          (r) =>
            `| ${r.label} | ${fmt.rps(r.list.rps)} | ${r.listRounds.map(fmt.rps).join(', ')} | ${r.label === 'tracing off' ? '' : `${roundRatios(r.label).map((x) => x.toFixed(2)).join(', ')} (median ${median(roundRatios(r.label)).toFixed(2)})`} | ${r.list.p99} ms | ${fmt.rps(r.creates.rps)} | ${r.creates.p99} ms | ${r.spans} | ${r.perRequest.list.toFixed(2)} / ${r.perRequest.create.toFixed(1)} | ${['gateway', 'clients', 'read', 'metrics'].map((n) => Math.round(r.rss[n] ?? 0)).join(' / ')} MB |`,
        ),
      ].join('\n'),
    };
  },
};
