import type { RouteOptions } from 'fastify';
import { problemResponses } from '../http/schemas.js';
import type { Permission } from './roles.js';

/**
 * What each API route needs, in one table: reading anything is `read`; a request that makes the
 * metrics service compute (GET|POST /metrics/calculate, the older service's GET included) is
 * `metrics`; every other method writes.
 */
export function permissionOf(method: string, url: string): Permission {
  if (url.endsWith('/metrics/calculate')) return 'metrics';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a route anyone may call without a token (signing in); it checks its callers itself */
    public?: boolean;
  }
}

/**
 * onRoute hook of the API scope: the route's permission (its own, else the table above), its
 * security requirement and its 400/401/403 in OpenAPI. A public route gets neither.
 */
export function protectRoute(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const config = (route.config ?? {}) as { permission?: Permission; public?: boolean };
  if (config.public) {
    if (route.schema) route.schema = { ...route.schema, security: [], response: { ...problemResponses(400), ...(route.schema.response as object) } } as typeof route.schema;
    return;
  }
  route.config = { ...config, permission: config.permission ?? permissionOf(methods[0]!, route.url) };
  if (route.schema) {
    route.schema = {
      ...route.schema,
      security: [{ bearer: [] }],
      // every API route validates something (body, query, params or headers), so any may answer 400
      response: { ...problemResponses(400), ...(route.schema.response as object), ...problemResponses(401, 403) },
    } as typeof route.schema;
  }
}
