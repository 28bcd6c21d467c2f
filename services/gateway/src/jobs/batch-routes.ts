import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchema } from 'fastify';
import { Type, type Static } from 'typebox';
import { CreateClientBodySchema, FieldErrorSchema } from '@trackme/contracts';
import { forEachConcurrently, withCorrelation } from '@trackme/platform';
import { actorOf } from '../commands/write-command.js';
import { IdempotencyKeyHeaderSchema, problemResponses } from '../http/schemas.js';
import { checkClientItems } from './check-items.js';
import { JobAcceptedHeaders, JobAnswerSchema } from './http-schemas.js';
import { sendItem } from './item-sender.js';
import type { JobItem } from './job-model.js';
import { idempotent, itemClientId, jobIdOf, submitJob, type JobsDeps } from './submit.js';

export const BATCH_MAX_ITEMS = 1_000;
/** up to this many items are answered in the response; more become a job */
export const BATCH_SYNC_MAX_ITEMS = 100;
const SYNC_CONCURRENCY = 32;
/** 1,000 clients with a few contracts each; the gateway's BODY_LIMIT_BYTES is sized for one */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;

const BatchBodySchema = Type.Object(
  {
    mode: Type.Union([Type.Literal('create'), Type.Literal('upsert')], {
      default: 'create',
      description: 'create: every item is a new client; upsert: an item whose email a client has updates that client (its fields but `stage`)',
    }),
    items: Type.Array(Type.Unknown(), {
      minItems: 1,
      maxItems: BATCH_MAX_ITEMS,
      description: `1–${BATCH_MAX_ITEMS} clients (CreateClientBody), each checked on its own`,
    }),
  },
  { additionalProperties: false },
);

const BatchResultSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    status: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('unchanged'), Type.Literal('refused'), Type.Literal('invalid'), Type.Literal('pending')], {
      description: 'invalid: not sent (see errors); refused: trackme said no (see code); pending: no answer in time, see operation_id',
    }),
    id: Type.Optional(Type.String({ description: 'The client created or updated' })),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    operation_id: Type.Optional(Type.String({ description: 'GET /operations/{id} gives the result later' })),
  },
  { additionalProperties: false },
);

const BatchAnswerSchema = Type.Object(
  { data: Type.Object({ results: Type.Array(BatchResultSchema, { description: 'One per item, in the order sent' }) }) },
  { description: `Every item's outcome (${BATCH_SYNC_MAX_ITEMS} items or fewer)` },
);

type SyncResult = Static<typeof BatchResultSchema>;

function resultOf(item: JobItem, commandId: string): SyncResult {
  const base = { index: item.i };
  if (item.status === 'failed') return { ...base, status: 'invalid', ...(item.code ? { code: item.code } : {}), ...(item.errors ? { errors: item.errors } : {}) };
  if (item.status === 'pending') return { ...base, status: 'pending', operation_id: commandId };
  if (item.status === 'refused') return { ...base, status: 'refused', ...(item.code ? { code: item.code } : {}), ...(item.message ? { message: item.message } : {}), ...(item.errors ? { errors: item.errors } : {}) };
  const status = item.outcome === 'created' ? 'created' : item.outcome === 'unchanged' ? 'unchanged' : 'updated';
  return { ...base, status, id: item.client_id };
}

/** The document shows the items as what a caller should send; validation stays per item. */
const documentItemsAsClients = ({ schema, url }: { schema: FastifySchema; url: string }) => ({
  url,
  schema: { ...schema, body: { ...BatchBodySchema, properties: { ...BatchBodySchema.properties, items: { ...BatchBodySchema.properties.items, items: CreateClientBodySchema } } } },
});

export const batchRoutes: FastifyPluginAsyncTypebox<JobsDeps> = async (app, deps) => {
  app.post(
    '/clients/batch',
    {
      bodyLimit: BATCH_MAX_BYTES,
      config: { swaggerTransform: documentItemsAsClients },
      schema: {
        tags: ['clients'],
        operationId: 'batchClients',
        summary: 'Create or upsert up to 1,000 clients',
        description:
          `Each item is checked on its own. Up to ${BATCH_SYNC_MAX_ITEMS} items are applied at once and answered 200 with every item's result; ` +
          'more become a job, answered 202 with its Location. An Idempotency-Key covers the whole batch. ' +
          `Limit: ${BATCH_MAX_BYTES / 1024 / 1024} MiB per request.`,
        headers: IdempotencyKeyHeaderSchema,
        body: BatchBodySchema,
        response: { 200: BatchAnswerSchema, 202: { ...JobAnswerSchema, headers: JobAcceptedHeaders }, ...problemResponses(409, 413, 422, 503) },
      },
    },
    async (request, reply) => {
      const { mode, items: raws } = request.body;
      const batchId = jobIdOf(request);
      const items = checkClientItems(raws, mode, deps.process, (i) => itemClientId(batchId, i));
      return idempotent(deps.write, request, reply, JSON.stringify(request.body), async () => {
        if (items.length > BATCH_SYNC_MAX_ITEMS) return submitJob(deps, request, reply, { id: batchId, kind: 'batch', items, spec: { mode } });
        // derived from the Idempotency-Key with the batch id: a retry after a lost answer applies nothing twice
        const commandId = (index: number) => `batch:${batchId}:${index}`;
        const actor = actorOf(request);
        const sending = { bus: deps.write.bus, read: deps.read, timeoutMs: deps.write.timeoutMs };
        const done = [...items];
        await forEachConcurrently(
          items.filter((item) => item.status === 'pending'),
          SYNC_CONCURRENCY,
          async (item) => {
            done[item.i] = await withCorrelation(String(request.id), () => sendItem(sending, item, commandId(item.i), actor));
          },
        );
        deps.write.onWritten?.();
        return { status: 200, body: { data: { results: done.map((item) => resultOf(item, commandId(item.i))) } } };
      });
    },
  );
};
