/**
 * Recovery after SIGKILL, per consuming service (clients, read, metrics), as production runs them:
 * - restart: one instance is killed, a replacement starts 1 s later; measured from the
 *   replacement's start until it is ready, which a consumer is only once the group gave it its
 *   partitions (the dead member must have left the group first);
 * - takeover: two instances; one is killed; measured from the kill until every group of the
 *   service is stable again with the survivor alone holding its partitions;
 * - idle cost: Kafka requests per second one idle consumer-group member sends.
 * Each runs with the session timeout the service is configured with now and with the old 30 s.
 * `KILLS` (default 5) sets the kills per service and setting; `SETTINGS=before` or `after` runs one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafka, createLogger, MessageConsumer, MessageProducer, parseBrokers } from '@trackme/platform';
import { spawnService, waitUntilReady, type ServiceName, type ServiceProcess } from '@trackme/testkit';
import { median } from '../lib/load.js';
import type { BenchContext, Scenario, ScenarioResult } from '../lib/scenario.js';

const SERVICES = ['clients', 'read', 'metrics'] as const satisfies ServiceName[];
const GROUPS: Record<(typeof SERVICES)[number], string[]> = {
  clients: ['trackme-clients', 'trackme-clients-activity'],
  read: ['trackme-read'],
  metrics: ['trackme-metrics', 'trackme-metrics-commands'],
};
/** the session timeout before this change, and the one the services use now (their default) */
const SETTINGS = { before: '30000', after: undefined } as const;
const BOUND_S = 10;

export const recovery: Scenario = {
  name: 'recovery',
  title: 'Recovery after SIGKILL per consuming service (restart and takeover), and the idle cost of the group session',
  run: measure,
};

async function readyAfter(service: ServiceProcess, since: number): Promise<number> {
  // how much of it is the process starting, apart from waiting for the group
  void (async () => {
    while (!(await fetch(`${service.url}/healthz`).then((r) => r.ok, () => false))) await sleep(50);
    console.log(`${service.name}: answering ${((Date.now() - since) / 1000).toFixed(1)} s after its start`);
  })();
  await waitUntilReady(service, 120_000);
  return (Date.now() - since) / 1000;
}

/** Seconds from each replacement's start until it is ready, over `kills` SIGKILLs. */
async function restarts(name: ServiceName, env: Record<string, string>, kills: number): Promise<number[]> {
  let current = await spawnService(name, env);
  await waitUntilReady(current, 120_000);
  // a member that has not heartbeated yet would fall out at once, not after its session
  await sleep(3_000);
  const seconds: number[] = [];
  try {
    for (let kill = 0; kill < kills; kill += 1) {
      await current.stop('SIGKILL');
      await sleep(1_000);
      const started = Date.now();
      current = await spawnService(name, env);
      seconds.push(await readyAfter(current, started));
      await sleep(3_000);
    }
  } finally {
    await current.stop('SIGKILL');
  }
  return seconds;
}

/** Seconds from the kill of one of two instances until the survivor alone holds every group's partitions. */
async function takeovers(name: (typeof SERVICES)[number], env: Record<string, string>, kills: number): Promise<number[]> {
  const kafka = createKafka({ brokers: parseBrokers(env['KAFKA_BROKERS']!), clientId: 'bench-recovery' }, createLogger('bench', 'warn'));
  const admin = kafka.admin();
  await admin.connect();
  const groups = GROUPS[name].map((group) => `${env['KAFKA_TOPIC_PREFIX'] ?? ''}${group}`);
  const settled = async (members: number) => {
    const { groups: described } = await admin.describeGroups(groups);
    return described.every((g) => g.state === 'Stable' && g.members.length === members);
  };
  const until = async (members: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await settled(members))) {
      if (Date.now() > deadline) throw new Error(`${name}: groups not stable with ${members} members`);
      await sleep(100);
    }
  };
  let pair = [await spawnService(name, env), await spawnService(name, env)];
  const seconds: number[] = [];
  try {
    for (let kill = 0; kill < kills; kill += 1) {
      await Promise.all(pair.map((p) => waitUntilReady(p, 120_000)));
      await until(2, 120_000);
      await sleep(3_000);
      const killedAt = Date.now();
      await pair[0]!.stop('SIGKILL');
      await until(1, 120_000);
      seconds.push((Date.now() - killedAt) / 1000);
      pair = [pair[1]!, await spawnService(name, env)];
    }
  } finally {
    await Promise.all(pair.map((p) => p.stop('SIGKILL')));
    await admin.disconnect();
  }
  return seconds;
}

