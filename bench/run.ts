/**
 * `npm run bench -- <scenario>… | all [--quick]`: runs benchmark scenarios, each against a
 * baseline measured in the same run, on the dev stack in a namespace of its own (bench/lib/system.ts).
 * Each scenario writes bench/results/<scenario>-<time>.{json,md}; the run writes a summary with
 * every table and goal to bench/results/summary-<time>.md and bench/results/latest.md.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, writeResults } from './lib/results.js';
import type { Goal, Scenario } from './lib/scenario.js';
import { benchEnv, mongoBackend } from './lib/system.js';
import { adminAuthorization } from './lib/token.js';
import { activityIngest } from './scenarios/activity-ingest.js';
import { authOverhead } from './scenarios/auth-overhead.js';
import { bulkJobs } from './scenarios/bulk-jobs.js';
import { consoleBench } from './scenarios/console.js';
import { importLegacyBench } from './scenarios/import-legacy.js';
import { kafkaClient } from './scenarios/kafka-client.js';
import { recovery } from './scenarios/recovery.js';
import { cachedList, httpFloor, uncachedList } from './scenarios/lists.js';
import { login } from './scenarios/login.js';
import { memory } from './scenarios/memory.js';
import { rollups } from './scenarios/rollups.js';
import { scaleOut } from './scenarios/scale-out.js';
import { serverCrash } from './scenarios/server-crash.js';
import { tracing } from './scenarios/tracing.js';
import { writePath } from './scenarios/write-path.js';

const SCENARIOS: Scenario[] = [httpFloor, cachedList, uncachedList, writePath, activityIngest, rollups, scaleOut, memory, authOverhead, login, importLegacyBench, kafkaClient, recovery, tracing, serverCrash, bulkJobs, consoleBench];

const { values, positionals } = parseArgs({ allowPositionals: true, options: { quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } });
const usage = ['usage: npm run bench -- <scenario>… | all [--quick]', '', ...SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.title}`)].join('\n');
if (values.help || positionals.length === 0) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
const unknown = positionals.filter((name) => name !== 'all' && !SCENARIOS.some((s) => s.name === name));
if (unknown.length) {
  console.error(`unknown scenario: ${unknown.join(', ')}\n\n${usage}`);
  process.exit(2);
}
const chosen = positionals.includes('all') ? SCENARIOS : SCENARIOS.filter((s) => positionals.includes(s.name));

const env = await benchEnv();
const backend = await mongoBackend(env['MONGO_URL']!);
const context = { env, authorization: await adminAuthorization(), quick: values.quick };
const sections: string[] = [];
const goals: (Goal & { scenario: string })[] = [];
let failed = 0;
for (const scenario of chosen) {
  console.log(`\n▶ ${scenario.name}: ${scenario.title} (Mongo-wire server: ${backend})`);
  const t0 = Date.now();
  try {
    const result = await scenario.run(context);
    writeResults(scenario.name, { backend, figures: result.figures, goals: result.goals, quick: values.quick }, `Mongo-wire server: ${backend}\n\n${result.markdown}`);
    sections.push(`### ${scenario.title}\n\nMongo-wire server: ${backend}\n\n${result.markdown}`);
    goals.push(...result.goals.map((g) => ({ ...g, scenario: scenario.name })));
    console.log(`✔ ${scenario.name} on ${backend} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  } catch (error) {
    failed += 1;
    sections.push(`### ${scenario.title}\n\nfailed: ${String(error)}`);
    console.error(`✘ ${scenario.name} failed:`, error);
  }
}

const at = new Date().toISOString();
const summary = [
  `# trackme benchmarks, ${at}${values.quick ? ' (quick)' : ''}, on ${backend}`,
  '',
  '| scenario | backend | goal | measured | met |',
  '|---|---|---|---|---|',
  ...goals.map((g) => `| ${g.scenario} | ${backend} | ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`),
  '',
  ...sections,
].join('\n');
mkdirSync(RESULTS_DIR, { recursive: true });
const file = path.join(RESULTS_DIR, `summary-${at.replace(/[:.]/g, '-')}.md`);
writeFileSync(file, `${summary}\n`);
copyFileSync(file, path.join(RESULTS_DIR, 'latest.md'));
console.log(`\nsummary: ${path.relative(process.cwd(), file)} (and bench/results/latest.md)`);
process.exit(failed ? 1 : 0);
