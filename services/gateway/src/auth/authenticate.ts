import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '@trackme/platform';
import { may, type Permission, type Role } from './roles.js';
import type { RateLimiter } from '../http/rate-limit.js';
import { InvalidTokenError, type Caller, type TokenVerifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** what a caller must be allowed to do to use the route; routes without one are public */
    permission?: Permission;
    /** the hidden route answering 405 for the methods a path lacks */
    methodNotAllowed?: boolean;
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export type AuthMode = 'jwt' | 'disabled';

const REALM = 'Bearer realm="trackme"';
/** Who acts when authentication is disabled (development only; every start warns). */
const NOBODY: Caller = { subject: 'anonymous', role: 'super_user' as Role };

/** The token of `Authorization: Bearer <token>`, or of a bare `<token>` as the older service's callers send it. */
function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^(?:Bearer +)?([A-Za-z0-9._~+/-]+=*) *$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Authenticates every route that names a permission: a bearer token verified by `verifier`
 * (401 with WWW-Authenticate when it is missing or invalid), then the caller's role must grant
 * the permission (403). The caller becomes the actor of the writes it makes. With a limiter,
 * each caller (by token subject; by IP without a valid token) has a request budget (429).
 */
export function installAuthentication(app: FastifyInstance, mode: AuthMode, verifier: TokenVerifier | undefined, limiter?: RateLimiter): void {
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    if (mode === 'disabled') {
      request.caller = NOBODY;
      await limiter?.take(`ip:${request.ip}`, false);
      return;
    }
    const token = bearerOf(request);
    if (!token) {
      // callers without a valid token are limited by address, before and whatever they try
      await limiter?.take(`ip:${request.ip}`, false);
      throw new UnauthorizedError('a bearer token is required (Authorization: Bearer <JWT>)', REALM);
    }
    try {
      request.caller = await verifier!.verify(token);
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      await limiter?.take(`ip:${request.ip}`, false);
      throw new UnauthorizedError(`invalid token: ${error.message}`, `${REALM}, error="invalid_token", error_description="${error.message}"`);
    }
    await limiter?.take(`sub:${request.caller.subject}`, true);
    if (!may(request.caller.role, permission)) {
      throw new ForbiddenError(`role ${request.caller.role ?? '(none)'} may not ${permission === 'metrics' ? 'trigger metrics' : permission}`);
    }
  });
}
