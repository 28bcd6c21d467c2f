import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet from 'helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { StageProcess } from '@trackme/contracts';
import { MethodNotAllowedError } from '@trackme/platform';
import { activityRoutes } from './activity/routes.js';
import { defaultedParametersOptional } from './http/openapi-defaults.js';
import { addLinks } from './http/openapi-links.js';
import { installAuthentication, type AuthMode } from './auth/authenticate.js';
import { protectRoute } from './auth/permissions.js';
import type { TokenVerifier } from './auth/verifier.js';
import type { RateLimiter } from './http/rate-limit.js';
import { consoleAssets } from './console/assets.js';
import { sessionRoutes } from './console/session-routes.js';
import { clientReadRoutes } from './clients/read-routes.js';
import { clientRoutes } from './clients/routes.js';
import type { WriteContext } from './commands/write-command.js';
import type { OperationStore } from './commands/operation-store.js';
import type { KafkaPublishing } from './kafka/publish-acknowledged.js';
import type { MetricsClient } from './metrics/metrics-client.js';
import { bulkRoutes } from './jobs/plugin.js';
import type { JobsDeps } from './jobs/submit.js';
import { metricsRoutes } from './metrics/routes.js';
import { operationRoutes } from './operations/routes.js';
import { ListCache } from './read/list-cache.js';
import type { ReadClient } from './read/read-client.js';
import { stageRoutes } from './stages/routes.js';
import { authRoutes, type AuthRoutesOptions } from './users/auth-routes.js';
import type { TokenIssuer } from './users/token-issuer.js';
import type { UserStore } from './users/user-store.js';
import { userRoutes } from './users/user-routes.js';

export const API_TITLE = 'trackme API';
export const API_VERSION = '1.0.0';

interface SwaggerCsp {
  swaggerCSP: { script: string[]; style: string[] };
}

export interface GatewayDeps {
  basePath: string;
  auth: { mode: AuthMode; verifier: TokenVerifier | undefined; limiter?: RateLimiter };
  /** origins allowed to call the API from a browser (CORS); empty: none */
  corsOrigins: string[];
  process: StageProcess;
  write: WriteContext;
  operations: OperationStore;
  read: ReadClient;
  /** list pages kept a moment in the gateway (none when not given) */
  lists?: ListCache;
  metrics: MetricsClient;
  /** the producer for what is published without a reply (activity, rollup requests) */
  publishing: KafkaPublishing;
  /** users and sign-in; the issuer is absent without AUTH_SIGNING_KEY */
  accounts: AuthRoutesOptions & { users: UserStore; issuer: TokenIssuer | undefined };
  /** bulk operations as jobs (absent: their routes are not served) */
  jobs?: JobsDeps;
  /** the web console: whether its routes exist, its built folder (undefined: not built), the life of its refresh cookie */
  console?: { serve: boolean; dir: string | undefined; refreshTtlSeconds: number };
}

const DEFAULT_REFRESH_TTL_SECONDS = 14 * 86_400;

/** OpenAPI document options; also used by scripts/openapi.ts to write docs/openapi.json. */
export function openApiOptions(basePath: string) {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: API_VERSION,
        description: 'Tracks clients through a configured onboarding/sales process and reports business metrics.',
      },
      servers: [{ url: basePath || '/' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http' as const, scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT with `sub`, `role` (super_user, admin or manager), `iss`, `aud` and `exp`' },
        },
      },
      tags: [
        { name: 'clients', description: 'Clients and their stage in the process' },
        { name: 'stages', description: 'The configured process' },
        { name: 'operations', description: 'Results of writes answered 202 Accepted' },
        { name: 'activity', description: 'Activity reported by other systems (logins, app installs, autopayment changes)' },
        { name: 'metrics', description: 'Business metrics: rollups on request and the stored figures (definitions in docs/metrics.md)' },
        { name: 'auth', description: 'Signing in: access tokens (15 minutes) and rotating refresh tokens' },
        { name: 'users', description: 'The people who may use the API, and their roles' },
        { name: 'jobs', description: 'Bulk operations: progress, item reports and cancellation' },
      ],
    },
    // health, readiness and /metrics are operational endpoints, not part of the API contract
    hideUntagged: true,
    transformObject: (document: object) => addLinks(defaultedParametersOptional((document as { openapiObject: object }).openapiObject)),
    // components named after the schemas' $id (Client, Problem …) instead of def-0, def-1 …
    refResolver: {
      buildLocalReference: (json: { $id?: unknown }, _baseUri: unknown, _fragment: unknown, i: number) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  };
}

