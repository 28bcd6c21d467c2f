import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BULK_MAX_CLIENTS, ClientIdSchema, ListClientsFilterSchema, ListClientsQuerySchema } from '@trackme/contracts';
import { VALID_UNTIL_HEADER, wantsBypass } from '@trackme/platform';
import type { ClientReads, ReadAnswer } from './client-reads.js';
import type { ClientSource } from './client-source.js';

/** A list filter and how many ids to return at most: a bulk job's limit, and one more to tell that a filter exceeds it. */
export const ClientIdsQuerySchema = Type.Object(
  { ...ListClientsFilterSchema.properties, max: Type.Integer({ minimum: 1, maximum: BULK_MAX_CLIENTS + 1, description: 'Ids to return at most' }) },
  { additionalProperties: false },
);

/** Internal API used by the gateway: bodies are already in the public shape. */
export const internalClientRoutes: FastifyPluginAsyncTypebox<{ reads: ClientReads; source: ClientSource }> = async (app, { reads, source }) => {
  const send = (reply: FastifyReply, answer: ReadAnswer) => {
    // the gateway keeps a hit no longer than this (internal: not passed on to callers)
    if (answer.validUntil !== undefined) reply.header(VALID_UNTIL_HEADER, String(answer.validUntil));
    return reply.header('x-cache', answer.cache).type('application/json; charset=utf-8').send(answer.body);
  };

  app.get('/internal/clients', { schema: { querystring: ListClientsQuerySchema } }, async (request, reply) =>
    send(reply, await reads.list(request.query, wantsBypass(request.headers['cache-control']))),
  );

  // the set of a bulk job: every matching id, from the database, in one query
  app.get('/internal/client-ids', { schema: { querystring: ClientIdsQuerySchema } }, async (request) => {
    const { max, ...filter } = request.query;
    return { data: await source.ids(filter, max, Date.now()) };
  });

  app.get('/internal/clients/:id', { schema: { params: Type.Object({ id: ClientIdSchema }) } }, async (request, reply) =>
    send(reply, await reads.get(request.params.id, wantsBypass(request.headers['cache-control']))),
  );
};
