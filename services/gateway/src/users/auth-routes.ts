import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '@trackme/platform';
import { problemResponses } from '../http/schemas.js';
import { actorOfRequest, audit } from './audit.js';
import type { LoginThrottle } from './login-throttle.js';
import { CreateUserBodySchema, LoginBodySchema, RefreshBodySchema, SessionSchema } from './schemas.js';
import { badCredentials, badRefreshToken, type SignIn } from './sign-in.js';
import type { UserAdmin } from './user-admin.js';
import { idOf } from './user-store.js';

export interface AuthRoutesOptions {
  /** absent without AUTH_SIGNING_KEY: nothing can sign tokens, so nobody signs in (404) */
  signIn: SignIn | undefined;
  admin: UserAdmin;
  throttle: LoginThrottle;
  /** AUTH_SELF_REGISTRATION: anyone may register, as a manager */
  selfRegistration: boolean;
}

/** Sign-in bodies are small; a larger one is refused (413) before it is read, let alone hashed. */
const AUTH_BODY_LIMIT = 16_384;

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { signIn: configured, admin, throttle, selfRegistration }) => {
  const signIn = (): SignIn => {
    if (!configured) throw new NotFoundError('sign-in is off on this gateway: AUTH_SIGNING_KEY is not set');
    return configured;
  };
  app.post(
    '/auth/register',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: selfRegistration ? { public: true } : { permission: 'write' },
      schema: {
        tags: ['auth'],
        operationId: 'register',
        summary: 'Create a user and sign it in',
        description: selfRegistration
          ? 'Open to anyone (AUTH_SELF_REGISTRATION=true), for managers only; counted against the address like failed sign-ins.'
          : 'Needs an admin or super_user token; a caller may give a role up to its own.',
        body: CreateUserBodySchema,
        response: { 201: SessionSchema, ...problemResponses(400, 403, 404, 409, 413, 429) },
      },
    },
    async (request, reply) => {
      const session = signIn();
      if (selfRegistration) {
        await throttle.check(request.ip);
        await throttle.fail(request.ip);
      }
      const user = await admin.create(request.body, selfRegistration ? 'self' : request.caller!.role!);
      audit(request, 'user_created', actorOfRequest(request), { user_id: idOf(user), role: user.role, via: 'register' });
      return reply.code(201).send({ data: await session.sessionFor(user) });
    },
  );

  app.post(
    '/auth/login',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Sign in with email and password',
        description: 'An unknown email and a wrong password both answer 401 "invalid email or password". Failed attempts are limited per account and per address (429 with Retry-After).',
        body: LoginBodySchema,
        response: { 200: SessionSchema, ...problemResponses(401, 404, 413, 429) },
      },
    },
    async (request) => {
      const result = await signIn().login(request.body.email, request.body.password, request.ip);
      if (result.outcome === 'failed') {
        audit(request, 'sign_in_failed', actorOfRequest(request), { email: request.body.email, reason: result.reason });
        throw badCredentials();
      }
      audit(request, 'signed_in', { subject: result.userId, role: result.session.user.role, ip: request.ip }, { rehashed: result.rehashed });
      return { data: result.session };
    },
  );

  app.post(
    '/auth/refresh',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'refresh',
        summary: 'Exchange a refresh token for new tokens',
        description: 'Each refresh token works once. Using one a second time revokes every token of that sign-in.',
        body: RefreshBodySchema,
        response: { 200: SessionSchema, ...problemResponses(401, 404, 413, 429) },
      },
    },
    async (request) => {
      const result = await signIn().refresh(request.body.refresh_token, request.ip);
      if (result.outcome === 'reused') {
        audit(request, 'refresh_reused', { subject: result.userId, ip: request.ip }, { family_id: result.familyId });
        throw badRefreshToken();
      }
      if (result.outcome === 'refused') throw badRefreshToken();
      return { data: result.session };
    },
  );

  app.post(
    '/auth/logout',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      config: { public: true },
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'End a sign-in: its refresh tokens stop working',
        description: 'Answers 204 whether or not the token was known. Access tokens already handed out last until they expire (15 minutes at most).',
        body: RefreshBodySchema,
        response: { 204: Type.Null({ description: 'Signed out' }), ...problemResponses(404, 413) },
      },
    },
    async (request, reply) => {
      const family = await signIn().logout(request.body.refresh_token);
      if (family) audit(request, 'signed_out', actorOfRequest(request), { family_id: family });
      return reply.code(204).send(null);
    },
  );
};
