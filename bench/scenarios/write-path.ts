import { type LoadResult, alternate } from '../lib/load.js';
import { cpuSeconds, stackProcesses } from '../lib/cpu.js';
import { fmt, type BenchContext, type Scenario } from '../lib/scenario.js';
import { newClient } from '../lib/seed.js';
import { emptyBenchEnv, startSystem, WRITE_NAMESPACE } from '../lib/system.js';
import { createTargets, documentSizes, drain, stagePair, startSyncBaseline, writeLoad, type WriteLoadResult } from '../lib/write-bench.js';

/** clients each side moves with PUT …/stage: more than the connections, so a client is moved again only after its last move answered */
const TARGETS = 256;

const shape = (context: BenchContext) => ({
  rounds: context.quick ? 1 : 3,
  seconds: context.quick ? 3 : 10,
  connections: 16,
  rate: 200,
  rateSeconds: context.quick ? 10 : 30,
});

/** CPU milliseconds per answered move, per process (by name), over one round. */
type CpuPerMove = Record<string, number>;

/** Runs `round`, and measures the CPU the processes used meanwhile, per move the round answered. */
function measuredCpu(processes: { name: string; pid: number }[], cpu: Map<LoadResult, CpuPerMove>, round: () => Promise<WriteLoadResult>) {
  return async () => {
    const before = processes.map((p) => cpuSeconds(p.pid));
    const result = await round();
    const moves = Math.max(1, result.statuses['PUT 200'] ?? 0);
    const perMove: CpuPerMove = {};
    processes.forEach((p, i) => (perMove[p.name] = (perMove[p.name] ?? 0) + ((cpuSeconds(p.pid) - before[i]!) * 1000) / moves));
    cpu.set(result, perMove);
    return result;
  };
}

const total = (perMove: CpuPerMove) => Object.values(perMove).reduce((a, b) => a + b, 0);
const cpuLine = (perMove: CpuPerMove) =>
  `${fmt.ms(total(perMove))} (${Object.entries(perMove)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(', ')})`;

const errorsOf = (r: LoadResult) => r.non2xx + r.errors + r.timeouts;
const row = (label: string, r: WriteLoadResult) =>
  `| ${label} | ${fmt.rps(r.rps)} | ${fmt.ms(r.mean)} | ${fmt.ms(r.p50)} | ${fmt.ms(r.p90)} | ${fmt.ms(r.p99)} | ${errorsOf(r)} | ${r.accepted202} |`;
const HEAD = ['| target | requests/s | mean | p50 | p90 | p99 | errors | answered 202 |', '|---|---:|---:|---:|---:|---:|---:|---:|'];

