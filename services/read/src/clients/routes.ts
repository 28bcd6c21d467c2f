import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ClientIdSchema, ListClientsQuerySchema } from '@trackme/contracts';
import type { ClientReads, ReadAnswer } from './client-reads.js';

/** `Cache-Control: no-cache` (or no-store) asks for an answer read through to Mongo. */
export function wantsBypass(cacheControl: string | string[] | undefined): boolean {
  const value = Array.isArray(cacheControl) ? cacheControl.join(',') : (cacheControl ?? '');
  return /(^|[\s,])no-(cache|store)($|[\s,=])/i.test(value);
}

/** Internal API used by the gateway: bodies are already in the public shape. */
export const clientReadRoutes: FastifyPluginAsyncTypebox<{ reads: ClientReads }> = async (app, { reads }) => {
  const send = (reply: FastifyReply, answer: ReadAnswer) =>
    reply.header('x-cache', answer.cache).type('application/json; charset=utf-8').send(answer.body);

  app.get('/internal/clients', { schema: { querystring: ListClientsQuerySchema } }, async (request, reply) =>
    send(reply, await reads.list(request.query, wantsBypass(request.headers['cache-control']))),
  );

  app.get('/internal/clients/:id', { schema: { params: Type.Object({ id: ClientIdSchema }) } }, async (request, reply) =>
    send(reply, await reads.get(request.params.id, wantsBypass(request.headers['cache-control']))),
  );
};
