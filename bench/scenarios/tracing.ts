import { startOtlpReceiver } from '@trackme/testkit';
import { createLoad, retryOnPortRace } from '../lib/create-load.js';
import { load, type LoadResult } from '../lib/load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { seedClients } from '../lib/seed.js';
import { rssMb, startSystem } from '../lib/system.js';

const LIST = '/clients?limit=50';
const MODES = [
  { label: 'tracing off', env: {} },
  { label: 'ratio 1.0', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' } },
  { label: 'ratio 0.1', env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
] as const;

/** Cached list and creates with tracing off, then sampled at 1.0 and 0.1, exported to an OTLP/HTTP receiver in this process. */
export const tracing: Scenario = {
  name: 'tracing',
  title: 'Tracing: cached list and creates with tracing off, at ratio 1.0 and at 0.1',
  async run(context) {
    const seconds = context.quick ? 5 : 15;
    const receiver = await startOtlpReceiver();
    const rows: Array<{ label: string; list: LoadResult; creates: LoadResult; spans: number; rss: Record<string, number> }> = [];
    try {
      for (const mode of MODES) {
        const traced = mode.label !== 'tracing off';
        const env = traced ? { ...mode.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint } : {};
        const system = await retryOnPortRace(() => startSystem(context.env, { env }));
        try {
          await seedClients(system.api, context.authorization, 1_000);
          const before = receiver.spans.length;
          const list = await load(`${system.api}${LIST}`, { connections: 16, seconds, headers: { authorization: context.authorization } });
          const creates = await createLoad(system.api, context.authorization, { connections: 8, seconds });
          const rss = Object.fromEntries(system.processes.map((p) => [p.name, p.child.pid ? rssMb(p.child.pid) : Number.NaN]));
          rows.push({ label: mode.label, list, creates, spans: receiver.spans.length - before, rss });
        } finally {
          await system.stop();
        }
      }
    } finally {
      await receiver.close();
    }
    const off = rows[0]!;
    const cost = (r: LoadResult, base: LoadResult) => `${(((base.rps - r.rps) / base.rps) * 100).toFixed(1)}%`;
    return {
      figures: { seconds, rows },
      goals: [
        { goal: 'ratio 1.0 costs ≤ 10% of cached-list throughput', measured: cost(rows[1]!.list, off.list), met: rows[1]!.list.rps >= off.list.rps * 0.9 },
        { goal: 'ratio 0.1 costs ≤ 3% of cached-list throughput', measured: cost(rows[2]!.list, off.list), met: rows[2]!.list.rps >= off.list.rps * 0.97 },
      ],
      markdown: [
        `Cached list (${LIST}, 16 connections) then creates (8 connections), ${seconds} s each, a fresh system per mode; spans go to an OTLP/HTTP receiver in the bench process.`,
        '',
        '| mode | list req/s | list p99 | creates/s | create p99 | spans exported | RSS gateway/clients/read/metrics |',
        '|---|---|---|---|---|---|---|',
        ...rows.map((r) => `| ${r.label} | ${fmt.rps(r.list.rps)} | ${r.list.p99} ms | ${fmt.rps(r.creates.rps)} | ${r.creates.p99} ms | ${r.spans} | ${['gateway', 'clients', 'read', 'metrics'].map((n) => Math.round(r.rss[n] ?? 0)).join(' / ')} MB |`),
      ].join('\n'),
    };
  },
};
