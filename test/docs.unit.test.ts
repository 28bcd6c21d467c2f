import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configRows, withConfigTable } from '../scripts/lib/config-table.js';

describe('documentation stays in step with the config schemas', () => {
  it('README configuration table matches the schemas (run `npm run config:doc` to refresh)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(withConfigTable(readme)).toBe(readme);
  });

  it('.env.dist documents every variable a service reads', () => {
    const envDist = readFileSync('.env.dist', 'utf8');
    const missing = configRows().filter((row) => !new RegExp(`^#? ?${row.variable}=`, 'm').test(envDist));
    expect(missing.map((row) => row.variable)).toEqual([]);
  });
});

describe('the committed OpenAPI document', () => {
  it('matches the route schemas (run `npm run openapi` to refresh docs/openapi.json)', async () => {
    const { buildOpenApiDocument, OPENAPI_PATH, renderOpenApi } = await import('../scripts/lib/openapi.js');
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(renderOpenApi(await buildOpenApiDocument()));
  });

  it('marks a query parameter with a default optional, as the routes treat it', async () => {
    const document = JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; required?: boolean; schema?: { default?: unknown } }> }>>;
    };
    const parameters = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) => (operation.parameters ?? []).map((p) => ({ at: `${method} ${path} ${p.name}`, ...p }))),
    );
    const defaulted = parameters.filter((p) => p.in === 'query' && p.schema?.default !== undefined);
    expect(defaulted.map((p) => p.at)).toContain('get /clients limit');
    expect(defaulted.filter((p) => p.required).map((p) => p.at)).toEqual([]);
  });

  it('documents every public route with its error statuses', async () => {
    const document = JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
      components: { securitySchemes?: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/auth/login',
      '/auth/logout',
      '/auth/refresh',
      '/auth/register',
      '/auth/session',
      '/auth/session/refresh',
      '/clients',
      '/clients/batch',
      '/clients/bulk',
      '/clients/import',
      '/clients/{id}',
      '/clients/{id}/history',
      '/clients/{id}/stage',
      '/events',
      '/jobs/{id}',
      '/jobs/{id}/cancel',
      '/metrics',
      '/metrics/calculate',
      '/metrics/jobs/{id}',
      '/operations/{id}',
      '/stages',
      '/users',
      '/users/{id}',
    ]);
    // every API route needs a bearer token, and says what happens without one or without the role;
    // signing in is the exception (the refresh token, in the body or the console's cookie, is the
    // credential of refresh and logout)
    expect(document.components.securitySchemes?.['bearer']).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const PUBLIC = new Set(['/auth/login', '/auth/refresh', '/auth/logout', '/auth/session', '/auth/session/refresh']);
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (PUBLIC.has(path)) {
          expect(operation.security, `${method} ${path}`).toEqual([]);
          expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413']));
          continue;
        }
        expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
        // problems are documented as they are sent (RFC 9457), so a client can tell them apart
        expect(Object.keys((operation.responses['401'] as { content: object }).content), `${method} ${path}`).toEqual(['application/problem+json']);
      }
    }
    const statuses = (path: string, method: string) => Object.keys(document.paths[path]![method]!.responses).filter((s) => s !== '401' && s !== '403').sort();
    expect(statuses('/clients/{id}', 'delete')).toEqual(['202', '204', '400', '404', '422', '503']);
    expect(statuses('/clients', 'post')).toEqual(['201', '202', '400', '409', '422', '503']);
    expect(Object.keys(document.paths['/clients/{id}/stage']!['put']!.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '409']));
    expect(statuses('/events', 'post')).toEqual(['202', '400', '413', '503']);
    expect(statuses('/metrics/calculate', 'get')).toEqual(['200', '400', '503']);
    expect(statuses('/metrics/calculate', 'post')).toEqual(['202', '400', '503']);
    expect(statuses('/metrics', 'get')).toEqual(['200', '400', '503']);
    expect(statuses('/metrics/jobs/{id}', 'get')).toEqual(['200', '400', '404', '503']);
    expect(statuses('/clients/batch', 'post')).toEqual(['200', '202', '400', '409', '413', '422', '503']);
    expect(statuses('/jobs/{id}', 'get')).toEqual(['200', '400', '404', '503']);
    expect(statuses('/auth/login', 'post')).toEqual(['200', '400', '404', '413', '429']);
    expect(statuses('/users/{id}', 'delete')).toEqual(['204', '400', '404', '409']);
  });

  type Operation = { operationId?: string; responses: Record<string, { links?: Record<string, { operationId: string; parameters: object }> }> };
  const operationsOf = () => {
    const document = JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as { paths: Record<string, Record<string, Operation>> };
    return Object.entries(document.paths).flatMap(([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ path, method, operation })));
  };

  it('names every operation once, and its links lead from created resources to operations that exist', () => {
    const operations = operationsOf();
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const byId = new Map(operations.map((o) => [o.operation.operationId, o]));
    const links = operations.flatMap(({ operation }) =>
      Object.entries(operation.responses).flatMap(([status, response]) =>
        Object.values(response.links ?? {}).map((link) => ({ from: `${operation.operationId} ${status}`, to: link.operationId, parameters: link.parameters })),
      ),
    );
    expect(links.filter((link) => !byId.has(link.to))).toEqual([]);
    // a created client leads to everything done with a client, a queued write to its result
    expect(links.filter((l) => l.from === 'createClient 201').map((l) => `${byId.get(l.to)!.method} ${byId.get(l.to)!.path}`).sort()).toEqual([
      'delete /clients/{id}',
      'get /clients/{id}',
      'get /clients/{id}/history',
      'patch /clients/{id}',
      'patch /clients/{id}/stage',
      'put /clients/{id}/stage',
    ]);
    expect(links.find((l) => l.from === 'createClient 202')).toEqual({ from: 'createClient 202', to: 'getOperation', parameters: { id: '$response.body#/data/operation_id' } });
    expect(links.find((l) => l.from === 'triggerRollup 202')).toEqual({ from: 'triggerRollup 202', to: 'getRollupJob', parameters: { id: '$response.body#/data/id' } });
  });

  it('lists the configured stages as the values of `stage` in writes', async () => {
    const { loadStageProcess } = await import('@trackme/contracts');
    const process = loadStageProcess('config/stages.yaml');
    const stages = process.stages.map((s) => s.id);
    type Body = { requestBody: { content: { 'application/json': { schema: { properties: { stage: { enum: string[] } } } } } } };
    const stageOf = (path: string, method: string) =>
      (operationsOf().find((o) => o.path === path && o.method === method)!.operation as unknown as Body).requestBody.content['application/json'].schema.properties.stage.enum;
    expect(stageOf('/clients', 'post')).toEqual(stages.filter((id) => process.initialIds.has(id)));
    expect(stages).toHaveLength(12);
    expect(stageOf('/clients/{id}/stage', 'put')).toEqual([...stages, 'next', 'prev']);
  });
});

