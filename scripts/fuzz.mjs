// `npm run fuzz [-- --examples N] [--seed S]`: a long schemathesis run against the whole system,
// started on the test stack like `npm test` does (test/e2e/fuzz.e2e.test.ts with a larger budget).
// Defaults: 100 examples per operation and a fresh seed, printed at the end to repeat a run.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { examples: { type: 'string', default: '100' }, seed: { type: 'string', default: 'random' } } });
if (!/^[1-9]\d*$/.test(values.examples)) throw new Error(`--examples must be a positive integer, got "${values.examples}"`);
if (values.seed !== 'random' && !/^\d+$/.test(values.seed)) throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);

const { status } = spawnSync('npx', ['vitest', 'run', 'test/e2e/fuzz.e2e.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, TRACKME_FUZZ_EXAMPLES: values.examples, TRACKME_FUZZ_SEED: values.seed, TRACKME_FUZZ_ECHO: '1' },
});
process.exit(status ?? 1);
