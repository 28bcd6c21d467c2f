import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ClientIdSchema, ListClientsQuerySchema } from '@trackme/contracts';
import { VALID_UNTIL_HEADER, wantsBypass } from '@trackme/platform';
import type { ClientReads, ReadAnswer } from './client-reads.js';

/** Internal API used by the gateway: bodies are already in the public shape. */
export const internalClientRoutes: FastifyPluginAsyncTypebox<{ reads: ClientReads }> = async (app, { reads }) => {
  const send = (reply: FastifyReply, answer: ReadAnswer) => {
    // the gateway keeps a hit no longer than this (internal: not passed on to callers)
    if (answer.validUntil !== undefined) reply.header(VALID_UNTIL_HEADER, String(answer.validUntil));
    return reply.header('x-cache', answer.cache).type('application/json; charset=utf-8').send(answer.body);
  };

  app.get('/internal/clients', { schema: { querystring: ListClientsQuerySchema } }, async (request, reply) =>
    send(reply, await reads.list(request.query, wantsBypass(request.headers['cache-control']))),
  );

  app.get('/internal/clients/:id', { schema: { params: Type.Object({ id: ClientIdSchema }) } }, async (request, reply) =>
    send(reply, await reads.get(request.params.id, wantsBypass(request.headers['cache-control']))),
  );
};