describe('the committed AsyncAPI document', () => {
  it('matches the message schemas (run `npm run asyncapi` to refresh docs/asyncapi.yaml)', async () => {
    const { ASYNCAPI_PATH, buildAsyncApiDocument, renderAsyncApi } = await import('../scripts/lib/asyncapi.js');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(readFileSync(ASYNCAPI_PATH, 'utf8')).toBe(renderAsyncApi(buildAsyncApiDocument(version)));
  });

  it('is a valid AsyncAPI 3 document with every produced or consumed topic and its dead-letter twin', async () => {
    const { Parser } = await import('@asyncapi/parser');
    const { document, diagnostics } = await new Parser().parse(readFileSync('docs/asyncapi.yaml', 'utf8'));
    const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    const addresses = document!.channels().all().map((channel) => channel.address());
    expect(addresses.sort()).toEqual(
      [
        'trackme.client-commands',
        'trackme.client-commands.dlq',
        'trackme.client-events',
        'trackme.client-events.dlq',
        'trackme.command-replies',
        'trackme.command-replies.dlq',
        'trackme.activity',
        'trackme.activity.dlq',
        'trackme.metrics-commands',
        'trackme.metrics-commands.dlq',
      ].sort(),
    );
    const events = document!.channels().all().find((channel) => channel.address() === 'trackme.client-events')!;
    expect(events.messages().all().map((m) => m.id()).sort()).toEqual(
      ['ClientCreated', 'ClientDeleted', 'ClientStageChanged', 'ClientUpdated', 'ClientLoggedIn', 'ClientAppStatusChanged', 'ClientAutopaymentChanged'].sort(),
    );
    // other systems write plain events: the activity payload is the event itself, not an envelope
    const activity = document!.channels().all().find((channel) => channel.address() === 'trackme.activity')!;
    const payload = activity.messages().all()[0]!.payload()!;
    expect(Object.keys(payload.properties() ?? {})).toEqual(expect.arrayContaining(['event_id', 'type', 'client_id', 'email', 'occurred_at', 'contract_id']));
    // rollup requests travel in the envelope: the job's fields are its data
    const metricsCommands = document!.channels().all().find((channel) => channel.address() === 'trackme.metrics-commands')!;
    expect(metricsCommands.messages().all().map((m) => m.id())).toEqual(['TriggerRollup']);
    const rollup = metricsCommands.messages().all()[0]!.payload()!;
    expect(Object.keys(rollup.properties()!['data']!.properties() ?? {})).toEqual(
      expect.arrayContaining(['job_id', 'interval', 'period', 'requested_at', 'actor']),
    );
    const operations = document!.operations().all().filter((o) => o.channels().all().some((c) => c.address() === 'trackme.metrics-commands'));
    expect(operations.map((o) => o.action()).sort()).toEqual(['receive', 'send']);
  }, 60_000);
});
