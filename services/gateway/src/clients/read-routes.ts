import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { wantsBypass } from '@trackme/platform';
import type { RateLimiter } from '../http/rate-limit.js';
import { ClientIdSchema, ClientListSchema, ClientViewSchema, LIST_QUERY_FIELDS, ListClientsQuerySchema, type ListClientsQuery } from '@trackme/contracts';
import { problemResponses } from '../http/schemas.js';
import { queryStringOf, relay } from '../http/service-client.js';
import type { ListCache } from '../read/list-cache.js';
import type { ReadClient } from '../read/read-client.js';

const Params = Type.Object({ id: ClientIdSchema });

const CacheControlHeaderSchema = Type.Object({
  'cache-control': Type.Optional(Type.String({ maxLength: 200, description: '`no-cache` reads through to the database instead of the cache' })),
});

const XCacheHeader = {
  'x-cache': {
    type: 'string',
    enum: ['hit', 'stale', 'miss', 'bypass'],
    description: 'Whether the answer came from the cache; stale: a list page from before the latest changes (at most CACHE_STALE_MS old) while the current one is computed',
  },
};

export const HistoryEntrySchema = Type.Object(
  {
    event_id: Type.String(),
    type: Type.String({ description: 'ClientCreated, ClientUpdated, ClientStageChanged or ClientDeleted' }),
    at: Type.String({ format: 'date-time' }),
    version: Type.Integer(),
    command_id: Type.String(),
    correlation_id: Type.Optional(Type.String({ description: 'The request that caused the change (its X-Correlation-Id)' })),
    actor: Type.Object({ subject: Type.String(), role: Type.Optional(Type.String()), ip: Type.Optional(Type.String()) }),
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
    rollback: Type.Optional(Type.Boolean()),
    changes: Type.Optional(Type.Record(Type.String(), Type.Object({ from: Type.Unknown(), to: Type.Unknown() }))),
  },
  { $id: 'HistoryEntry' },
);

/** The validated query as the read service's query string: defaults filled in, fields in one order. */
export const forwardedQuery = (query: ListClientsQuery): string => queryStringOf(query, LIST_QUERY_FIELDS);

/**
 * The headers passed on to the read service. A read that skips the caches is counted against the
 * caller's no-cache budget first: each one reaches Mongo.
 */
async function headersFor(request: FastifyRequest, limiter: RateLimiter | undefined): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'x-correlation-id': String(request.id) };
  const cacheControl = request.headers['cache-control'];
  if (cacheControl) {
    if (wantsBypass(cacheControl)) await limiter?.takeBypass(request.caller ? `sub:${request.caller.subject}` : `ip:${request.ip}`);
    headers['cache-control'] = cacheControl;
  }
  return headers;
}

/** Reads are answered by the read service (Redis cache over Mongo); the gateway validates and relays. */
export const clientReadRoutes: FastifyPluginAsyncTypebox<{ read: ReadClient; lists: ListCache; limiter?: RateLimiter }> = async (app, { read, lists, limiter }) => {
  app.get(
    '/clients',
    {
      schema: {
        tags: ['clients'],
        operationId: 'listClients',
        summary: 'List clients, newest change first, with highlights',
        description:
          'Filters combine with AND. `updated` and `last_login` mean "on or after that day". ' +
          'Highlights: app not installed, no login within the configured days (or never), autopayment disabled.',
        querystring: ListClientsQuerySchema,
        headers: CacheControlHeaderSchema,
        response: { 200: { ...ClientListSchema, headers: XCacheHeader }, ...problemResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const path = `/internal/clients?${forwardedQuery(request.query)}`;
      const headers = await headersFor(request, limiter);
      const fetch = () => read.get(path, headers);
      return relay(reply, await (wantsBypass(request.headers['cache-control']) ? fetch() : lists.get(path, fetch)));
    },
  );

  app.get(
    '/clients/:id',
    {
      schema: {
        tags: ['clients'],
        operationId: 'getClient',
        summary: 'One client, with highlights',
        params: Params,
        headers: CacheControlHeaderSchema,
        response: { 200: { ...Type.Object({ data: ClientViewSchema }), headers: XCacheHeader }, ...problemResponses(400, 404, 503) },
      },
    },
    async (request, reply) =>
      relay(reply, await read.get(`/internal/clients/${encodeURIComponent(request.params.id)}`, await headersFor(request, limiter))),
  );

  app.get(
    '/clients/:id/history',
    {
      schema: {
        tags: ['clients'],
        operationId: 'getClientHistory',
        summary: "A client's timeline: creation, field changes, stage moves (with rollbacks), deletion",
        params: Params,
        response: { 200: Type.Object({ data: Type.Array(HistoryEntrySchema) }), ...problemResponses(404, 503) },
      },
    },
    async (request, reply) =>
      relay(reply, await read.get(`/internal/clients/${encodeURIComponent(request.params.id)}/history`, await headersFor(request, limiter))),
  );
};
