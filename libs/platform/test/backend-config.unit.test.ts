import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { ConfigError, KafkaConfig, kafkaConnection, kafkaConnectionFromEnv, loadConfig, MongoConfig, RedisConfig } from '../src/index.js';

const Schema = Type.Object({ ...KafkaConfig, ...MongoConfig, ...RedisConfig });
const base = { KAFKA_BROKERS: 'kafka-1:9093,kafka-2:9093', MONGO_URL: 'mongodb://db/trackme', REDIS_URL: 'redis://cache:6379' };

const folder = mkdtempSync(path.join(tmpdir(), 'trackme-tls-'));
const pem = (name: string) => {
  const file = path.join(folder, name);
  writeFileSync(file, `-----BEGIN ${name}-----\n`);
  return file;
};
const ca = pem('ca.pem');
const missing = path.join(folder, 'nowhere.pem');

/** Every problem loadConfig lists for this environment, as "VARIABLE: message". */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig('svc', Schema, { ...base, ...env });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.variable}: ${p.message}`);
  }
}

describe('Kafka security settings at start-up', () => {
  it('a SASL mechanism without a user and password names both missing variables', () => {
    expect(problems({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' })).toEqual([
      'KAFKA_SASL_USERNAME: is required with KAFKA_SASL_MECHANISM=SCRAM-SHA-512',
      'KAFKA_SASL_PASSWORD: is required with KAFKA_SASL_MECHANISM=SCRAM-SHA-512',
    ]);
  });

  it('a user and password without a mechanism ask for the mechanism', () => {
    expect(problems({ KAFKA_SASL_USERNAME: 'gateway', KAFKA_SASL_PASSWORD: 'secret' })).toEqual([expect.stringMatching(/^KAFKA_SASL_MECHANISM: is required/)]);
  });

  it('an unknown mechanism is refused without showing the password anywhere', () => {
    const found = problems({ KAFKA_SASL_MECHANISM: 'GSSAPI', KAFKA_SASL_USERNAME: 'gateway', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    expect(found).toEqual([expect.stringMatching(/^KAFKA_SASL_MECHANISM: /)]);
    expect(found.join('\n')).not.toContain('hunter2');
  });

  it('PLAIN is refused without TLS, as it sends the password in clear text', () => {
    const env = { KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'gateway', KAFKA_SASL_PASSWORD: 'secret' };
    expect(problems(env)).toEqual([expect.stringMatching(/^KAFKA_SASL_MECHANISM: PLAIN sends the password in clear text/)]);
    expect(problems({ ...env, KAFKA_TLS: 'true' })).toEqual([]);
  });

  it('certificate files must exist, belong to a TLS connection and come as a pair', () => {
    expect(problems({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: missing })).toEqual([`KAFKA_TLS_CA_FILE: cannot read the file ${JSON.stringify(missing)} (ENOENT)`]);
    expect(problems({ KAFKA_TLS_CA_FILE: ca })).toEqual(['KAFKA_TLS_CA_FILE: is set but KAFKA_TLS is not true']);
    expect(problems({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: pem('cert.pem') })).toEqual(['KAFKA_TLS_KEY_FILE: is required with KAFKA_TLS_CERT_FILE']);
  });

  it('every problem of every backend is listed at once', () => {
    const found = problems({
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
      KAFKA_TLS_CA_FILE: missing,
      REDIS_TLS_CA_FILE: missing,
      MONGO_URL: `mongodb://db/trackme?tls=true&tlsCAFile=${encodeURIComponent(missing)}`,
    });
    expect(found.map((p) => p.split(':')[0])).toEqual([
      'KAFKA_SASL_USERNAME',
      'KAFKA_SASL_PASSWORD',
      'KAFKA_TLS_CA_FILE',
      'KAFKA_TLS_CA_FILE',
      'REDIS_TLS_CA_FILE',
      'REDIS_TLS_CA_FILE',
      'MONGO_URL',
    ]);
    expect(found).toContain('REDIS_TLS_CA_FILE: is set but REDIS_URL does not use TLS (rediss://)');
    expect(found).toContain(`MONGO_URL: tlsCAFile: cannot read the file ${JSON.stringify(missing)} (ENOENT)`);
  });

  it('a rejected URL is shown without its password', () => {
    const found = problems({ REDIS_URL: 'http://trackme:s3cret@cache:6379' });
    expect(found).toEqual([expect.stringContaining('"http://trackme:***@cache:6379"')]);
  });
});

describe('kafkaConnection', () => {
  it('is plain brokers when nothing else is configured', () => {
    expect(kafkaConnectionFromEnv(base)).toEqual({ brokers: ['kafka-1:9093', 'kafka-2:9093'] });
  });

  it('passes SCRAM credentials and TLS with the CA to the client', () => {
    const connection = kafkaConnection(
      loadConfig('svc', Schema, { ...base, KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: ca, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'gateway', KAFKA_SASL_PASSWORD: 'secret' }),
    );
    expect(connection.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'gateway', password: 'secret' });
    expect(connection.ssl).toEqual({ ca: Buffer.from('-----BEGIN ca.pem-----\n') });
  });

  it('verifies the brokers against the system CAs when TLS has no CA file', () => {
    expect(kafkaConnectionFromEnv({ ...base, KAFKA_TLS: 'true' }).ssl).toBe(true);
  });

  it('refuses a half-configured environment like a service does', () => {
    expect(() => kafkaConnectionFromEnv({ ...base, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' }, 'topics')).toThrow(/^topics: invalid configuration \(2 problems\)/);
  });
});
