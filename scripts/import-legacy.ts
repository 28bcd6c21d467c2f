/**
 * Moves the older service's data into trackme:
 *
 *   npm run import-legacy -- --from mongodb://old-host:27017 [--db trackme] [--dry-run] [--report <file>]
 *
 * Reads `users` and `clients` of the older database (`--db`, default `trackme`, the name its code
 * used whatever the URL said) and brings them in: users into trackme's `users` (bcrypt hashes kept,
 * rehashed at the next sign-in), clients through trackme's write path as create commands keyed by
 * client id. Run it again after a kill, or to check: what is already in trackme is skipped. Every
 * record it cannot take is written to the report (NDJSON) with the reason. Uses trackme's
 * MONGO_URL, KAFKA_* and STAGES_CONFIG; the clients service must be running.
 */
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { Type } from 'typebox';
import { loadStageProcess, Topics } from '@trackme/contracts';
import {
  createKafka,
  createLogger,
  createMongo,
  KafkaConfig,
  kafkaConnection,
  loadConfig,
  MessageProducer,
  MongoConfig,
  StagesConfig,
} from '@trackme/platform';
import { importLegacy, type Progress } from './lib/legacy/importer.js';
import { ReplyWaiter } from './lib/legacy/reply-waiter.js';
import { sameDatabase } from './lib/legacy/same-database.js';

const USAGE = 'usage: npm run import-legacy -- --from <mongodb url> [--db trackme] [--dry-run] [--report <file>]';
const REPLY_TIMEOUT_MS = 60_000;

if (existsSync('.env')) process.loadEnvFile('.env');
const { values } = parseArgs({
  options: { from: { type: 'string' }, db: { type: 'string', default: 'trackme' }, 'dry-run': { type: 'boolean', default: false }, report: { type: 'string' } },
});
const problems = [
  ...(values.from && /^mongodb(\+srv)?:\/\//.test(values.from) ? [] : ['--from must be the older service\'s MongoDB URL (mongodb://…)']),
  ...(/^[^/\\. "$*<>:|?]{1,63}$/.test(values.db) ? [] : ['--db must be a database name']),
];
if (problems.length > 0) {
  console.error(`${problems.join('\n')}\n${USAGE}`);
  process.exit(2);
}

const config = loadConfig(
  'import-legacy',
  Type.Object({
    ...MongoConfig,
    ...KafkaConfig,
    ...StagesConfig,
  }),
);
const logger = createLogger('import-legacy');
const reportPath = values.report ?? `.local/import-legacy/report-${new Date().toISOString().replaceAll(':', '-')}.ndjson`;
const dryRun = values['dry-run'];

if (sameDatabase(values.from!, values.db, config.MONGO_URL)) {
  console.error(
    `the older data and trackme are the same database (${values.db}): trackme needs its own.\n` +
      'Point MONGO_URL at another database (e.g. mongodb://host:27017/trackme_v2) and run the import into it.',
  );
  process.exit(2);
}

const stages = new Set(loadStageProcess(config.STAGES_CONFIG).byId.keys());
const source = new MongoClient(values.from!, { serverSelectionTimeoutMS: 10_000, readPreference: 'secondaryPreferred' });
const target = createMongo(config.MONGO_URL, 'trackme-import-legacy');
const kafka = createKafka({ ...kafkaConnection(config), clientId: 'trackme-import-legacy' }, logger);
const producer = new MessageProducer(kafka, logger, config.KAFKA_TOPIC_PREFIX);
const replies = new ReplyWaiter(kafka, producer, logger, config.KAFKA_TOPIC_PREFIX);
mkdirSync(dirname(reportPath), { recursive: true });
const report = createWriteStream(reportPath);
const aborted = new AbortController();
process.once('SIGINT', () => aborted.abort());
process.once('SIGTERM', () => aborted.abort());

const line = (p: Progress) => {
  const eta = p.perSecond > 0 ? Math.max(0, Math.round((p.total - p.done) / p.perSecond)) : 0;
  return `${p.collection}: ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} · ${Math.round(p.perSecond).toLocaleString('en-US')}/s · ETA ${eta} s`;
};

try {
  if (!dryRun) {
    await producer.connect();
    await replies.start();
  }
  const summary = await importLegacy({
    source: source.db(values.db),
    target: target.db,
    stages,
    publish: (clientId, command) => producer.publish(Topics.clientCommands, clientId, command),
    expectReply: (commandId) => replies.expect(commandId, REPLY_TIMEOUT_MS),
    report: (record) => report.write(`${JSON.stringify(record)}\n`),
    onProgress: (p) => (process.stderr.isTTY ? process.stderr.write(`\r${line(p)}\u001b[K`) : console.error(line(p))),
    dryRun,
    signal: aborted.signal,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const [collection, c] of Object.entries(summary)) {
    console.log(
      `${collection}: ${c.read} read, ${c.imported} ${dryRun ? 'to import' : 'imported'}, ${c.already} already in trackme, ${c.refused} refused` +
        (c.unanswered ? `, ${c.unanswered} unanswered (run again to settle them)` : ''),
    );
  }
  const refused = summary.users.refused + summary.clients.refused;
  console.log(refused > 0 ? `refused records and their reasons: ${reportPath}` : `nothing refused (report: ${reportPath})`);
  if (aborted.signal.aborted) console.log('stopped early: run the same command again to go on');
  process.exitCode = summary.clients.unanswered > 0 || aborted.signal.aborted ? 1 : 0;
} finally {
  await new Promise((resolve) => report.end(resolve));
  if (!dryRun) {
    await replies.stop();
    await producer.disconnect();
  }
  await Promise.all([source.close(), target.close()]);
}