/** Kafka requests per second of one idle consumer-group member with the platform's settings. */
async function idleRequestsPerSecond(env: Record<string, string>, sessionTimeoutMs: number | undefined): Promise<number> {
  const logger = createLogger('bench', 'warn');
  const kafka = createKafka({ brokers: parseBrokers(env['KAFKA_BROKERS']!), clientId: 'bench-recovery-idle' }, logger);
  const producer = new MessageProducer(kafka, logger, env['KAFKA_TOPIC_PREFIX']);
  const consumer = new MessageConsumer(kafka, {
    groupId: `bench-idle-${Date.now()}`,
    topics: ['trackme.client-events'],
    topicPrefix: env['KAFKA_TOPIC_PREFIX'] ?? '',
    fromBeginning: false,
    handler: async () => undefined,
    producer,
    logger,
    ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}),
  });
  let requests = 0;
  consumer.raw.on(consumer.raw.events.REQUEST, () => (requests += 1));
  await consumer.start();
  while (!consumer.isRunning) await sleep(100);
  await sleep(5_000);
  const from = requests;
  await sleep(30_000);
  const rate = (requests - from) / 30;
  await consumer.stop();
  return rate;
}

async function measure({ env, quick }: BenchContext): Promise<ScenarioResult> {
  const kills = Number(process.env['KILLS'] ?? (quick ? 2 : 5));
  const figures: Record<string, Record<string, { restart: number[]; takeover: number[] }>> = {};
  const idle: Record<string, number> = {};
  const chosen = Object.entries(SETTINGS).filter(([setting]) => (process.env['SETTINGS'] ?? 'before,after').split(',').includes(setting));
  for (const [setting, session] of chosen) {
    const serviceEnv = { ...env, ...(session ? { KAFKA_SESSION_TIMEOUT_MS: session } : {}) };
    idle[setting] = await idleRequestsPerSecond(env, session ? Number(session) : undefined);
    const results = await Promise.all(
      SERVICES.map(async (name) => [name, { restart: await restarts(name, serviceEnv, kills), takeover: await takeovers(name, serviceEnv, kills) }] as const),
    );
    figures[setting] = Object.fromEntries(results);
    console.log(setting, JSON.stringify(figures[setting]), `idle ${idle[setting]} requests/s`);
  }
  const cell = (values: number[]) => `${median(values).toFixed(1)} s / ${Math.max(...values).toFixed(1)} s`;
  const label = (setting: string) => (setting === 'before' ? '30 s session' : 'now');
  const names = chosen.map(([setting]) => setting);
  const markdown = [
    `${kills} kills per service and setting; median / max. Restart: from the replacement's start (1 s after the kill) to ready. Takeover: from the kill to the survivor alone holding the partitions.`,
    '',
    `| service | ${names.map((s) => `restart, ${label(s)}`).join(' | ')} | ${names.map((s) => `takeover, ${label(s)}`).join(' | ')} |`,
    `|---|${names.map(() => '---|---|').join('')}`,
    ...SERVICES.map((name) => `| ${name} | ${names.map((s) => cell(figures[s]![name]!.restart)).join(' | ')} | ${names.map((s) => cell(figures[s]![name]!.takeover)).join(' | ')} |`),
    '',
    `Idle Kafka requests per second of one consumer-group member: ${names.map((s) => `${idle[s]!.toFixed(2)} (${label(s)})`).join(', ')}.`,
  ].join('\n');
  const last = figures[names[names.length - 1]!]!;
  const worst = Math.max(...SERVICES.flatMap((name) => [...last[name]!.restart, ...last[name]!.takeover]));
  return { figures: { ...figures, idle }, markdown, goals: [{ goal: `partitions processed again within ${BOUND_S} s`, measured: `${worst.toFixed(1)} s at worst`, met: worst <= BOUND_S }] };
}
