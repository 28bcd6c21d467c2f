import { defineConfig } from 'vitest/config';

/**
 * One config for the whole workspace. Test tiers are told apart by file name:
 * *.unit.test.ts, *.int.test.ts (real Kafka/Mongo-wire/Redis), *.e2e.test.ts (services as processes).
 */
export default defineConfig({
  // run workspace packages from source (see the "@trackme/source" export condition)
  ssr: { resolve: { conditions: ['@trackme/source', 'node', 'development|production'] } },
  resolve: { conditions: ['@trackme/source', 'node'] },
  test: {
    include: ['services/*/test/**/*.test.ts', 'libs/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['libs/testkit/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 90_000,
    teardownTimeout: 30_000,
    reporters: ['default'],
    coverage: {
      provider: 'v8',
      include: ['services/*/src/**/*.ts', 'libs/{contracts,platform}/src/**/*.ts', 'scripts/**/*.ts'],
      // main.ts and tracing.ts files are few-line entry points exercised as processes by the e2e
      // tests. The CLIs in scripts/ are counted too: the tests that run them as processes leave their
      // lines uncovered, which is what the report should say, while their libraries are imported and measured.
      exclude: ['**/*.d.ts', 'services/*/src/main.ts', 'services/*/src/tracing.ts'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
      thresholds: { lines: 80, branches: 75 },
    },
  },
});
