import Fastify from 'fastify';
import { loadStageProcess } from '@trackme/contracts';
import { registerGatewayApp, type GatewayDeps } from '../../services/gateway/src/app.js';

/**
 * The gateway's OpenAPI document, generated from the route schemas (TypeBox) exactly as the
 * running gateway serves it at {BASE_PATH}/swagger/json. No dependency is contacted.
 */
export async function buildOpenApiDocument(basePath = '/api/v1'): Promise<unknown> {
  const app = Fastify({ logger: false });
  // handlers are never called while generating, so their collaborators can be absent
  const unused = {} as never;
  const deps: GatewayDeps = {
    basePath,
    auth: { mode: 'disabled', verifier: undefined },
    corsOrigins: [],
    process: loadStageProcess('config/stages.yaml'),
    write: unused,
    operations: unused,
    read: unused,
    metrics: unused,
    publishing: unused,
    jobs: unused,
    accounts: { users: unused, admin: unused, signIn: unused, throttle: unused, issuer: undefined, selfRegistration: false },
  };
  await registerGatewayApp(app, deps);
  await app.ready();
  const document = app.swagger();
  await app.close();
  return document;
}

export const OPENAPI_PATH = 'docs/openapi.json';

export const renderOpenApi = (document: unknown): string => `${JSON.stringify(document, null, 2)}\n`;