/** 4. The write path through Kafka against the older service's design: a route writing Mongo directly. */
export const writePath: Scenario = {
  name: 'write-path',
  title: 'Write path: PUT …/stage and POST /clients through Kafka vs a synchronous route writing Mongo directly',
  async run(context) {
    const { rounds, seconds, connections, rate, rateSeconds } = shape(context);
    // trackme's and the baseline's collections both start empty, in a namespace of their own
    const env = await emptyBenchEnv(WRITE_NAMESPACE);
    const mongoUrl = env['MONGO_URL']!;
    const system = await startSystem(env);
    const baseline = await startSyncBaseline(mongoUrl).catch(async (error: unknown) => {
      await system.stop();
      throw error;
    });
    try {
      const headers = { authorization: context.authorization };
      const { email: _email, ...template } = newClient(0);
      const stages = await stagePair(system.api, context.authorization);
      const targets = {
        gateway: await createTargets(system.api, context.authorization, TARGETS, template, stages[0]),
        baseline: await createTargets(baseline.url, '', TARGETS, template, stages[0]),
      };
      await drain(system, 60_000);

      // the servers the load reaches besides trackme's processes; CPU is counted per process from /proc
      const servers = stackProcesses(env);
      const cpu = new Map<LoadResult, CpuPerMove>();
      const trackmeProcesses = [...system.processes.map((p) => ({ name: p.name as string, pid: p.child.pid! })), ...servers];
      const baselineProcesses = [{ name: 'baseline', pid: baseline.pid }, ...servers.filter((s) => s.name === 'mongo')];
      const r = await alternate(rounds, {
        baseline: measuredCpu(baselineProcesses, cpu, () => writeLoad(baseline.url, { connections, seconds, template, stages, targets: targets.baseline, mix: 'moves' })),
        // until the events are consumed: their work is part of a move's cost
        gateway: measuredCpu(trackmeProcesses, cpu, async () => {
          const result = await writeLoad(system.api, { connections, seconds, headers, template, stages, targets: targets.gateway, mix: 'moves' });
          await drain(system, 60_000);
          return result;
        }),
      });
      const gateway = r.gateway.median as WriteLoadResult;
      const sync = r.baseline.median as WriteLoadResult;
      const ratio = gateway.rps / sync.rps;
      const cpuGateway = cpu.get(gateway)!;
      const cpuSync = cpu.get(sync)!;
      const cpuRatio = total(cpuGateway) / total(cpuSync);

      // open loop through the gateway: creates leave on schedule whether or not earlier ones answered
      const atRate = await writeLoad(system.api, { rate, seconds: rateSeconds, headers, template, stages, targets: targets.gateway, mix: 'creates' });
      // the commands answered 202 are still being applied; the next run must not inherit them
      const drained = await drain(system, 300_000);
      const rateErrors = errorsOf(atRate);
      const sizes = await documentSizes(mongoUrl, targets.gateway[0]!.id, targets.baseline[0]!.id);
      // a create answered 202 is still applied
      const created = (atRate.statuses['POST 201'] ?? 0) + (atRate.statuses['POST 202'] ?? 0) + TARGETS;

      return {
        figures: { rounds, seconds, connections, rate, rateSeconds, stages, targets: TARGETS, ...r, gatewayOverBaseline: ratio, cpuPerMoveMs: { gateway: cpuGateway, baseline: cpuSync }, atRate, documentBytes: sizes, clientsCreated: created, drained },
        goals: [
          {
            goal: `stage moves, ${connections} connections: ≥ 1.0× the synchronous baseline's rate, p50 ≤ 30 ms, p99 ≤ 150 ms`,
            measured: `${fmt.ratio(ratio)}, p50 ${fmt.ms(gateway.p50)}, p99 ${fmt.ms(gateway.p99)}${errorsOf(gateway) ? `, ${errorsOf(gateway)} errors` : ''}`,
            met: ratio >= 1 && gateway.p50 <= 30 && gateway.p99 <= 150 && errorsOf(gateway) === 0,
          },
          {
            goal: `creates at ${rate}/s (open loop): p99 ≤ 250 ms, 0 errors, no 202`,
            measured: `${fmt.ms(atRate.p99)}, ${rateErrors} errors, ${atRate.accepted202} answered 202`,
            met: atRate.p99 <= 250 && rateErrors === 0 && atRate.accepted202 === 0,
          },
          {
            goal: 'CPU per move across the whole stack ≤ 2× the synchronous baseline\'s',
            measured: `${fmt.ratio(cpuRatio)}: ${fmt.ms(total(cpuGateway))} against ${fmt.ms(total(cpuSync))}`,
            met: cpuRatio <= 2,
          },
        ],
        markdown: [
          `\`PUT /clients/{id}/stage\` (${TARGETS} clients moved between \`${stages[0]}\` and \`${stages[1]}\`), ${connections} connections, median of ${rounds} alternating rounds of ${seconds} s; ` +
            `then \`POST /clients\` (a fresh email each) at ${rate}/s for ${rateSeconds} s through the gateway (open loop, latency from each request's scheduled instant)`,
          '',
          ...HEAD,
          row('moves, synchronous route: bare fastify + `findOneAndUpdate`, no Kafka (baseline)', sync),
          row('moves, gateway → Kafka → `clients` → Mongo, reply over Kafka', gateway),
          row(`creates, the gateway at ${rate}/s (open loop)`, atRate),
          '',
          `gateway ÷ baseline: ${fmt.ratio(ratio)}. At ${rate}/s: ${atRate.requests} of ${atRate.sent} answered, the generator at most ${fmt.ms(atRate.lateMax ?? 0)} late; ` +
            `the last command applied and its events consumed ${drained.seconds.toFixed(0)} s after the last answer${drained.lag ? ` (still ${drained.lag} messages behind)` : ''}.`,
          '',
          `CPU per move (from /proc, the median round; trackme's until its events are consumed; the servers' include whatever else uses them): ` +
            `trackme ${cpuLine(cpuGateway)}; baseline ${cpuLine(cpuSync)}.`,
          sizes
            ? `Stored document: trackme ${sizes.trackme} bytes (${sizes.trackmeClientFields} of them the client's fields, the rest the ids of its last commands applied and the empty outbox), baseline ${sizes.baseline} bytes. ${created} clients created by this run, in a namespace of its own (\`${WRITE_NAMESPACE}\`, emptied at the start).`
            : '',
        ].join('\n'),
      };
    } finally {
      await Promise.all([baseline.stop(), system.stop()]);
    }
  },
};
