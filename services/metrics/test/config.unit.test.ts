import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@trackme/platform';
import { errorOf } from '@trackme/testkit';
import { MetricsConfigSchema } from '../src/config.js';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', MONGO_URL: 'mongodb://127.0.0.1/trackme', REDIS_URL: 'redis://127.0.0.1', INTERNAL_TOKEN: 'x'.repeat(32) };

describe('metrics configuration', () => {
  it('defaults to UTC and takes any IANA zone', () => {
    expect(loadConfig('metrics', MetricsConfigSchema, base).METRICS_TZ).toBe('UTC');
    expect(loadConfig('metrics', MetricsConfigSchema, { ...base, METRICS_TZ: 'America/Sao_Paulo' }).METRICS_TZ).toBe('America/Sao_Paulo');
  });

  it('stops at start-up with every problem listed', () => {
    const error = errorOf(() => loadConfig('metrics', MetricsConfigSchema, { ...base, METRICS_TZ: 'Mars/Olympus', METRICS_BATCH_SIZE: '0', METRICS_GAUGE_REFRESH_SECONDS: 'often' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['METRICS_BATCH_SIZE', 'METRICS_GAUGE_REFRESH_SECONDS', 'METRICS_TZ']);
    expect(error.message).toContain('METRICS_TZ: must match format "time-zone" (got "Mars/Olympus")');
  });
});
