/**
 * How fast `npm run import-legacy` brings the older service's clients in: 10,000 clients in the
 * older shape, imported through the write path (create commands keyed by client id, a window of
 * commands in flight, each awaited to its reply). Baseline, same run and system: creates through
 * the API (`POST /clients`, 16 connections), the way a caller would bring them in one by one.
 */
import { ObjectId, MongoClient } from 'mongodb';
import { loadStageProcess, Topics } from '@trackme/contracts';
import { createKafka, createLogger, kafkaConnectionFromEnv, MessageProducer } from '@trackme/platform';
import { REPO_ROOT } from '@trackme/testkit';
import { importLegacy } from '../../scripts/lib/legacy/importer.js';
import { ReplyWaiter } from '../../scripts/lib/legacy/reply-waiter.js';
import { createLoad, retryOnPortRace, statusesOf } from '../lib/create-load.js';
import { fmt, type Scenario } from '../lib/scenario.js';
import { emptyBenchEnv, startSystem } from '../lib/system.js';

const NAMESPACE = 'benchimport';
const STAGES = ['registration', 'product_selection', 'form_filling', 'document_signing', 'payment_waiting'];

/** `count` clients as the older service stored them: ObjectIds, current_stage, mixed date forms. */
async function seedOlder(url: string, db: string, count: number): Promise<void> {
  const mongo = await MongoClient.connect(url);
  try {
    await mongo.db(db).dropDatabase();
    const clients = mongo.db(db).collection('clients');
    for (let start = 0; start < count; start += 1_000) {
      await clients.insertMany(
        Array.from({ length: Math.min(1_000, count - start) }, (_, k) => {
          const i = start + k;
          return {
            _id: new ObjectId(),
            name: `Older Client ${i}`,
            email: `older-${i}@example.com`,
            registration_date: i % 3 ? new Date(Date.UTC(2024, 0, 1 + (i % 300))) : `${String(1 + (i % 28)).padStart(2, '0')}.05.2024`,
            current_stage: STAGES[i % STAGES.length],
            last_updated: new Date(Date.UTC(2024, 6, 1)),
            is_active: true,
            source: ['website', 'partner', 'ads'][i % 3],
            channel: ['organic', 'paid'][i % 2],
            app: i % 2 ? 'installed' : 'not_installed',
            last_login: i % 4 ? new Date(Date.UTC(2024, 5, 1 + (i % 28))) : null,
            contracts: [{ _id: `c-${i}`, name: 'Plan', number: `N-${i}`, status: 'active', amount: 100 + (i % 50), payment_frequency: 'monthly', autopayment: i % 5 ? 'enabled' : 'disabled' }],
          };
        }),
      );
    }
  } finally {
    await mongo.close();
  }
}

export const importLegacyBench: Scenario = {
  name: 'import-legacy',
  title: 'Import: older clients/s through npm run import-legacy vs creates/s through the API',
  async run(context) {
    const count = context.quick ? 2_000 : 10_000;
    const seconds = context.quick ? 5 : 15;
    const env = await emptyBenchEnv(NAMESPACE);
    const system = await retryOnPortRace(() => startSystem(env));
    const logger = createLogger('bench-import', 'warn');
    const kafka = createKafka({ ...kafkaConnectionFromEnv(env), clientId: 'trackme-bench-import' }, logger);
    const producer = new MessageProducer(kafka, logger, env['KAFKA_TOPIC_PREFIX'] ?? '');
    const replies = new ReplyWaiter(kafka, producer, logger, env['KAFKA_TOPIC_PREFIX'] ?? '');
    const olderDb = `${NAMESPACE}_older`;
    const target = await MongoClient.connect(env['MONGO_URL']!);
    const source = await MongoClient.connect(env['MONGO_URL']!);
    try {
      const api = await createLoad(system.api, context.authorization, { connections: 16, seconds });
      await seedOlder(env['MONGO_URL']!, olderDb, count);
      await producer.connect();
      await replies.start();
      const refused: string[] = [];
      const t0 = performance.now();
      const summary = await importLegacy({
        source: source.db(olderDb),
        target: target.db(),
        stages: new Set(loadStageProcess(`${REPO_ROOT}/config/stages.yaml`).byId.keys()),
        publish: (clientId, command) => producer.publish(Topics.clientCommands, clientId, command),
        expectReply: (commandId) => replies.expect(commandId, 120_000),
        report: (record) => refused.push(record.reason),
      });
      const importSeconds = (performance.now() - t0) / 1000;
      const { imported, unanswered } = summary.clients;
      if (imported !== count || unanswered || refused.length) {
        throw new Error(`the import took ${imported} of ${count} clients (${unanswered} unanswered, refused: ${refused.slice(0, 3).join('; ')})`);
      }
      const importRate = count / importSeconds;
      const apiRate = api.rps;
      return {
        figures: { count, importSeconds, importRate, api, apiRate, ratio: importRate / apiRate },
        goals: [],
        markdown: [
          `${count.toLocaleString('en-US')} older clients (one contract each) imported into an empty namespace; baseline: ${seconds} s of \`POST /clients\` at 16 connections, same system, same run`,
          '',
          '| path | clients/s | p50 | p99 | answers |',
          '|---|---:|---:|---:|---|',
          `| baseline: \`POST /clients\`, 16 connections | ${fmt.rps(apiRate)} | ${api.p50} ms | ${api.p99} ms | ${statusesOf(api)} |`,
          `| \`npm run import-legacy\` (256 commands in flight) | ${fmt.rps(importRate)} | | | ${imported.toLocaleString('en-US')} imported in ${importSeconds.toFixed(1)} s |`,
          '',
          `the import runs at ${fmt.ratio(importRate / apiRate)} the API's create rate`,
        ].join('\n'),
      };
    } finally {
      await replies.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await Promise.all([source.close(), target.close()]);
      await system.stop();
    }
  },
};
