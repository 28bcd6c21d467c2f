// `npm test`: typecheck, lint, deployment files, then every test tier with coverage.
// Prints a final `N passed, N failed, N skipped` line; each check counts as one.
import './ensure-deps.mjs'; // first: everything below may need the npm packages
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { prometheusBinaries } from './lib/prometheus.mjs';

const started = Date.now();
const results = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function check(name, command, args) {
  const t0 = Date.now();
  console.log(`\n▶ ${name}: ${[command, ...args].join(' ')}`);
  const { status } = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  if (status === 0) {
    results.passed += 1;
    console.log(`✔ ${name} (${seconds}s)`);
  } else {
    results.failed += 1;
    failures.push(name);
    console.log(`✘ ${name} failed (exit ${status}, ${seconds}s)`);
  }
  return status === 0;
}

const servicesBuilt = check('typecheck and build', 'npx', ['tsc', '-b']);
// the console's browser tests run against this build
const consoleBuilt = check('typecheck and build the web console', 'npm', ['run', '--silent', 'build', '-w', 'web']);
const built = servicesBuilt && consoleBuilt;
check('typecheck tests and scripts', 'npx', ['tsc', '-p', 'tsconfig.tests.json']);
check('lint', 'npx', ['eslint', '--max-warnings', '0', '.']);
check('deployment files (docker-compose, workflows, Kubernetes)', 'bash', ['scripts/validate-deploy.sh']);
const { promtool } = prometheusBinaries();
check('alert and recording rules (promtool check rules)', promtool || 'promtool', ['check', 'rules', 'deploy/prometheus/rules.yml']);
check('alert rule unit tests (promtool test rules)', promtool || 'promtool', ['test', 'rules', 'deploy/prometheus/rules.test.yml']);

if (built) {
  mkdirSync('.local', { recursive: true });
  const report = '.local/vitest-report.json';
  const extra = process.argv.slice(2);
  console.log('\n▶ tests (unit, integration, e2e) with coverage');
  const { status } = spawnSync(
    'npx',
    ['vitest', 'run', '--coverage', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra],
    { stdio: 'inherit' },
  );
  if (existsSync(report)) {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    results.passed += json.numPassedTests;
    results.failed += json.numFailedTests;
    results.skipped += json.numPendingTests + json.numTodoTests;
    if (json.numFailedTests > 0) failures.push(`${json.numFailedTests} test(s)`);
    // a suite that failed to load, or a coverage threshold miss, fails the run without a failed test
    if (status !== 0 && json.numFailedTests === 0) {
      results.failed += 1;
      failures.push('test run (suite error or coverage below threshold)');
    }
  } else {
    results.failed += 1;
    failures.push('test run produced no report');
  }
} else {
  results.failed += 1;
  failures.push('tests not run: the build failed');
}

const minutes = ((Date.now() - started) / 60000).toFixed(1);
if (failures.length) console.log(`\nFailed: ${failures.join('; ')}`);
console.log(`\nnpm test finished in ${minutes} min`);
console.log(`${results.passed} passed, ${results.failed} failed, ${results.skipped} skipped`);
process.exit(results.failed === 0 ? 0 : 1);
