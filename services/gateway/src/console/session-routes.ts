import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ForbiddenError, NotFoundError } from '@trackme/platform';
import { problemResponses } from '../http/schemas.js';
import { actorOfRequest, audit } from '../users/audit.js';
import { LoginBodySchema, RoleSchema, type Session } from '../users/schemas.js';
import { badCredentials, badRefreshToken, type SignIn } from '../users/sign-in.js';

/**
 * Sign-in for a browser: the same users and tokens as /auth/login, but the refresh token travels
 * only in an httpOnly, Secure, SameSite=Strict cookie scoped to these routes, so no script (and no
 * injected one) can read it. The access token is in the body, for the page to keep in memory.
 * /auth/login and /auth/refresh, with the refresh token in the body, are unchanged for API callers.
 */

export const REFRESH_COOKIE = 'trackme_refresh';
/** Sent by the console on every unsafe request; a cross-site form or fetch cannot set it without a CORS preflight. */
export const CSRF_HEADER = 'x-trackme-csrf';

export interface SessionRoutesOptions {
  signIn: SignIn | undefined;
  basePath: string;
  refreshTtlSeconds: number;
}

const BrowserSessionSchema = Type.Object(
  {
    data: Type.Object({
      token: Type.String({ description: 'Access token (JWT) for `Authorization: Bearer`; keep it in memory only' }),
      token_type: Type.Literal('Bearer'),
      expires_in: Type.Integer({ description: 'Seconds the access token is valid' }),
      user: Type.Object({ id: Type.String(), name: Type.String(), email: Type.String(), role: RoleSchema }),
    }),
  },
  { $id: 'BrowserSession' },
);

const csrfHeader = Type.Object({ [CSRF_HEADER]: Type.String({ minLength: 1, maxLength: 64, description: 'Any value; proves the request came from a page of this origin' }) });
const AUTH_BODY_LIMIT = 16_384;

/**
 * Refuses a request a browser sent on behalf of another site: the custom header already needs a
 * preflight the gateway refuses, and an Origin, when the browser sends one, must be this host's.
 */
function checkSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new ForbiddenError('cross-site request refused: the Origin is not this host');
  }
  if (host !== request.headers.host) throw new ForbiddenError('cross-site request refused: the Origin is not this host');
}

export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = async (app, { signIn: configured, basePath, refreshTtlSeconds }) => {
  // parsed only in this scope: no other route reads cookies, nor pays for parsing them
  await app.register(cookie);
  const path = `${basePath}/auth/session`;
  const signIn = (): SignIn => {
    if (!configured) throw new NotFoundError('sign-in is off on this gateway: AUTH_SIGNING_KEY is not set');
    return configured;
  };
  const answer = (reply: FastifyReply, session: Session) => {
    const { refresh_token: refreshToken, ...rest } = session;
    reply.setCookie(REFRESH_COOKIE, refreshToken, { path, httpOnly: true, secure: true, sameSite: 'strict', maxAge: refreshTtlSeconds });
    reply.header('cache-control', 'no-store');
    return { data: rest };
  };
  const clear = (reply: FastifyReply) => reply.clearCookie(REFRESH_COOKIE, { path, httpOnly: true, secure: true, sameSite: 'strict' });
  app.addHook('onRequest', async (request) => checkSameOrigin(request));

  app.post(
    '/auth/session',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'startBrowserSession',
        summary: 'Sign in from a browser: the refresh token is set as an httpOnly cookie',
        description: `As POST /auth/login, but the refresh token is only set in the \`${REFRESH_COOKIE}\` cookie (httpOnly, Secure, SameSite=Strict, this path). Needs the \`${CSRF_HEADER}\` header.`,
        headers: csrfHeader,
        body: LoginBodySchema,
        response: { 200: BrowserSessionSchema, ...problemResponses(401, 403, 404, 413, 429) },
      },
    },
    async (request, reply) => {
      const result = await signIn().login(request.body.email, request.body.password, request.ip);
      if (result.outcome === 'failed') {
        audit(request, 'sign_in_failed', actorOfRequest(request), { email: request.body.email, reason: result.reason });
        throw badCredentials();
      }
      audit(request, 'signed_in', { subject: result.userId, role: result.session.user.role, ip: request.ip }, { rehashed: result.rehashed, via: 'browser' });
      return answer(reply, result.session);
    },
  );

  app.post(
    '/auth/session/refresh',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'refreshBrowserSession',
        summary: 'A new access token for the browser session; the cookie rotates',
        description: `Reads the \`${REFRESH_COOKIE}\` cookie; each works once, as at POST /auth/refresh. Needs the \`${CSRF_HEADER}\` header.`,
        headers: csrfHeader,
        response: { 200: BrowserSessionSchema, ...problemResponses(401, 403, 404, 413, 429) },
      },
    },
    async (request, reply) => {
      const token = request.cookies[REFRESH_COOKIE];
      if (!token) throw badRefreshToken();
      const result = await signIn().refresh(token, request.ip);
      if (result.outcome === 'reused') audit(request, 'refresh_reused', { subject: result.userId, ip: request.ip }, { family_id: result.familyId });
      if (result.outcome !== 'rotated') {
        clear(reply);
        throw badRefreshToken();
      }
      return answer(reply, result.session);
    },
  );

  app.delete(
    '/auth/session',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'endBrowserSession',
        summary: 'Sign out from a browser: the cookie is cleared and its sign-in revoked',
        headers: csrfHeader,
        response: { 204: Type.Null({ description: 'Signed out' }), ...problemResponses(403, 404, 413) },
      },
    },
    async (request, reply) => {
      const token = request.cookies[REFRESH_COOKIE];
      const family = token ? await signIn().logout(token) : undefined;
      if (family) audit(request, 'signed_out', actorOfRequest(request), { family_id: family });
      clear(reply);
      return reply.code(204).send(null);
    },
  );
};
