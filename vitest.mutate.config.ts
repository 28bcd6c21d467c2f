import { defineConfig } from 'vitest/config';

/**
 * The unit tests that guard the pure cores, for mutation testing (`npm run mutate`).
 * No global setup: these tests need no Kafka, Mongo-wire server or Redis.
 */
export default defineConfig({
  ssr: { resolve: { conditions: ['@trackme/source', 'node', 'development|production'] } },
  resolve: { conditions: ['@trackme/source', 'node'] },
  test: {
    include: [
      'services/clients/test/clients/*.unit.test.ts',
      'services/clients/test/activity/*.unit.test.ts',
      'services/clients/test/command-stream.unit.test.ts',
      'services/metrics/test/*.unit.test.ts',
      'services/read/test/**/*.unit.test.ts',
      'services/gateway/test/**/*.unit.test.ts',
      'libs/contracts/test/*.unit.test.ts',
    ],
    pool: 'forks',
    testTimeout: 30_000,
  },
});
