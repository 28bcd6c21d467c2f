import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  CalculateQuerySchema,
  MetricsPageSchema,
  MetricsQuerySchema,
  RollupJobSchema,
  TRIGGERED_MESSAGE,
  type CalculateQuery,
  type MetricsQuery,
} from '@trackme/contracts';
import { ValidationError } from '@trackme/platform';
import { actorOf } from '../commands/write-command.js';
import { problemResponses } from '../http/schemas.js';
import { queryStringOf, relay } from '../http/service-client.js';
import type { KafkaPublishing } from '../kafka/publish-acknowledged.js';
import type { MetricsClient } from './metrics-client.js';
import { publishRollup } from './publish-rollup.js';
import { queuedJob, triggerRollup } from './trigger-rollup.js';

export interface MetricsRoutesOptions {
  metrics: MetricsClient;
  publishing: KafkaPublishing;
  basePath: string;
}

const METRICS_QUERY_FIELDS = Object.keys(MetricsQuerySchema.properties) as (keyof MetricsQuery)[];

const JobParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$', description: 'Job id, as in the Location of POST /metrics/calculate' }),
});

const TriggeredSchema = Type.Object(
  { data: Type.Object({ message: Type.Literal(TRIGGERED_MESSAGE) }) },
  {
    description: 'The rollup request is on trackme.metrics-commands (acknowledged by Kafka); the figures follow shortly',
    examples: [{ data: { message: TRIGGERED_MESSAGE } }],
  },
);

const JobAcceptedSchema = {
  ...Type.Object({ data: RollupJobSchema }, { description: 'The rollup is queued; poll the Location for its progress' }),
  headers: { location: { type: 'string', description: "The job's progress: {BASE_PATH}/metrics/jobs/{id}" } },
};

const JobSchema = Type.Object({ data: RollupJobSchema }, { description: 'The rollup job and its progress' });

const PageSchema = { ...MetricsPageSchema, description: 'One page of rows: a figure per metric type, period and labels' };

const calculateDescription =
  'Recomputes the rollups of one interval: the period containing `period` (a date, at most one day ahead), ' +
  'or by default the current period up to now. The metrics service computes it in the background from ' +
  'trackme.metrics-commands; repeating a request is harmless (the same figures are written again).';

/** Every check of GET /metrics the schema cannot express. */
function checkRange(query: MetricsQuery): void {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
    const message = 'must not be after `to`';
    throw new ValidationError(`Invalid querystring: from ${message}`, [{ field: 'from', message }]);
  }
}

const correlationOf = (request: FastifyRequest) => ({ 'x-correlation-id': String(request.id) });

/**
 * Rollups are requested over Kafka and computed by the metrics service, which also answers the
 * stored figures and jobs; the gateway validates, publishes and relays.
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { metrics, publishing, basePath }) => {
  const requestRollup = async (request: FastifyRequest, query: CalculateQuery) => {
    const command = triggerRollup(query, { id: randomUUID(), actor: actorOf(request), now: new Date() });
    await publishRollup(publishing, command);
    request.log.info({ job_id: command.job_id, interval: command.interval, period: command.period }, 'rollup requested');
    return command;
  };

  app.get(
    '/metrics/calculate',
    {
      // a GET that triggers work gets no HEAD: HEAD must be safe, so it answers 405
      exposeHeadRoute: false,
      schema: {
        tags: ['metrics'],
        operationId: 'triggerRollupCompat',
        summary: "Recompute the metrics of an interval (the older service's trigger)",
        description: `${calculateDescription} Answers as the older service did; POST answers with a job to follow instead.`,
        querystring: CalculateQuerySchema,
        response: { 200: TriggeredSchema, ...problemResponses(400, 503) },
      },
    },
    async (request) => {
      await requestRollup(request, request.query);
      return { data: { message: TRIGGERED_MESSAGE } } as const;
    },
  );

  app.post(
    '/metrics/calculate',
    {
      schema: {
        tags: ['metrics'],
        operationId: 'triggerRollup',
        summary: 'Recompute the metrics of an interval, as a job to follow',
        description: `${calculateDescription} GET /metrics/jobs/{id} (the Location) reports the job's progress.`,
        querystring: CalculateQuerySchema,
        response: { 202: JobAcceptedSchema, ...problemResponses(400, 503) },
      },
    },
    async (request, reply) => {
      const command = await requestRollup(request, request.query);
      return reply
        .code(202)
        .header('location', `${basePath}/metrics/jobs/${command.job_id}`)
        .send({ data: queuedJob(command) });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        operationId: 'listMetrics',
        summary: 'Stored metric figures, oldest period first',
        description:
          'Rows of the rollups (definitions in docs/metrics.md), filtered by `type` and `interval`, for the periods ' +
          'from the one containing `from` to the one containing `to` (default: the 30 periods up to the current ' +
          'one), paged with `limit` and `offset` (`meta.total` counts every matching row).',
        querystring: MetricsQuerySchema,
        response: { 200: PageSchema, ...problemResponses(400, 503) },
      },
    },
    async (request, reply) => {
      checkRange(request.query);
      const query = queryStringOf(request.query, METRICS_QUERY_FIELDS);
      return relay(reply, await metrics.get(`/internal/metrics?${query}`, correlationOf(request)));
    },
  );

  app.get(
    '/metrics/jobs/:id',
    {
      schema: {
        tags: ['metrics'],
        operationId: 'getRollupJob',
        summary: 'A rollup job: queued, running, succeeded (with the rows written) or failed (with the error)',
        params: JobParams,
        response: { 200: JobSchema, ...problemResponses(400, 404, 503) },
      },
    },
    async (request, reply) =>
      relay(reply, await metrics.get(`/internal/metrics/jobs/${encodeURIComponent(request.params.id)}`, correlationOf(request))),
  );
};
