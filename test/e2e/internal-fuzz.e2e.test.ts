import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TObject } from 'typebox';
import { ListClientsQuerySchema, MetricsQuerySchema } from '@trackme/contracts';
import { isolatedEnv, REPO_ROOT, spawnService, waitUntilReady, type ServiceProcess } from '@trackme/testkit';
import { ClientIdsQuerySchema } from '../../services/read/src/clients/routes.js';
import { runSchemathesis, type FuzzResult } from '../fuzz/schemathesis.js';

/**
 * Schemathesis against the internal APIs of read and metrics with no token at all: every
 * generated request (valid or not, every phase) must be answered 401 problem+json. The document
 * below declares 401 as each operation's only answer (and 414, for a URL too long to be read at
 * all), so any other status fails a check.
 */

const examples = Number(process.env['TRACKME_FUZZ_EXAMPLES'] ?? 8);
const seed = process.env['TRACKME_FUZZ_SEED'] === 'random' ? undefined : Number(process.env['TRACKME_FUZZ_SEED'] ?? 20261203);
const started: ServiceProcess[] = [];

beforeAll(async () => {
  const env = { ...(await isolatedEnv()) };
  started.push(await spawnService('read', env), await spawnService('metrics', env));
  await Promise.all(started.map((s) => waitUntilReady(s)));
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL')));
});

const refusal = (status: number, code: string, description: string) => ({
  [status]: {
    description,
    content: { 'application/problem+json': { schema: { type: 'object', required: ['status', 'code'], properties: { status: { const: status }, code: { const: code } } } } },
  },
});
const unauthorized = {
  ...refusal(401, 'unauthorized', 'No service token'),
  // every service refuses a URL over 4,096 characters before anything else, token or not
  ...refusal(414, 'uri_too_long', 'URL too long'),
};
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1 } };
const queryParameters = (schema: TObject) =>
  Object.entries(JSON.parse(JSON.stringify(schema.properties)) as Record<string, object>).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));
const get = (operationId: string, parameters: object[]) => ({ get: { operationId, parameters, responses: unauthorized } });

const DOCUMENTS: Record<'read' | 'metrics', Record<string, object>> = {
  read: {
    '/internal/clients': get('listClients', queryParameters(ListClientsQuerySchema)),
    '/internal/client-ids': get('listClientIds', queryParameters(ClientIdsQuerySchema)),
    '/internal/clients/{id}': get('getClient', [idParameter]),
    '/internal/clients/{id}/history': get('getClientHistory', [idParameter]),
  },
  metrics: {
    '/internal/metrics': get('listMetrics', queryParameters(MetricsQuerySchema)),
    '/internal/metrics/jobs/{id}': get('getRollupJob', [idParameter]),
  },
};

function writeDocument(service: string, paths: Record<string, object>): string {
  const file = path.join(REPO_ROOT, '.local', 'fuzz', `internal-${service}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ openapi: '3.1.0', info: { title: `${service} internal API`, version: '1' }, paths }));
  return file;
}

const summary = (result: FuzzResult) => result.output.slice(Math.max(0, result.output.lastIndexOf('=== FAILURES ===')), undefined).slice(0, 6000);

describe.each(['read', 'metrics'] as const)('schemathesis against the %s internal API without a token', (service) => {
  it(
    'gets 401 problem+json for every request it generates',
    async () => {
      const url = started.find((s) => s.name === service)!.url;
      const result = await runSchemathesis({
        api: url,
        schema: writeDocument(service, DOCUMENTS[service]),
        configFile: path.join(REPO_ROOT, 'test', 'fuzz', 'internal.toml'),
        maxExamples: examples,
        seed,
      });
      const { report } = result;
      expect(report.complete, summary(result)).toBe(true);
      expect(report.failures, summary(result)).toEqual([]);
      expect(report.errors, summary(result)).toEqual([]);
      expect(result.exitCode, summary(result)).toBe(0);
      expect(report.operations.tested).toBe(Object.keys(DOCUMENTS[service]).length);
      expect(report.test_cases.generated).toBeGreaterThan(Object.keys(DOCUMENTS[service]).length);
    },
    300_000,
  );
});
