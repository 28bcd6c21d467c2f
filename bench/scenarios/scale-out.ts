import { Topics, TOPIC_DECLARATIONS } from '@trackme/contracts';
import { spawnService, waitUntilReady, type ServiceProcess } from '@trackme/testkit';
import { startBalancer, type Balancer } from '../lib/balancer.js';
import { cpuCell, cpuMeter, type CpuUse } from '../lib/cpu.js';
import { createLoad, retryOnPortRace, statusesOf, type CreateLoadResult } from '../lib/create-load.js';
import { alternate, load, type LoadResult } from '../lib/load.js';
import { fmt, type BenchContext, type Scenario } from '../lib/scenario.js';
import { apiClient, seedClients } from '../lib/seed.js';
import { emptyBenchEnv, startSystem, WRITE_NAMESPACE } from '../lib/system.js';

/** A gateway of its own, ready. */
async function startGateway(env: Record<string, string>): Promise<ServiceProcess> {
  const gateway = await spawnService('gateway', env);
  try {
    await waitUntilReady(gateway, 120_000);
    return gateway;
  } catch (error) {
    await gateway.stop();
    throw error;
  }
}

const LIST = '/clients?limit=50';
const COMMAND_PARTITIONS = TOPIC_DECLARATIONS.find((t) => t.name === Topics.clientCommands)!.partitions;

const shape = (context: BenchContext) => ({
  rounds: context.quick ? 1 : 3,
  seconds: context.quick ? 3 : 10,
  warmup: context.quick ? 2 : 3,
  connections: 32,
});

