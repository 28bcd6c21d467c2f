import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { ConfigError, HttpConfig, KafkaConfig, loadConfig, LogConfig } from '../src/index.js';

const Schema = Type.Object({ ...LogConfig, ...HttpConfig(8080), ...KafkaConfig });

describe('loadConfig', () => {
  it('applies defaults and converts numbers from strings', () => {
    const config = loadConfig('svc', Schema, { KAFKA_BROKERS: 'localhost:9092', PORT: '9000' });
    expect(config).toMatchObject({ PORT: 9000, HOST: '127.0.0.1', LOG_LEVEL: 'info', KAFKA_TOPIC_PREFIX: '' });
  });

  it('treats an empty variable as unset so the default applies', () => {
    expect(loadConfig('svc', Schema, { KAFKA_BROKERS: 'k:1', PORT: '' }).PORT).toBe(8080);
  });

  it('lists every bad or missing variable at once, by name', () => {
    let caught: unknown;
    try {
      loadConfig('gateway', Schema, { PORT: 'abc', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.map((p) => p.variable).sort();
    expect(problems).toEqual(['KAFKA_BROKERS', 'LOG_LEVEL', 'PORT']);
    expect((caught as ConfigError).message).toContain('PORT: must be integer (got "abc")');
    expect((caught as ConfigError).message).toMatch(/^gateway: invalid configuration \(3 problems\)/);
  });

  it('rejects a broker list that is not host:port pairs', () => {
    expect(() => loadConfig('svc', Schema, { KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS/);
  });

  it('ignores variables the schema does not declare', () => {
    const config = loadConfig('svc', Schema, { KAFKA_BROKERS: 'k:1', UNRELATED: 'x' }) as Record<string, unknown>;
    expect(config['UNRELATED']).toBeUndefined();
  });
});
