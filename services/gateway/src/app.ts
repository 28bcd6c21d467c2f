import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { GatewayConfig } from './config.js';

export const API_TITLE = 'trackme API';
export const API_VERSION = '1.0.0';

/** The public API as a plugin on the shared HTTP server: OpenAPI, Swagger UI and the routes. */
export async function registerGatewayApp(app: FastifyInstance, config: Pick<GatewayConfig, 'BASE_PATH'>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: API_VERSION,
        description: 'Tracks clients through a configured onboarding/sales process and reports business metrics.',
      },
      servers: [{ url: config.BASE_PATH || '/' }],
    },
    // health, readiness and /metrics are operational endpoints, not part of the API contract
    hideUntagged: true,
  });
  await app.register(swaggerUi, { routePrefix: `${config.BASE_PATH}/swagger` });
  // the older service served its UI here; keep old bookmarks working
  app.get('/swagger/index.html', async (_request, reply) => reply.redirect(`${config.BASE_PATH}/swagger/`));
  app.get('/swagger', async (_request, reply) => reply.redirect(`${config.BASE_PATH}/swagger/`));
}