/** Commands a `clients` instance has handled so far (its Prometheus counter of the command topic). */
async function commandsHandled(instance: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${instance.metricsUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('trackme_kafka_messages_consumed_total{') && line.includes(`${Topics.clientCommands}"`) && line.includes('outcome="processed"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/** `52% / 48%`: how some counts split. */
const shares = (counts: number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return total ? counts.map((n) => `${Math.round((n / total) * 100)}%`).join(' / ') : 'none';
};

/** Writes: one, two and three `clients` instances in one consumer group, each round on a system of its own. */
async function writes(context: BenchContext) {
  const { rounds, seconds, warmup, connections } = shape(context);
  const env = await emptyBenchEnv(WRITE_NAMESPACE);
  // per round: how the commands split over the instances, and the CPU used
  const details = new Map<LoadResult, { commands: number[]; cpu: CpuUse }>();
  const round = (instances: number) => async (): Promise<LoadResult> => {
    const system = await retryOnPortRace(() => startSystem(env, { clients: instances }));
    try {
      // the group's assignment settled, the code paths compiled
      await createLoad(system.api, context.authorization, { connections, seconds: warmup });
      const before = await Promise.all(system.of('clients').map(commandsHandled));
      const meter = cpuMeter([...system.of('gateway'), ...system.of('clients'), ...system.of('read'), ...system.of('metrics')], system.env);
      const result = await createLoad(system.api, context.authorization, { connections, seconds });
      const cpu = meter();
      const after = await Promise.all(system.of('clients').map(commandsHandled));
      const commands = after.map((n, i) => n - before[i]!);
      details.set(result, { commands, cpu });
      console.log(`  ${instances} clients: ${fmt.rps(result.rps)} creates/s, p50 ${result.p50} ms, p99 ${result.p99} ms, commands ${commands.join(' / ')}; ${cpuCell(cpu)}`);
      return result;
    } finally {
      await system.stop();
    }
  };
  const r = await alternate(rounds, { one: round(1), two: round(2), three: round(3) });
  const withDetails = (x: { median: LoadResult; rounds: LoadResult[] }) => ({ ...x, ...details.get(x.median)!, all: x.rounds.map((y) => details.get(y)) });
  return {
    rounds,
    seconds,
    warmup,
    connections,
    one: withDetails(r.one),
    two: withDetails(r.two),
    three: withDetails(r.three),
    ratio: r.two.median.rps / r.one.median.rps,
    ratio3: r.three.median.rps / r.one.median.rps,
  };
}

/** Reads: the cached list through a gateway whose READ_URL is a balancer in front of one, two or three read instances. */
async function reads(context: BenchContext) {
  const { rounds, seconds, warmup, connections } = shape(context);
  // the gateways keep no pages themselves: every request is to reach a read instance
  const system = await retryOnPortRace(() => startSystem(context.env, { read: 3, env: { LIST_CACHE_MS: '0' } }));
  const balancers: Balancer[] = [];
  const gateways: ServiceProcess[] = [];
  try {
    const seeded = await seedClients(system.api, context.authorization, 10_000);
    if (seeded.created) console.log(`seeded ${seeded.created} clients in ${seeded.seconds.toFixed(0)} s`);
    const reads = system.of('read');
    const metricsUrl = system.of('metrics')[0]!.url;
    balancers.push(await startBalancer([reads[0]!.url]), await startBalancer(reads.slice(0, 2).map((p) => p.url)), await startBalancer(reads.map((p) => p.url)));
    for (const balancer of balancers) gateways.push(await retryOnPortRace(() => startGateway({ ...system.env, READ_URL: balancer.url, METRICS_URL: metricsUrl })));
    const [, two, three] = balancers as [Balancer, Balancer, Balancer];
    const targets = {
      direct: { gateway: system.of('gateway')[0]!, reads: [reads[0]!] },
      one: { gateway: gateways[0]!, reads: [reads[0]!] },
      two: { gateway: gateways[1]!, reads: reads.slice(0, 2) },
      three: { gateway: gateways[2]!, reads },
    };
    const headers = { authorization: context.authorization };
    for (const { gateway } of Object.values(targets)) {
      const probe = apiClient(`${gateway.url}/api/v1`, context.authorization);
      const page = await probe.request('GET', LIST);
      await probe.close();
      if (page.status !== 200 || page.body.data.length !== 50) throw new Error(`${gateway.url}: ${page.status}, expected a page of 50 clients`);
      // warm-up: the page in the cache, the gateway's and the read instances' code paths compiled
      await load(`${gateway.url}/api/v1${LIST}`, { connections, seconds: warmup, headers });
    }
    // per round: the CPU used by the gateway and the read instances, and the bytes each read instance sent through the balancer (all answers are the same page)
    const details = new Map<LoadResult, { cpu: CpuUse; bytes?: number[] }>();
    const measure = (target: (typeof targets)[keyof typeof targets], balancer?: Balancer) => async () => {
      const bytesBefore = balancer?.targets.map((t) => t.bytes);
      const meter = cpuMeter([target.gateway, ...target.reads], context.env);
      const result = await load(`${target.gateway.url}/api/v1${LIST}`, { connections, seconds, headers });
      const cpu = meter();
      details.set(result, { cpu, bytes: balancer?.targets.map((t, i) => t.bytes - bytesBefore![i]!) });
      return result;
    };
    const r = await alternate(rounds, { direct: measure(targets.direct), one: measure(targets.one), two: measure(targets.two, two), three: measure(targets.three, three) });
    const withDetails = (x: { median: LoadResult; rounds: LoadResult[] }) => ({ ...x, ...details.get(x.median)!, all: x.rounds.map((y) => details.get(y)) });
    return {
      rounds,
      seconds,
      connections,
      clients: seeded.existing + seeded.created,
      direct: withDetails(r.direct),
      one: withDetails(r.one),
      two: withDetails(r.two),
      three: withDetails(r.three),
      balancerConnections: two.targets.map((t) => t.connections),
      balancerConnections3: three.targets.map((t) => t.connections),
      ratio: r.two.median.rps / r.one.median.rps,
      ratio3: r.three.median.rps / r.one.median.rps,
    };
  } finally {
    await Promise.all(gateways.map((g) => g.stop()));
    await Promise.all(balancers.map((b) => b.close()));
    await system.stop();
  }
}

const row = (label: string, r: LoadResult, ...extra: string[]) => `| ${label} | ${fmt.rps(r.rps)} | ${fmt.ms(r.mean)} | ${r.p50} ms | ${r.p99} ms | ${r.non2xx + r.errors} | ${extra.join(' | ')} |`;

/** `55 / 28 / 82`: requests/s of every round, in order (the machine's noise shows in them). */
const roundsOf = (x: { rounds: LoadResult[] }) => x.rounds.map((y) => fmt.rps(y.rps)).join(' / ');

/** Two and three instances of `clients` and of `read` against one, on the same two cores. */
export const scaleOut: Scenario = {
  name: 'scale-out',
  title: "Scale-out: one, two and three instances of clients and of read, on this machine's 2 cores",
  async run(context) {
    const w = await writes(context);
    const r = await reads(context);
    const created = (x: LoadResult) => statusesOf(x as CreateLoadResult);
    return {
      figures: { writes: w, reads: r },
      goals: [],
      markdown: [
        `**Writes**: \`POST /clients\` with a fresh email each (bench/lib/create-load.mjs, its own process), ${w.connections} connections in a closed loop, ` +
          `median of ${w.rounds} alternating rounds of ${w.seconds} s after ${w.warmup} s of warm-up. Every round starts a system of its own with one, two or three \`clients\` ` +
          `instances in one consumer group (\`${Topics.clientCommands}\` has ${COMMAND_PARTITIONS} partitions, so all get commands), and one of every other service. ` +
          `The writes go to a namespace of their own (\`${WRITE_NAMESPACE}\`, emptied at the start), so they do not pile up in the list benches' clients.`,
        '',
        '| target | creates/s | mean | p50 | p99 | errors | commands per instance; answers | CPU during the round, % of one core |',
        '|---|---:|---:|---:|---:|---:|---|---|',
        row('one `clients` instance (baseline)', w.one.median, `${shares(w.one.commands)}; ${created(w.one.median)}`, cpuCell(w.one.cpu)),
        row('two `clients` instances, one consumer group', w.two.median, `${shares(w.two.commands)}; ${created(w.two.median)}`, cpuCell(w.two.cpu)),
        row('three `clients` instances, one consumer group', w.three.median, `${shares(w.three.commands)}; ${created(w.three.median)}`, cpuCell(w.three.cpu)),
        '',
        `two ÷ one: ${fmt.ratio(w.ratio)}, three ÷ one: ${fmt.ratio(w.ratio3)} (every round, creates/s: one ${roundsOf(w.one)}; two ${roundsOf(w.two)}; three ${roundsOf(w.three)})`,
        '',
        `**Reads**: cached \`GET ${LIST}\` (${fmt.rps(r.clients)} clients) through the gateway, ${r.connections} connections, median of ${r.rounds} alternating rounds of ${r.seconds} s. ` +
          "One system with three `read` instances and three extra gateways, each with a round-robin TCP balancer (bench/lib/balancer.ts) as READ_URL, in front of " +
          'the first `read` instance, the first two, or all three, so the rows differ only in the number of instances. The balancer runs in the bench\'s own process: ' +
          'plumbing for the measurement, standing in for what a deployment puts in front of a service (it spreads connections; the gateway keeps up to 32 open to it).',
        '',
        '| target | requests/s | mean | p50 | p99 | errors | answers per `read` instance | CPU during the round, % of one core |',
        '|---|---:|---:|---:|---:|---:|---|---|',
        row('gateway → one `read` instance directly (no balancer: the cost of its hop)', r.direct.median, '100%', cpuCell(r.direct.cpu)),
        row('gateway → balancer → one `read` instance (baseline)', r.one.median, '100%', cpuCell(r.one.cpu)),
        row('gateway → balancer → two `read` instances', r.two.median, `${shares(r.two.bytes ?? [])} (connections ${r.balancerConnections.join(' / ')})`, cpuCell(r.two.cpu)),
        row('gateway → balancer → three `read` instances', r.three.median, `${shares(r.three.bytes ?? [])} (connections ${r.balancerConnections3.join(' / ')})`, cpuCell(r.three.cpu)),
        '',
        `two ÷ one: ${fmt.ratio(r.ratio)}, three ÷ one: ${fmt.ratio(r.ratio3)} (every round, requests/s: direct ${roundsOf(r.direct)}; one ${roundsOf(r.one)}; two ${roundsOf(r.two)}; three ${roundsOf(r.three)})`,
        '',
        `What limits it: this machine has ${w.one.cpu.cores} cores, shared by Kafka, FerretDB, Redis, every service instance and the load generator ` +
          '(and, for reads, the balancer in the bench process). A second instance adds no core: it competes for the same ones, so what it can buy here is the work ' +
          'one instance left undone while waiting (on Kafka, FerretDB, Redis) or a core one single-threaded process could not use; once the machine column is near ' +
          `${w.one.cpu.cores * 100}%, nothing more. The CPU columns show where the time went (\`mongo\` is the dev stack's Mongo server, FerretDB here; ` +
          '"rest" is everything else on the machine: the load generator, the bench process with the balancer, other work); they say what a second instance buys on these cores, not on more.',
      ].join('\n'),
    };
  },
};
