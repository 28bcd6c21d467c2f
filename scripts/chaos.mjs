// `npm run chaos -- --minutes N`: the chaos test (test/e2e/chaos.e2e.test.ts) for N minutes on the
// dev stack: every service and the broker killed with SIGKILL in turn, round after round, under
// load; the oracle checks every write and the metrics and prints a summary table. The broker it
// kills is its own (stack.sh's chaos profile); the dev stack's MongoDB and Redis hold the data.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' } } });
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error('usage: npm run chaos -- --minutes N   (N > 0)');
  process.exit(2);
}
const addresses = Object.fromEntries(
  spawnSync('bash', ['deploy/local/stack.sh', 'env', 'dev'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);
const env = { ...addresses, ...process.env, CHAOS_MINUTES: String(minutes) };
const build = spawnSync('npx', ['tsc', '-b'], { stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);
const { status } = spawnSync('npx', ['vitest', 'run', 'test/e2e/chaos.e2e.test.ts', '--testTimeout', String((minutes + 10) * 60_000)], { stdio: 'inherit', env });
process.exit(status ?? 1);
