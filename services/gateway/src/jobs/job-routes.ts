import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotFoundError } from '@trackme/platform';
import { problemResponses } from '../http/schemas.js';
import { JobAnswerSchema, JobIdSchema, JobQuerySchema } from './http-schemas.js';
import { jobView } from './job-view.js';
import type { JobsDeps } from './submit.js';

const Params = Type.Object({ id: JobIdSchema });

/** A job's progress and item report, and its cancellation. Only those who may start jobs see them. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobsDeps> = async (app, deps) => {
  const { store } = deps;
  const jobOf = async (id: string) => {
    const job = await store.get(id);
    if (!job) throw new NotFoundError(`no job ${id} (jobs are kept JOB_RETENTION_DAYS after they finish)`);
    return job;
  };

  app.get(
    '/jobs/:id',
    {
      config: { permission: 'write' },
      schema: {
        tags: ['jobs'],
        operationId: 'getJob',
        summary: 'A bulk job: status, counts, rate, ETA and a page of its item report',
        params: Params,
        querystring: JobQuerySchema,
        response: { 200: JobAnswerSchema, ...problemResponses(404, 503) },
      },
    },
    async (request) => ({ data: await jobView(store, await jobOf(request.params.id), request.query, new Date()) }),
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        tags: ['jobs'],
        operationId: 'cancelJob',
        summary: 'Stop a job between items',
        description: 'A queued job is cancelled at once; a running one stops after the items in flight, which keep their outcome. The items left stay pending in the report.',
        params: Params,
        response: { 202: JobAnswerSchema, ...problemResponses(404, 409, 503) },
      },
    },
    async (request, reply) => {
      const job = await jobOf(request.params.id);
      const now = new Date();
      const after = (await store.requestCancel(job._id, now, deps.retentionMs)) ?? job;
      request.log.info({ job_id: job._id, status: after.status }, 'job cancel requested');
      return reply.code(202).send({ data: await jobView(store, after, { items_offset: 0, items_limit: 100 }, now) });
    },
  );
};