/** The public API as a plugin on the shared HTTP server: OpenAPI, Swagger UI and the routes. */
export async function registerGatewayApp(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { basePath } = deps;
  await app.register(swagger, openApiOptions(basePath));
  await app.register(swaggerUi, { routePrefix: `${basePath}/swagger` });
  // security headers on every answer; the CSP lets only the Swagger UI's own scripts and styles run.
  // The middleware is built once: @fastify/helmet built it again for every request, which cost
  // 12% of the gateway's CPU on /healthz (bench/results, http-floor).
  const { swaggerCSP } = app as unknown as SwaggerCsp;
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        scriptSrc: ["'self'", ...swaggerCSP.script],
        styleSrc: ["'self'", ...swaggerCSP.style],
      },
    },
  });
  app.addHook('onRequest', (request, reply, done) => securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)));
  // browsers may call the API only from the configured origins (none by default)
  await app.register(cors, { origin: deps.corsOrigins.length > 0 ? deps.corsOrigins : false, exposedHeaders: ['location', 'x-cache', 'x-correlation-id', 'retry-after'] });
  // the older service's heartbeat, outside the base path: probes and callers that check it keep working
  app.get('/', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('.'));
  // the older service served its UI here; keep old bookmarks working
  app.get('/swagger/index.html', async (_request, reply) => reply.redirect(`${basePath}/swagger/`));
  app.get('/swagger', async (_request, reply) => reply.redirect(`${basePath}/swagger/`));
  // the public half of the key that signs sign-in tokens, for anyone verifying them (RFC 8414 location)
  const jwks = deps.accounts.issuer?.jwks ?? { keys: [] };
  app.get('/.well-known/jwks.json', async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(jwks));
  // the console's static files, outside the API scope: no token, no permission, no rate limit
  if (deps.console?.serve) await app.register(consoleAssets, { basePath, dir: deps.console.dir });

  await app.register(
    async (api) => {
      // every API route needs a permission; the table is in auth/permissions.ts
      const routes = new Map<string, Set<string>>();
      api.addHook('onRoute', (route) => {
        if (route.config?.methodNotAllowed) return;
        protectRoute(route);
        const methods = routes.get(route.url) ?? new Set<string>();
        for (const method of [route.method].flat()) methods.add(method);
        routes.set(route.url, methods);
      });
      installAuthentication(api, deps.auth.mode, deps.auth.verifier, deps.auth.limiter);
      const typed = api.withTypeProvider<TypeBoxTypeProvider>();
      await typed.register(clientRoutes, { write: deps.write, process: deps.process });
      await typed.register(clientReadRoutes, { read: deps.read, lists: deps.lists ?? new ListCache(0), ...(deps.auth.limiter ? { limiter: deps.auth.limiter } : {}) });
      await typed.register(stageRoutes, { process: deps.process });
      await typed.register(operationRoutes, { operations: deps.operations, resend: (operation) => deps.write.bus.resend(operation, deps.write.timeoutMs) });
      await typed.register(activityRoutes, deps.publishing);
      await typed.register(metricsRoutes, { metrics: deps.metrics, publishing: deps.publishing, basePath });
      await typed.register(authRoutes, deps.accounts);
      await typed.register(sessionRoutes, { signIn: deps.accounts.signIn, basePath, refreshTtlSeconds: deps.console?.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS });
      await typed.register(userRoutes, { users: deps.accounts.users, admin: deps.accounts.admin, basePath });
      if (deps.jobs) await typed.register(bulkRoutes, deps.jobs);
      answerOtherMethods(api, routes);
    },
    { prefix: basePath },
  );
}

/**
 * Methods a client may try on an API path; OPTIONS stays with CORS preflight. HEAD follows GET,
 * except on a GET that triggers work, which declares no HEAD and so gets the 405.
 */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'QUERY', 'TRACE'] as const;

/**
 * A known path with a method it does not have answers 405 with `Allow` (RFC 9110), not 404 or a
 * body-parsing error: one hidden route per path for the methods it lacks.
 */
function answerOtherMethods(api: FastifyInstance, routes: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [url, declared] of [...routes]) {
    const missing = METHODS.filter((method) => !declared.has(method));
    if (missing.length === 0) continue;
    const allow = [...declared].filter((m) => m !== 'HEAD').sort();
    api.route({
      method: missing,
      url: url.slice(api.prefix.length) || '/',
      schema: { hide: true },
      config: { methodNotAllowed: true },
      // refused before any body is read (QUERY would otherwise first need a content type)
      onRequest: async (request) => {
        throw new MethodNotAllowedError(`${request.method} is not allowed on this path; use ${allow.join(', ')}`, allow);
      },
      handler: async () => undefined,
    });
  }
}
