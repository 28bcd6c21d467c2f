import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchema } from 'fastify';
import { Type } from 'typebox';
import { ACTIVITY_BATCH_MAX_BYTES, ACTIVITY_BATCH_MAX_EVENTS, ActivityEventSchema } from '@trackme/contracts';
import { problemResponses } from '../http/schemas.js';
import type { KafkaPublishing } from '../kafka/publish-acknowledged.js';
import { checkActivityBatch } from './check-batch.js';
import { publishActivity } from './publish-activity.js';

const EXAMPLE_EVENT = {
  event_id: 'auth-7f3c9a',
  type: 'login',
  email: 'john.doe@example.com',
  occurred_at: '2025-05-01T09:30:00Z',
  source: 'auth-service',
};

const eventsDescription =
  `1–${ACTIVITY_BATCH_MAX_EVENTS} activity events (the ActivityEvent schema). Each one is checked on its own: ` +
  'an invalid event is reported in the answer and does not refuse the others.';

/**
 * Items are any value so that each one is checked with validateActivity and reported on its own;
 * the OpenAPI document shows them as ActivityEvent (swaggerTransform below).
 */
const ActivityBatchBodySchema = Type.Object(
  { events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: ACTIVITY_BATCH_MAX_EVENTS, description: eventsDescription }) },
  { additionalProperties: false, examples: [{ events: [EXAMPLE_EVENT] }] },
);

const FieldErrorSchema = Type.Object({ field: Type.String(), message: Type.String() }, { additionalProperties: false });

const ActivityResultSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: 'Position of the event in `events`' }),
    event_id: Type.Optional(Type.String({ description: "The event's `event_id`, when it has one that is a string" })),
    status: Type.Union([Type.Literal('accepted'), Type.Literal('rejected')], { description: 'accepted: published to trackme.activity' }),
    errors: Type.Optional(Type.Array(FieldErrorSchema, { description: 'Why it was rejected, one entry per field problem' })),
  },
  { additionalProperties: false },
);

const ActivityBatchAnswerSchema = Type.Object(
  {
    data: Type.Object({
      accepted: Type.Integer({ minimum: 0 }),
      rejected: Type.Integer({ minimum: 0 }),
      results: Type.Array(ActivityResultSchema, { description: 'One result per event, in the order sent' }),
    }),
  },
  {
    description: 'Every accepted event is on trackme.activity (acknowledged by Kafka); rejected ones were not published',
    examples: [{ data: { accepted: 1, rejected: 0, results: [{ index: 0, event_id: EXAMPLE_EVENT.event_id, status: 'accepted' }] } }],
  },
);

/** The document shows the items as what a caller should send; validation stays per event. */
const documentItemsAsEvents = ({ schema, url }: { schema: FastifySchema; url: string }) => ({
  url,
  schema: {
    ...schema,
    body: {
      ...ActivityBatchBodySchema,
      properties: { events: { ...ActivityBatchBodySchema.properties.events, items: ActivityEventSchema } },
    },
  },
});

export const activityRoutes: FastifyPluginAsyncTypebox<KafkaPublishing> = async (app, publishing) => {
  app.post(
    '/events',
    {
      bodyLimit: ACTIVITY_BATCH_MAX_BYTES,
      config: { swaggerTransform: documentItemsAsEvents },
      schema: {
        tags: ['activity'],
        operationId: 'reportActivity',
        summary: 'Report activity events (logins, app installs, autopayment changes)',
        description:
          'For systems that cannot write to Kafka: publishes each valid event to trackme.activity, where the clients ' +
          'service applies it. The answer comes once Kafka acknowledged the accepted events and lists every ' +
          "event's outcome. trackme applies each `event_id` once, so resending a batch (after a 503, say) is safe. " +
          `Limits: ${ACTIVITY_BATCH_MAX_EVENTS} events and ${ACTIVITY_BATCH_MAX_BYTES / 1024} KiB per request.`,
        body: ActivityBatchBodySchema,
        response: { 202: ActivityBatchAnswerSchema, ...problemResponses(400, 413, 503) },
      },
    },
    async (request, reply) => {
      const { results, accepted } = checkActivityBatch(request.body.events, new Date());
      const counts = { accepted: accepted.length, rejected: results.length - accepted.length };
      try {
        await publishActivity(publishing, accepted);
      } catch (error) {
        request.log.warn(counts, 'activity batch not published');
        throw error;
      }
      request.log.info(counts, 'activity batch published');
      return reply.code(202).send({ data: { ...counts, results } });
    },
  );
};
