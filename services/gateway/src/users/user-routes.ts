import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '@trackme/platform';
import { problemResponses } from '../http/schemas.js';
import { actorOfRequest, audit } from './audit.js';
import { CreateUserBodySchema, UpdateUserBodySchema, UserIdSchema, UserSchema } from './schemas.js';
import type { UserAdmin } from './user-admin.js';
import { idOf, toUser, type UserStore } from './user-store.js';

const Params = Type.Object({ id: UserIdSchema });
const UserResponseSchema = Type.Object({ data: UserSchema });
const ListQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
  },
  { additionalProperties: false },
);
const UserListSchema = Type.Object({
  data: Type.Array(UserSchema),
  meta: Type.Object({ total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }),
});

/**
 * The older service's /users: everyone reads, admins and super users create, only super users
 * change or delete (the permissions are in auth/permissions.ts).
 */
export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserStore; admin: UserAdmin; basePath: string }> = async (app, { users, admin, basePath }) => {
  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        operationId: 'listUsers',
        summary: 'List users, oldest first',
        querystring: ListQuerySchema,
        response: { 200: UserListSchema },
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const page = await users.list(limit, offset);
      return { data: page.users.map(toUser), meta: { total: page.total, limit, offset } };
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        operationId: 'createUser',
        summary: 'Create a user',
        description: 'A caller may give a role up to its own: an admin creates admins and managers.',
        body: CreateUserBodySchema,
        response: { 201: { ...UserResponseSchema, headers: { location: { type: 'string' } } }, ...problemResponses(409) },
      },
    },
    async (request, reply) => {
      const user = await admin.create(request.body, request.caller?.role ?? 'manager');
      audit(request, 'user_created', actorOfRequest(request), { user_id: idOf(user), role: user.role });
      return reply.code(201).header('location', `${basePath}/users/${idOf(user)}`).send({ data: toUser(user) });
    },
  );

  app.get(
    '/users/:id',
    {
      schema: { tags: ['users'], operationId: 'getUser', summary: 'A user', params: Params, response: { 200: UserResponseSchema, ...problemResponses(404) } },
    },
    async (request) => {
      const user = await users.findById(request.params.id);
      if (!user) throw new NotFoundError(`no user ${request.params.id}`);
      return { data: toUser(user) };
    },
  );

  app.put(
    '/users/:id',
    {
      config: { permission: 'manage users' },
      schema: {
        tags: ['users'],
        operationId: 'updateUser',
        summary: "Change a user's name, email, password or role",
        description: 'A new role or password ends every sign-in of the user at once (refresh tokens); access tokens end within 15 minutes.',
        params: Params,
        body: UpdateUserBodySchema,
        response: { 200: UserResponseSchema, ...problemResponses(404, 409) },
      },
    },
    async (request) => {
      const change = await admin.update(request.params.id, request.body);
      const actor = actorOfRequest(request);
      if (change.roleFrom) audit(request, 'role_changed', actor, { user_id: idOf(change.user), from: change.roleFrom, to: change.user.role });
      if (change.passwordChanged) audit(request, 'password_changed', actor, { user_id: idOf(change.user) });
      return { data: toUser(change.user) };
    },
  );

  app.delete(
    '/users/:id',
    {
      config: { permission: 'manage users' },
      schema: {
        tags: ['users'],
        operationId: 'deleteUser',
        summary: 'Delete a user',
        description: 'Their refresh tokens stop working at once; access tokens end within 15 minutes.',
        params: Params,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const user = await admin.delete(request.params.id);
      audit(request, 'user_deleted', actorOfRequest(request), { user_id: idOf(user), role: user.role });
      return reply.code(204).send(null);
    },
  );
};
