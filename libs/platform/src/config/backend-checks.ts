import { accessSync, constants } from 'node:fs';
import { redisAddressOptions } from '../storage/redis-address.js';
import type { ConfigProblem } from './load-config.js';

/**
 * Rules over several variables of the common groups (each variable on its own is checked by its
 * schema): settings that only make sense together, and files that must be readable at start-up
 * rather than at the first connection. A check sees only the variables its service declares.
 */
export function backendConfigProblems(config: Record<string, unknown>): ConfigProblem[] {
  return [...kafkaProblems(config), ...redisProblems(config), ...mongoProblems(config)];
}

const text = (config: Record<string, unknown>, variable: string): string | undefined => {
  const value = config[variable];
  return typeof value === 'string' ? value : undefined;
};

function unreadable(variable: string, file: string | undefined): ConfigProblem[] {
  if (file === undefined) return [];
  try {
    accessSync(file, constants.R_OK);
    return [];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return [{ variable, message: `cannot read the file ${JSON.stringify(file)} (${code})` }];
  }
}

function kafkaProblems(config: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const mechanism = text(config, 'KAFKA_SASL_MECHANISM');
  const username = text(config, 'KAFKA_SASL_USERNAME');
  const password = text(config, 'KAFKA_SASL_PASSWORD');
  if (mechanism !== undefined) {
    if (username === undefined) problems.push({ variable: 'KAFKA_SASL_USERNAME', message: `is required with KAFKA_SASL_MECHANISM=${mechanism}` });
    if (password === undefined) problems.push({ variable: 'KAFKA_SASL_PASSWORD', message: `is required with KAFKA_SASL_MECHANISM=${mechanism}` });
  } else if (username !== undefined || password !== undefined) {
    problems.push({ variable: 'KAFKA_SASL_MECHANISM', message: 'is required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)' });
  }
  if (mechanism === 'PLAIN' && config['KAFKA_TLS'] !== true) {
    // PLAIN sends the password as it is: only ever inside TLS
    problems.push({ variable: 'KAFKA_SASL_MECHANISM', message: 'PLAIN sends the password in clear text; it needs KAFKA_TLS=true (or use SCRAM-SHA-512)' });
  }
  const cert = text(config, 'KAFKA_TLS_CERT_FILE');
  const key = text(config, 'KAFKA_TLS_KEY_FILE');
  if (cert !== undefined && key === undefined) problems.push({ variable: 'KAFKA_TLS_KEY_FILE', message: 'is required with KAFKA_TLS_CERT_FILE' });
  if (key !== undefined && cert === undefined) problems.push({ variable: 'KAFKA_TLS_CERT_FILE', message: 'is required with KAFKA_TLS_KEY_FILE' });
  for (const variable of ['KAFKA_TLS_CA_FILE', 'KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE']) {
    const file = text(config, variable);
    if (file !== undefined && config['KAFKA_TLS'] !== true) problems.push({ variable, message: 'is set but KAFKA_TLS is not true' });
    problems.push(...unreadable(variable, file));
  }
  return problems;
}

function redisProblems(config: Record<string, unknown>): ConfigProblem[] {
  const url = text(config, 'REDIS_URL');
  const sentinelMaster = text(config, 'REDIS_SENTINEL_MASTER');
  const problems: ConfigProblem[] = [];
  if (url !== undefined) {
    try {
      redisAddressOptions(url, { sentinelMaster });
    } catch (error) {
      problems.push({ variable: 'REDIS_URL', message: (error as Error).message });
    }
  }
  if (text(config, 'REDIS_SENTINEL_PASSWORD') !== undefined && sentinelMaster === undefined) {
    problems.push({ variable: 'REDIS_SENTINEL_PASSWORD', message: 'is set but REDIS_SENTINEL_MASTER is not' });
  }
  const caFile = text(config, 'REDIS_TLS_CA_FILE');
  if (caFile === undefined) return problems;
  if (!url?.startsWith('rediss://')) problems.push({ variable: 'REDIS_TLS_CA_FILE', message: 'is set but REDIS_URL does not use TLS (rediss://)' });
  return [...problems, ...unreadable('REDIS_TLS_CA_FILE', caFile)];
}

/** The driver reads TLS files named in the URL only when it connects; name them at start-up instead. */
const MONGO_URL_FILES = ['tlsCAFile', 'tlsCertificateKeyFile', 'tlsCRLFile'];

function mongoProblems(config: Record<string, unknown>): ConfigProblem[] {
  const url = text(config, 'MONGO_URL');
  const query = url?.split('?')[1];
  if (query === undefined) return [];
  const options = new URLSearchParams(query);
  return MONGO_URL_FILES.flatMap((option) => {
    const file = options.get(option);
    return file === null ? [] : unreadable('MONGO_URL', file).map((p) => ({ ...p, message: `${option}: ${p.message}` }));
  });
}
